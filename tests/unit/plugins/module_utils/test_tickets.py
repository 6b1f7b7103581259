# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ticket operations, against the fake API through the real client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    InputError,
    TicketMayExistError,
    UpsunError,
)
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, with_footer
from ansible_collections.upsun.support.plugins.module_utils.tickets import (
    create_ticket,
    find_by_reference,
    get_ticket,
    list_tickets,
    open_duplicate,
    update_ticket,
)

PAYLOAD = {'subject': 'Deploy failed', 'description': 'It broke.', 'priority': 'high'}


def ticket(ticket_id, **fields):
    result = {'ticket_id': ticket_id, 'subject': 'Ticket {0}'.format(ticket_id), 'status': 'open', 'description': ''}
    result.update(fields)
    return result


def page(tickets, next_page=None):
    links = {'self': {'href': '/tickets'}}
    if next_page:
        links['next'] = {'href': '/tickets?page={0}'.format(next_page)}
    return {'count': len(tickets), 'tickets': tickets, '_links': links}


def by_page(pages):
    """An answer for GET /tickets that serves ``pages[n - 1]`` for ``page=n``."""
    def answer(call):
        return 200, pages[int(call.query['page'][0]) - 1]
    return answer


@pytest.fixture
def client(make_client, tokens):
    return make_client(access_token=tokens.access, retries=1)


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
    api.on('GET', '/tickets', by_page([page([ticket(1)], next_page=2), page([], next_page=3)]))

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


def test_create_ticket_without_ticket_object_is_api_error(api, client):
    api.on('POST', '/tickets', (200, {'ok': True}))

    with pytest.raises(ApiError) as info:
        create_ticket(client, PAYLOAD)

    assert 'without a ticket object' in info.value.msg


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
