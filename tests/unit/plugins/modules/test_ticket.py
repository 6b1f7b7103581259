# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module, run through main(): its input checks and check mode with spec'd mocks of the operations it
calls (what the module decides), and filing against the fake API (updates, dedupe and secrets: the other
test_ticket_*.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils import recovery
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError
from ansible_collections.upsun.support.plugins.module_utils.constants import CATEGORIES, PRIORITIES
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, parse_footer, with_footer
from ansible_collections.upsun.support.plugins.modules import ticket as ticket_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import (
    CREATED,
    DEDUPE,
    NEW,
    UUID_A,
    UUID_B,
    args,
    carrier,
)


TMP = '@TMP@'  # replaced by the test's tmp_path
# What the module may call that reads or writes tickets.
OPERATIONS = ('find_by_reference', 'file_prepared', 'get_ticket', 'update_ticket')


@pytest.fixture
def operations(spec_mocks):
    """The ticket operations the module calls, as spec'd mocks (solve_carrying where the module imports it from, when needed)."""
    mocks = spec_mocks(ticket_module, *OPERATIONS)
    mocks.solve_carrying = spec_mocks(recovery, 'solve_carrying').solve_carrying
    return mocks


def sent(operations):
    """Whether the module sent anything that files or changes a ticket."""
    return any(getattr(operations, name).called for name in ('file_prepared', 'update_ticket', 'solve_carrying'))


def expand(value, tmp_path):
    """Replace TMP in every string of ``value`` by the test's directory."""
    if isinstance(value, str):
        return value.replace(TMP, str(tmp_path))
    if isinstance(value, dict):
        return dict((key, expand(item, tmp_path)) for key, item in value.items())
    if isinstance(value, list):
        return [expand(item, tmp_path) for item in value]
    return value


@pytest.fixture
def files(tmp_path):
    """A small log, a directory and a FIFO under tmp_path."""
    (tmp_path / 'small.log').write_bytes(b'0123456789' * 10)
    (tmp_path / 'dir').mkdir()
    os.mkfifo(str(tmp_path / 'fifo'))
    return tmp_path


def b64(raw):
    return base64.b64encode(raw).decode('ascii')


# --- invalid input: a message naming the option, and no request ------------------------------------------------------


INVALID = [
    ('bad priority', dict(priority='critical'), ['priority', 'critical'] + list(PRIORITIES)),
    ('bad category', dict(category='outage'), ['category', 'outage'] + list(CATEGORIES)),
    ('blank subject', dict(subject='   '), ['subject', 'blank']),
    ('whitespace description', dict(description=' \n\t '), ['description', 'blank']),
    ('whitespace description with dedupe_key', dict(description=' \n ', dedupe_key='deploy-42'), ['description', 'blank']),
    ('missing subject', dict(subject=None), ['subject', 'required']),
    ('missing description', dict(description=None), ['description', 'required']),
    ('blank subscription_id', dict(subscription_id=' '), ['subscription_id', 'blank']),
    ('blank organization_id', dict(organization_id=''), ['organization_id', 'blank']),
    ('blank followup_tid', dict(followup_tid='  '), ['followup_tid', 'blank']),
    ('bad requester_id uuid', dict(requester_id='jane@example.com'), ['requester_id', 'UUID', 'jane@example.com']),
    ('bad collaborator uuid', dict(collaborator_ids=[UUID_A, 'bob']), ['collaborator_ids[1]', 'UUID', 'bob']),
    ('relative affected_url', dict(affected_url='/checkout'), ['affected_url', 'http', '/checkout']),
    ('ftp affected_url', dict(affected_url='ftp://shop.example.com/'), ['affected_url', 'ftp://shop.example.com/']),
    ('affected_url without host', dict(affected_url='https:///checkout'), ['affected_url']),
    ('attachment with two sources', dict(attachments=[dict(path=TMP + '/small.log', content='x')]),
     ['attachments', 'mutually exclusive', 'path', 'content']),
    ('attachment with no source', dict(attachments=[dict(filename='a.txt')]), ['attachments', 'path', 'content', 'data']),
    ('content without filename', dict(attachments=[dict(content='x')]), ['attachments', 'content', 'filename']),
    ('data without filename', dict(attachments=[dict(data=b64(b'x'))]), ['attachments', 'data', 'filename']),
    ('data not base64', dict(attachments=[dict(data='%%% not base64', filename='a.bin')]),
     ['attachments[0].data', 'base64', 'a.bin']),
    ('oversize total', dict(attachments=[dict(path=TMP + '/small.log'), dict(content='y' * 100, filename='more.txt')],
                            max_attachment_size=150),
     ['attachments[1]', 'more.txt', '100 bytes', '200 bytes', 'max_attachment_size', '150 bytes']),
    ('max_attachment_size not a size', dict(max_attachment_size='lots'), ['max_attachment_size']),
    ('missing file', dict(attachments=[dict(path=TMP + '/missing.log')]), ['attachments[0].path', TMP + '/missing.log']),
    ('directory as path', dict(attachments=[dict(path=TMP + '/dir')]), ['attachments[0].path', TMP + '/dir', 'not a regular file']),
    ('fifo as path', dict(attachments=[dict(path=TMP + '/fifo')]), ['attachments[0].path', TMP + '/fifo', 'not a regular file']),
    ('filename with a slash', dict(attachments=[dict(content='x', filename='logs/deploy.log')]),
     ['attachments[0].filename', 'logs/deploy.log']),
    ('unknown attachment key', dict(attachments=[dict(content='x', filename='a.txt', mode='0644')]), ['attachments', 'mode']),
    ('status without ticket_id', dict(status='solved'), ['status', 'ticket_id']),
    ('ticket_id with subject', dict(ticket_id=1234, description=None, status='solved'), ['subject', 'ticket_id']),
    ('ticket_id with attachments', dict(ticket_id=1234, subject=None, description=None, status='solved',
                                        attachments=[dict(content='x', filename='a.txt')]), ['attachments', 'ticket_id']),
    ('ticket_id with dedupe_key', dict(ticket_id=1234, subject=None, description=None, status='solved', dedupe_key='k'),
     ['dedupe_key', 'ticket_id']),
    ('ticket_id with nothing to update', dict(ticket_id=1234, subject=None, description=None),
     ['1234', 'status', 'collaborator_ids']),
    ('status not settable', dict(ticket_id=1234, subject=None, description=None, status='closed'), ['status', 'open', 'solved', 'closed']),
    ('ticket_id with bad collaborator', dict(ticket_id=1234, subject=None, description=None, collaborator_ids=['bob']),
     ['collaborator_ids[0]', 'bob']),
    ('collaborators_replace not a bool', dict(ticket_id=1234, subject=None, description=None, collaborator_ids=[UUID_A],
                                              collaborators_replace='maybe'), ['collaborators_replace']),
    ('wrong type for ticket_id', dict(ticket_id='twelve'), ['ticket_id', 'int']),
    ('collaborator_ids not a list of strings', dict(collaborator_ids=[{'id': UUID_A}]), ['collaborator_ids']),
    ('bad api_url', dict(api_url='api.upsun.com'), ['api_url', 'UPSUN_CLI_API_URL', 'api.upsun.com']),
    ('bad auth_url', dict(auth_url='ftp://auth.upsun.com'), ['auth_url', 'UPSUN_CLI_AUTH_URL']),
    ('timeout 0', dict(timeout=0), ['timeout', 'above 0']),
    ('negative timeout', dict(timeout=-5), ['timeout', 'above 0']),
    ('timeout not a number', dict(timeout='soon'), ['timeout', 'float']),
    ('retries -1', dict(retries=-1), ['retries', 'from 0 to 100']),
    ('retries not a number', dict(retries='many'), ['retries', 'int']),
    ('validate_certs not a bool', dict(validate_certs='perhaps'), ['validate_certs']),
    ('no credentials at all', dict(api_token=None), ['api_token', 'access_token', 'UPSUN_CLI_TOKEN', 'PLATFORMSH_CLI_TOKEN']),
    ('empty api_token', dict(api_token=''), ['api_token', 'access_token']),
    ('unknown option', dict(colour='red'), ['colour', 'Unsupported']),
    ('empty dedupe_key', dict(dedupe_key=''), ['dedupe_key must not be empty or blank']),
    ('blank dedupe_key', dict(dedupe_key=' \t'), ['dedupe_key must not be empty or blank']),
    ('ticket_id 0', dict(ticket_id=0, subject=None, description=None, status='solved'),
     ['ticket_id must be a positive ticket number, got 0.']),
    ('negative ticket_id', dict(ticket_id=-7, subject=None, description=None, status='solved'),
     ['ticket_id must be a positive ticket number, got -7.']),
    ('attachments a string', dict(attachments='file.log'), ['attachments must be a list', "'file.log'", 'path, content or data']),
    ('attachments a dict', dict(attachments=dict(path='file.log')), ['attachments must be a list', 'path, content or data']),
    ('attachments a list of strings', dict(attachments=['file.log']), ['attachments[0] must be a dict', "'file.log'"]),
    ('attachment path not a string', dict(attachments=[dict(path=['a', 'b'])]), ['attachments[0].path', 'string']),
    ('deadline 0', dict(deadline=0), ['deadline', 'above 0']),
    ('page_limit 0', dict(page_limit=0), ['page_limit', 'from 1 to 10000']),
    ('may_exist_wait negative', dict(may_exist_wait=-1), ['may_exist_wait must be a number of seconds from 0 to 604800']),
    ('may_exist_wait huge', dict(may_exist_wait=1e30), ['may_exist_wait must be a number of seconds from 0 to 604800']),
]


@pytest.mark.parametrize('options, expected', [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_input_fails_naming_option_without_request(operations, run_module, files, options, expected):
    result = run_module(ticket_module, args(**expand(dict(NEW, **options), files)))

    assert result.get('failed') is True, result
    for text in expand(expected, files):
        assert text in result['msg']
    assert not any(getattr(operations, name).called for name in OPERATIONS)


# --- check mode -------------------------------------------------------------------------------------------------------


def test_check_mode_sends_nothing_and_returns_exact_payload(operations, run_module, tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_bytes(b'x' * 2048)
    options = dict(NEW, priority='high', category='incident_outage', subscription_id='123456',
                   organization_id='01HZXJ5N5V2K8Q7M3T9W4Y6R1P', requester_id=UUID_A, affected_url='https://shop.example.com/',
                   followup_tid='1200', collaborator_ids=[UUID_B])
    attachments = [dict(path=str(log)), dict(content=u'caf\u00e9', filename='note.txt'), dict(data=b64(b'\x00\x01\x02'), filename='x.bin')]

    result = run_module(ticket_module, args(attachments=attachments, **options), check_mode=True, diff=True)

    payload = dict(options, description=with_footer(NEW['description']),
                   attachments=[{'filename': 'deploy.log', 'size': 2048}, {'filename': 'note.txt', 'size': 5},
                                {'filename': 'x.bin', 'size': 3}])
    assert result['changed'] is True
    assert result['payload'] == payload
    assert result['ticket'] == {}
    assert result['diff'] == {'before': {}, 'after': payload}
    assert 'nothing was sent' in result['msg']
    assert not any(getattr(operations, name).called for name in OPERATIONS)


@pytest.mark.parametrize('filed_by', ['role', 'callback'])
def test_the_footer_names_who_filed_the_ticket(operations, run_module, filed_by):
    operations.find_by_reference.return_value = []
    result = run_module(ticket_module, args(filed_by=filed_by, dedupe_key='k', **NEW), check_mode=True)

    footer = parse_footer(result['payload']['description'])
    assert footer == dict(source=filed_by, dedupe_reference=dedupe_reference('k'), recovery_reference=None)
    assert not sent(operations)


def test_check_mode_with_dedupe_key_and_no_carrier_would_file_after_one_search(operations, run_module):
    operations.find_by_reference.return_value = []

    result = run_module(ticket_module, args(dedupe_key='deploy-42', **NEW), check_mode=True)

    reference = dedupe_reference('deploy-42')
    assert result['changed'] is True
    assert result['ticket'] == {}
    assert result['payload'] == dict(NEW, description=with_footer(NEW['description'], dedupe=reference))
    assert 'Would file' in result['msg']
    # Read only: one search for the reference, never a POST.
    operations.find_by_reference.assert_called_once_with(mock.ANY, reference)
    assert not sent(operations)


def test_check_mode_with_dedupe_key_returns_the_unsolved_carrier_unchanged(operations, run_module):
    # The real run would file nothing: check mode must not say "would file".
    operations.find_by_reference.return_value = [carrier(900, 'pending')]

    result = run_module(ticket_module, args(**DEDUPE), check_mode=True, diff=True)

    assert result['changed'] is False
    assert result['ticket'] == carrier(900, 'pending')
    assert 'payload' not in result
    assert '900' in result['msg'] and 'would file nothing' in result['msg']
    assert result['diff'] == {'before': carrier(900, 'pending'), 'after': carrier(900, 'pending')}
    assert not sent(operations)


def test_check_mode_with_dedupe_key_predicts_the_follow_up_of_a_solved_carrier(operations, run_module):
    operations.find_by_reference.return_value = [carrier(900, 'solved'), carrier(850, 'closed')]

    result = run_module(ticket_module, args(**DEDUPE), check_mode=True)

    assert result['changed'] is True
    assert result['payload']['followup_tid'] == '900'
    assert not sent(operations)


def test_check_mode_with_dedupe_key_fails_clearly_when_the_search_fails(operations, run_module):
    operations.find_by_reference.side_effect = ApiError('The Upsun API refused GET /tickets (HTTP 403: Forbidden).', status=403)

    result = run_module(ticket_module, args(**DEDUPE), check_mode=True)

    assert result['failed'] is True
    assert result['msg'] == 'The Upsun API refused GET /tickets (HTTP 403: Forbidden).' and result['status'] == 403
    assert not sent(operations)


# --- filing a ticket --------------------------------------------------------------------------------------------------


def test_files_ticket_and_returns_it_as_the_api_did(api, run_module, module_params, tokens):
    api.allow_exchange()
    api.on('POST', '/tickets', (200, CREATED))
    options = dict(NEW, priority='high', category='incident_outage', subscription_id='123456', affected_url='https://shop.example.com/',
                   collaborator_ids=[UUID_B])

    result = run_module(ticket_module, module_params(attachments=[dict(content='exit code 1', filename='task.txt')], **options))

    assert result['changed'] is True
    assert 'failed' not in result
    assert result['ticket'] == CREATED
    assert result['msg'] == 'Filed Upsun ticket 1234 (priority high)'
    assert 'diff' not in result
    assert [call.path for call in api.calls] == ['/oauth2/token', '/tickets']
    post = api.calls[1]
    assert post.json() == dict(options, description=with_footer(NEW['description']),
                               attachments=[{'filename': 'task.txt', 'data': b64(b'exit code 1')}])
    assert post.headers['Authorization'] == 'Bearer ' + tokens.exchanged


def test_diff_mode_shows_filed_payload(operations, run_module):
    operations.file_prepared.return_value = (True, CREATED)

    result = run_module(ticket_module, args(priority='high', **NEW), diff=True)

    assert result['diff'] == {'before': {}, 'after': dict(NEW, priority='high', description=with_footer(NEW['description']))}
    [call] = operations.file_prepared.call_args_list
    assert call.args[1].payload == result['diff']['after']


def test_priority_in_msg_falls_back_to_default(operations, run_module):
    operations.file_prepared.return_value = (True, {'ticket_id': 77, 'status': 'new'})

    result = run_module(ticket_module, args(**NEW))

    assert result['msg'] == 'Filed Upsun ticket 77 (priority default)'


def test_retry_is_reported_as_module_warning(api, run_module, module_params, tokens):
    api.on('POST', '/tickets', (503, {'error': 'maintenance'}), (200, CREATED))

    result = run_module(ticket_module, module_params(access_token=tokens.access, **NEW))

    assert result['changed'] is True
    assert len(result['warnings']) == 1
    assert 'POST /tickets' in result['warnings'][0] and 'HTTP 503' in result['warnings'][0]


@pytest.mark.parametrize('variable', [None, 'UPSUN_CLI_TOKEN', 'PLATFORMSH_CLI_TOKEN'])
def test_refused_token_names_where_it_came_from(api, run_module, module_params, monkeypatch, tokens, variable):
    api.on('POST', '/oauth2/token', (400, {'error': 'invalid_grant', 'error_description': 'Token revoked'}))
    if variable:
        monkeypatch.setenv(variable, tokens.api)
        args = module_params(api_token=None, **NEW)
    else:
        args = module_params(**NEW)

    result = run_module(ticket_module, args)

    assert result['failed'] is True
    assert ('the {0} environment variable'.format(variable) if variable else 'the api_token option') in result['msg']
    assert 'invalid_grant' in result['msg'] and 'Token revoked' in result['msg']
    assert result['status'] == 400
    assert api.requests('POST', '/tickets') == []


@pytest.mark.parametrize('failure', ['502', 'lost'])
def test_failed_token_exchange_is_not_reported_as_maybe_created(api, raw_server, run_module, module_params, failure):
    if failure == '502':
        api.on('POST', '/oauth2/token', (502, 'Bad Gateway'))
        args = module_params(**NEW)
    else:
        args = module_params(auth_url=raw_server('close').url, **NEW)

    result = run_module(ticket_module, args)

    assert result['failed'] is True
    assert 'may have been created' not in result['msg']
    assert api.requests('POST', '/tickets') == []


def test_connection_options_fall_back_to_upsun_cli_environment(api, run_module, monkeypatch, tokens):
    monkeypatch.setenv('UPSUN_CLI_TOKEN', tokens.api)
    monkeypatch.setenv('UPSUN_CLI_API_URL', api.url)
    monkeypatch.setenv('UPSUN_CLI_AUTH_URL', api.url)
    api.allow_exchange()
    api.on('POST', '/tickets', (200, CREATED))

    result = run_module(ticket_module, dict(NEW))

    assert result['changed'] is True
    assert api.requests('POST', '/oauth2/token')[0].form()['api_token'] == [tokens.api]


def test_missing_requests_library_fails_cleanly(api, run_module, module_params, monkeypatch):
    monkeypatch.setattr(client_module, 'HAS_REQUESTS', False)

    result = run_module(ticket_module, module_params(**NEW))

    assert result['failed'] is True
    assert 'requests' in result['msg']
    assert api.calls == []
