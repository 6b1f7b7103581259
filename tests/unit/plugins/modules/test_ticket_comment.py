# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_comment module: its logic (run) with a spec'd client, and main() against the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import types
from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils.client import Client
from ansible_collections.upsun.support.plugins.module_utils.comments import CommentsRefusedError
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, with_footer
from ansible_collections.upsun.support.plugins.modules import ticket_comment as comment_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import args

REQUESTER = '3c90c3cc-0d44-4b50-8888-8dd25736052a'


def answered(comment_id=5002, ticket_id=7, body='again'):
    return dict(comment_id=comment_id, ticket_id=ticket_id, created_at='2026-11-27T06:00:00Z', body=body,
                author_id=REQUESTER, public=True, attachments={})


def carrying(ticket_id, key, status):
    return dict(ticket_id=ticket_id, status=status, requester_id=REQUESTER,
                description=with_footer('It broke.', dedupe=dedupe_reference(key)))


# --- run() with a spec'd client ---------------------------------------------------------------------------------------


@pytest.fixture
def client():
    fake = mock.create_autospec(Client, instance=True)
    fake.api_url = 'https://api.example.test'
    fake.page_limit = 100
    return fake


def fake_module(check_mode=False, secrets=(), **params):
    options = dict(body='again', ticket_id=None, dedupe_key=None, attachments=None, max_attachment_size=1000)
    options.update(params)
    return types.SimpleNamespace(params=options, check_mode=check_mode, no_log_values=set(secrets))


def test_run_posts_to_the_ticket_given(client):
    client.request.return_value = (200, answered())

    changed, comment, ticket_id, extra = comment_module.run(fake_module(ticket_id='7'), client)

    assert (changed, comment, ticket_id) == (True, answered(), 7)
    assert extra['msg'] == 'Added comment 5002 to Upsun ticket 7'
    client.request.assert_called_once_with('POST', '/comments', params=None, body=dict(ticket_id=7, body='again'))


def test_run_masks_the_credentials_in_use(client):
    client.request.return_value = (200, answered())

    comment_module.run(fake_module(ticket_id=7, body='token s3cr3t-api-token leaked', secrets={'s3cr3t-api-token'}), client)

    sent = client.request.call_args.kwargs['body']
    assert sent['body'] == 'token [REDACTED] leaked'


def test_run_by_dedupe_key_comments_on_the_newest_unsolved_ticket(client):
    tickets = [carrying(9, 'deploy', 'solved'), carrying(8, 'deploy', 'open'), carrying(6, 'deploy', 'new')]
    client.request.side_effect = [(200, {'count': 3, 'tickets': tickets}), (200, answered(ticket_id=8))]

    changed, dummy, ticket_id, dummy_extra = comment_module.run(fake_module(dedupe_key='deploy'), client)

    assert (changed, ticket_id) == (True, 8)
    search, post = client.request.call_args_list
    assert search.kwargs['params']['search'] == dedupe_reference('deploy')
    assert post.kwargs['body'] == dict(ticket_id=8, body='again')


def test_run_by_dedupe_key_without_unsolved_ticket_sends_no_comment(client):
    client.request.return_value = (200, {'count': 1, 'tickets': [carrying(9, 'deploy', 'solved')]})

    changed, comment, ticket_id, extra = comment_module.run(fake_module(dedupe_key='deploy'), client)

    assert (changed, comment, ticket_id) == (False, {}, None)
    assert 'No unsolved Upsun ticket carries this dedupe_key' in extra['msg']
    assert [call.args[0] for call in client.request.call_args_list] == ['GET']


def test_check_mode_with_ticket_id_sends_nothing_and_shows_the_payload(client):
    module = fake_module(check_mode=True, ticket_id=7, attachments=[dict(content='log line\n', filename='deploy.log')])

    changed, comment, ticket_id, extra = comment_module.run(module, client)

    assert (changed, comment, ticket_id) == (True, {}, 7)
    assert extra['payload'] == dict(ticket_id=7, body='again', attachments=[dict(filename='deploy.log', size=9)])
    assert 'nothing was sent' in extra['msg']
    client.request.assert_not_called()


def test_check_mode_with_dedupe_key_only_searches(client):
    client.request.return_value = (200, {'count': 1, 'tickets': [carrying(8, 'deploy', 'open')]})

    changed, dummy, ticket_id, extra = comment_module.run(fake_module(check_mode=True, dedupe_key='deploy'), client)

    assert (changed, ticket_id, extra['payload']['ticket_id']) == (True, 8, 8)
    assert [call.args[:2] for call in client.request.call_args_list] == [('GET', '/tickets')]


@pytest.mark.parametrize('value, shown', [
    (True, "the bool True"), (0, "got 0"), (-3, "got -3"), (1.5, "the float 1.5"), ('12a', "the str '12a'"),
    ('', "the str ''"), ([7], "the list [7]"), ({'id': 7}, "the dict {'id': 7}"),
])
def test_bad_ticket_id_is_refused_before_any_request(client, value, shown):
    with pytest.raises(InputError, match='^ticket_id must be a positive') as info:
        comment_module.run(fake_module(ticket_id=value), client)
    assert shown in info.value.msg
    client.request.assert_not_called()


def test_ticket_id_error_says_what_was_given(client):
    with pytest.raises(InputError) as info:
        comment_module.run(fake_module(ticket_id=True), client)
    assert info.value.msg == 'ticket_id must be a positive ticket number such as 1234, got the bool True.'


def test_blank_dedupe_key_is_refused(client):
    with pytest.raises(InputError, match='^dedupe_key must not be blank'):
        comment_module.run(fake_module(dedupe_key='  '), client)
    client.request.assert_not_called()


def test_bad_body_is_refused_before_the_dedupe_search(client):
    with pytest.raises(InputError, match='^body must not be blank'):
        comment_module.run(fake_module(dedupe_key='deploy', body=' '), client)
    client.request.assert_not_called()


def test_refused_endpoint_fails_saying_what_to_do(client):
    client.request.side_effect = ApiError('HTTP 403', status=403, url='https://api.example.test/comments', api_error='Forbidden')

    with pytest.raises(CommentsRefusedError) as info:
        comment_module.run(fake_module(ticket_id=7), client)

    assert info.value.status == 403
    assert 'does not offer the comment endpoints' in info.value.msg
    assert 'No comment was added to ticket 7: add it in the Upsun console' in info.value.msg


# --- main() ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def sends(spec_mocks):
    """``add_comment`` and ``unsolved_carrying`` of the module, as spec'd mocks."""
    return spec_mocks(comment_module, 'add_comment', 'unsolved_carrying')


def test_main_returns_the_comment_and_the_ticket_id(api, run_module, module_params, tokens):
    api.allow_exchange()
    api.on('POST', '/comments', (200, answered(body='again with [REDACTED]')))

    result = run_module(comment_module, module_params(ticket_id=7, body='again with ' + tokens.api,
                                                      attachments=[dict(content='x', filename='a.txt')]))

    assert result['changed'] is True
    assert result['ticket_id'] == 7
    assert result['comment'] == answered(body='again with [REDACTED]')
    [call] = api.requests('POST', '/comments')
    assert call.json() == dict(ticket_id=7, body='again with [REDACTED]',
                               attachments=[dict(filename='a.txt', data=base64.b64encode(b'x').decode('ascii'))])


@pytest.mark.parametrize('options, message', [
    (dict(ticket_id=7, dedupe_key='k'), 'parameters are mutually exclusive: ticket_id|dedupe_key'),
    (dict(), 'one of the following is required: ticket_id, dedupe_key'),
    (dict(ticket_id=7, body=None), 'missing required arguments: body'),
    (dict(ticket_id=7, attachments='deploy.log'), 'attachments must be a list of dicts'),
])
def test_main_refuses_bad_option_combinations_without_request(sends, run_module, options, message):
    options.setdefault('body', 'again')
    result = run_module(comment_module, args(**options))

    assert result['failed'] is True
    assert message in result['msg']
    sends.add_comment.assert_not_called()
    sends.unsolved_carrying.assert_not_called()


def test_main_check_mode_sends_nothing(sends, run_module):
    result = run_module(comment_module, args(ticket_id=7, body='again'), check_mode=True)

    assert result['changed'] is True
    assert result['payload'] == dict(ticket_id=7, body='again')
    sends.add_comment.assert_not_called()


def test_main_refused_endpoint_is_a_clear_failure(api, run_module, module_params):
    api.allow_exchange()
    api.on('POST', '/comments', (405, {'error': 'Method not allowed'}))

    result = run_module(comment_module, module_params(ticket_id=7, body='again'))

    assert result['failed'] is True
    assert result['status'] == 405
    assert result['msg'].startswith('The Upsun API refused POST /comments (HTTP 405: Method not allowed)')
