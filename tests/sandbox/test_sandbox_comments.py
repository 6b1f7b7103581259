# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: the comment endpoints of the Console."""

import json

import pytest
import requests

from upsun_sandbox import SANDBOX_USER_ID, SandboxError
from sandbox_api import UUID_A, UUID_B, Api, b64, listed


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
