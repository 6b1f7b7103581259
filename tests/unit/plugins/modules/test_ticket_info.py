# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_info module, run through main(): against the fake API where the requests are the point, with spec'd
mocks of ``search_tickets`` and ``conversation`` where the module's own decisions are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.module_utils.comments import CommentsRefusedError
from ansible_collections.upsun.support.plugins.modules import ticket_info as info_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import args

UUID_A = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
UUID_B = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
UUID_C = '0b6f3c1e-2a4d-4e8f-9c7b-1d2e3f4a5b6c'
CATEGORIES = [{'id': 'incident_outage', 'label': 'Incident / outage'}, {'id': 'access', 'label': 'Access'}]
PRIORITIES = [{'id': 'urgent', 'label': 'Urgent', 'short_description': 'Production down', 'description': 'Down.'}]


def ticket(ticket_id, **fields):
    result = {'ticket_id': ticket_id, 'subject': 'Ticket {0}'.format(ticket_id), 'status': 'open', 'priority': 'normal'}
    result.update(fields)
    return result


def pages(*page_tickets, **options):
    """An answer for GET /tickets serving ``page_tickets`` (one list per page) by the ``page`` query parameter."""
    count = options.get('count', sum(len(tickets) for tickets in page_tickets))

    def answer(call):
        number = int(call.query['page'][0])
        links = {'self': {'href': '/tickets?page={0}'.format(number)}}
        if number < len(page_tickets):
            links['next'] = {'href': '/tickets?page={0}'.format(number + 1)}
        tickets = page_tickets[number - 1] if number <= len(page_tickets) else []
        return 200, {'count': count, 'tickets': tickets, '_links': links}
    return answer


@pytest.fixture
def reads(spec_mocks):
    """``search_tickets`` and ``conversation`` of the module, as spec'd mocks."""
    return spec_mocks(info_module, 'search_tickets', 'conversation')


def refused(status):
    return CommentsRefusedError('The Upsun API refused GET /comments/7 (HTTP {0}: No route).'.format(status), status=status)


def page_numbers(api):
    """The pages requested, in page order: past the first, several are read at once, in no set order."""
    return sorted((call.query['page'] for call in api.requests('GET', '/tickets')), key=lambda page: int(page[0]))


# --- filters and search -----------------------------------------------------------------------------------------------


def test_filters_and_search_are_sent_as_the_api_names_them(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(7, status='pending', priority='urgent')]))
    filters = dict(ticket_id=7, status='pending', priority='urgent', type='incident', requester_id=UUID_A,
                   submitter_id=UUID_B, assignee_id=UUID_C, has_incidents=True, created='2026-11-01T00:00:00Z',
                   updated='2026-11-02T08:30:00+01:00', due='2026-12-01T00:00:00Z')

    result = run_module(info_module, module_params(search='release 42', **filters))

    assert result['changed'] is False
    assert result['tickets'] == [ticket(7, status='pending', priority='urgent')]
    assert result['count'] == 1
    [call] = api.requests('GET', '/tickets')
    assert call.query == {
        'filter[ticket_id]': ['7'],
        'filter[status]': ['pending'],
        'filter[priority]': ['urgent'],
        'filter[type]': ['incident'],
        'filter[requester_id]': [UUID_A],
        'filter[submitter_id]': [UUID_B],
        'filter[assignee_id]': [UUID_C],
        'filter[has_incidents]': ['true'],
        'filter[created]': ['2026-11-01T00:00:00Z'],
        'filter[updated]': ['2026-11-02T08:30:00+01:00'],
        'filter[due]': ['2026-12-01T00:00:00Z'],
        'search': ['release 42'],
        'page': ['1'],
    }
    assert 'categories' not in result and 'priorities' not in result


def test_has_incidents_false_is_sent_as_false(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([]))

    result = run_module(info_module, module_params(has_incidents=False))

    assert result['tickets'] == [] and result['count'] == 0
    assert api.requests('GET', '/tickets')[0].query == {'filter[has_incidents]': ['false'], 'page': ['1']}


def test_no_filter_sends_only_the_page(api, run_module, module_params, tokens):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(1)]))

    run_module(info_module, module_params())

    [call] = api.requests('GET', '/tickets')
    assert call.query == {'page': ['1']}
    assert call.headers['Authorization'] == 'Bearer ' + tokens.exchanged


# --- paging -----------------------------------------------------------------------------------------------------------


def test_every_page_is_read(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(9), ticket(8)], [ticket(7), ticket(6)], [ticket(5)]))

    result = run_module(info_module, module_params(status='open'))

    assert [item['ticket_id'] for item in result['tickets']] == [9, 8, 7, 6, 5]
    assert result['count'] == 5
    assert page_numbers(api) == [['1'], ['2'], ['3']]
    assert all(call.query['filter[status]'] == ['open'] for call in api.requests('GET', '/tickets'))
    assert len(api.requests('POST', '/oauth2/token')) == 1


def test_an_empty_page_ends_the_listing_even_with_a_next_link(api, run_module, module_params):
    def answer(call):
        number = int(call.query['page'][0])
        tickets = [ticket(3)] if number == 1 else []
        # No count: only the empty page says the list is over.
        return 200, {'tickets': tickets, '_links': {'next': {'href': '/tickets?page={0}'.format(number + 1)}}}
    api.allow_exchange()
    api.on('GET', '/tickets', answer)

    result = run_module(info_module, module_params())

    assert [item['ticket_id'] for item in result['tickets']] == [3]
    assert page_numbers(api) == [['1'], ['2']]


@pytest.mark.parametrize('limit, tickets, read', [
    (1, [9], [['1']]),
    (2, [9, 8], [['1']]),
    (3, [9, 8, 7], [['1'], ['2']]),
    (5, [9, 8, 7, 6, 5], [['1'], ['2'], ['3']]),
    (50, [9, 8, 7, 6, 5], [['1'], ['2'], ['3']]),
])
def test_limit_caps_the_tickets_and_the_pages_read(api, run_module, module_params, limit, tickets, read):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(9), ticket(8)], [ticket(7), ticket(6)], [ticket(5)]))

    result = run_module(info_module, module_params(limit=limit))

    assert [item['ticket_id'] for item in result['tickets']] == tickets
    assert result['count'] == 5, 'the API count, not the length of tickets'
    assert page_numbers(api) == read


def test_lookup_by_id(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(1234, status='solved')]))

    result = run_module(info_module, module_params(ticket_id=1234))

    assert result['tickets'] == [ticket(1234, status='solved')]
    assert api.requests('GET', '/tickets')[0].query == {'filter[ticket_id]': ['1234'], 'page': ['1']}


# --- categories and priorities ----------------------------------------------------------------------------------------


def test_categories_and_priorities_carry_their_query_parameters(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets/category', (200, CATEGORIES))
    api.on('GET', '/tickets/priority', (200, PRIORITIES))

    result = run_module(info_module, module_params(fetch=['categories', 'priorities'], subscription_id='123456',
                                                   organization_id='01HZXJ5N5V2K8Q7M3T9W4Y6R1P', category='incident_outage'))

    assert result['changed'] is False
    assert result['categories'] == CATEGORIES
    assert result['priorities'] == PRIORITIES
    assert 'tickets' not in result and 'count' not in result
    assert api.requests('GET', '/tickets') == []
    [categories] = api.requests('GET', '/tickets/category')
    assert categories.query == {'subscription_id': ['123456'], 'organization_id': ['01HZXJ5N5V2K8Q7M3T9W4Y6R1P']}
    [priorities] = api.requests('GET', '/tickets/priority')
    assert priorities.query == {'subscription_id': ['123456'], 'category': ['incident_outage']}
    assert len(api.requests('POST', '/oauth2/token')) == 1


def test_catalogs_without_options_send_no_query(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets/category', (200, CATEGORIES))
    api.on('GET', '/tickets/priority', (200, PRIORITIES))

    result = run_module(info_module, module_params(fetch=['priorities', 'categories']))

    assert (result['categories'], result['priorities']) == (CATEGORIES, PRIORITIES)
    assert [(call.path, call.query) for call in api.requests('GET')] == [('/tickets/category', {}), ('/tickets/priority', {})]


def test_tickets_and_catalogs_together(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(1)]))
    api.on('GET', '/tickets/category', (200, CATEGORIES))

    result = run_module(info_module, module_params(fetch=['tickets', 'categories']))

    assert result['tickets'] == [ticket(1)] and result['categories'] == CATEGORIES
    assert 'priorities' not in result


def test_empty_catalog_answer_is_an_empty_list(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets/priority', (204, None))

    result = run_module(info_module, module_params(fetch=['priorities']))

    assert result['priorities'] == []


# --- invalid input: a message naming the option, and no request ------------------------------------------------------


@pytest.mark.parametrize('options, expected', [
    (dict(requester_id='jane@example.com'), ['requester_id', 'UUID', 'jane@example.com']),
    (dict(submitter_id='42'), ['submitter_id', 'UUID', "'42'"]),
    (dict(assignee_id='not-a-uuid'), ['assignee_id', 'UUID', 'not-a-uuid']),
    (dict(created='yesterday'), ['created', 'ISO 8601', 'yesterday']),
    (dict(updated='2026-11-01'), ['updated', 'with a time', '2026-11-01']),
    (dict(due='2026-13-01T00:00:00Z'), ['due', 'ISO 8601', '2026-13-01T00:00:00Z']),
    (dict(limit=0), ['limit', '1 or more', '0']),
    (dict(limit=-5), ['limit', '1 or more', '-5']),
    (dict(limit='many'), ['limit', 'int']),
    (dict(status='done'), ['status', 'closed, deleted, hold, new, open, pending, solved', 'done']),
    (dict(priority='critical'), ['priority', 'low, normal, high, urgent', 'critical']),
    (dict(type='bug'), ['type', 'problem, task, incident, question', 'bug']),
    (dict(category='outage'), ['category', 'incident_outage', 'outage']),
    (dict(fetch=['tickets', 'users']), ['fetch', 'tickets, categories, priorities', 'users']),
    (dict(api_token=None), ['No Upsun credentials', 'UPSUN_CLI_TOKEN']),
    (dict(api_url='api.upsun.com'), ['api_url', 'UPSUN_CLI_API_URL', 'api.upsun.com']),
    (dict(ticket_id=0), ['ticket_id must be a positive ticket number, got 0.']),
    (dict(ticket_id=-1), ['ticket_id must be a positive ticket number, got -1.']),
    (dict(deadline=-1), ['deadline', 'above 0']),
    (dict(page_limit=0), ['page_limit', 'from 1 to 10000']),
], ids=lambda value: '-'.join(value) if isinstance(value, dict) else None)
def test_invalid_input_fails_before_any_request(reads, run_module, options, expected):
    result = run_module(info_module, args(**options))

    assert result['failed'] is True
    for text in expected:
        assert text in result['msg']
    reads.search_tickets.assert_not_called()


# --- check mode, errors -----------------------------------------------------------------------------------------------


def test_check_mode_reads_as_usual(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(9), ticket(8)], [ticket(7)]))
    api.on('GET', '/tickets/category', (200, CATEGORIES))

    result = run_module(info_module, module_params(fetch=['tickets', 'categories']), check_mode=True)

    assert result['changed'] is False
    assert [item['ticket_id'] for item in result['tickets']] == [9, 8, 7]
    assert result['categories'] == CATEGORIES
    assert page_numbers(api) == [['1'], ['2']]
    assert [call.method for call in api.calls if call.path != '/oauth2/token'] == ['GET', 'GET', 'GET']


def test_api_error_fails_with_the_api_message(api, run_module, module_params, tokens):
    api.allow_exchange()
    api.on('GET', '/tickets', (422, {'error': 'filter[due]: not a date-time'}))

    result = run_module(info_module, module_params(due='2026-11-01T00:00:00Z'))

    assert result['failed'] is True
    assert result['status'] == 422
    assert 'filter[due]: not a date-time' in result['msg']
    assert tokens.api not in str(result) and tokens.exchanged not in str(result)


# --- comments ---------------------------------------------------------------------------------------------------------


def comment_pages(ticket_id, authors, page_size=50):
    """An answer for GET /comments/{ticket_id}: ``authors`` (oldest first) as comments 1..N, newest first, paged."""
    newest_first = [dict(comment_id=number, ticket_id=ticket_id, created_at='2026-11-27T{0:02d}:{1:02d}:00Z'.format(
        number // 60, number % 60), body='comment {0}'.format(number), author_id=author, public=True, attachments={})
        for number, author in reversed(list(enumerate(authors, 1)))]

    def answer(call):
        number = int(call.query['page'][0])
        links = {'self': {'href': call.path}}
        if number * page_size < len(newest_first):
            links['next'] = {'href': '{0}?page={1}'.format(call.path, number + 1)}
        return 200, {'count': len(newest_first), 'comments': newest_first[(number - 1) * page_size:number * page_size],
                     '_links': links}
    return answer


def test_comments_true_gives_each_ticket_its_whole_conversation_oldest_first(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', pages([ticket(7, requester_id=UUID_A), ticket(6, requester_id=UUID_B)]))
    api.on('GET', '/comments/7', comment_pages(7, [UUID_A] + [UUID_B, UUID_A] * 35))
    api.on('GET', '/comments/6', comment_pages(6, [UUID_B]))

    result = run_module(info_module, module_params(comments=True))

    first, second = result['tickets']
    assert [item['comment_id'] for item in first['comments']] == list(range(1, 72))
    assert [item['by_requester'] for item in first['comments'][:4]] == [True, False, True, False]
    assert first['comments'][0]['body'] == 'comment 1'
    assert [item['by_requester'] for item in second['comments']] == [True]
    assert sorted(call.query['page'][0] for call in api.requests('GET', '/comments/7')) == ['1', '2']
    assert result['warnings'] == []


@pytest.mark.parametrize('status', [403, 404, 405])
def test_refused_comments_warn_once_and_return_the_tickets(reads, run_module, status):
    reads.search_tickets.return_value = ([ticket(7), ticket(6)], 2)
    reads.conversation.side_effect = refused(status)

    result = run_module(info_module, args(comments=True))

    assert 'failed' not in result
    assert result['tickets'] == [ticket(7), ticket(6)]
    [warning] = result['warnings']
    assert warning == refused(status).msg + ' The tickets are returned without their comments.'
    assert [call.args[1]['ticket_id'] for call in reads.conversation.call_args_list] == [7]


def test_comments_refused_after_some_tickets_leaves_none_with_comments(reads, run_module):
    reads.search_tickets.return_value = ([ticket(7), ticket(6)], 2)
    reads.conversation.side_effect = [[dict(comment_id=1, body='first', by_requester=True)], refused(403)]

    result = run_module(info_module, args(comments=True))

    assert result['tickets'] == [ticket(7), ticket(6)]
    assert len(result['warnings']) == 1


def test_comments_false_reads_no_comment(reads, run_module):
    reads.search_tickets.return_value = ([ticket(7)], 1)

    result = run_module(info_module, args())

    assert result['tickets'] == [ticket(7)]
    reads.conversation.assert_not_called()


def test_a_ticket_without_id_gets_no_comments_and_no_request(reads, run_module):
    reads.search_tickets.return_value = ([ticket(7), {'subject': 'no id'}], 2)
    reads.conversation.return_value = [dict(comment_id=1, body='first', by_requester=True)]

    result = run_module(info_module, args(comments=True))

    assert [len(item.get('comments', [])) for item in result['tickets']] == [1, 0]
    assert [call.args[1]['ticket_id'] for call in reads.conversation.call_args_list] == [7]
