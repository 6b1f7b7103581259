# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: the faults of status, delay, latency and lost answers."""

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from upsun_sandbox import SandboxError
from upsun_sandbox.faults import Fault
from sandbox_api import raw_request, split_response


# Faults -----------------------------------------------------------------------------------------------------

def test_fault_status_with_retry_after(quick):
    sandbox, api = quick
    api.login()
    fault = sandbox.fault("/tickets", method="POST", count=2, status=429, retry_after=1)
    assert fault["id"] and fault["count"] == 2
    for _attempt in range(2):
        response = api.call("POST", "/tickets", json={"subject": "s", "description": "d"})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["error"]
    assert api.call("POST", "/tickets", json={"subject": "s", "description": "d"}).status_code == 200
    assert len(sandbox.tickets()) == 1
    marks = [entry["fault"] for entry in sandbox.journal(path="/tickets")]
    assert [mark and mark["action"] for mark in marks] == ["status", "status", None]
    assert sandbox.faults() == []


def test_fault_status_with_location_is_a_redirect(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", method="POST", status=307, location="http://localhost:1/elsewhere?x=1")
    response = api.call("POST", "/tickets", json={"subject": "s", "description": "d"}, allow_redirects=False)
    assert response.status_code == 307
    assert response.headers["Location"] == "http://localhost:1/elsewhere?x=1"
    assert sandbox.tickets() == []
    for bad in ("", "  ", 7):
        with pytest.raises(SandboxError) as info:
            sandbox.fault("/tickets", status=301, location=bad)
        assert info.value.status == 400 and "location" in str(info.value)


def test_fault_status_custom_body_method_and_prefix(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets*", method="PATCH", status=503, body={"error": "maintenance"})
    assert api.call("GET", "/tickets").status_code == 200
    response = api.call("PATCH", "/tickets/7", json={"status": "open"})
    assert response.status_code == 503 and response.json() == {"error": "maintenance"}
    assert "Retry-After" not in response.headers
    sandbox.fault("/oauth2/token", status=500, count=5)
    assert api.exchange().status_code == 500
    sandbox.clear_faults()
    assert api.exchange().status_code == 200


def test_fault_delay(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", action="delay", delay=0.5)
    started = time.monotonic()
    assert api.call("GET", "/tickets").status_code == 200
    assert time.monotonic() - started >= 0.5
    sandbox.fault("/tickets", action="delay", delay=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.call("GET", "/tickets", timeout=0.3)


def test_fault_latency(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", action="latency", delay=0.5)
    started = time.monotonic()
    assert api.call("GET", "/tickets").status_code == 200
    assert 0.5 <= time.monotonic() - started < 1.5
    assert sandbox.journal()[-1]["fault"]["action"] == "latency"


def test_fault_latency_counts_from_the_request_line(quick):
    # A body that comes 0.4 s after its request line is inside the latency, as the rest of the request's time is.
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", method="POST", action="latency", delay=0.6)
    head, _sep, body = raw_request(api, "POST", "/tickets", {"subject": "Late body", "description": "d"}).partition(b"\r\n\r\n")
    parts = urlsplit(sandbox.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(head.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1) + b"\r\n\r\n")
        time.sleep(0.4)
        sock.sendall(body)
        received = b""
        while data := sock.recv(65536):
            received += data
        answered = time.monotonic() - started
    status_line, _headers, reply = split_response(received)
    assert status_line == "HTTP/1.1 200 OK" and json.loads(reply)["subject"] == "Late body"
    # 0.6 s after the request line; counted from the body it would be 1.0 s at least.
    assert 0.6 <= answered < 0.9


def test_fault_latency_counts_the_work_inside_its_time():
    # The answer leaves `delay` seconds after the request arrived, however long the sandbox worked on it.
    fault = Fault.from_dict({"action": "latency", "path": "/tickets", "delay": 0.05})
    assert fault.delay_first == 0.0
    assert fault.delay_after(0.01) == pytest.approx(0.04)
    assert fault.delay_after(0.08) == 0.0
    delay = Fault.from_dict({"action": "delay", "path": "/tickets", "delay": 0.05})
    assert (delay.delay_first, delay.delay_after(0.01)) == (0.05, 0.0)
    slow_answer = Fault.from_dict({"action": "create_then_delay", "path": "/tickets", "delay": 0.05})
    assert (slow_answer.delay_first, slow_answer.delay_after(0.01)) == (0.0, 0.05)


def test_fault_drop(sandbox, api):
    api.login()
    sandbox.fault("/tickets", method="POST", action="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.call("POST", "/tickets", json={"subject": "s", "description": "d"})
    assert sandbox.tickets() == []
    entry = sandbox.journal(path="/tickets")[0]
    assert entry["status"] is None and entry["fault"]["action"] == "drop"
    # The connection is gone but the session recovers on a new one.
    assert api.call("POST", "/tickets", json={"subject": "s", "description": "d"}).status_code == 200


def test_fault_create_then_drop(sandbox, api):
    api.login()
    sandbox.fault("/tickets", method="POST", action="create_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.call("POST", "/tickets", json={"subject": "Lost response", "description": "d"})
    tickets = sandbox.tickets()
    assert len(tickets) == 1 and tickets[0]["subject"] == "Lost response"
    entry = sandbox.journal(path="/tickets")[0]
    assert entry["status"] == 200 and entry["fault"]["action"] == "create_then_drop"
    # A client that checks before retrying finds the ticket.
    found = api.call("GET", "/tickets", params={"search": "lost response"}).json()
    assert found["count"] == 1
