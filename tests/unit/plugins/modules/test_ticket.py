# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module, run through main() against the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

import pytest

from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils.constants import CATEGORIES, PRIORITIES
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, parse_footer, with_footer
from ansible_collections.upsun.support.plugins.modules import ticket as ticket_module

UUID_A = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
UUID_B = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
UUID_C = '0b6f3c1e-2a4d-4e8f-9c7b-1d2e3f4a5b6c'
TMP = '@TMP@'  # replaced by the test's tmp_path

CREATED = {
    'ticket_id': 1234,
    'created': '2026-11-27T05:31:56Z',
    'updated': '2026-11-27T05:31:56Z',
    'type': 'problem',
    'subject': 'Deploy of release 42 failed',
    'description': 'TASK [Deploy the release] failed on web1: exit code 1',
    'priority': 'high',
    'followup_tid': None,
    'status': 'new',
    'recipient': 'support@upsun.com',
    'requester_id': UUID_A,
    'submitter_id': UUID_A,
    'assignee_id': None,
    'organization_id': '01HZXJ5N5V2K8Q7M3T9W4Y6R1P',
    'collaborator_ids': [UUID_B],
    'has_incidents': False,
    'due': None,
    'tags': ['deploy'],
    'subscription_id': '123456',
    'ticket_group': 'support',
    'support_plan': 'standard',
    'affected_url': 'https://shop.example.com/',
    'queue': 'support',
    'issue_type': 'incident_outage',
    'resolution_time': None,
    'response_time': None,
    'project_url': 'https://console.upsun.com/acme/shop',
    'region': 'eu-5.platform.sh',
    'category': 'incident_outage',
    'environment': 'env_production',
    'ticket_sharing_status': 'ts_sent_to_platform',
    'application_ticket_url': None,
    'infrastructure_ticket_url': None,
    'jira': [{'id': 1, 'ticket_id': 1234, 'issue_id': 9, 'issue_key': 'OPS-9', 'created_at': None, 'updated_at': None}],
    'zd_ticket_url': 'https://support.upsun.com/hc/requests/1234',
    'an_attribute_the_docs_do_not_list': {'kept': True},
}

NEW = dict(subject='Deploy of release 42 failed', description='TASK [Deploy the release] failed on web1: exit code 1')


def listing(*tickets):
    return 200, {'count': len(tickets), 'tickets': list(tickets), '_links': {'self': {'href': '/tickets'}}}


def existing(ticket_id=1234, **fields):
    result = {'ticket_id': ticket_id, 'subject': 'Deploy failed', 'status': 'open', 'priority': 'high',
              'collaborator_ids': [UUID_A], 'description': 'It broke.'}
    result.update(fields)
    return result


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
def test_invalid_input_fails_naming_option_without_request(api, http_calls, run_module, module_params, files, options, expected):
    args = module_params(**expand(dict(NEW, **options), files))

    result = run_module(ticket_module, args)

    assert result.get('failed') is True, result
    for text in expand(expected, files):
        assert text in result['msg']
    assert api.calls == []
    assert http_calls == []


# --- check mode -------------------------------------------------------------------------------------------------------


def test_check_mode_sends_nothing_and_returns_exact_payload(api, http_calls, run_module, module_params, tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_bytes(b'x' * 2048)
    options = dict(NEW, priority='high', category='incident_outage', subscription_id='123456',
                   organization_id='01HZXJ5N5V2K8Q7M3T9W4Y6R1P', requester_id=UUID_A, affected_url='https://shop.example.com/',
                   followup_tid='1200', collaborator_ids=[UUID_B])
    attachments = [dict(path=str(log)), dict(content=u'caf\u00e9', filename='note.txt'), dict(data=b64(b'\x00\x01\x02'), filename='x.bin')]

    result = run_module(ticket_module, module_params(attachments=attachments, **options), check_mode=True, diff=True)

    payload = dict(options, description=with_footer(NEW['description']),
                   attachments=[{'filename': 'deploy.log', 'size': 2048}, {'filename': 'note.txt', 'size': 5},
                                {'filename': 'x.bin', 'size': 3}])
    assert result['changed'] is True
    assert result['payload'] == payload
    assert result['ticket'] == {}
    assert result['diff'] == {'before': {}, 'after': payload}
    assert 'nothing was sent' in result['msg']
    assert api.calls == []
    assert http_calls == []


@pytest.mark.parametrize('filed_by', ['role', 'callback'])
def test_the_footer_names_who_filed_the_ticket(api, run_module, module_params, filed_by):
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    result = run_module(ticket_module, module_params(filed_by=filed_by, dedupe_key='k', **NEW), check_mode=True)

    footer = parse_footer(result['payload']['description'])
    assert footer == dict(source=filed_by, dedupe_reference=dedupe_reference('k'), recovery_reference=None)
    assert api.requests('POST', '/tickets') == []


def test_check_mode_with_dedupe_key_and_no_carrier_would_file_after_one_search(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(901, status='open', description='Mentions deploy-42, no reference')))

    result = run_module(ticket_module, module_params(dedupe_key='deploy-42', **NEW), check_mode=True)

    reference = dedupe_reference('deploy-42')
    assert result['changed'] is True
    assert result['ticket'] == {}
    assert result['payload'] == dict(NEW, description=with_footer(NEW['description'], dedupe=reference))
    assert 'Would file' in result['msg']
    # Read only: one search for the reference, never a POST.
    assert [call.query['search'] for call in api.requests('GET', '/tickets')] == [[reference]]
    assert api.requests('POST', '/tickets') == [] and api.requests('PATCH') == []


def test_check_mode_with_dedupe_key_returns_the_unsolved_carrier_unchanged(api, run_module, module_params):
    # The real run would file nothing: check mode must not say "would file".
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'pending')))

    result = run_module(ticket_module, module_params(**DEDUPE), check_mode=True, diff=True)

    assert result['changed'] is False
    assert result['ticket'] == carrier(900, 'pending')
    assert 'payload' not in result
    assert '900' in result['msg'] and 'would file nothing' in result['msg']
    assert result['diff'] == {'before': carrier(900, 'pending'), 'after': carrier(900, 'pending')}
    assert api.requests('POST', '/tickets') == [] and api.requests('PATCH') == []


def test_check_mode_with_dedupe_key_predicts_the_follow_up_of_a_solved_carrier(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'solved'), carrier(850, 'closed')))

    result = run_module(ticket_module, module_params(**DEDUPE), check_mode=True)

    assert result['changed'] is True
    assert result['payload']['followup_tid'] == '900'
    assert api.requests('POST', '/tickets') == []


def test_check_mode_with_dedupe_key_fails_clearly_when_the_search_fails(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', (403, {'error': 'Forbidden'}))

    result = run_module(ticket_module, module_params(**DEDUPE), check_mode=True)

    assert result['failed'] is True
    assert 'Traceback' not in result['msg']
    assert api.requests('POST', '/tickets') == []


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


def test_diff_mode_shows_filed_payload(api, run_module, module_params):
    api.allow_exchange()
    api.on('POST', '/tickets', (200, CREATED))

    result = run_module(ticket_module, module_params(priority='high', **NEW), diff=True)

    assert result['diff'] == {'before': {}, 'after': dict(NEW, priority='high', description=with_footer(NEW['description']))}


def test_priority_in_msg_falls_back_to_default(api, run_module, module_params):
    api.allow_exchange()
    api.on('POST', '/tickets', (200, {'ticket_id': 77, 'status': 'new'}))

    result = run_module(ticket_module, module_params(**NEW))

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


# --- updating a ticket ------------------------------------------------------------------------------------------------


UPDATE = dict(ticket_id=1234)


def test_update_status_sends_patch(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status='open')))
    api.on('PATCH', '/tickets/1234', (200, existing(status='solved', updated='now')))

    result = run_module(ticket_module, module_params(status='solved', **UPDATE), diff=True)

    assert result['changed'] is True
    assert result['ticket'] == existing(status='solved', updated='now')
    assert result['diff'] == {'before': {'status': 'open'}, 'after': {'status': 'solved'}}
    assert result['msg'] == 'Updated Upsun ticket 1234: status.'
    assert api.requests('GET')[0].query == {'filter[ticket_id]': ['1234'], 'page': ['1']}
    assert [call.json() for call in api.requests('PATCH')] == [{'status': 'solved'}]


@pytest.mark.parametrize('current, wanted', [('solved', 'solved'), ('open', 'open'), ('closed', 'solved')])
def test_same_status_changes_nothing(api, run_module, module_params, current, wanted):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status=current)))

    result = run_module(ticket_module, module_params(status=wanted, **UPDATE))

    assert result['changed'] is False
    assert result['ticket'] == existing(status=current)
    assert api.requests('PATCH') == []


def test_update_answered_204_is_not_changed(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status='open')))
    api.on('PATCH', '/tickets/1234', (204, None))

    result = run_module(ticket_module, module_params(status='solved', **UPDATE))

    assert result['changed'] is False
    assert result['ticket'] == existing(status='open')
    assert 'HTTP 204' in result['msg']
    assert len(api.requests('PATCH')) == 1


def test_collaborators_are_added(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A])))
    api.on('PATCH', '/tickets/1234', (200, existing(collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_A, UUID_B, UUID_B], **UPDATE), diff=True)

    assert result['changed'] is True
    assert [call.json() for call in api.requests('PATCH')] == [{'collaborator_ids': [UUID_B], 'collaborators_replace': False}]
    assert result['diff'] == {'before': {'collaborator_ids': [UUID_A]}, 'after': {'collaborator_ids': [UUID_A, UUID_B]}}


def test_collaborators_already_there_change_nothing(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_B], **UPDATE))

    assert result['changed'] is False
    assert api.requests('PATCH') == []


def test_collaborators_are_replaced(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A, UUID_B])))
    api.on('PATCH', '/tickets/1234', (200, existing(collaborator_ids=[UUID_B, UUID_C])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_B, UUID_C], collaborators_replace=True, **UPDATE))

    assert result['changed'] is True
    assert [call.json() for call in api.requests('PATCH')] == [{'collaborator_ids': [UUID_B, UUID_C], 'collaborators_replace': True}]
    assert result['ticket']['collaborator_ids'] == [UUID_B, UUID_C]


def test_replacing_collaborators_by_the_same_set_changes_nothing(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_B, UUID_A], collaborators_replace=True, **UPDATE))

    assert result['changed'] is False
    assert api.requests('PATCH') == []


def test_update_check_mode_sends_no_patch(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status='open')))

    result = run_module(ticket_module, module_params(status='solved', collaborator_ids=[UUID_B], **UPDATE), check_mode=True, diff=True)

    assert result['changed'] is True
    assert api.requests('PATCH') == []
    assert result['diff'] == {'before': {'status': 'open', 'collaborator_ids': [UUID_A]},
                              'after': {'status': 'solved', 'collaborator_ids': [UUID_A, UUID_B]}}
    assert result['ticket'] == existing(status='solved', collaborator_ids=[UUID_A, UUID_B])


def test_update_of_unknown_ticket_fails(api, run_module, module_params):
    # The listing does not show it (it may lag): the update goes to the ticket itself, whose 404 says it does not exist.
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    api.on('PATCH', '/tickets/1234', (404, {'error': 'Ticket 1234 not found'}))

    result = run_module(ticket_module, module_params(status='solved', **UPDATE))

    assert result['failed'] is True
    assert 'Ticket 1234 was not found' in result['msg']
    assert [call.json() for call in api.requests('PATCH')] == [{'status': 'solved'}]


def test_update_of_a_ticket_the_listing_does_not_show_yet_is_sent_directly(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    api.on('PATCH', '/tickets/1234', (200, existing(status='solved', collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(status='solved', collaborator_ids=[UUID_B, UUID_B], **UPDATE))

    assert result['changed'] is True
    assert result['ticket']['status'] == 'solved'
    assert 'sent directly' in result['msg']
    assert [call.json() for call in api.requests('PATCH')] == [
        {'status': 'solved', 'collaborator_ids': [UUID_B], 'collaborators_replace': False}]


# --- dedupe -----------------------------------------------------------------------------------------------------------


REFERENCE = dedupe_reference('deploy-42')
DEDUPE = dict(NEW, dedupe_key='deploy-42', priority='high')


def carrier(ticket_id, status):
    return existing(ticket_id, status=status, description=with_footer('Earlier failure', dedupe=REFERENCE))


def test_dedupe_returns_unsolved_ticket_without_posting(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'pending')))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['changed'] is False
    assert result['ticket'] == carrier(900, 'pending')
    assert '900' in result['msg']
    assert api.requests('POST', '/tickets') == []
    assert api.requests('GET')[0].query['search'] == [REFERENCE]


def test_dedupe_files_follow_up_of_solved_ticket(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'solved'), carrier(850, 'closed')))
    api.on('POST', '/tickets', (200, CREATED))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['changed'] is True
    posts = api.requests('POST', '/tickets')
    assert len(posts) == 1
    body = posts[0].json()
    assert body['followup_tid'] == '900'
    assert body['description'] == with_footer(NEW['description'], dedupe=REFERENCE)


def test_dedupe_keeps_followup_tid_set_by_user(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'solved')))
    api.on('POST', '/tickets', (200, CREATED))

    run_module(ticket_module, module_params(followup_tid='17', **DEDUPE))

    assert api.requests('POST', '/tickets')[0].json()['followup_tid'] == '17'


def test_dedupe_ignores_search_hits_without_the_reference(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(901, status='open', description='Mentions deploy-42 but no reference')))
    api.on('POST', '/tickets', (200, CREATED))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['changed'] is True
    assert 'followup_tid' not in api.requests('POST', '/tickets')[0].json()


@pytest.mark.parametrize('lost', ['502', 'read timeout'])
def test_lost_create_with_dedupe_key_finds_ticket_and_posts_once(api, run_module, module_params, lost):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(), listing(carrier(1234, 'new')))
    if lost == '502':
        api.on('POST', '/tickets', (502, 'Bad Gateway'))
    else:
        api.on('POST', '/tickets', api.slow(1.0, (200, CREATED)))

    result = run_module(ticket_module, module_params(timeout=0.3, **DEDUPE))

    assert 'failed' not in result, result['msg']
    assert result['changed'] is True
    assert result['ticket'] == carrier(1234, 'new')
    assert len(api.requests('POST', '/tickets')) == 1
    assert len(api.requests('GET', '/tickets')) == 2
    assert any('1234' in warning and 'lost' in warning for warning in result['warnings'])


def test_lost_create_with_dedupe_key_and_no_ticket_never_posts_again(api, run_module, module_params, tmp_path, monkeypatch):
    monkeypatch.setenv('TMPDIR', str(tmp_path))
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    api.on('POST', '/tickets', (504, 'Gateway Timeout'), (200, CREATED))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['failed'] is True
    assert result['msg'].startswith('The ticket may have been created, but its answer was lost')
    assert result['may_exist'] is True
    assert result['dedupe_reference'] == REFERENCE
    assert len(api.requests('POST', '/tickets')) == 1
    assert len(api.requests('GET', '/tickets')) > 2


@pytest.mark.parametrize('lost', ['502', 'read timeout', 'connection reset'])
def test_lost_create_without_dedupe_key_fails_saying_it_may_exist(api, raw_server, run_module, module_params, tokens, lost):
    args = module_params(access_token=tokens.access, timeout=0.3, **NEW)
    if lost == '502':
        api.on('POST', '/tickets', (502, 'Bad Gateway'))
    elif lost == 'read timeout':
        api.on('POST', '/tickets', api.slow(1.0, (200, CREATED)))
    else:
        server = raw_server('close')
        args['api_url'] = server.url

    result = run_module(ticket_module, args)

    assert result['failed'] is True
    assert 'may have been created' in result['msg']
    assert 'dedupe_key' in result['msg']
    if lost == 'connection reset':
        assert server.requests == 1
    else:
        assert len(api.requests('POST', '/tickets')) == 1


# --- no secret in any result ------------------------------------------------------------------------------------------


def _exchange_refused(api, status, error):
    api.on('POST', '/tickets', (401, {'error': 'expired'}))
    api.on('POST', '/oauth2/token', (status, {'error': error}))
    return {}


def _answer(method, path, *answers):
    def setup(api):
        api.allow_exchange()
        api.on(method, path, *answers)
        return {}
    return setup


LEAK_SCENARIOS = [
    ('exchange refused 400', lambda api, **kw: _exchange_refused(api, 400, 'invalid_grant')),
    ('exchange refused 401', lambda api, **kw: _exchange_refused(api, 401, 'invalid_client')),
    ('exchange without access_token', lambda api, **kw: dict(
        access_token=None, **(api.on('POST', '/oauth2/token', (200, {'token_type': 'bearer'})) or {}))),
    ('exchange answered 500', lambda api, **kw: dict(access_token=None, **(api.on('POST', '/oauth2/token', (500, 'boom')) or {}))),
    ('401 twice', lambda api, **kw: _answer('POST', '/tickets', (401, {'error': 'Invalid token'}))(api)),
    ('access_token only and 401', lambda api, **kw: dict(api_token=None, **_answer('POST', '/tickets', (401, {'error': 'no'}))(api))),
    ('403', lambda api, **kw: _answer('POST', '/tickets', (403, {'error': 'Forbidden'}))(api)),
    ('422', lambda api, **kw: _answer('POST', '/tickets', (422, {'error': 'category is invalid'}))(api)),
    ('429 exhausted', lambda api, **kw: _answer('POST', '/tickets', (429, {'error': 'slow down'}, {'Retry-After': '2'}))(api)),
    ('500', lambda api, **kw: _answer('POST', '/tickets', (500, {'error': 'Internal error'}))(api)),
    ('502 lost', lambda api, **kw: _answer('POST', '/tickets', (502, 'Bad Gateway'))(api)),
    ('read timeout', lambda api, **kw: _answer('POST', '/tickets', api.slow(1.0, (200, CREATED)))(api)),
    ('connection reset', lambda api, raw_server, **kw: dict(api_url=raw_server('close').url)),
    ('connection refused', lambda api, closed_port_url, **kw: dict(api_url=closed_port_url)),
    ('token exchange lost', lambda api, raw_server, **kw: dict(access_token=None, auth_url=raw_server('close').url)),
    ('connection refused at the auth server', lambda api, closed_port_url, **kw: dict(access_token=None, auth_url=closed_port_url)),
    ('TLS error', lambda api, **kw: dict(api_url=api.url.replace('http://', 'https://'))),
    ('dedupe search 503 exhausted', lambda api, **kw: dict(dedupe_key='k', **_answer('GET', '/tickets', (503, {'error': 'down'}))(api))),
    ('update: ticket not found', lambda api, **kw: dict(
        ticket_id=5, status='solved', subject=None, description=None, **_answer('GET', '/tickets', listing())(api))),
    ('update: PATCH 422', lambda api, **kw: dict(
        ticket_id=1234, status='solved', subject=None, description=None,
        **_answer('GET', '/tickets', listing(existing()))(api) or api.on('PATCH', '/tickets/1234', (422, {'error': 'no'})) or {})),
    ('invalid: bad priority', lambda api, **kw: dict(priority='critical')),
    ('invalid: ticket_id not an int', lambda api, **kw: dict(ticket_id='abc')),
    ('invalid: unknown option', lambda api, **kw: dict(colour='red')),
    ('invalid: bad api_url', lambda api, **kw: dict(api_url='api.upsun.com')),
    ('invalid: missing attachment', lambda api, **kw: dict(attachments=[dict(path='/nonexistent/upsun.log')])),
    ('invalid: status without ticket_id', lambda api, **kw: dict(status='open')),
]


@pytest.mark.parametrize('setup', [case[1] for case in LEAK_SCENARIOS], ids=[case[0] for case in LEAK_SCENARIOS])
def test_no_token_in_any_failure_result(api, raw_server, closed_port_url, run_module, module_params, tokens, setup):
    options = dict(NEW, access_token=tokens.access, timeout=0.3, retries=1)
    options.update(setup(api=api, raw_server=raw_server, closed_port_url=closed_port_url))

    result = run_module(ticket_module, module_params(**options))

    assert result.get('failed') is True, result
    serialized = json.dumps(result, sort_keys=True, default=repr)
    for secret in (tokens.api, tokens.access, tokens.exchanged):
        assert secret not in serialized


def test_token_echoed_by_the_server_is_hidden_by_no_log(api, run_module_output, module_params, tokens):
    api.on('POST', '/tickets', (401, {'error': 'Access token {0} expired'.format(tokens.access)}))
    api.on('POST', '/oauth2/token', (400, {'error': 'invalid_grant', 'error_description': 'Unknown token ' + tokens.api}))

    output = run_module_output(ticket_module, module_params(access_token=tokens.access, **NEW))

    assert output['failed'] is True
    assert 'invalid_grant' in output['msg']
    serialized = json.dumps(output)
    assert tokens.api not in serialized
    assert tokens.access not in serialized
