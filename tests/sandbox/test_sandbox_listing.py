# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: the listing lag, the meanings of the date filters, the styles of validation errors."""


import pytest

from upsun_sandbox import Sandbox, SandboxClient, SandboxError
from sandbox_api import Api, listed, listed_ids


# Listing lag and date filter meanings ------------------------------------------------------------------------


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
