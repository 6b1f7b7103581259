# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pages of a listing read a few at once (paging.PagesAhead): directly, then in listings against the fake API through
the real client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference
from ansible_collections.upsun.support.plugins.module_utils.paging import PagesAhead
from ansible_collections.upsun.support.plugins.module_utils.tickets import find_by_reference, search_tickets
from ansible_collections.upsun.support.tests.unit.plugins.module_utils.ticket_pages import page, ticket


# --- PagesAhead on its own --------------------------------------------------------------------------------------------


class Reader:
    """``read(page)`` for PagesAhead: each page waits for its gate when one is set; records what was read, and the
    most reads at once."""

    def __init__(self, gated=(), fail=None):
        self.gates = dict((number, threading.Event()) for number in gated)
        self.fail = fail or {}
        self.read = []
        self.running = 0
        self.most_running = 0
        self.finished = 0
        self._lock = threading.Lock()

    def __call__(self, number):
        with self._lock:
            self.read.append(number)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            if number in self.gates:
                assert self.gates[number].wait(5)
            else:
                time.sleep(0.02)
            if number in self.fail:
                raise self.fail[number]
            return 'body of page {0}'.format(number)
        finally:
            with self._lock:
                self.running -= 1

    def finish(self):
        with self._lock:
            self.finished += 1


def test_each_page_is_read_once_and_taken_in_its_order():
    reader = Reader()
    ahead = PagesAhead(reader, [2, 3, 4, 5], concurrency=3, finish=reader.finish)

    assert [ahead.take(number) for number in (2, 3, 4, 5)] == ['body of page {0}'.format(n) for n in (2, 3, 4, 5)]
    ahead.close()

    assert sorted(reader.read) == [2, 3, 4, 5] and ahead.started == 4
    assert reader.finished == 3  # one per thread
    assert ahead.take(2) is None  # taken already: not read again


@pytest.mark.parametrize('concurrency, most', [(2, 2), (0, 1), (1, 1)])
def test_no_more_pages_than_the_concurrency_are_read_at_once(concurrency, most):
    reader = Reader()
    ahead = PagesAhead(reader, range(2, 12), concurrency=concurrency)
    for number in range(2, 12):
        ahead.take(number)
    ahead.close()
    assert reader.most_running == most


def test_once_slow_says_so_pages_are_read_one_at_a_time():
    reader = Reader()
    ahead = PagesAhead(reader, range(2, 10), concurrency=4, slow=lambda: True)
    for number in range(2, 10):
        ahead.take(number)
    ahead.close()
    assert reader.most_running == 1 and sorted(reader.read) == list(range(2, 10))


def test_an_error_is_raised_by_take_and_no_later_page_is_started():
    error = ValueError('page 3 failed')
    reader = Reader(fail={3: error})
    ahead = PagesAhead(reader, [2, 3, 4, 5, 6, 7], concurrency=1)

    assert ahead.take(2) == 'body of page 2'
    with pytest.raises(ValueError) as caught:
        ahead.take(3)
    ahead.close()

    assert caught.value is error
    assert reader.read == [2, 3] and ahead.started == 2
    assert ahead.take(4) is None and not ahead.pending(4)


def test_after_stop_no_page_is_started_and_those_being_read_still_end():
    reader = Reader(gated=[2])
    ahead = PagesAhead(reader, [2, 3, 4], concurrency=1)
    while not reader.read:
        time.sleep(0.01)

    ahead.stop()
    assert ahead.pending(2) and not ahead.pending(3)
    reader.gates[2].set()

    assert ahead.take(2) == 'body of page 2'
    assert ahead.take(3) is None
    ahead.close()
    assert reader.read == [2]


def test_a_page_never_asked_for_is_not_pending():
    ahead = PagesAhead(Reader(), [2, 3], concurrency=2)
    assert ahead.pending(3) and not ahead.pending(9)
    assert ahead.take(9) is None
    ahead.close()


def test_close_waits_for_every_thread():
    reader = Reader(gated=[2, 3])
    ahead = PagesAhead(reader, [2, 3], concurrency=2, finish=reader.finish)
    while len(reader.read) < 2:
        time.sleep(0.01)
    closing = threading.Thread(target=ahead.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive()  # the two reads are still at work

    reader.gates[2].set()
    reader.gates[3].set()
    closing.join(5)
    assert not closing.is_alive() and reader.finished == 2


# --- pages read at once ------------------------------------------------------------------------------------------------


class Listing:
    """GET /tickets over ``total`` tickets (newest first), ``size`` a page, with the API's count and next links.

    Each answer waits ``delay(page)`` seconds (real time), so that requests overlap; the server side records how
    many were in flight at most, and when each one arrived and was answered. ``next_links`` maps a page to the page
    its next link names instead of the following one.
    """

    def __init__(self, total, size=2, delay=lambda number: 0.05, first_id=1000, next_links=None):  # pylint: disable=too-many-arguments
        self.ids = [first_id + total - index for index in range(total)]
        self.size = size
        self.delay = delay
        self.next_links = next_links or {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.arrivals = []
        self.answered = {}
        self._lock = threading.Lock()

    def page(self, number):
        chunk = self.ids[(number - 1) * self.size:number * self.size]
        more = number * self.size < len(self.ids)
        next_page = self.next_links.get(number, number + 1 if more else None)
        return dict(page([ticket(ticket_id) for ticket_id in chunk], next_page=next_page), count=len(self.ids))

    def __call__(self, call):
        number = int(call.query['page'][0])
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.arrivals.append((time.monotonic(), number, self.in_flight))
        try:
            time.sleep(self.delay(number))
            return 200, self.page(number)
        finally:
            with self._lock:
                self.in_flight -= 1
                self.answered[number] = time.monotonic()


def page_numbers(api):
    return [int(call.query['page'][0]) for call in api.requests('GET', '/tickets')]


def test_the_pages_after_the_first_are_read_four_at_once_and_kept_in_the_api_order(api, client):
    # The later a page, the sooner it is answered: the order must still be the API's.
    listing = Listing(20, delay=lambda number: 0.05 * (11 - number))
    api.on('GET', '/tickets', listing)

    tickets, count = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == listing.ids and count == 20
    assert sorted(page_numbers(api)) == list(range(1, 11))
    assert listing.most_in_flight == 4
    # The first page alone, before any other: it gives the count the others are planned by.
    assert listing.arrivals[0][1] == 1 and all(entry[0] > listing.answered[1] for entry in listing.arrivals[1:])


@pytest.mark.parametrize('concurrency', [1, 2, 6])
def test_page_concurrency_bounds_the_requests_in_flight(api, make_client, tokens, concurrency):
    # The first pages after the first one are slow, so that all the threads surely overlap.
    listing = Listing(30, delay=lambda number: 0.3 if number <= 1 + concurrency else 0.02)
    api.on('GET', '/tickets', listing)
    client = make_client(access_token=tokens.access, page_concurrency=concurrency)

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == listing.ids
    assert listing.most_in_flight == concurrency
    assert len(api.calls) == 15


def test_the_threads_reading_pages_share_one_token_exchange(api, make_client, tokens):
    api.allow_exchange()
    listing = Listing(12)
    api.on('GET', '/tickets', listing)
    client = make_client()

    tickets, dummy = search_tickets(client)

    assert len(tickets) == 12
    assert len(api.requests('POST', '/oauth2/token')) == 1 and client.exchanges == 1
    assert set(call.headers['Authorization'] for call in api.requests('GET', '/tickets')) == {'Bearer ' + tokens.exchanged}
    # Each thread has its own session (and so its own connection): a requests.Session is not shared between threads.
    assert len(api.connections()) > 2


def test_the_threads_that_read_pages_ahead_close_their_sessions(api, client, monkeypatch):
    # A client that serves one listing after another (the event source) must not keep their connections open.
    import requests

    listing = Listing(20)
    api.on('GET', '/tickets', listing)
    closed = []
    real_close = requests.Session.close
    monkeypatch.setattr(requests.Session, 'close', lambda session: closed.append(session) or real_close(session))
    main_session = client.session

    for dummy in range(2):
        tickets, dummy_count = search_tickets(client)
        assert len(tickets) == 20

    assert len(closed) == 8 and main_session not in closed
    # Only the calling thread's own session is left, for the next request.
    client.close()
    assert closed[-1] is main_session


def test_an_access_token_refused_while_pages_are_read_at_once_is_exchanged_once(api, make_client):
    api.allow_exchange('first-token', 'second-token')
    listing = Listing(16)

    def answer(call):
        # The first token expires right after the first page: the four threads are all refused at first.
        if call.headers['Authorization'] == 'Bearer first-token' and call.query['page'] != ['1']:
            time.sleep(0.05)
            return 401, {'error': 'token expired'}
        return listing(call)

    api.on('GET', '/tickets', answer)
    client = make_client()

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == listing.ids
    assert len(api.requests('POST', '/oauth2/token')) == 2


def test_a_429_pauses_every_thread_for_its_retry_after_then_pages_are_read_one_at_a_time(
        api, make_client, tokens, warned, monkeypatch):
    from ansible_collections.upsun.support.plugins.module_utils import retries

    # Real waits here: what is tested is that the other threads wait too.
    monkeypatch.setattr(retries, 'time', time)
    listing = Listing(20, delay=lambda number: 0.1)
    limited = []

    def answer(call):
        if call.query['page'] == ['3'] and not limited:
            # Answered while the other threads' pages are in flight.
            time.sleep(0.05)
            limited.append(time.monotonic())
            return 429, {'error': 'slow down'}, {'Retry-After': '1'}
        return listing(call)

    api.on('GET', '/tickets', answer)
    client = make_client(access_token=tokens.access)

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == listing.ids
    assert warned == ['Upsun API: GET /tickets answered HTTP 429; retry 1 of 3 in 1 s.']
    # No request of any thread arrived during the second the API asked for, and none overlapped after it.
    after = [entry for entry in listing.arrivals if entry[0] > limited[0]]
    assert after and all(arrived >= limited[0] + 0.95 for arrived, dummy, dummy_in_flight in after)
    assert all(in_flight == 1 for dummy, dummy_number, in_flight in after)


def test_reading_pages_at_once_stops_at_the_page_limit(api, make_client, tokens, warned):
    listing = Listing(100)
    api.on('GET', '/tickets', listing)
    client = make_client(access_token=tokens.access, page_limit=5)

    tickets, count = search_tickets(client)

    assert sorted(page_numbers(api)) == [1, 2, 3, 4, 5]
    assert [item['ticket_id'] for item in tickets] == listing.ids[:10] and count == 100
    assert warned == ['GET /tickets: stopped after 5 pages (page_limit); 10 of the 100 matching tickets were read. '
                      'Narrow the search, or raise page_limit.']


def test_reading_pages_at_once_reads_no_page_past_the_limit_option(api, client):
    listing = Listing(40)
    api.on('GET', '/tickets', listing)

    tickets, count = search_tickets(client, limit=5)

    assert [item['ticket_id'] for item in tickets] == listing.ids[:5] and count == 40
    assert sorted(page_numbers(api)) == [1, 2, 3]


def test_a_next_link_that_stops_moving_while_pages_are_read_at_once_still_ends_the_listing(api, client, warned):
    listing = Listing(20, next_links={3: 3})
    api.on('GET', '/tickets', listing)

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == listing.ids[:6]
    assert warned == ['GET /tickets: the next link of page 3 does not move forward (it names page 3); stopped there, '
                      'with 6 of the 20 matching tickets.']
    assert len(api.calls) <= client.page_limit


def test_a_next_link_that_skips_pages_read_ahead_is_followed(api, client):
    listing = Listing(20, next_links={2: 5})
    api.on('GET', '/tickets', listing)

    tickets, dummy = search_tickets(client)

    # Pages 3 and 4 are left out, as the next link of page 2 says (the count is never reached then).
    assert [item['ticket_id'] for item in tickets] == listing.ids[:4] + listing.ids[8:]


def test_an_error_on_a_page_read_ahead_is_raised_and_no_thread_outlives_the_listing(api, client):
    listing = Listing(40)

    def answer(call):
        if call.query['page'] == ['4']:
            return 403, {'error': 'forbidden from page 4 on'}
        return listing(call)

    api.on('GET', '/tickets', answer)

    with pytest.raises(ApiError) as info:
        search_tickets(client)

    assert 'forbidden from page 4 on' in info.value.msg
    assert [thread for thread in threading.enumerate() if thread.name.startswith('upsun-support-page-')] == []
    # After the error, no further page was started: those in flight at the time at most.
    assert max(page_numbers(api)) <= 4 + 4


def test_the_deadline_holds_for_the_pages_read_at_once(api, make_client, tokens, monkeypatch):
    from ansible_collections.upsun.support.plugins.module_utils import retries

    monkeypatch.setattr(retries, 'time', time)
    listing = Listing(40, delay=lambda number: 0.0 if number == 1 else 0.4)
    api.on('GET', '/tickets', listing)
    client = make_client(access_token=tokens.access, deadline=1.0, retries=0)
    started = time.monotonic()

    with pytest.raises(UpsunError) as info:
        search_tickets(client)

    assert time.monotonic() - started < 2.0
    assert 'deadline' in info.value.msg or 'no answer came back within' in info.value.msg


def test_the_dedupe_search_reads_its_pages_at_once_too(api, client):
    listing = Listing(12)
    api.on('GET', '/tickets', listing)

    find_by_reference(client, dedupe_reference('deploy-42'))

    assert listing.most_in_flight > 1 and len(api.calls) == 6
