# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox, through plain HTTP with requests."""

import base64
import json
import signal
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests

from upsun_sandbox import (
    SANDBOX_USER_ID,
    ForwardProxy,
    Sandbox,
    SandboxClient,
    SandboxError,
    SandboxProcess,
    self_signed_certificate,
)
from upsun_sandbox.faults import Fault

CLIENT = ("platform-api-user", "")
UUID_A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
UUID_B = "0f8fad5b-d9cb-469f-a165-70867728950e"

# The Ticket fields of the API reference, written out again here so the test does not trust the sandbox's list.
TICKET_FIELDS = {
    "ticket_id", "created", "updated", "type", "subject", "description", "priority", "followup_tid", "status",
    "recipient", "requester_id", "submitter_id", "assignee_id", "organization_id", "collaborator_ids",
    "has_incidents", "due", "tags", "subscription_id", "ticket_group", "support_plan", "affected_url", "queue",
    "issue_type", "resolution_time", "response_time", "project_url", "region", "category", "environment",
    "ticket_sharing_status", "application_ticket_url", "infrastructure_ticket_url", "jira", "zd_ticket_url",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Api:
    """A minimal API client: one requests.Session, the token exchange, bearer calls."""

    def __init__(self, sandbox, verify=True, proxies=None) -> None:
        self.url = sandbox.url
        self.api_token = sandbox.api_token
        self.session = requests.Session()
        # Loopback only: ignore any proxy settings of the environment.
        self.session.trust_env = False
        self.session.verify = verify
        self.session.proxies = proxies or {}
        self.access_token = None

    def exchange(self, api_token=None, auth=CLIENT, grant_type="api_token") -> requests.Response:
        data = {"grant_type": grant_type, "api_token": api_token or self.api_token}
        return self.session.post(f"{self.url}/oauth2/token", data=data, auth=auth, timeout=10)

    def login(self) -> str:
        response = self.exchange()
        assert response.status_code == 200, response.text
        self.access_token = response.json()["access_token"]
        return self.access_token

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        if self.access_token is None:
            self.login()
        headers = dict(kwargs.pop("headers", {}), Authorization=f"Bearer {self.access_token}")
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def create(self, **fields) -> dict:
        body = {"subject": "Deploy failed", "description": "The deploy hook exited 1."}
        body.update(fields)
        response = self.call("POST", "/tickets", json=body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(sandbox):
    return Api(sandbox)


@pytest.fixture(scope="module")
def shared_sandbox():
    """One in-process sandbox for the many parametrized validation cases (a child process each is slow)."""
    with Sandbox() as server:
        yield SandboxClient(server.url, server.api_token)


@pytest.fixture
def quick(shared_sandbox):
    """The shared sandbox, reset, and an Api on it: (control client, api)."""
    shared_sandbox.reset()
    return shared_sandbox, Api(shared_sandbox)


# Token exchange ---------------------------------------------------------------------------------------------

def test_token_exchange(api):
    response = api.exchange()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["expires_in"] == 900 and body["token_type"] == "bearer" and len(body["access_token"]) > 20
    assert api.exchange().json()["access_token"] != body["access_token"]


@pytest.mark.parametrize("auth", [None, ("someone-else", ""), ("platform-api-user", "secret")])
def test_token_exchange_wrong_client(quick, auth):
    response = quick[1].exchange(auth=auth)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_token_exchange_bad_token(quick):
    api = quick[1]
    response = api.exchange(api_token="not-a-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"]
    missing = api.session.post(f"{api.url}/oauth2/token", data={"grant_type": "api_token"}, auth=CLIENT)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"


def test_token_exchange_bad_grant(quick):
    api = quick[1]
    response = api.exchange(grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_token_exchange_with_the_cli_client_id_in_the_body(quick):
    # The Upsun CLI sends client_id=upsun-cli in the form body instead of HTTP Basic; the auth server takes both.
    api = quick[1]
    form = {"grant_type": "api_token", "api_token": api.api_token, "client_id": "upsun-cli"}
    response = api.session.post(f"{api.url}/oauth2/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    access = response.json()["access_token"]
    listed = api.session.get(f"{api.url}/tickets", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert listed.status_code == 200
    journaled = quick[0].journal(path="/oauth2/token")[0]
    assert journaled["body"]["client_id"] == "upsun-cli" and journaled["body"]["api_token"] == "<redacted>"


@pytest.mark.parametrize("client_id", ["someone-else", ""])
def test_token_exchange_refuses_another_client_id_in_the_body(quick, client_id):
    api = quick[1]
    form = {"grant_type": "api_token", "api_token": api.api_token, "client_id": client_id}
    response = api.session.post(f"{api.url}/oauth2/token", data=form, timeout=10)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_token_exchange_extra_api_tokens(sandbox_factory):
    client = sandbox_factory(api_tokens=["first-token", "second-token"])
    api = Api(client)
    assert api.exchange(api_token="second-token").status_code == 200
    assert api.exchange(api_token="sandbox-api-token").status_code == 400


# Bearer authentication --------------------------------------------------------------------------------------

def test_401_without_token(quick):
    api = quick[1]
    response = api.session.get(f"{api.url}/tickets")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]
    wrong_scheme = api.session.get(f"{api.url}/tickets", auth=CLIENT)
    assert wrong_scheme.status_code == 401


def test_401_with_unknown_token(quick):
    api = quick[1]
    api.access_token = "made-up"
    response = api.call("GET", "/tickets")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_401_with_expired_token_then_reexchange(sandbox, api):
    assert api.call("GET", "/tickets").status_code == 200
    assert sandbox.expire_tokens() == 1
    response = api.call("GET", "/tickets")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]
    api.login()
    assert api.call("GET", "/tickets").status_code == 200


def test_token_lifetime_option(sandbox_factory):
    api = Api(sandbox_factory("--token-lifetime", "1"))
    assert api.exchange().json()["expires_in"] == 1
    api.login()
    assert api.call("GET", "/tickets").status_code == 200
    time.sleep(1.2)
    assert api.call("GET", "/tickets").status_code == 401


# POST /tickets ----------------------------------------------------------------------------------------------

def test_create_with_every_field(sandbox, api):
    payload = b"\x00\x01binary\xff" * 100
    body = {
        "subject": "Deploy failed on main",
        "description": "The build hook exited 1.",
        "requester_id": UUID_A,
        "priority": "high",
        "subscription_id": "12345",
        "organization_id": "01ORGANIZATION",
        "affected_url": "https://main-abc.eu-3.platformsh.site/",
        "followup_tid": "998",
        "category": "bug_report",
        "attachments": [{"filename": "build.log", "data": b64(b"line 1\nline 2\n")},
                        {"filename": "core.bin", "data": b64(payload)}],
        "collaborator_ids": [UUID_B, UUID_B],
    }
    response = api.call("POST", "/tickets", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    ticket = response.json()
    assert set(ticket) == TICKET_FIELDS
    assert ticket["ticket_id"] == 1001
    for name in ("subject", "description", "requester_id", "priority", "subscription_id", "organization_id",
                 "affected_url", "followup_tid", "category"):
        assert ticket[name] == body[name], name
    assert ticket["collaborator_ids"] == [UUID_B]
    assert ticket["type"] == "problem" and ticket["status"] == "new"
    assert ticket["recipient"] == "support@upsun.com"
    assert ticket["submitter_id"] == SANDBOX_USER_ID
    assert ticket["has_incidents"] is False and ticket["tags"] == [] and ticket["jira"] == []
    assert ticket["zd_ticket_url"] == f"{sandbox.url}/support/tickets/1001"
    created = datetime.strptime(ticket["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=1)
    assert ticket["updated"] == ticket["created"]

    stored = sandbox.ticket(1001)
    assert [(item["filename"], item["size"]) for item in stored["attachments"]] == [("build.log", 14), ("core.bin", len(payload))]
    assert sandbox.attachments(1001)[1]["content"] == payload
    assert sandbox.tickets()[0]["ticket_id"] == 1001


def test_create_defaults_and_increasing_ids(quick):
    api = quick[1]
    first = api.create()
    second = api.create()
    assert second["ticket_id"] == first["ticket_id"] + 1
    assert first["priority"] == "normal"
    assert first["requester_id"] == SANDBOX_USER_ID
    assert first["category"] is None and first["collaborator_ids"] == []


def test_responses_match_our_openapi_description(quick):
    api = quick[1]
    from openapi_core import Config, OpenAPI
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    from upsun_sandbox.validation import SPEC_PATH

    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    openapi = OpenAPI.from_file_path(str(SPEC_PATH), config=config)
    api.create(category="access", attachments=[{"filename": "a", "data": b64(b"a")}])
    responses = [
        api.exchange(),
        api.call("GET", "/tickets"),
        api.call("PATCH", "/tickets/1001", json={"status": "open"}),
        api.call("GET", "/tickets/category"),
        api.call("GET", "/tickets/priority"),
        api.call("POST", "/tickets", json={"subject": "x"}),
    ]
    for response in responses:
        openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


@pytest.mark.parametrize("change, field", [
    ({"priority": "critical"}, "priority"),
    ({"category": "outage"}, "category"),
    ({"requester_id": "not-a-uuid"}, "requester_id"),
    ({"subject": None}, "subject"),
    ({"description": ""}, "description"),
    ({"attachments": [{"filename": "a.txt", "data": "not base64!"}]}, "attachments[0].data"),
    ({"attachments": [{"filename": "a.txt", "data": "aGVsbG8"}]}, "attachments[0].data"),
    ({"attachments": [{"filename": "a.txt", "data": "h\u00e9llo"}]}, "attachments[0].data"),
    ({"attachments": [{"data": "aGVsbG8="}]}, "attachments[0].filename"),
    ({"collaborator_ids": "not-a-list"}, "collaborator_ids"),
    ({"unknown_field": 1}, "unknown_field"),
])
def test_create_invalid_422(quick, change, field):
    sandbox, api = quick
    body = {"subject": "s", "description": "d"}
    body.update(change)
    body = {name: value for name, value in body.items() if value is not None}
    response = api.call("POST", "/tickets", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert field in problem["error"]
    assert field in [item["field"] for item in problem["errors"]]
    assert sandbox.tickets() == []


def test_create_missing_subject_names_it(quick):
    api = quick[1]
    response = api.call("POST", "/tickets", json={"description": "d"})
    assert response.status_code == 422
    assert response.json()["error"] == "Invalid request: subject: is required"


def test_create_not_json(quick):
    api = quick[1]
    response = api.call("POST", "/tickets", data=b"{oops", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert api.call("POST", "/tickets", data=b"subject=s", headers={"Content-Type": "text/plain"}).status_code == 415


# GET /tickets -----------------------------------------------------------------------------------------------

def test_list_paging(quick):
    api = quick[1]
    for number in range(7):
        api.create(subject=f"Ticket {number}")
    first = api.call("GET", "/tickets").json()
    assert first["count"] == 7
    assert [ticket["ticket_id"] for ticket in first["tickets"]] == [1007, 1006, 1005, 1004, 1003]
    assert first["_links"]["self"]["href"] == f"{api.url}/tickets"
    assert "previous" not in first["_links"]
    second = api.session.get(first["_links"]["next"]["href"], headers={"Authorization": f"Bearer {api.access_token}"}).json()
    assert [ticket["ticket_id"] for ticket in second["tickets"]] == [1002, 1001]
    assert second["count"] == 7
    assert "next" not in second["_links"]
    assert second["_links"]["previous"]["href"] == f"{api.url}/tickets?page=1"
    beyond = api.call("GET", "/tickets", params={"page": 9}).json()
    assert beyond["count"] == 7 and beyond["tickets"] == []
    assert api.call("GET", "/tickets", params={"page": 0}).status_code == 422


def test_list_page_size_option(sandbox_factory):
    api = Api(sandbox_factory("--page-size", "2"))
    for _number in range(3):
        api.create()
    page = api.call("GET", "/tickets", params={"filter[status]": "new"}).json()
    assert len(page["tickets"]) == 2
    assert page["_links"]["next"]["href"] == f"{api.url}/tickets?filter%5Bstatus%5D=new&page=2"


def test_list_filters_and_search(quick):
    sandbox, api = quick
    api.create(subject="Database down", priority="urgent", requester_id=UUID_A)
    api.create(subject="Invoice", description="Billing QUESTION about March", priority="low")
    api.create(subject="Slow site", description="Pages take 10 s")
    sandbox.set_ticket(1003, status="solved", has_incidents=True, due="2030-01-01T00:00:00Z")

    def ids(**params):
        response = api.call("GET", "/tickets", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["tickets"])
        return [ticket["ticket_id"] for ticket in body["tickets"]]

    assert ids() == [1003, 1002, 1001]
    assert ids(**{"filter[ticket_id]": 1002}) == [1002]
    assert ids(**{"filter[status]": "new"}) == [1002, 1001]
    assert ids(**{"filter[status]": "solved"}) == [1003]
    assert ids(**{"filter[priority]": "urgent"}) == [1001]
    assert ids(**{"filter[type]": "problem"}) == [1003, 1002, 1001]
    assert ids(**{"filter[type]": "task"}) == []
    assert ids(**{"filter[requester_id]": UUID_A}) == [1001]
    assert ids(**{"filter[submitter_id]": SANDBOX_USER_ID}) == [1003, 1002, 1001]
    assert ids(**{"filter[assignee_id]": UUID_B}) == []
    assert ids(**{"filter[has_incidents]": "true"}) == [1003]
    assert ids(**{"filter[has_incidents]": "false"}) == [1002, 1001]
    assert ids(**{"filter[created]": "2000-01-01T00:00:00Z"}) == [1003, 1002, 1001]
    assert ids(**{"filter[created]": "2099-01-01T00:00:00Z"}) == []
    assert ids(**{"filter[updated]": "2000-01-01T00:00:00+02:00"}) == [1003, 1002, 1001]
    assert ids(**{"filter[due]": "2029-12-31T00:00:00Z"}) == [1003]
    assert ids(search="billing question") == [1002]
    assert ids(search="DATABASE") == [1001]
    assert ids(search="nothing like this") == []
    assert ids(search="s", **{"filter[status]": "new"}) == [1002, 1001]


@pytest.mark.parametrize("params, field", [
    ({"filter[status]": "broken"}, "filter[status]"),
    ({"filter[priority]": "critical"}, "filter[priority]"),
    ({"filter[type]": "bug"}, "filter[type]"),
    ({"filter[ticket_id]": "abc"}, "filter[ticket_id]"),
    ({"filter[requester_id]": "nope"}, "filter[requester_id]"),
    ({"filter[created]": "yesterday"}, "filter[created]"),
    ({"filter[has_incidents]": "maybe"}, "filter[has_incidents]"),
    ({"page": "two"}, "page"),
])
def test_list_invalid_query_422(quick, params, field):
    api = quick[1]
    response = api.call("GET", "/tickets", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json()["error"]


# PATCH /tickets/{id} ----------------------------------------------------------------------------------------

def test_patch_status(quick):
    sandbox, api = quick
    api.create()
    response = api.call("PATCH", "/tickets/1001", json={"status": "solved"})
    assert response.status_code == 200
    ticket = response.json()
    assert ticket["status"] == "solved" and set(ticket) == TICKET_FIELDS
    assert ticket["updated"] >= ticket["created"]
    unchanged = api.call("PATCH", "/tickets/1001", json={"status": "solved"})
    assert unchanged.status_code == 204 and unchanged.content == b""
    assert api.call("PATCH", "/tickets/1001", json={}).status_code == 204
    reopened = api.call("PATCH", "/tickets/1001", json={"status": "open"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert sandbox.ticket(1001)["status"] == "open"


def test_patch_collaborators(quick):
    api = quick[1]
    api.create(collaborator_ids=[UUID_A])
    appended = api.call("PATCH", "/tickets/1001", json={"collaborator_ids": [UUID_A, UUID_B]})
    assert appended.status_code == 200 and appended.json()["collaborator_ids"] == [UUID_A, UUID_B]
    assert api.call("PATCH", "/tickets/1001", json={"collaborator_ids": [UUID_B]}).status_code == 204
    replaced = api.call("PATCH", "/tickets/1001", json={"collaborator_ids": [UUID_B], "collaborators_replace": True})
    assert replaced.status_code == 200 and replaced.json()["collaborator_ids"] == [UUID_B]
    assert api.call("PATCH", "/tickets/1001", json={"collaborator_ids": [UUID_B], "collaborators_replace": True}).status_code == 204


def test_patch_unknown_invalid_and_closed(quick):
    sandbox, api = quick
    api.create()
    missing = api.call("PATCH", "/tickets/4242", json={"status": "open"})
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json" and missing.json()["error"]
    assert api.call("PATCH", "/tickets/abc", json={"status": "open"}).status_code == 404
    invalid = api.call("PATCH", "/tickets/1001", json={"status": "closed"})
    assert invalid.status_code == 422 and "status" in invalid.json()["error"]
    sandbox.set_ticket(1001, status="closed")
    assert api.call("PATCH", "/tickets/1001", json={"status": "open"}).status_code == 422


# Other endpoints --------------------------------------------------------------------------------------------

def test_categories(quick):
    api = quick[1]
    response = api.call("GET", "/tickets/category", params={"subscription_id": "1", "organization_id": "o"})
    assert response.status_code == 200
    categories = response.json()
    assert len(categories) == 11
    assert {item["id"] for item in categories} >= {"access", "incident_outage", "close_my_account", "report_a_gui_bug"}
    assert all(set(item) == {"id", "label"} and item["label"] for item in categories)


def test_priorities(quick):
    api = quick[1]
    response = api.call("GET", "/tickets/priority", params={"subscription_id": "1", "category": "access"})
    assert response.status_code == 200
    priorities = response.json()
    assert [item["id"] for item in priorities] == ["low", "normal", "high", "urgent"]
    assert all(set(item) == {"id", "label", "short_description", "description"} for item in priorities)


def test_unknown_path_and_wrong_method(quick):
    api = quick[1]
    unknown = api.call("GET", "/projects")
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"] == "application/problem+json" and unknown.json()["error"]
    wrong = api.call("DELETE", "/tickets")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, POST"
    assert wrong.json()["error"]
    # There is no GET /tickets/{id} in the real API either.
    assert api.call("GET", "/tickets/1001").status_code == 405
    assert api.session.get(f"{api.url}/oauth2/token").status_code == 405


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


def raw_exchange(url: str, request: bytes, timeout: float = 10.0) -> tuple[bytes, BaseException | None]:
    """Send raw bytes to the sandbox; return every byte received and the error that ended the read (None at EOF)."""
    parts = urlsplit(url)
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return received, None
                received += data
        except OSError as exc:
            return received, exc


def raw_request(api: Api, method: str, path: str, body: dict | None = None) -> bytes:
    """One HTTP/1.1 request with the api's access token, as bytes."""
    data = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {api.access_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


def split_response(received: bytes) -> tuple[str, dict, bytes]:
    """(status line, headers with lower-case names, body bytes) of a raw answer."""
    head, _sep, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((name.strip().lower(), value.strip()) for name, _s, value in (line.partition(":") for line in lines[1:]))
    return lines[0], headers, body


def test_fault_trickle(quick):
    sandbox, api = quick
    api.login()
    for number in range(3):
        api.create(subject=f"Ticket {number}")
    sandbox.fault("/tickets", method="GET", action="trickle", chunk=100, interval=0.2)
    parts = urlsplit(sandbox.url)
    arrivals = []
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(raw_request(api, "GET", "/tickets").replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
        while data := sock.recv(65536):
            arrivals.append((time.monotonic() - started, data))
    status_line, headers, body = split_response(b"".join(data for _at, data in arrivals))
    length = int(headers["content-length"])
    assert status_line == "HTTP/1.1 200 OK" and len(body) == length > 300
    assert json.loads(body)["count"] == 3
    # The status line and headers at once, then the body 100 bytes every 0.2 s.
    assert arrivals[0][0] < 0.5, arrivals[0]
    expected = 0.2 * (-(-length // 100) - 1)
    assert expected - 0.1 <= arrivals[-1][0] < expected + 2, (arrivals[-1][0], expected)
    entry = sandbox.journal(method="GET", path="/tickets")[-1]
    assert entry["status"] == 200 and entry["fault"]["action"] == "trickle"
    # A client whose read timeout is above the interval never times out, however long the whole answer takes.
    sandbox.fault("/tickets", method="GET", action="trickle", chunk=200, interval=0.1)
    assert api.call("GET", "/tickets", timeout=0.5).json()["count"] == 3
    # Defaults: one byte a second.
    fault = sandbox.fault("/tickets", action="trickle")
    assert fault["chunk"] == 1 and fault["interval"] == 1.0
    sandbox.clear_faults()


def test_fault_trickle_after_create(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", method="POST", action="trickle", chunk=50, interval=0.2)
    with pytest.raises(requests.exceptions.RequestException):
        # The read timeout is never hit, the client gives up on its own overall time: here by closing early.
        response = api.call("POST", "/tickets", json={"subject": "Slow body", "description": "d"}, stream=True)
        next(response.raw.stream(50, decode_content=False))
        response.close()
        raise requests.exceptions.RequestException("gave up")
    # The ticket was created before the first byte of the answer.
    assert [ticket["subject"] for ticket in sandbox.tickets()] == ["Slow body"]


def test_fault_endless_next(quick):
    sandbox, api = quick
    api.login()
    for number in range(3):
        api.create(subject=f"Ticket {number}")
    sandbox.fault("/tickets", method="GET", action="endless_next", count=5)
    ids_by_page = []
    for page in range(1, 6):
        body = api.call("GET", "/tickets", params={"page": page}).json()
        assert body["count"] == 3
        assert body["_links"]["next"]["href"].endswith(f"page={page + 1}")
        ids_by_page.append([ticket["ticket_id"] for ticket in body["tickets"]])
    # Pages past the end repeat the last real page: a client that only waits for an empty page never stops.
    assert ids_by_page == [[1003, 1002, 1001]] * 5
    # Once the fault is spent, paging is right again.
    assert "next" not in api.call("GET", "/tickets", params={"page": 1}).json()["_links"]
    marks = [entry["fault"] for entry in sandbox.journal(method="GET", path="/tickets")]
    assert [mark and mark["action"] for mark in marks] == ["endless_next"] * 5 + [None]


def test_fault_endless_next_with_several_pages(sandbox_factory):
    sandbox = sandbox_factory("--page-size", "2")
    api = Api(sandbox)
    for number in range(3):
        api.create(subject=f"Ticket {number}")
    sandbox.fault("/tickets", method="GET", action="endless_next", count=3)
    pages = [api.call("GET", "/tickets", params={"page": page}).json() for page in (1, 2, 3)]
    assert [[ticket["ticket_id"] for ticket in body["tickets"]] for body in pages] == [[1003, 1002], [1001], [1001]]
    assert all("next" in body["_links"] for body in pages)


def test_fault_stuck_next(quick):
    sandbox, api = quick
    api.login()
    for number in range(7):
        api.create(subject=f"Ticket {number}")
    sandbox.fault("/tickets", method="GET", action="stuck_next", count=2)
    first = api.call("GET", "/tickets").json()
    second = api.call("GET", "/tickets", params={"page": 2, "search": "ticket"}).json()
    # `next` names the page that was asked for (page 1 when none was given), whatever is left.
    assert first["_links"]["next"]["href"] == f"{sandbox.url}/tickets?page=1"
    assert second["_links"]["next"]["href"] == f"{sandbox.url}/tickets?search=ticket&page=2"
    assert len(first["tickets"]) == 5 and len(second["tickets"]) == 2 and second["count"] == 7


@pytest.mark.parametrize("action", ["reset_after_headers", "reset_in_body"])
def test_fault_reset_after_create(sandbox, api, action):
    api.login()
    sandbox.fault("/tickets", method="POST", action=action)
    received, error = raw_exchange(sandbox.url, raw_request(api, "POST", "/tickets", {"subject": "Reset", "description": "d"}))
    status_line, headers, body = split_response(received)
    assert status_line == "HTTP/1.1 200 OK"
    length = int(headers["content-length"])
    # A TCP reset, not an orderly close.
    assert isinstance(error, ConnectionResetError), (error, received)
    if action == "reset_after_headers":
        assert body == b""
    else:
        # Part of the ticket's JSON arrived, not all of it.
        assert 0 < len(body) < length and body.startswith(b"{")
    # The ticket was created all the same, and the journal has the status that went out.
    assert [ticket["subject"] for ticket in sandbox.tickets()] == ["Reset"]
    entry = sandbox.journal(path="/tickets")[0]
    assert entry["status"] == 200 and entry["fault"]["action"] == action
    # What requests makes of it: an error while reading the answer, after the status line.
    sandbox.fault("/tickets", method="POST", action=action)
    with pytest.raises(requests.exceptions.RequestException):
        api.call("POST", "/tickets", json={"subject": "Reset again", "description": "d"})
    assert len(sandbox.tickets()) == 2


def test_fault_create_later(sandbox, api):
    # Warm up first: the late create must not wait for openapi-core to load.
    assert api.call("GET", "/tickets").status_code == 200
    sandbox.fault("/tickets", method="POST", action="create_later", create_after=1.5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.call("POST", "/tickets", json={"subject": "Later", "description": "d"}, timeout=0.5)
    # The client gave up; nothing exists yet, but the request is journaled at once, unanswered.
    assert sandbox.tickets() == []
    entry = sandbox.journal(method="POST", path="/tickets")[0]
    assert entry["status"] is None and entry["fault"]["action"] == "create_later"
    assert entry["body"]["subject"] == "Later"
    while not sandbox.tickets() and time.monotonic() - started < 5:
        time.sleep(0.05)
    appeared = time.monotonic() - started
    assert [ticket["subject"] for ticket in sandbox.tickets()] == ["Later"]
    assert 1.3 <= appeared < 3.0, appeared
    # A search now finds it.
    assert api.call("GET", "/tickets", params={"search": "later"}).json()["count"] == 1


def test_fault_create_later_holds_a_patient_client(sandbox, api):
    # Warm up first: the late create must not wait for openapi-core to load.
    assert api.call("GET", "/tickets").status_code == 200
    sandbox.fault("/tickets", method="POST", action="create_later", create_after=0.5)
    started = time.monotonic()
    # A client that waits longer than create_after gets no answer either: the connection is closed then.
    with pytest.raises(requests.exceptions.ConnectionError):
        api.call("POST", "/tickets", json={"subject": "Later", "description": "d"}, timeout=5)
    assert 0.4 <= time.monotonic() - started < 3.0
    deadline = time.monotonic() + 3
    while not sandbox.tickets() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sandbox.tickets()) == 1


def test_fault_create_then_delay(sandbox, api):
    # A first validated request waits for openapi-core to load (a second or more on a busy machine): not this one.
    assert api.call("GET", "/tickets").status_code == 200
    sandbox.fault("/tickets", method="POST", action="create_then_delay", delay=1.5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.call("POST", "/tickets", json={"subject": "Slow answer", "description": "d"}, timeout=0.5)
    # Created at once; only the answer is late.
    assert [ticket["subject"] for ticket in sandbox.tickets()] == ["Slow answer"]
    assert time.monotonic() - started < 1.2
    entry = sandbox.journal(method="POST", path="/tickets")[0]
    assert entry["status"] == 200 and entry["fault"]["action"] == "create_then_delay"
    # A patient client gets the answer after the delay.
    sandbox.fault("/tickets", method="POST", action="create_then_delay", delay=0.5)
    started = time.monotonic()
    response = api.call("POST", "/tickets", json={"subject": "Slow answer 2", "description": "d"}, timeout=5)
    assert response.status_code == 200 and response.json()["ticket_id"] == 1002
    assert time.monotonic() - started >= 0.5


def test_fault_unreadable_creates_and_answers_200_with_a_page_that_is_not_json(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", method="POST", action="unreadable")
    response = api.call("POST", "/tickets", json={"subject": "Garbled", "description": "d"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<html>")
    with pytest.raises(ValueError):
        response.json()
    # The ticket was created all the same, and the next request is answered normally.
    assert [ticket["subject"] for ticket in sandbox.tickets()] == ["Garbled"]
    assert api.create(subject="Plain")["ticket_id"] == 1002
    entry = sandbox.journal(method="POST", path="/tickets")[0]
    assert entry["status"] == 200 and entry["fault"]["action"] == "unreadable"


def test_fault_unreadable_with_a_body_of_its_own_keeps_the_status(quick):
    sandbox, api = quick
    api.login()
    sandbox.fault("/tickets", method="GET", action="unreadable", body='{"count": 1, "tick')
    response = api.call("GET", "/tickets")
    assert response.status_code == 200 and response.text == '{"count": 1, "tick'


@pytest.mark.parametrize("action", ["endless_chunked", "endless_unsized"])
def test_fault_endless_body_creates_and_never_ends(sandbox, api, action):
    api.login()
    sandbox.fault("/tickets", method="POST", action=action)
    parts = urlsplit(sandbox.url)
    received = b""
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(raw_request(api, "POST", "/tickets", {"subject": "Endless", "description": "d"}))
        # Far more than any ticket, in well under a second: the body never ends, and comes as fast as it is read.
        while len(received) < 20 * 1024 * 1024:
            data = sock.recv(1024 * 1024)
            assert data, "the sandbox ended the endless answer"
            received += data
    assert time.monotonic() - started < 10
    status_line, headers, body = split_response(received[:4096])
    assert status_line == "HTTP/1.1 200 OK" and "content-length" not in headers
    if action == "endless_chunked":
        assert headers["transfer-encoding"] == "chunked"
        assert body.split(b"\r\n", 2)[1].startswith(b'{"')
    else:
        assert headers["connection"] == "close" and "transfer-encoding" not in headers
        assert body.startswith(b'{"')
    # The ticket was created before the first byte, and the sandbox serves on when the client hangs up.
    assert [ticket["subject"] for ticket in sandbox.tickets()] == ["Endless"]
    assert len(api.call("GET", "/tickets").json()["tickets"]) == 1


def test_fault_endless_body_defaults_and_pace(quick):
    sandbox = quick[0]
    fault = sandbox.fault("/tickets", action="endless_unsized")
    assert fault["chunk"] == 65536 and fault["interval"] == 0
    slow = sandbox.fault("/tickets", action="endless_chunked", chunk=10, interval=0.5)
    assert slow["chunk"] == 10 and slow["interval"] == 0.5


def test_fault_spec_errors(quick):
    sandbox = quick[0]
    with pytest.raises(SandboxError) as caught:
        sandbox.fault("/tickets", action="explode")
    assert caught.value.status == 400
    with pytest.raises(SandboxError):
        sandbox.fault("tickets")
    with pytest.raises(SandboxError):
        sandbox.fault("/tickets", count=0)
    for spec in ({"chunk": 0}, {"chunk": 1.5}, {"interval": -1}, {"create_after": "soon"}, {"colour": "red"}):
        with pytest.raises(SandboxError) as caught:
            sandbox._call("POST", "/faults", {"path": "/tickets", "action": "trickle", **spec})
        assert caught.value.status == 400 and next(iter(spec)) in str(caught.value)


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


# Listing lag and date filter meanings ------------------------------------------------------------------------

def listed(api: Api, **params) -> list[dict]:
    response = api.call("GET", "/tickets", params=params)
    assert response.status_code == 200, response.text
    return response.json()["tickets"]


def listed_ids(api: Api, **params) -> list[int]:
    return [ticket["ticket_id"] for ticket in listed(api, **params)]


def test_listing_lag_hides_new_and_changed_tickets_until_the_index_catches_up(sandbox_factory):
    sandbox = sandbox_factory("--listing-lag", "120")
    api = Api(sandbox)
    first = api.create(subject="Deploy failed")
    sandbox.catch_up()
    new = api.create(subject="Deploy failed again")
    by_id = {"filter[ticket_id]": new["ticket_id"]}

    # A new ticket is in no listing: not the plain one, not search, not by id.
    assert listed_ids(api) == [first["ticket_id"]]
    assert listed_ids(api, search="again") == []
    assert listed_ids(api, **by_id) == []
    # PATCH acts on the ticket itself, listed or not.
    patched = api.call("PATCH", f"/tickets/{new['ticket_id']}", json={"status": "solved"})
    assert patched.status_code == 200 and patched.json()["status"] == "solved"
    assert sandbox.listing() == {"lag": 120.0, "lag_scope": "all", "date_filter": "at-or-after", "pending": 2}

    assert sandbox.catch_up() == {"released": 2, "pending": 0}
    [seen] = listed(api, **by_id)
    assert seen["status"] == "solved"

    # A change shows with the old status and updated time until the index catches up.
    sandbox.set_ticket(new["ticket_id"], status="pending", updated="2030-01-01T00:00:00Z")
    assert api.call("PATCH", f"/tickets/{first['ticket_id']}", json={"status": "open"}).status_code == 200
    [stale] = listed(api, **by_id)
    assert (stale["status"], stale["updated"]) == ("solved", seen["updated"])
    assert listed(api, **{"filter[status]": "open"}) == []
    assert sandbox.ticket(new["ticket_id"])["status"] == "pending"

    # The index moves on by the seconds asked, cumulatively: 60 s is not enough for a lag of 120 s, twice is.
    assert sandbox.catch_up(seconds=60) == {"released": 0, "pending": 2}
    assert listed(api, **by_id)[0]["status"] == "solved"
    assert sandbox.catch_up(seconds=60) == {"released": 2, "pending": 0}
    [fresh] = listed(api, **by_id)
    assert (fresh["status"], fresh["updated"]) == ("pending", "2030-01-01T00:00:00Z")
    assert listed_ids(api, **{"filter[status]": "open"}) == [first["ticket_id"]]


def test_listing_lag_scope_filtered_keeps_the_plain_listing_live(sandbox_factory):
    sandbox = sandbox_factory("--listing-lag", "300", "--lag-scope", "filtered")
    api = Api(sandbox)
    ticket = api.create(subject="Deploy failed")

    assert listed_ids(api) == [ticket["ticket_id"]]
    assert listed_ids(api, page=1) == [ticket["ticket_id"]]
    assert listed_ids(api, search="deploy") == []
    assert listed_ids(api, **{"filter[ticket_id]": ticket["ticket_id"]}) == []
    assert listed_ids(api, **{"filter[status]": "new"}) == []
    sandbox.catch_up()
    assert listed_ids(api, search="deploy") == [ticket["ticket_id"]]


def test_listing_lag_set_at_runtime_applies_to_later_changes_and_reset_keeps_it(sandbox):
    api = Api(sandbox)
    before = api.create(subject="Before the lag")
    assert sandbox.set_listing(lag=90) == {"lag": 90.0, "lag_scope": "all", "date_filter": "at-or-after", "pending": 0}
    after = api.create(subject="After the lag")

    assert listed_ids(api) == [before["ticket_id"]]
    assert sandbox.info()["listing"]["pending"] == 1
    sandbox.reset()
    assert sandbox.listing() == {"lag": 90.0, "lag_scope": "all", "date_filter": "at-or-after", "pending": 0}
    api = Api(sandbox)
    again = api.create(subject="After the reset")
    assert again["ticket_id"] == after["ticket_id"] - 1
    assert listed_ids(api) == []
    sandbox.set_listing(lag=0)
    assert listed_ids(api) == []
    sandbox.catch_up()
    assert listed_ids(api) == [again["ticket_id"]]


def test_without_a_lag_every_listing_is_live(quick):
    sandbox, api = quick
    ticket = api.create(subject="Deploy failed")
    api.call("PATCH", f"/tickets/{ticket['ticket_id']}", json={"status": "open"})

    assert sandbox.listing() == {"lag": 0.0, "lag_scope": "all", "date_filter": "at-or-after", "pending": 0}
    assert listed(api, **{"filter[ticket_id]": ticket["ticket_id"]})[0]["status"] == "open"
    assert listed_ids(api, search="deploy", **{"filter[status]": "open"}) == [ticket["ticket_id"]]


@pytest.mark.parametrize("meaning, expected", [
    ("at-or-after", [1004, 1003, 1002]),
    ("exactly", [1002]),
    ("same-day", [1002, 1001]),
])
def test_each_meaning_of_the_date_filters(sandbox_factory, meaning, expected):
    sandbox = sandbox_factory("--date-filter", meaning)
    for updated in ("2030-01-01T08:00:00Z", "2030-01-01T12:00:00Z", "2030-01-02T00:30:00Z", "2030-01-03T09:00:00Z"):
        sandbox.add_ticket(created=updated, updated=updated, due=updated)
    api = Api(sandbox)

    for name in ("created", "updated", "due"):
        assert listed_ids(api, **{f"filter[{name}]": "2030-01-01T12:00:00Z"}) == expected, name
    # The same instant written with another offset means the same (same-day compares UTC days).
    assert listed_ids(api, **{"filter[updated]": "2030-01-01T13:00:00+01:00"}) == expected
    assert sandbox.info()["listing"]["date_filter"] == meaning


def test_the_date_filter_meaning_can_be_changed_at_runtime(quick):
    sandbox, api = quick
    sandbox.add_ticket(updated="2030-01-01T08:00:00Z")
    sandbox.add_ticket(updated="2030-01-01T12:00:00Z")
    try:
        assert listed_ids(api, **{"filter[updated]": "2030-01-01T08:00:00Z"}) == [1002, 1001]
        sandbox.set_listing(date_filter="exactly")
        assert listed_ids(api, **{"filter[updated]": "2030-01-01T08:00:00Z"}) == [1001]
    finally:
        sandbox.set_listing(date_filter="at-or-after")


@pytest.mark.parametrize("payload, message", [
    ({"lag": -1}, "lag must be a number of seconds from 0 to 9999999, got -1"),
    ({"lag": "soon"}, "lag must be a number of seconds from 0 to 9999999, got 'soon'"),
    ({"lag": True}, "lag must be a number of seconds from 0 to 9999999, got True"),
    ({"lag": 1e12}, "lag must be a number of seconds from 0 to 9999999"),
    ({"lag_scope": "some"}, "lag_scope must be one of all, filtered, got 'some'"),
    ({"date_filter": "before"}, "date_filter must be one of at-or-after, exactly, same-day, got 'before'"),
    ({"delay": 3}, "the body must be a JSON object with some of lag, lag_scope, date_filter"),
])
def test_listing_settings_refuse_bad_values_and_change_nothing(quick, payload, message):
    sandbox, _api = quick
    with pytest.raises(SandboxError) as caught:
        sandbox._call("POST", "/listing", payload)  # pylint: disable=protected-access
    assert caught.value.status == 400
    assert message in str(caught.value)
    assert sandbox.listing() == {"lag": 0.0, "lag_scope": "all", "date_filter": "at-or-after", "pending": 0}


@pytest.mark.parametrize("payload", [{"seconds": -5}, {"seconds": "all"}, {"until": 3}])
def test_catch_up_refuses_bad_seconds(quick, payload):
    sandbox, _api = quick
    with pytest.raises(SandboxError) as caught:
        sandbox._call("POST", "/listing/catch-up", payload)  # pylint: disable=protected-access
    assert caught.value.status == 400


@pytest.mark.parametrize("options, message", [
    (["--listing-lag", "-1"], "--listing-lag must be a number of seconds from 0 to 9999999"),
    (["--listing-lag", "nan"], "--listing-lag must be a number of seconds from 0 to 9999999"),
    (["--listing-lag", "soon"], "argument --listing-lag: invalid float value: 'soon'"),
    (["--lag-scope", "some"], "argument --lag-scope: invalid choice: 'some'"),
    (["--date-filter", "before"], "argument --date-filter: invalid choice: 'before'"),
])
def test_listing_command_line_options_refuse_bad_values(options, message, capsys):
    from upsun_sandbox.__main__ import parse_args  # pylint: disable=import-outside-toplevel

    with pytest.raises(SystemExit) as caught:
        parse_args(options)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_in_process_listing_lag():
    with Sandbox() as server:
        server.tickets.configure_listing(lag=60, lag_scope="filtered", date_filter="same-day")
        client = SandboxClient(server.url, server.api_token)
        api = Api(client)
        ticket = api.create()

        assert listed_ids(api) == [ticket["ticket_id"]]
        assert listed_ids(api, **{"filter[ticket_id]": ticket["ticket_id"]}) == []
        assert client.listing() == {"lag": 60.0, "lag_scope": "filtered", "date_filter": "same-day", "pending": 1}
        with pytest.raises(ValueError, match="lag_scope must be one of all, filtered"):
            server.tickets.configure_listing(lag_scope="none")


# Validation errors as the live API answers them --------------------------------------------------------------

def test_validation_errors_as_a_400_whose_detail_maps_each_field_to_its_message(sandbox_factory):
    client = sandbox_factory("--validation-errors", "detail")
    api = Api(client)
    body = {"subject": "s", "description": "d", "requester_id": "not-a-uuid",
            "attachments": [{"filename": "a.txt", "data": "not base64!"}]}

    response = api.call("POST", "/tickets", json=body)

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["error"] == "Bad Request"
    assert set(problem["detail"]) == {"requester_id", "attachments[0].data"}
    assert "uuid" in problem["detail"]["requester_id"]
    assert "base64" in problem["detail"]["attachments[0].data"]
    assert client.info()["validation_errors"] == "detail"
    assert client.tickets() == []
    listed = api.call("GET", "/tickets", params={"filter[priority]": "critical"})
    assert listed.status_code == 400 and set(listed.json()["detail"]) == {"filter[priority]"}


def test_validation_errors_default_to_the_422_list(quick):
    assert quick[0].info()["validation_errors"] == "list"


def test_an_unknown_validation_error_style_is_refused():
    with pytest.raises(ValueError):
        Sandbox(validation_errors="xml")


# Comments (the Console's endpoints) ------------------------------------------------------------------------------

def comment_page(api: Api, ticket_id, page=None) -> dict:
    response = api.call("GET", f"/comments/{ticket_id}", params={} if page is None else {"page": page})
    assert response.status_code == 200, response.text
    return response.json()


def post_comment(api: Api, **body) -> requests.Response:
    return api.call("POST", "/comments", json=body)


def test_the_description_is_the_oldest_comment_with_the_tickets_files(quick):
    api = quick[1]
    ticket = api.create(description="It broke.", attachments=[{"filename": "deploy.log", "data": b64(b"log")}])

    listing = comment_page(api, ticket["ticket_id"])

    assert listing["count"] == 1
    [description] = listing["comments"]
    assert description["body"] == "It broke."
    assert (description["ticket_id"], description["author_id"], description["public"]) == (
        ticket["ticket_id"], ticket["submitter_id"], True)
    assert description["created_at"] == ticket["created"]
    assert description["attachments"] == {"deploy.log": {
        "file_name": "deploy.log", "uri": f"{api.url}/attachments/{description['comment_id']}/deploy.log",
        "content_type": "application/octet-stream"}}


def test_post_comment_answers_it_and_lists_newest_first_50_a_page(quick):
    control, api = quick
    ticket_id = api.create()["ticket_id"]
    posted = [post_comment(api, ticket_id=ticket_id, body=f"comment {number}") for number in range(1, 61)]
    assert {response.status_code for response in posted} == {200}
    first = posted[0].json()
    assert set(first) == {"comment_id", "ticket_id", "created_at", "body", "author_id", "public", "attachments"}
    assert (first["ticket_id"], first["body"], first["author_id"], first["public"], first["attachments"]) == (
        ticket_id, "comment 1", SANDBOX_USER_ID, True, {})

    page1 = comment_page(api, ticket_id)
    page2 = comment_page(api, ticket_id, page=2)

    assert (page1["count"], len(page1["comments"]), len(page2["comments"])) == (61, 50, 11)
    assert [item["body"] for item in page1["comments"][:2]] == ["comment 60", "comment 59"]
    assert page2["comments"][-1]["body"] == "The deploy hook exited 1."
    ids = [item["comment_id"] for item in page1["comments"] + page2["comments"]]
    assert ids == sorted(ids, reverse=True)
    assert page1["_links"] == {"self": {"href": f"{api.url}/comments/{ticket_id}"},
                               "next": {"href": f"{api.url}/comments/{ticket_id}?page=2"}}
    assert page2["_links"] == {"self": {"href": f"{api.url}/comments/{ticket_id}?page=2"},
                               "previous": {"href": f"{api.url}/comments/{ticket_id}?page=1"}}
    assert comment_page(api, ticket_id, page=3)["comments"] == []
    assert [item["body"] for item in control.comments(ticket_id)][-1] == "comment 60"


def test_comment_attachments_are_listed_for_the_whole_conversation(quick):
    control, api = quick
    ticket_id = api.create(attachments=[{"filename": "first.log", "data": b64(b"1")}])["ticket_id"]
    response = post_comment(api, ticket_id=str(ticket_id), body="more", author_id=UUID_A,
                            attachments=[{"filename": "trace.txt", "data": b64(b"trace")}])
    assert response.status_code == 200, response.text
    assert response.json()["attachments"]["trace.txt"]["content_type"] == "text/plain"
    assert response.json()["author_id"] == UUID_A

    listed_files = api.call("GET", f"/comments/{ticket_id}/attachments").json()

    assert [(item["filename"], item["content_type"]) for item in listed_files] == [
        ("first.log", "application/octet-stream"), ("trace.txt", "text/plain")]
    assert control.comments(ticket_id)[1]["files"] == [{"filename": "trace.txt", "size": 5, "data": b64(b"trace")}]


def test_a_comment_moves_updated_and_the_requesters_reopens_a_solved_ticket(quick):
    control, api = quick
    ticket_id = control.add_ticket(status="solved", requester_id=SANDBOX_USER_ID, updated="2026-01-01T00:00:00Z")["ticket_id"]
    # Support staff's comment: the ticket stays solved, its updated time moves.
    assert post_comment(api, ticket_id=ticket_id, body="Fixed on our side.", author_id=UUID_B).status_code == 200
    after_staff = control.ticket(ticket_id)
    assert after_staff["status"] == "solved" and after_staff["updated"] > "2026-01-01T00:00:00Z"
    # The requester's comment (the token's user by default) reopens it.
    assert post_comment(api, ticket_id=ticket_id, body="It failed again.").status_code == 200
    assert control.ticket(ticket_id)["status"] == "open"


def test_a_comment_on_a_closed_or_unknown_ticket_is_refused(quick):
    control, api = quick
    closed = control.add_ticket(status="closed")["ticket_id"]

    refused = post_comment(api, ticket_id=closed, body="again")
    unknown = post_comment(api, ticket_id=99999, body="again")

    assert (refused.status_code, refused.json()["error"]) == (422, f"Ticket {closed} is closed and takes no more comments")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "Ticket 99999 not found")
    assert api.call("GET", "/comments/99999").status_code == 404
    assert api.call("GET", "/comments/abc").status_code == 404
    assert api.call("GET", "/comments/99999/attachments").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"body": "x"}, "ticket_id"),
    ({"ticket_id": "12a", "body": "x"}, "ticket_id"),
    ({"ticket_id": True, "body": "x"}, "ticket_id"),
    ({"ticket_id": 0, "body": "x"}, "ticket_id"),
    ({"ticket_id": 1001}, "body"),
    ({"ticket_id": 1001, "body": ""}, "body"),
    ({"ticket_id": 1001, "body": " \n "}, "body"),
    ({"ticket_id": 1001, "body": "x", "author_id": "nobody"}, "author_id"),
    ({"ticket_id": 1001, "body": "x", "attachments": [{"filename": "a", "data": "not base64!"}]}, "attachments[0].data"),
    ({"ticket_id": 1001, "body": "x", "attachments": [{"data": "aGVsbG8="}]}, "attachments[0].filename"),
    ({"ticket_id": 1001, "body": "x", "public": False}, "public"),
])
def test_post_comment_invalid_422_names_the_field(quick, body, field):
    api = quick[1]
    api.create()

    response = post_comment(api, **body)

    assert response.status_code == 422, response.text
    assert field in {item["field"] for item in response.json()["errors"]}


def test_comment_responses_match_our_openapi_description(quick):
    api = quick[1]
    from openapi_core import Config, OpenAPI
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    from upsun_sandbox.validation import SPEC_PATH

    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    openapi = OpenAPI.from_file_path(str(SPEC_PATH), config=config)
    ticket_id = api.create(attachments=[{"filename": "a", "data": b64(b"a")}])["ticket_id"]
    responses = [
        post_comment(api, ticket_id=ticket_id, body="again", attachments=[{"filename": "b", "data": b64(b"b")}]),
        api.call("GET", f"/comments/{ticket_id}"),
        api.call("GET", f"/comments/{ticket_id}/attachments"),
    ]
    for response in responses:
        assert response.status_code == 200
        openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


def test_a_comment_shows_in_lagging_listings_only_once_the_index_catches_up(sandbox_factory):
    sandbox = sandbox_factory("--listing-lag", "120")
    api = Api(sandbox)
    ticket = api.create()
    sandbox.catch_up()
    sandbox.set_ticket(ticket["ticket_id"], updated="2026-01-01T00:00:00Z")
    sandbox.catch_up()

    assert post_comment(api, ticket_id=ticket["ticket_id"], body="again").status_code == 200

    # The conversation is read from the ticket itself; the listing shows the old updated until the index catches up.
    assert comment_page(api, ticket["ticket_id"])["count"] == 2
    assert listed(api)[0]["updated"] == "2026-01-01T00:00:00Z"
    sandbox.catch_up()
    assert listed(api)[0]["updated"] > "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("mode, status", [("refuse-404", 404), ("refuse-403", 403), ("refuse-405", 405)])
def test_comment_endpoints_can_be_refused_and_served_again(quick, mode, status):
    control, api = quick
    ticket_id = api.create()["ticket_id"]

    assert control.set_comments(mode) == mode
    assert control.comments_mode() == mode and control.info()["comments"] == mode
    try:
        for method, path, body in (("POST", "/comments", {"ticket_id": ticket_id, "body": "x"}),
                                   ("GET", f"/comments/{ticket_id}", None),
                                   ("GET", f"/comments/{ticket_id}/attachments", None)):
            response = api.call(method, path, json=body)
            assert response.status_code == status, (method, path)
            assert response.headers["Content-Type"] == "application/problem+json"
        # The documented endpoints still work.
        assert api.call("GET", "/tickets").status_code == 200
        assert api.call("PATCH", f"/tickets/{ticket_id}", json={"status": "open"}).status_code == 200
    finally:
        control.set_comments("serve")
    assert comment_page(api, ticket_id)["count"] == 1


def test_a_refused_403_still_asks_for_a_token_first(quick):
    control, api = quick
    control.set_comments("refuse-403")
    try:
        assert requests.get(f"{api.url}/comments/1001", timeout=10).status_code == 401
    finally:
        control.set_comments("serve")


def test_comments_option_on_the_command_line(sandbox_factory):
    sandbox = sandbox_factory("--comments", "refuse-404")
    api = Api(sandbox)
    ticket_id = api.create()["ticket_id"]

    assert sandbox.comments_mode() == "refuse-404"
    assert api.call("GET", f"/comments/{ticket_id}").status_code == 404
    with pytest.raises(SandboxError, match="comments must be one of serve, refuse-404, refuse-403, refuse-405"):
        sandbox.set_comments("refuse-500")


def test_control_api_adds_comments_as_support_staff(quick):
    control, api = quick
    ticket_id = api.create()["ticket_id"]

    added = control.add_comment(ticket_id, "Internal note", author_id=UUID_B, public=False,
                                created_at="2026-11-27T06:00:00Z")

    assert (added["public"], added["author_id"], added["created_at"]) == (False, UUID_B, "2026-11-27T06:00:00Z")
    assert comment_page(api, ticket_id)["comments"][0] == added
    with pytest.raises(SandboxError, match="the body must be a JSON object with body"):
        control.add_comment(ticket_id, "x", colour="red")
    with pytest.raises(SandboxError, match="HTTP 404"):
        control.add_comment(99999, "x")
