# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: POST, GET and PATCH /tickets, and the other endpoints."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from upsun_sandbox import SANDBOX_USER_ID
from sandbox_api import TICKET_FIELDS, UUID_A, UUID_B, Api, b64


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
