# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: the faults of the connection (trickles, endless bodies, resets), read as raw bytes."""

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from upsun_sandbox import SandboxError
from sandbox_api import Api, raw_exchange, raw_request, split_response


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
