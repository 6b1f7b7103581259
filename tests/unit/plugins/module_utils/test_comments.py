# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Comments: the request body checked and masked, POST /comments, and every page of a conversation.

The client is a spec'd mock (``create_autospec(Client)``): each test scripts the answers of ``request``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils.client import Client
from ansible_collections.upsun.support.plugins.module_utils.comments import (
    MAX_BODY_BYTES,
    CommentsRefusedError,
    add_comment,
    conversation,
    list_comments,
    prepare_comment,
)
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    InputError,
    ResponseLostError,
)

API_URL = 'https://api.example.test'
REQUESTER = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
AGENT = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'


@pytest.fixture
def client():
    fake = mock.create_autospec(Client, instance=True)
    fake.api_url = API_URL
    fake.page_limit = 100
    return fake


def comment(comment_id, author=REQUESTER, created_at=None, **fields):
    # One minute apart, in the order of their ids.
    default_time = '2026-11-27T{0:02d}:{1:02d}:00Z'.format(comment_id // 60, comment_id % 60)
    result = dict(comment_id=comment_id, ticket_id=7, created_at=created_at or default_time,
                  body='comment {0}'.format(comment_id), author_id=author, public=True, attachments={})
    result.update(fields)
    return result


def api_error(status, text='refused'):
    return ApiError('The Upsun API answered with HTTP {0}: {1}.'.format(status, text), status=status,
                    url=API_URL + '/comments', api_error=text)


def page_answers(pages, count=None, page_size=50):
    """``request`` side effect serving ``pages`` (lists of comments, newest first) by the ``page`` parameter."""
    total = sum(len(page) for page in pages) if count is None else count

    def answer(method, path, params=None, body=None):
        number = params['page']
        links = {'self': {'href': API_URL + path}}
        if number < len(pages):
            links['next'] = {'href': '{0}{1}?page={2}'.format(API_URL, path, number + 1)}
        return 200, {'count': total, 'comments': pages[number - 1] if number <= len(pages) else [], '_links': links}
    return answer


# --- the request body -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('body', ['', '   ', '\n\t'])
def test_blank_body_is_refused_naming_body(body):
    with pytest.raises(InputError, match='^body must not be blank'):
        prepare_comment(dict(body=body))


def test_missing_body_is_refused_naming_body():
    with pytest.raises(InputError, match='^body is required'):
        prepare_comment(dict(body=None))


def test_body_at_the_limit_is_sent_one_byte_more_is_refused_naming_body_and_limit():
    assert prepare_comment(dict(body='x' * MAX_BODY_BYTES)).payload == {'body': 'x' * MAX_BODY_BYTES}
    with pytest.raises(InputError, match=r'^body is {0} bytes .* above the {1} bytes'.format(MAX_BODY_BYTES + 1, MAX_BODY_BYTES)):
        prepare_comment(dict(body='x' * (MAX_BODY_BYTES + 1)))


def test_body_size_counts_bytes_of_utf8_not_characters():
    # 'é' is two bytes: half the characters already fill the limit.
    with pytest.raises(InputError, match='^body is'):
        prepare_comment(dict(body=u'\u00e9' * (MAX_BODY_BYTES // 2 + 1)))


def test_credentials_are_masked_in_body_and_attachments():
    secret = 'tok-5ecr3t-value'
    prepared = prepare_comment(dict(body='failed with ' + secret, max_attachment_size=1000,
                                    attachments=[dict(content='log: ' + secret + '\n', filename='deploy.log')]),
                               secrets={secret, None})
    assert prepared.payload['body'] == 'failed with [REDACTED]'
    [item] = prepared.payload['attachments']
    assert base64.b64decode(item['data']) == b'log: [REDACTED]\n'
    assert prepared.summary['attachments'] == [dict(filename='deploy.log', size=len(b'log: [REDACTED]\n'))]
    assert secret not in repr(prepared.summary)


def test_attachments_are_checked_as_for_a_ticket():
    with pytest.raises(InputError, match=r'^attachments\[0\] gives content without filename'):
        prepare_comment(dict(body='x', attachments=[dict(content='text')], max_attachment_size=100))
    with pytest.raises(InputError, match='above max_attachment_size'):
        prepare_comment(dict(body='x', attachments=[dict(content='12345', filename='a.txt')], max_attachment_size=4))


# --- POST /comments ---------------------------------------------------------------------------------------------------


def test_add_comment_posts_ticket_id_and_body_and_returns_the_answer(client):
    client.request.return_value = (200, comment(9, body='again'))

    assert add_comment(client, 7, dict(body='again')) == comment(9, body='again')

    client.request.assert_called_once_with('POST', '/comments', params=None, body=dict(ticket_id=7, body='again'))


@pytest.mark.parametrize('status', [403, 405])
def test_refused_endpoint_raises_comments_refused(client, status):
    client.request.side_effect = api_error(status)

    with pytest.raises(CommentsRefusedError) as info:
        add_comment(client, 7, dict(body='x'))

    assert info.value.status == status
    assert 'does not offer the comment endpoints' in info.value.msg
    assert 'POST /comments (HTTP {0}: refused)'.format(status) in info.value.msg


def test_404_for_a_ticket_that_exists_is_the_endpoint_refused(client):
    client.request.side_effect = [api_error(404), (200, {'count': 1, 'tickets': [{'ticket_id': 7}]})]

    with pytest.raises(CommentsRefusedError):
        add_comment(client, 7, dict(body='x'))

    assert client.request.call_args_list[1] == mock.call('GET', '/tickets', params={'filter[ticket_id]': 7, 'page': 1})


def test_404_for_a_ticket_not_found_says_so(client):
    client.request.side_effect = [api_error(404), (200, {'count': 0, 'tickets': []})]

    with pytest.raises(InputError, match='^Ticket 7 was not found'):
        add_comment(client, 7, dict(body='x'))


def test_404_on_a_ticket_already_found_is_refused_without_looking_it_up(client):
    client.request.side_effect = [api_error(404)]

    with pytest.raises(CommentsRefusedError):
        add_comment(client, 7, dict(body='x'), ticket_known=True)

    assert client.request.call_count == 1


def test_other_api_errors_are_not_taken_for_a_refusal(client):
    client.request.side_effect = api_error(422, 'body: must not be empty')

    with pytest.raises(ApiError) as info:
        add_comment(client, 7, dict(body='x'))

    assert not isinstance(info.value, CommentsRefusedError)


def test_lost_answer_says_the_comment_may_have_been_added(client):
    client.request.side_effect = ResponseLostError('No answer to POST /comments.', url=API_URL + '/comments')

    with pytest.raises(ResponseLostError, match='may have been added to ticket 7'):
        add_comment(client, 7, dict(body='x'))


def test_answer_without_comment_object_is_an_error(client):
    client.request.return_value = (200, None)

    with pytest.raises(ApiError, match='without a comment object'):
        add_comment(client, 7, dict(body='x'))


# --- GET /comments/{ticket_id} ----------------------------------------------------------------------------------------


def test_every_page_is_read_and_comments_come_oldest_first(client):
    newest_first = [comment(number) for number in range(120, 0, -1)]
    client.request.side_effect = page_answers([newest_first[:50], newest_first[50:100], newest_first[100:]])

    found = list_comments(client, 7)

    assert [item['comment_id'] for item in found] == list(range(1, 121))
    assert [call.kwargs['params'] for call in client.request.call_args_list] == [dict(page=1), dict(page=2), dict(page=3)]
    assert all(call.args == ('GET', '/comments/7') for call in client.request.call_args_list)
    client.warn.assert_not_called()


def test_order_comes_from_created_at_then_id_whatever_the_pages_order(client):
    same_second = '2026-11-27T06:00:00Z'
    client.request.side_effect = page_answers([[comment(3, created_at='2026-11-27T05:00:00Z'),
                                                comment(5, created_at=same_second), comment(4, created_at=same_second)]])

    assert [item['comment_id'] for item in list_comments(client, 7)] == [3, 4, 5]


def test_next_link_that_does_not_move_forward_stops_with_a_warning(client):
    def answer(method, path, params=None, body=None):
        return 200, {'count': 500, 'comments': [comment(params['page'])],
                     '_links': {'next': {'href': API_URL + path + '?page=1'}}}
    client.request.side_effect = answer

    assert [item['comment_id'] for item in list_comments(client, 7)] == [1]
    [[message], dummy] = client.warn.call_args
    assert 'does not move forward' in message


def test_page_limit_stops_with_a_warning(client):
    client.page_limit = 2
    client.request.side_effect = page_answers([[comment(number)] for number in range(10, 0, -1)])

    assert len(list_comments(client, 7)) == 2
    assert client.request.call_count == 2
    [[message], dummy] = client.warn.call_args
    assert 'page_limit' in message


def test_a_page_with_nothing_new_ends_the_listing(client):
    client.request.side_effect = lambda method, path, params=None, body=None: (
        200, {'count': 99, 'comments': [comment(1)], '_links': {'next': {'href': API_URL + path + '?page={0}'.format(params['page'] + 1)}}})

    assert len(list_comments(client, 7)) == 1
    assert client.request.call_count == 2


@pytest.mark.parametrize('status', [403, 404, 405])
def test_refused_listing_raises_comments_refused(client, status):
    client.request.side_effect = api_error(status)

    with pytest.raises(CommentsRefusedError, match='GET /comments/7'):
        list_comments(client, 7)


def test_conversation_marks_what_the_requester_wrote(client):
    client.request.side_effect = page_answers([[comment(3, author=AGENT), comment(2, author=REQUESTER.upper()),
                                                comment(1, author=REQUESTER)]])

    found = conversation(client, dict(ticket_id=7, requester_id=REQUESTER))

    assert [(item['comment_id'], item['by_requester']) for item in found] == [(1, True), (2, True), (3, False)]
    assert found[0] == dict(comment(1), by_requester=True)


def test_conversation_of_a_ticket_without_requester_marks_nothing_as_theirs(client):
    client.request.side_effect = page_answers([[comment(1, author=None)]])

    assert conversation(client, dict(ticket_id=7, requester_id=None))[0]['by_requester'] is False
