# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Retries and the deadline: which requests are made again, how long the client waits, when it gives up."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.upsun.support.plugins.module_utils import retries
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    DeadlineError,
    ResponseLostError,
    TransportError,
)
from ansible_collections.upsun.support.tests.unit.fake_api import TICKET, TICKETS, assert_no_secret


# --- retry matrix -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('status', [429, 500, 502, 503, 504])
def test_get_is_retried_once_after_status(api, make_client, warned, tokens, status):
    api.on('GET', '/tickets', (status, {'error': 'busy'}), (200, TICKETS))

    assert make_client(access_token=tokens.access).request('GET', '/tickets') == (200, TICKETS)

    assert len(api.requests('GET', '/tickets')) == 2
    assert len(warned) == 1
    assert 'GET /tickets' in warned[0]
    assert 'HTTP {0}'.format(status) in warned[0]


@pytest.mark.parametrize('status', [429, 503])
def test_post_is_retried_after_status_that_created_nothing(api, make_client, warned, tokens, status):
    api.on('POST', '/tickets', (status, {'error': 'busy'}), (200, TICKET))

    assert make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'}) == (200, TICKET)

    assert len(api.requests('POST', '/tickets')) == 2
    assert len(warned) == 1
    assert 'POST /tickets' in warned[0]
    assert 'HTTP {0}'.format(status) in warned[0]


@pytest.mark.parametrize('status', [500, 502, 504])
def test_post_is_not_retried_after_server_error(api, make_client, warned, tokens, status):
    api.on('POST', '/tickets', (status, {'error': 'upstream failed'}), (200, TICKET))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    assert len(api.requests('POST', '/tickets')) == 1
    assert info.value.status == status
    assert info.value.api_error == 'upstream failed'
    assert 'Gave up' not in info.value.msg
    assert warned == []


def test_get_connection_refused_is_retried_then_transport_error(make_client, closed_port_url, warned, tokens):
    client = make_client(api_url=closed_port_url, access_token=tokens.access, retries=2)

    with pytest.raises(TransportError) as info:
        client.request('GET', '/tickets')

    assert not isinstance(info.value, ResponseLostError)
    assert 'Could not connect' in info.value.msg
    assert 'after 2 retries' in info.value.msg
    assert info.value.url == closed_port_url + '/tickets'
    assert len(warned) == 2
    assert all('GET /tickets' in message and 'NewConnectionError' in message for message in warned)


def test_post_connection_refused_is_retried_then_transport_error(make_client, closed_port_url, warned, tokens):
    client = make_client(api_url=closed_port_url, access_token=tokens.access, retries=2)

    with pytest.raises(TransportError) as info:
        client.request('POST', '/tickets', body={'subject': 's'})

    assert not isinstance(info.value, ResponseLostError)
    assert 'after 2 retries' in info.value.msg
    assert len(warned) == 2
    assert all('POST /tickets' in message for message in warned)


@pytest.mark.parametrize('mode', ['hang', 'close'])
def test_get_lost_answer_is_retried(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=2, timeout=0.2)

    with pytest.raises(TransportError):
        client.request('GET', '/tickets')

    assert server.requests == 3
    assert len(warned) == 2


@pytest.mark.parametrize('mode', ['hang', 'close'])
def test_post_lost_answer_is_not_retried(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=3, timeout=0.2)

    with pytest.raises(ResponseLostError) as info:
        client.request('POST', '/tickets', body={'subject': 's'})

    assert server.requests == 1
    assert warned == []
    assert 'was sent but no answer came back' in info.value.msg
    assert info.value.url == server.url + '/tickets'


def test_token_exchange_lost_answer_is_not_retried(raw_server, make_client, warned):
    server = raw_server('close')
    client = make_client(auth_url=server.url, retries=3)

    with pytest.raises(ResponseLostError):
        client.request('GET', '/tickets')

    assert server.requests == 1
    assert warned == []


@pytest.mark.parametrize('method', ['GET', 'POST'])
def test_429_retries_exhausted_is_api_error_with_api_text(api, make_client, warned, tokens, method):
    api.on(method, '/tickets', (429, {'error': 'Too many requests for this token'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access, retries=2).request(method, '/tickets')

    assert len(api.requests(method, '/tickets')) == 3
    assert info.value.status == 429
    assert info.value.api_error == 'Too many requests for this token'
    assert 'Too many requests for this token' in info.value.msg
    assert 'Gave up after 2 retries' in info.value.msg
    assert len(warned) == 2


def test_retry_after_is_honoured(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (429, {'error': 'slow down'}, {'Retry-After': '7'}), (200, TICKETS))

    make_client(access_token=tokens.access).request('GET', '/tickets')

    assert retry_sleeps == [7.0]
    assert 'in 7 s' in warned[0]


def test_a_429_pauses_the_requests_of_the_other_threads_too(api, make_client, warned, tokens, monkeypatch):
    # Real waits: what is tested is that a thread that did not get the 429 waits too.
    monkeypatch.setattr(retries, 'time', time)
    limited = threading.Event()
    arrived = {}

    def answer(call):
        who = call.query['who'][0]
        if who == 'first' and not limited.is_set():
            arrived['429'] = time.monotonic()
            limited.set()
            return 429, {'error': 'slow down'}, {'Retry-After': '1'}
        arrived.setdefault(who, time.monotonic())
        return 200, TICKETS

    api.on('GET', '/tickets', answer)
    client = make_client(access_token=tokens.access)
    first = threading.Thread(target=client.request, args=('GET', '/tickets'), kwargs=dict(params={'who': 'first'}))
    first.start()
    limited.wait(5)
    time.sleep(0.2)  # the 429 has reached the client by now
    client.request('GET', '/tickets', params={'who': 'second'})
    first.join(5)

    assert arrived['second'] >= arrived['429'] + 0.95
    assert arrived['first'] >= arrived['429'] + 0.95
    assert client.rate_limited == 1
    assert warned == ['Upsun API: GET /tickets answered HTTP 429; retry 1 of 3 in 1 s.']


def test_retry_after_is_capped(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'maintenance'}, {'Retry-After': '3600'}), (200, TICKETS))

    make_client(access_token=tokens.access).request('GET', '/tickets')

    assert retry_sleeps == [retries.MAX_RETRY_AFTER]
    assert retries.MAX_RETRY_AFTER == 60.0
    assert 'in 60 s' in warned[0]


def test_retry_after_is_honoured_for_post(api, make_client, retry_sleeps, tokens):
    api.on('POST', '/tickets', (503, {'error': 'maintenance'}, {'Retry-After': '5'}), (200, TICKET))

    make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    assert retry_sleeps == [5.0]


def test_exponential_backoff_without_retry_after(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'busy'}), (503, {'error': 'busy'}), (503, {'error': 'busy'}), (200, TICKETS))

    make_client(access_token=tokens.access, retries=3).request('GET', '/tickets')

    # urllib3 skips the first wait (0 s), then backoff_factor * 2 ** (n - 1).
    assert retry_sleeps == [2.0, 4.0]
    assert [message.split(' in ')[-1] for message in warned] == ['0 s.', '2 s.', '4 s.']
    assert ['retry {0} of 3'.format(n) in message for n, message in enumerate(warned, 1)] == [True] * 3


def test_no_retry_with_retries_0(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'busy'}), (200, TICKETS))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access, retries=0).request('GET', '/tickets')

    assert info.value.status == 503
    assert len(api.requests('GET', '/tickets')) == 1
    assert warned == []
    assert retry_sleeps == []


def test_no_retry_on_connection_refused_with_retries_0(make_client, closed_port_url, warned, tokens):
    with pytest.raises(TransportError):
        make_client(api_url=closed_port_url, access_token=tokens.access, retries=0).request('GET', '/tickets')

    assert warned == []


def test_each_retry_warns_once_naming_method_path_status_without_secret(api, make_client, warned, tokens):
    api.on('POST', '/oauth2/token', (503, {'error': 'busy'}), (200, {'access_token': tokens.exchanged}))
    api.on('PATCH', '/tickets/42', (502, 'Bad Gateway'), (429, {'error': 'slow'}), (200, TICKET))

    make_client(access_token=None).request('PATCH', '/tickets/42', body={'status': 'solved'})

    assert len(warned) == 3
    assert 'POST /oauth2/token' in warned[0] and 'HTTP 503' in warned[0]
    assert 'PATCH /tickets/42' in warned[1] and 'HTTP 502' in warned[1]
    assert 'PATCH /tickets/42' in warned[2] and 'HTTP 429' in warned[2]
    assert_no_secret(warned, tokens)


# --- deadlines --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('mode', ['trickle', 'trickle_headers'])
def test_timeout_bounds_the_whole_answer_not_each_read(raw_server, make_client, tokens, mode):
    # One byte every 50 ms: no single read waits long, the answer would take more than an hour.
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=0, timeout=0.5)
    started = time.monotonic()

    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 2.5
    assert 'within 0.5 s' in info.value.msg and 'last byte' in info.value.msg
    assert server.requests == 1


def test_each_attempt_has_its_own_timeout(raw_server, make_client, warned, tokens):
    server = raw_server('trickle')
    client = make_client(api_url=server.url, access_token=tokens.access, retries=2, timeout=0.3)
    started = time.monotonic()

    with pytest.raises(ResponseLostError):
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 4
    assert server.requests == 3
    assert len(warned) == 2


def test_the_deadline_stops_retries_whose_wait_would_pass_it(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'busy'}))
    client = make_client(access_token=tokens.access, retries=10, deadline=5)

    with pytest.raises(ApiError) as info:
        client.request('GET', '/tickets')

    # Waits of 0 s and 2 s were made; the next one (4 s) would have ended after the 5 s deadline.
    assert retry_sleeps == [2.0]
    assert len(api.requests('GET', '/tickets')) == 3
    assert info.value.status == 503
    assert 'Gave up after 2 retries' in info.value.msg
    assert 'no retry: waiting 4 s would pass the deadline of 5 s' in info.value.msg
    assert len(warned) == 2


def test_a_retry_after_beyond_the_deadline_is_not_waited(api, make_client, retry_sleeps, tokens):
    api.on('GET', '/tickets', (429, {'error': 'slow down'}, {'Retry-After': '30'}), (200, TICKETS))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access, deadline=10).request('GET', '/tickets')

    assert retry_sleeps == []
    assert len(api.requests('GET', '/tickets')) == 1
    assert 'no retry: waiting 30 s would pass the deadline of 10 s' in info.value.msg


def test_no_request_once_the_deadline_has_passed(api, make_client, tokens):
    api.on('GET', '/tickets', (200, TICKETS))
    client = make_client(access_token=tokens.access, deadline=1)
    client.sleep(1.5)

    with pytest.raises(DeadlineError) as info:
        client.request('GET', '/tickets')

    assert api.calls == []
    assert info.value.msg.startswith('Gave up on GET {0}/tickets: the deadline of 1 s'.format(api.url))
    assert 'UPSUN_SUPPORT_DEADLINE' in info.value.msg
    assert isinstance(info.value, TransportError)


def test_an_attempt_is_cut_to_what_is_left_of_the_deadline(raw_server, make_client, tokens):
    server = raw_server('hang')
    client = make_client(api_url=server.url, access_token=tokens.access, timeout=5, retries=3, deadline=0.5)
    started = time.monotonic()

    with pytest.raises(TransportError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 2
    assert 'deadline' in info.value.msg
    assert server.requests == 1


def test_remaining_counts_down_from_the_deadline(make_client):
    client = make_client(deadline=10)
    assert 9 < client.remaining() <= 10
    client.sleep(4)
    assert 5 < client.remaining() <= 6
    assert make_client().deadline == 120.0


# --- lost answers after the headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize('mode', ['reset_after_headers', 'reset_in_body', 'close_in_body'])
def test_post_reset_after_the_status_line_is_a_lost_answer(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=3)

    with pytest.raises(ResponseLostError) as info:
        client.request('POST', '/tickets', body={'subject': 's'})

    assert server.requests == 1
    assert warned == []
    assert 'was sent but no answer came back' in info.value.msg


@pytest.mark.parametrize('mode', ['reset_after_headers', 'reset_in_body', 'close_in_body'])
def test_get_reset_after_the_status_line_is_retried(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)

    with pytest.raises(ResponseLostError):
        make_client(api_url=server.url, access_token=tokens.access, retries=1).request('GET', '/tickets')

    assert server.requests == 2
    assert len(warned) == 1
