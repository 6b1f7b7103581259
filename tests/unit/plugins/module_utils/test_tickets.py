# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ticket operations, against the fake API through the real client (the pages read at once: test_paging.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    DeadlineError,
    InputError,
    ResponseLostError,
    TicketMayExistError,
    TransportError,
    UpsunError,
)
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, with_footer
from ansible_collections.upsun.support.plugins.module_utils.tickets import (
    AMBIGUOUS_CREATE_WINDOW,
    create_deduped,
    create_may_exist,
    create_ticket,
    find_by_reference,
    get_ticket,
    list_tickets,
    open_duplicate,
    search_tickets,
    update_ticket,
)
from ansible_collections.upsun.support.tests.unit.plugins.module_utils.ticket_pages import by_page, page, ticket


PAYLOAD = {'subject': 'Deploy failed', 'description': 'It broke.', 'priority': 'high'}


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    """Dedupe locks under the test's own directory (TMPDIR decides where they go)."""
    import tempfile

    monkeypatch.setenv('TMPDIR', str(tmp_path))
    monkeypatch.setattr(tempfile, 'tempdir', None)
    return tmp_path


# --- list and get -----------------------------------------------------------------------------------------------------


def test_list_tickets_follows_pages(api, client):
    api.on('GET', '/tickets', by_page([page([ticket(3), ticket(2)], next_page=2), page([ticket(1)])]))

    tickets = list_tickets(client, filters={'status': 'open'}, search='deploy')

    assert [item['ticket_id'] for item in tickets] == [3, 2, 1]
    assert [call.query for call in api.calls] == [
        {'filter[status]': ['open'], 'search': ['deploy'], 'page': ['1']},
        {'filter[status]': ['open'], 'search': ['deploy'], 'page': ['2']},
    ]


def test_list_tickets_stops_at_limit(api, client):
    api.on('GET', '/tickets', by_page([page([ticket(5), ticket(4)], next_page=2), page([ticket(3), ticket(2)], next_page=3),
                                       page([ticket(1)])]))

    tickets = list_tickets(client, limit=3)

    assert [item['ticket_id'] for item in tickets] == [5, 4, 3]
    assert len(api.calls) == 2


def test_list_tickets_stops_on_empty_page_even_with_next_link(api, client):
    # Without a count, only the empty page says the list is over.
    api.on('GET', '/tickets', by_page([page([ticket(1)], next_page=2), page([], next_page=3)], count=False))

    assert [item['ticket_id'] for item in list_tickets(client)] == [1]
    assert len(api.calls) == 2


def test_list_tickets_drops_none_filters_and_spells_booleans(api, client):
    api.on('GET', '/tickets', (200, page([])))

    list_tickets(client, filters={'status': None, 'has_incidents': True, 'priority': 'high'})

    assert api.calls[0].query == {'filter[has_incidents]': ['true'], 'filter[priority]': ['high'], 'page': ['1']}


def test_get_ticket_uses_ticket_id_filter(api, client):
    api.on('GET', '/tickets', (200, page([ticket(1234, status='pending')])))

    assert get_ticket(client, 1234) == ticket(1234, status='pending')
    assert api.calls[0].query == {'filter[ticket_id]': ['1234'], 'page': ['1']}
    assert len(api.calls) == 1


def test_get_ticket_not_found_names_ticket(api, client):
    api.on('GET', '/tickets', (200, page([])))

    with pytest.raises(InputError) as info:
        get_ticket(client, 99)

    assert 'Ticket 99 was not found' in info.value.msg


def test_get_ticket_ignores_a_different_ticket(api, client):
    api.on('GET', '/tickets', (200, page([ticket(7)])))

    with pytest.raises(InputError):
        get_ticket(client, 99)


# --- update -----------------------------------------------------------------------------------------------------------


def test_update_ticket_sends_patch_and_returns_ticket(api, client):
    api.on('PATCH', '/tickets/1234', (200, ticket(1234, status='solved')))

    assert update_ticket(client, 1234, {'status': 'solved'}) == ticket(1234, status='solved')
    assert api.calls[0].json() == {'status': 'solved'}


def test_update_ticket_204_is_none(api, client):
    api.on('PATCH', '/tickets/1234', (204, None))

    assert update_ticket(client, 1234, {'status': 'solved'}) is None


# --- create -----------------------------------------------------------------------------------------------------------


def test_create_ticket_returns_ticket(api, client):
    created = ticket(1234, priority='high', status='new')
    api.on('POST', '/tickets', (200, created))

    assert create_ticket(client, PAYLOAD) == created
    assert api.calls[0].json() == PAYLOAD


def test_create_ticket_lost_answer_may_exist(raw_server, make_client, tokens):
    server = raw_server('hang')
    client = make_client(api_url=server.url, access_token=tokens.access, timeout=0.2)

    with pytest.raises(TicketMayExistError) as info:
        create_ticket(client, PAYLOAD)

    assert 'may have been created' in info.value.msg
    assert 'dedupe_key' in info.value.msg
    assert info.value.url == server.url + '/tickets'
    assert server.requests == 1


def test_create_ticket_reset_connection_may_exist(raw_server, make_client, tokens):
    server = raw_server('close')
    client = make_client(api_url=server.url, access_token=tokens.access)

    with pytest.raises(TicketMayExistError):
        create_ticket(client, PAYLOAD)

    assert server.requests == 1


def test_a_lost_create_at_an_api_url_with_credentials_may_exist(raw_server, make_client, tokens):
    # The error's URL is masked (***@): the rule goes by what the client says was sent, not by comparing URLs.
    server = raw_server('close')
    client = make_client(api_url=server.url.replace('http://', 'http://robot:hunter2@'), access_token=tokens.access)

    with pytest.raises(TicketMayExistError) as info:
        create_ticket(client, PAYLOAD)

    assert 'hunter2' not in info.value.msg
    assert server.requests == 1


def test_the_client_says_which_request_of_a_create_was_sent(raw_server, make_client, tokens):
    lost_exchange = raw_server('close')
    with pytest.raises(ResponseLostError) as info:
        make_client(auth_url=lost_exchange.url).request('POST', '/tickets', body=PAYLOAD)
    assert info.value.request_sent is False

    lost_create = raw_server('close')
    with pytest.raises(ResponseLostError) as info:
        make_client(api_url=lost_create.url, access_token=tokens.access).request('POST', '/tickets', body=PAYLOAD)
    assert info.value.request_sent is True


@pytest.mark.parametrize('status', [500, 502, 504])
def test_create_ticket_server_error_may_exist(api, client, status):
    api.on('POST', '/tickets', (status, {'error': 'upstream timed out'}))

    with pytest.raises(TicketMayExistError) as info:
        create_ticket(client, PAYLOAD)

    assert info.value.status == status
    assert info.value.api_error == 'upstream timed out'
    assert 'may have been created' in info.value.msg
    assert len(api.calls) == 1


@pytest.mark.parametrize('status', [400, 403, 422, 429])
def test_create_ticket_refusal_is_api_error_not_may_exist(api, client, status):
    api.on('POST', '/tickets', (status, {'error': 'refused'}))

    with pytest.raises(ApiError) as info:
        create_ticket(client, PAYLOAD)

    assert not isinstance(info.value, TicketMayExistError)
    assert info.value.status == status


@pytest.mark.parametrize('status', [500, 502, 504])
def test_create_ticket_failed_token_exchange_is_not_may_exist(api, make_client, status):
    # The exchange failed: POST /tickets was never sent, so no ticket can exist.
    api.on('POST', '/oauth2/token', (status, 'Bad Gateway'))

    with pytest.raises(ApiError) as info:
        create_ticket(make_client(), PAYLOAD)

    assert not isinstance(info.value, TicketMayExistError)
    assert 'may have been created' not in info.value.msg
    assert api.requests('POST', '/tickets') == []


def test_create_ticket_lost_token_exchange_is_not_may_exist(raw_server, make_client):
    server = raw_server('close')

    with pytest.raises(UpsunError) as info:
        create_ticket(make_client(auth_url=server.url), PAYLOAD)

    assert not isinstance(info.value, TicketMayExistError)
    assert 'may have been created' not in info.value.msg
    assert server.requests == 1


@pytest.mark.parametrize('answer', [
    (200, {'ok': True}),                                      # JSON, not a ticket
    (200, '<html><body>Service Unavailable</body></html>'),    # not JSON
    (200, '{"ticket_id": 1234, "subj'),                        # JSON cut short
    (201, ['ticket_id']),                                      # JSON, not even an object
    (200, None),                                               # nothing at all
    (204, None),
], ids=['not-a-ticket', 'html', 'cut-json', 'a-list', 'empty-200', '204'])
def test_a_success_answer_that_cannot_be_read_may_have_created_the_ticket(api, client, answer):
    api.on('POST', '/tickets', answer)

    with pytest.raises(TicketMayExistError) as info:
        create_ticket(client, PAYLOAD)

    assert info.value.status == answer[0]
    assert info.value.to_result()['may_exist'] is True
    assert 'may have been created' in info.value.msg
    assert len(api.calls) == 1


def test_a_body_cut_short_may_have_created_the_ticket(raw_server, make_client, tokens):
    server = raw_server('close_in_body')

    with pytest.raises(TicketMayExistError) as info:
        create_ticket(make_client(api_url=server.url, access_token=tokens.access), PAYLOAD, reference='ref-1')

    assert info.value.to_result()['dedupe_reference'] == 'ref-1'
    assert server.requests == 1


def test_an_answer_above_max_response_size_may_have_created_the_ticket(api, make_client, tokens):
    api.on('POST', '/tickets', (200, ticket(1234, description='d' * 5000)))

    with pytest.raises(TicketMayExistError) as info:
        create_ticket(make_client(access_token=tokens.access, max_response_size=1024), PAYLOAD)

    assert 'max_response_size' in info.value.msg
    assert len(api.calls) == 1


def test_a_token_exchange_answer_above_max_response_size_is_not_may_exist(api, make_client):
    api.on('POST', '/oauth2/token', (200, {'access_token': 'a' * 5000}))

    with pytest.raises(UpsunError) as info:
        create_ticket(make_client(max_response_size=1024), PAYLOAD)

    assert not isinstance(info.value, TicketMayExistError)
    assert 'max_response_size' in info.value.msg
    assert api.requests('POST', '/tickets') == []


@pytest.mark.parametrize('status', [301, 302, 307, 308])
def test_a_redirected_create_is_not_may_exist(api, client, status):
    api.on('POST', '/tickets', (status, '', {'Location': 'https://elsewhere.example/tickets'}))

    with pytest.raises(ApiError) as info:
        create_ticket(client, PAYLOAD)

    assert not isinstance(info.value, TicketMayExistError)


URL = 'https://api.upsun.com/tickets'


@pytest.mark.parametrize('error, may_exist', [
    (ResponseLostError('timed out after sending', url=URL), True),
    # The token exchange before the create: the client reports that the create itself was not sent.
    (ResponseLostError('reset', url='https://auth.upsun.com/oauth2/token', request_sent=False), False),
    (ApiError('not JSON', status=200, url=URL), True),
    (ApiError('no ticket', status=204, url=URL), True),
    (ApiError('gateway', status=502, url=URL), True),
    (ApiError('server', status=500, url=URL), True),
    (ApiError('unavailable', status=503, url=URL), False),
    (ApiError('rate limited', status=429, url=URL), False),
    (ApiError('refused', status=422, url=URL), False),
    (ApiError('moved', status=302, url=URL), False),
    (ApiError('gateway', status=502, url='https://auth.upsun.com/oauth2/token', request_sent=False), False),
    (TransportError('could not connect', url=URL), False),
    (DeadlineError('deadline passed', url=URL), False),
    (InputError('bad option'), False),
    (ValueError('not ours'), False),
])
def test_the_one_rule_of_a_create_that_may_exist(error, may_exist):
    assert create_may_exist(error) is may_exist


# --- dedupe -----------------------------------------------------------------------------------------------------------


def test_find_by_reference_keeps_only_carriers_newest_first(api, client):
    reference = dedupe_reference('key')
    api.on('GET', '/tickets', (200, page([
        ticket(3, description=with_footer('a', dedupe=reference)),
        ticket(9, description='mentions something else'),
        ticket(12, description=with_footer('b', dedupe=reference)),
        ticket(5, description=None),
    ])))

    found = find_by_reference(client, reference)

    assert [item['ticket_id'] for item in found] == [12, 3]
    assert api.calls[0].query['search'] == [reference]


@pytest.mark.parametrize('statuses, expected', [
    (['solved', 'open', 'new'], 1),
    (['closed', 'solved'], None),
    (['hold'], 0),
    (['pending'], 0),
    ([], None),
])
def test_open_duplicate_is_newest_unsolved(statuses, expected):
    tickets = [ticket(index, status=status) for index, status in enumerate(statuses)]

    duplicate = open_duplicate(tickets)

    assert (duplicate['ticket_id'] if duplicate else None) == expected


# --- paging limits ----------------------------------------------------------------------------------------------------


def endless(first_id=1000):
    """GET /tickets answers that never end: every page new tickets and a next link, and no count."""
    def answer(call):
        number = int(call.query['page'][0])
        tickets = [ticket(first_id + number * 10 + index) for index in range(2)]
        return 200, {'tickets': tickets, '_links': {'next': {'href': '/tickets?page={0}'.format(number + 1)}}}
    return answer


def test_paging_stops_at_the_count_even_with_an_endless_next_link(api, client, warned):
    # Past the end the server repeats its last page, with a next link.
    api.on('GET', '/tickets', by_page([page([ticket(3), ticket(2)], next_page=2), page([ticket(1)], next_page=3)]))

    tickets, count = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == [3, 2, 1] and count == 3
    assert len(api.calls) == 2
    assert warned == []


def test_paging_stops_at_a_next_link_that_does_not_move_forward(api, client, warned):
    stuck = page([ticket(9), ticket(8)], next_page=1)
    api.on('GET', '/tickets', by_page([stuck, page([ticket(7)])], count=3))

    tickets, count = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == [9, 8] and count == 3
    assert len(api.calls) == 1
    assert warned == ['GET /tickets: the next link of page 1 does not move forward (it names page 1); stopped there, '
                      'with 2 of the 3 matching tickets.']


def test_paging_stops_at_a_next_link_without_a_page_number(api, client, warned):
    first = page([ticket(9)])
    first['_links']['next'] = {'href': 'https://api.upsun.com/tickets?cursor=abc'}
    api.on('GET', '/tickets', by_page([first, page([ticket(8)])]))

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == [9]
    assert len(api.calls) == 1
    assert 'names no page' in warned[0]


def test_paging_follows_a_next_link_that_skips_ahead(api, client):
    api.on('GET', '/tickets', by_page([page([ticket(9)], next_page=3), page([ticket(99)]), page([ticket(8)])], count=2))

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == [9, 8]
    assert [call.query['page'] for call in api.calls] == [['1'], ['3']]


def test_paging_stops_at_the_page_limit(api, make_client, warned, tokens):
    api.on('GET', '/tickets', endless())
    client = make_client(access_token=tokens.access, page_limit=4)

    tickets, count = search_tickets(client)

    assert len(api.calls) == 4 and len(tickets) == 8
    assert count is None
    assert warned == ['GET /tickets: stopped after 4 pages (page_limit); 8 of the matching tickets were read. '
                      'Narrow the search, or raise page_limit.']


def test_the_default_page_limit_ends_endless_paging(api, make_client, tokens):
    api.on('GET', '/tickets', endless())
    client = make_client(access_token=tokens.access)

    tickets, dummy = search_tickets(client)

    assert client.page_limit == 100
    assert len(api.calls) == 100 and len(tickets) == 200


def test_paging_stops_at_a_page_with_nothing_new(api, client, warned):
    # No count, and a next link that moves on while serving the same tickets again.
    same = page([ticket(3), ticket(2)], next_page=2)
    api.on('GET', '/tickets', by_page([same, page([ticket(3), ticket(2)], next_page=3)], count=False))

    tickets, dummy = search_tickets(client)

    assert [item['ticket_id'] for item in tickets] == [3, 2]
    assert len(api.calls) == 2
    assert 'nothing new' in warned[0]


def test_a_limit_below_the_count_reads_no_further(api, client, warned):
    api.on('GET', '/tickets', by_page([page([ticket(5), ticket(4)], next_page=2), page([ticket(3)])]))

    tickets, count = search_tickets(client, limit=2)

    assert [item['ticket_id'] for item in tickets] == [5, 4] and count == 3
    assert len(api.calls) == 1 and warned == []


# --- exactly once with a dedupe reference -----------------------------------------------------------------------------


REFERENCE = dedupe_reference('deploy-42')


def carrier(ticket_id, status='new'):
    return ticket(ticket_id, status=status, description=with_footer('It broke.', dedupe=REFERENCE))


def deduped_payload():
    return dict(PAYLOAD, description=with_footer(PAYLOAD['description'], dedupe=REFERENCE))


def test_create_deduped_searches_again_with_a_back_off_after_an_ambiguous_create(api, client, warned, retry_sleeps, lock_dir):
    # The server is still at work: the ticket shows up in the fourth search after the create.
    api.on('GET', '/tickets', (200, page([])), (200, page([])), (200, page([])), (200, page([])), (200, page([carrier(77)])))
    api.on('POST', '/tickets', (502, 'Bad Gateway'), (200, carrier(78)))

    created, found = create_deduped(client, deduped_payload(), REFERENCE, warned.append)

    assert created is True and found['ticket_id'] == 77
    assert len(api.requests('POST', '/tickets')) == 1
    assert len(api.requests('GET', '/tickets')) == 5
    assert retry_sleeps == [1.0, 2.0, 4.0]
    assert warned[-1] == 'The answer to POST /tickets was lost; ticket 77 carries the dedupe_key, so it was filed.'


def test_create_deduped_never_posts_again_and_says_the_ticket_may_exist(
        api, make_client, warned, retry_sleeps, tokens, lock_dir):
    api.on('GET', '/tickets', (200, page([])))
    api.on('POST', '/tickets', (504, 'Gateway Timeout'), (200, carrier(78)))
    client = make_client(access_token=tokens.access, retries=1, deadline=60)

    with pytest.raises(TicketMayExistError) as info:
        create_deduped(client, deduped_payload(), REFERENCE, warned.append)

    assert len(api.requests('POST', '/tickets')) == 1
    searches = len(api.requests('GET', '/tickets')) - 1
    assert searches >= 4
    # A bounded window of searches: AMBIGUOUS_CREATE_WINDOW seconds at most, well inside the deadline.
    assert sum(retry_sleeps) <= AMBIGUOUS_CREATE_WINDOW
    assert info.value.reference == REFERENCE
    assert info.value.to_result()['may_exist'] is True
    assert info.value.to_result()['dedupe_reference'] == REFERENCE
    assert info.value.status == 504
    assert REFERENCE in info.value.msg
    assert 'nothing more was sent' in info.value.msg


def test_the_search_window_ends_at_the_deadline(api, make_client, warned, retry_sleeps, tokens, lock_dir):
    api.on('GET', '/tickets', (200, page([])))
    api.on('POST', '/tickets', (500, {'error': 'oops'}))
    client = make_client(access_token=tokens.access, retries=1, deadline=5)

    with pytest.raises(TicketMayExistError):
        create_deduped(client, deduped_payload(), REFERENCE, warned.append)

    assert sum(retry_sleeps) < 5
    assert client.remaining() > 0


def test_a_failed_search_after_an_ambiguous_create_still_says_may_exist(api, client, warned, lock_dir):
    api.on('GET', '/tickets', (200, page([])), (403, {'error': 'forbidden now'}))
    api.on('POST', '/tickets', (502, 'Bad Gateway'))

    with pytest.raises(TicketMayExistError) as info:
        create_deduped(client, deduped_payload(), REFERENCE, warned.append)

    assert 'forbidden now' in info.value.msg
    assert len(api.requests('POST', '/tickets')) == 1


def test_create_deduped_holds_the_lock_of_its_reference(api, client, warned, lock_dir):
    api.on('GET', '/tickets', (200, page([])))
    held = []

    def answer(call):
        held.append(lock_is_held(lock_dir, REFERENCE))
        return 200, carrier(80)

    api.on('POST', '/tickets', answer)

    assert create_deduped(client, deduped_payload(), REFERENCE, warned.append)[0] is True
    assert held == [True]
    assert lock_is_held(lock_dir, REFERENCE) is False


def lock_is_held(directory, reference):
    import fcntl
    import glob

    [path] = glob.glob(os.path.join(str(directory), 'upsun-support-locks-*', reference + '.lock'))
    with open(path, 'r+') as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
