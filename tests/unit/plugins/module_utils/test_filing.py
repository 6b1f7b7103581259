# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filing one ticket (filing.py): the options checked and the request built, the credentials masked in it, and the
send with or without dedupe; the ticket operations it calls are spec'd mocks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils import filing
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.filing import file_prepared, mask_attachments, prepare_create
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, parse_footer, recovery_reference
from ansible_collections.upsun.support.plugins.module_utils.ledger import Ledger
from ansible_collections.upsun.support.plugins.module_utils.masking import REPLACEMENT as MASK

TOKEN = 'apitoken-SECRET-7c1e4b2a9f'
PARAMS = dict(subject='Deploy failed', description='The deploy hook exited 1.', priority='high', max_attachment_size=1 << 20)


def b64(raw):
    return base64.b64encode(raw).decode('ascii')


# --- prepare_create ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('missing', ['subject', 'description'])
def test_a_missing_subject_or_description_is_refused_naming_it(missing):
    params = dict(PARAMS)
    del params[missing]
    with pytest.raises(InputError) as caught:
        prepare_create(params)
    assert caught.value.msg.startswith('{0} is required to file a ticket'.format(missing))


def test_a_blank_description_is_refused_before_the_footer_fills_it():
    with pytest.raises(InputError) as caught:
        prepare_create(dict(PARAMS, description=' \n '))
    assert 'description' in caught.value.msg


@pytest.mark.parametrize('name', ['dedupe_key', 'recovery_key'])
@pytest.mark.parametrize('value', ['', '   '])
def test_an_empty_or_blank_key_is_refused_naming_it(name, value):
    with pytest.raises(InputError) as caught:
        prepare_create(dict(PARAMS, **{name: value}))
    assert caught.value.msg.startswith('{0} must not be empty or blank'.format(name))


def test_the_description_ends_with_the_footer_of_who_filed_it_and_its_references():
    prepared = prepare_create(dict(PARAMS, dedupe_key='deploy-42', recovery_key='shop', filed_by='role'))

    description = prepared.payload['description']
    assert description.startswith('The deploy hook exited 1.\n\n--\n')
    assert parse_footer(description) == dict(source='role', dedupe_reference=dedupe_reference('deploy-42'),
                                             recovery_reference=recovery_reference('shop'))
    assert prepared.reference == dedupe_reference('deploy-42')
    assert prepared.payload['subject'] == 'Deploy failed' and prepared.payload['priority'] == 'high'


def test_without_keys_the_footer_names_the_module_and_there_is_no_reference():
    prepared = prepare_create(dict(PARAMS))

    assert parse_footer(prepared.payload['description']) == dict(source='module', dedupe_reference=None,
                                                                 recovery_reference=None)
    assert prepared.reference is None


def test_the_credentials_are_masked_in_subject_description_and_attachments():
    params = dict(PARAMS, subject='Deploy with {0} failed'.format(TOKEN), description='curl -H "token: {0}"'.format(TOKEN),
                  attachments=[dict(content='line 1\nexport TOKEN={0}\n'.format(TOKEN), filename='env.txt')])

    prepared = prepare_create(params, secrets=[TOKEN, None, ''])

    assert prepared.payload['subject'] == 'Deploy with {0} failed'.format(MASK)
    assert prepared.payload['description'].startswith('curl -H "token: {0}"'.format(MASK))
    sent = base64.b64decode(prepared.payload['attachments'][0]['data'])
    assert sent == 'line 1\nexport TOKEN={0}\n'.format(MASK).encode('utf-8')
    assert prepared.summary['attachments'] == [dict(filename='env.txt', size=len(sent))]
    assert TOKEN not in repr(prepared.payload) and TOKEN not in repr(prepared.summary)


def test_the_options_given_are_left_as_they_were():
    params = dict(PARAMS, subject='Deploy with {0} failed'.format(TOKEN))
    prepare_create(params, secrets=[TOKEN])
    assert params['subject'] == 'Deploy with {0} failed'.format(TOKEN)


# --- mask_attachments -------------------------------------------------------------------------------------------------


def test_mask_attachments_rewrites_only_the_attachments_holding_a_secret():
    clean = b64(b'nothing to hide')
    payload = dict(attachments=[dict(filename='a', data=b64(b'pw=hunter2!')), dict(filename='b', data=clean)])
    summary = dict(attachments=[dict(filename='a', size=11), dict(filename='b', size=15)])

    mask_attachments(payload, summary, ['hunter2'])

    assert base64.b64decode(payload['attachments'][0]['data']) == 'pw={0}!'.format(MASK).encode('ascii')
    assert summary['attachments'][0]['size'] == len('pw={0}!'.format(MASK))
    assert payload['attachments'][1]['data'] == clean and summary['attachments'][1]['size'] == 15


def test_mask_attachments_keeps_bytes_that_are_not_text():
    raw = b'\x00\xff\xfe binary hunter2 \x80'
    payload = dict(attachments=[dict(filename='core', data=b64(raw))])
    summary = dict(attachments=[dict(filename='core', size=len(raw))])

    mask_attachments(payload, summary, ['hunter2'])

    assert base64.b64decode(payload['attachments'][0]['data']) == raw.replace(b'hunter2', MASK.encode('ascii'))


# --- file_prepared ----------------------------------------------------------------------------------------------------


@pytest.fixture
def operations():
    """``create_deduped`` and ``create_ticket`` of filing.py, as spec'd mocks."""
    with mock.patch.object(filing, 'create_deduped', autospec=True) as create_deduped:
        with mock.patch.object(filing, 'create_ticket', autospec=True) as create_ticket:
            yield mock.Mock(create_deduped=create_deduped, create_ticket=create_ticket)


def test_without_a_reference_the_ticket_is_created_and_recorded_in_the_ledger(operations):
    client, warn = object(), mock.Mock()
    ledger = mock.create_autospec(Ledger, instance=True)
    prepared = prepare_create(dict(PARAMS, recovery_key='shop'))
    operations.create_ticket.return_value = dict(ticket_id=7, status='new')

    assert file_prepared(client, prepared, warn, ledger) == (True, dict(ticket_id=7, status='new'))

    operations.create_ticket.assert_called_once_with(client, prepared.payload)
    operations.create_deduped.assert_not_called()
    ledger.record_ticket.assert_called_once_with(dict(ticket_id=7, status='new'), [recovery_reference('shop')])


def test_without_a_ledger_nothing_is_recorded(operations):
    operations.create_ticket.return_value = dict(ticket_id=7)
    assert file_prepared(object(), prepare_create(dict(PARAMS)), mock.Mock()) == (True, dict(ticket_id=7))


@pytest.mark.parametrize('created', [True, False])
def test_with_a_reference_the_create_is_deduped_and_its_answer_returned(operations, created):
    client, warn, ledger = object(), mock.Mock(), object()
    prepared = prepare_create(dict(PARAMS, dedupe_key='deploy-42'))
    operations.create_deduped.return_value = (created, dict(ticket_id=9))

    assert file_prepared(client, prepared, warn, ledger) == (created, dict(ticket_id=9))

    operations.create_deduped.assert_called_once_with(client, prepared.payload, dedupe_reference('deploy-42'), warn, ledger)
    operations.create_ticket.assert_not_called()


def test_a_follow_up_set_by_dedupe_shows_in_the_summary(operations):
    prepared = prepare_create(dict(PARAMS, dedupe_key='deploy-42'))

    def follow_up(client, payload, reference, warn, ledger=None):
        payload['followup_tid'] = '900'
        return True, dict(ticket_id=901)

    operations.create_deduped.side_effect = follow_up
    file_prepared(object(), prepared, mock.Mock())

    assert prepared.summary['followup_tid'] == '900'
