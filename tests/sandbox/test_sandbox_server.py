# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: its journal, control API, HTTP behaviour, TLS and proxies."""

import base64
import json
import signal
import threading
import time

import pytest
import requests

from upsun_sandbox import ForwardProxy, Sandbox, SandboxError, SandboxProcess, self_signed_certificate
from sandbox_api import CLIENT, Api, b64


# Journal ----------------------------------------------------------------------------------------------------

def test_journal_keeps_no_credentials(sandbox, api):
    access_token = api.login()
    api.create(attachments=[{"filename": "a.txt", "data": b64(b"abc")}])
    api.call("GET", "/tickets", params={"search": "deploy"})
    entries = sandbox.journal()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in entries] == [
        ("POST", "/oauth2/token", 200), ("POST", "/tickets", 200), ("GET", "/tickets", 200)]
    text = json.dumps(entries)
    assert access_token not in text
    assert sandbox.api_token not in text
    assert base64.b64encode(b"platform-api-user:").decode() not in text
    assert entries[0]["body"] == {"grant_type": "api_token", "api_token": "<redacted>"}
    assert entries[0]["auth"] == {"present": True, "scheme": "Basic"}
    assert entries[1]["auth"] == {"present": True, "scheme": "Bearer"}
    assert entries[1]["body"]["subject"] == "Deploy failed"
    assert entries[2]["query"] == {"search": "deploy"}
    assert all(entry["fault"] is None and entry["time"].endswith("Z") for entry in entries)
    assert not any(name.lower() == "authorization" for entry in entries for name in entry["headers"])
    assert sandbox.journal(method="GET") == entries[2:]
    sandbox.clear_journal()
    assert sandbox.journal() == []


def test_control_requests_are_not_journaled(quick):
    sandbox = quick[0]
    sandbox.tickets()
    sandbox.info()
    assert sandbox.journal() == []


# Control API ------------------------------------------------------------------------------------------------

def test_set_ticket_add_ticket_and_reset(sandbox, api):
    api.create()
    updated = sandbox.set_ticket(1001, status="closed", tags=["vip"])
    assert updated["status"] == "closed" and updated["tags"] == ["vip"]
    listed = api.call("GET", "/tickets", params={"filter[status]": "closed"}).json()
    assert [ticket["ticket_id"] for ticket in listed["tickets"]] == [1001]
    with pytest.raises(SandboxError) as caught:
        sandbox.set_ticket(999, status="open")
    assert caught.value.status == 404
    with pytest.raises(SandboxError):
        sandbox.set_ticket(1001, colour="red")
    seeded = sandbox.add_ticket(subject="Old one", status="solved", attachments=[{"filename": "x", "data": b64(b"xyz")}])
    assert seeded["ticket_id"] == 1002 and seeded["attachments"][0]["size"] == 3
    sandbox.fault("/tickets", status=500)
    sandbox.reset()
    assert sandbox.tickets() == [] and sandbox.journal() == [] and sandbox.faults() == []
    # Access tokens are forgotten too.
    assert api.call("GET", "/tickets").status_code == 401
    api.login()
    assert api.create()["ticket_id"] == 1001


def test_env(sandbox):
    assert sandbox.env() == {"UPSUN_CLI_TOKEN": "sandbox-api-token", "UPSUN_CLI_API_URL": sandbox.url,
                             "UPSUN_CLI_AUTH_URL": sandbox.url}


# HTTP behaviour ---------------------------------------------------------------------------------------------

def test_keep_alive_reuses_one_connection(sandbox, api):
    api.login()
    api.create()
    api.call("GET", "/tickets")
    connections = {entry["connection"] for entry in sandbox.journal()}
    assert len(connections) == 1
    # The control client's own requests open connections of their own (urllib does not keep them alive).
    assert sandbox.info()["connections"] >= 1


def test_subprocess_startup_and_clean_exit(tmp_path):
    startups = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
        process = SandboxProcess(log_path=tmp_path / "sandbox.log")
        client = process.start()
        startups.append(process.startup_seconds)
        assert client.url.startswith("http://127.0.0.1:")
        assert client.info()["page_size"] == 5
        process.process.send_signal(sig)
        assert process.process.wait(5) == 0
        assert process.stop() == 0
    # The best of three: the code's own startup cost, not the machine's load at one moment.
    assert min(startups) < 1.0, startups
    assert "Traceback" not in (tmp_path / "sandbox.log").read_text()


def test_openapi_description_is_valid():
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename
    from upsun_sandbox.validation import SPEC_PATH

    spec, _url = read_from_filename(str(SPEC_PATH))
    validate(spec)


def test_in_process_sandbox():
    with Sandbox(page_size=1, api_tokens=["in-process"]) as sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:")
        api = Api(sandbox)
        api.create()
        api.create()
        page = api.call("GET", "/tickets").json()
        assert page["count"] == 2 and len(page["tickets"]) == 1 and "next" in page["_links"]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{sandbox.url}/tickets", timeout=2)


# TLS and proxies --------------------------------------------------------------------------------------------

def test_tls_with_a_self_signed_certificate(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    assert b"BEGIN CERTIFICATE" in cert.read_bytes() and b"PRIVATE KEY" in key.read_bytes()
    with SandboxProcess("--tls-cert", str(cert), "--tls-key", str(key), log_path=tmp_path / "sandbox.log") as sandbox:
        assert sandbox.url.startswith("https://127.0.0.1:") and sandbox.ca_file == str(cert)
        assert sandbox.info()["tls"] is True
        api = Api(sandbox, verify=str(cert))
        assert api.create()["ticket_id"] == 1001
        assert sandbox.journal(method="POST", path="/tickets")[0]["status"] == 200
        # Without the certificate as a trusted CA the handshake fails, and the sandbox keeps serving.
        with pytest.raises(requests.exceptions.SSLError):
            Api(sandbox, verify=True).login()
        assert Api(sandbox, verify=str(cert)).login()
        # Faults work over TLS too.
        sandbox.fault("/tickets", method="POST", action="reset_after_headers")
        with pytest.raises(requests.exceptions.RequestException):
            api.call("POST", "/tickets", json={"subject": "s", "description": "d"})
        assert len(sandbox.tickets()) == 2
    assert "Traceback" not in (tmp_path / "sandbox.log").read_text()


def test_tls_needs_both_files(tmp_path):
    cert, _key = self_signed_certificate(tmp_path)
    with pytest.raises(RuntimeError):
        SandboxProcess("--tls-cert", str(cert), log_path=tmp_path / "sandbox.log").start()
    assert "--tls-key" in (tmp_path / "sandbox.log").read_text()


def test_sandbox_factory_tls(sandbox_factory):
    sandbox = sandbox_factory(tls=True)
    assert sandbox.url.startswith("https://") and sandbox.ca_file
    assert Api(sandbox, verify=sandbox.ca_file).create()["ticket_id"] == 1001


def test_forward_proxy_plain_http(sandbox):
    with ForwardProxy() as proxy:
        session = requests.Session()
        session.trust_env = False
        response = session.post(f"{sandbox.url}/oauth2/token", data={"grant_type": "api_token", "api_token": sandbox.api_token},
                                auth=CLIENT, proxies={"http": proxy.url}, timeout=10)
        assert response.status_code == 200
        token = response.json()["access_token"]
        listed = session.get(f"{sandbox.url}/tickets", headers={"Authorization": f"Bearer {token}"},
                             proxies={"http": proxy.url}, timeout=10)
        assert listed.json()["count"] == 0
        targets = proxy.requests()
    host_port = sandbox.url.split("://", 1)[1]
    assert [(item["method"], item["target"]) for item in targets][:1] == [("POST", f"{sandbox.url}/oauth2/token")]
    assert all(item["target"].startswith(f"http://{host_port}/") for item in targets)
    assert [entry["path"] for entry in sandbox.journal()] == ["/oauth2/token", "/tickets"]


def test_forward_proxy_connect_tunnel(sandbox_factory):
    sandbox = sandbox_factory(tls=True)
    with ForwardProxy() as proxy:
        api = Api(sandbox, verify=sandbox.ca_file, proxies={"https": proxy.url})
        assert api.create()["ticket_id"] == 1001
        targets = proxy.requests()
    host_port = sandbox.url.split("://", 1)[1]
    # requests opens one tunnel and keeps it for both calls; the proxy sees no more than the host and port.
    assert targets and all(item == {"method": "CONNECT", "target": host_port, "status": 200} for item in targets)


def test_forward_proxy_refuses_an_unreachable_target():
    with ForwardProxy() as proxy:
        session = requests.Session()
        session.trust_env = False
        with pytest.raises(requests.exceptions.ProxyError):
            session.get("https://127.0.0.1:1/", proxies={"https": proxy.url}, timeout=10)
        assert proxy.requests() == [{"method": "CONNECT", "target": "127.0.0.1:1", "status": 502}]


def test_a_request_still_at_work_at_a_reset_is_not_journaled_after_it(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", method="GET", action="delay", delay=1.0)
    worker = threading.Thread(target=api.call, args=("GET", "/tickets"))
    worker.start()
    time.sleep(0.3)
    sandbox.reset()
    worker.join(10)
    assert sandbox.journal() == []
