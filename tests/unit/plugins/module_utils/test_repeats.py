# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Repeat comments: checked before any request, masked, sent once (ledger and repeat reference), refusals warned.

The client is the spec'd mock of test_comments.py, whose ``request`` answers are scripted; the ledger is real, in a
temporary directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.module_utils.comments import MAX_BODY_BYTES
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, InputError, ResponseLostError
from ansible_collections.upsun.support.plugins.module_utils.filing import file_prepared, prepare_create
from ansible_collections.upsun.support.plugins.module_utils.ledger import Ledger
from ansible_collections.upsun.support.plugins.module_utils.repeats import (
    REFERENCE_ROOM,
    check_repeat_comment,
    comment_on_repeat,
    repeat_reference,
)
from ansible_collections.upsun.support.tests.unit.plugins.module_utils.test_comments import API_URL, client  # noqa: F401 pylint: disable=unused-import

TOKEN = 'tok-4f1b9c2e7a'
OPEN = dict(ticket_id=7, status='open')


@pytest.fixture
def ledger(tmp_path):
    return Ledger(str(tmp_path / 'ledger'), API_URL)


def prepared(body='Failed again at 10:02 on web1 with token ' + TOKEN, **extra):
    params = dict(subject='Deploy failed', description='It broke.', dedupe_key='deploy web', repeat_comment=body,
                  attachments=[dict(filename='web1.log', content='log with ' + TOKEN)], max_attachment_size=1024)
    params.update(extra)
    return prepare_create(params, secrets=[TOKEN])


def posted_comment(payload):
    return dict(payload, comment_id=5002, ticket_id=7, public=True)


def test_check_repeat_comment_refuses_a_missing_key_a_blank_or_oversized_body():
    check_repeat_comment(dict(dedupe_key='k', repeat_comment='fine'))
    check_repeat_comment(dict(repeat_comment=None))
    with pytest.raises(InputError, match='^repeat_comment needs dedupe_key'):
        check_repeat_comment(dict(repeat_comment='text'))
    with pytest.raises(InputError, match='^repeat_comment must not be blank'):
        check_repeat_comment(dict(dedupe_key='k', repeat_comment=' \n'))
    with pytest.raises(InputError, match='^repeat_comment is 65536 bytes of UTF-8'):
        check_repeat_comment(dict(dedupe_key='k', repeat_comment='x' * MAX_BODY_BYTES))
    check_repeat_comment(dict(dedupe_key='k', repeat_comment='x' * (MAX_BODY_BYTES - REFERENCE_ROOM)))


def test_a_repeat_posts_one_masked_comment_with_the_attachments_and_the_reference(client, ledger):
    ticket = prepared()
    client.request.side_effect = lambda method, path, params=None, body=None: (200, posted_comment(body))

    outcome = comment_on_repeat(client, OPEN, ticket.repeat_comment, ticket, warn=None, ledger=ledger)

    [call] = client.request.call_args_list
    body = call.kwargs['body']
    assert call.args == ('POST', '/comments')
    assert TOKEN not in body['body'] and '[REDACTED]' in body['body']
    assert body['body'].endswith('\n\nRepeat reference: ' + repeat_reference(ticket.repeat_comment))
    assert body['attachments'] == ticket.payload['attachments']
    assert outcome.added is True and outcome.comment['comment_id'] == 5002
    assert ledger.comment_attempted(repeat_reference(ticket.repeat_comment))


def test_the_same_repeat_again_is_looked_for_first_and_not_posted_twice(client, ledger):
    ticket = prepared()
    reference = repeat_reference(ticket.repeat_comment)
    ledger.record_comment_attempt(reference)
    found = dict(comment_id=5002, created_at='2026-12-07T10:00:00Z', body='...\n\nRepeat reference: ' + reference)
    client.request.return_value = (200, dict(count=2, comments=[found, dict(comment_id=5001, body='the description')]))

    outcome = comment_on_repeat(client, OPEN, ticket.repeat_comment, ticket, warn=None, ledger=ledger)

    assert [call.args[0] for call in client.request.call_args_list] == ['GET']
    assert outcome.added is False and outcome.comment == found


def test_a_lost_answer_is_looked_for_and_raised_when_the_comment_is_not_there(client, ledger):
    ticket = prepared()
    lost = ResponseLostError('The answer was lost.', url=API_URL + '/comments')
    client.request.side_effect = [lost, (200, dict(count=1, comments=[dict(comment_id=5001, body='the description')]))]

    with pytest.raises(ResponseLostError, match='^Upsun ticket 7 already covers this failure, but the comment'):
        comment_on_repeat(client, OPEN, ticket.repeat_comment, ticket, warn=None, ledger=ledger)
    # Recorded before it was sent: the flush looks for it before posting again.
    assert ledger.comment_attempted(repeat_reference(ticket.repeat_comment))


def test_a_server_error_after_which_the_comment_is_there_counts_as_added(client, ledger):
    ticket = prepared()
    reference = repeat_reference(ticket.repeat_comment)
    there = dict(comment_id=5002, body='x\n\nRepeat reference: ' + reference)
    client.request.side_effect = [ApiError('HTTP 502', status=502, url=API_URL + '/comments'),
                                  (200, dict(count=1, comments=[there]))]

    outcome = comment_on_repeat(client, OPEN, ticket.repeat_comment, ticket, warn=None, ledger=ledger)

    assert outcome.added is True and outcome.comment == there


@pytest.mark.parametrize('status', [404, 403, 405])
def test_refused_endpoints_are_one_warning_and_no_error(client, ledger, status):
    ticket = prepared()
    client.request.side_effect = ApiError('refused', status=status, url=API_URL + '/comments', api_error='no')
    warnings = []

    outcome = comment_on_repeat(client, OPEN, ticket.repeat_comment, ticket, warnings.append, ledger)

    assert outcome.comment == {} and outcome.added is False and 'HTTP {0}'.format(status) in outcome.refused
    assert len(warnings) == 1 and warnings[0].startswith('Upsun ticket 7 already covers this failure')
    # Refused: the ticket is not looked up again (one request).
    assert client.request.call_count == 1


def test_a_refusal_to_a_client_error_other_than_the_refusals_is_raised(client, ledger):
    ticket = prepared()
    client.request.side_effect = ApiError('bad', status=422, url=API_URL + '/comments')
    with pytest.raises(ApiError, match='could not be added: bad'):
        comment_on_repeat(client, OPEN, ticket.repeat_comment, ticket, warn=None, ledger=ledger)


def test_file_prepared_comments_only_on_an_existing_ticket_and_prepare_masks_the_body(client, ledger):
    ticket = prepared()
    assert TOKEN not in ticket.repeat_comment
    # Without a dedupe key there is no repeat: prepare_create keeps no comment.
    assert prepare_create(dict(subject='s', description='d', repeat_comment='r')).repeat_comment is None
    listed = dict(OPEN, description='x\n\n--\nFiled by Ansible: the upsun.support.ticket module.\nDedupe reference: '
                  + ticket.reference)

    def answer(method, path, params=None, body=None):
        if path == '/tickets':
            return 200, dict(count=1, tickets=[listed])
        return 200, posted_comment(body)
    client.request.side_effect = answer

    created, found = file_prepared(client, ticket, warn=None, ledger=ledger)

    assert created is False and found['ticket_id'] == 7
    assert ticket.repeat.added is True
    assert [call.args for call in client.request.call_args_list] == [('GET', '/tickets'), ('POST', '/comments')]
