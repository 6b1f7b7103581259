# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback files once, or spools; solves the tickets of earlier failures; leaves check runs alone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from unittest import mock

from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.upsun.support.plugins.callback import ticket_on_failure as plugin
from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference
from ansible_collections.upsun.support.tests.unit.plugins.callback.playbook_run import (
    TASKS, Result, accept_tickets, displayed, fail, failed_run, filed_ticket, keys, posted, reference, spool_files,
    spooled, stats_for, warnings,
)


# --- dedupe -----------------------------------------------------------------------------------------------------------


def test_an_open_ticket_for_the_same_failure_is_not_filed_again(make_callback, api):
    existing = {'ticket_id': 7, 'status': 'open', 'zd_ticket_url': 'https://support.example/tickets/7',
                'description': 'earlier\n\n--\nFiled by Ansible (upsun.support). Dedupe reference: ' + reference()}
    accept_tickets(api, [existing])
    callback = make_callback(repeat_comment=False)
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert posted(api) == []
    assert api.requests('POST', '/comments') == []
    assert displayed(callback) == ['upsun.support.ticket_on_failure: Upsun ticket 7 (status open) already tracks this failure, '
                                   'filed nothing: https://support.example/tickets/7']


def test_an_open_ticket_for_the_same_failure_gets_one_comment_saying_it_failed_again(make_callback, api):
    existing = {'ticket_id': 7, 'status': 'open', 'zd_ticket_url': 'https://support.example/tickets/7',
                'description': 'earlier\n\n--\nFiled by Ansible (upsun.support). Dedupe reference: ' + reference()}
    accept_tickets(api, [existing])
    api.on('POST', '/comments', lambda call: (200, dict(call.json(), comment_id=5002)))
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='migration failed with password=hunter2hunter2')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert posted(api) == []
    [comment] = [call.json() for call in api.requests('POST', '/comments')]
    assert comment['ticket_id'] == 7 and comment['body'].startswith('This failure happened again at ')
    assert 'migration failed with password=[REDACTED]' in comment['body'] and 'hunter2hunter2' not in comment['body']
    assert displayed(callback) == ['upsun.support.ticket_on_failure: Upsun ticket 7 (status open) already tracks this failure, '
                                   'filed nothing; comment 5002 on it says it failed again: https://support.example/tickets/7']


def test_a_solved_ticket_for_the_same_failure_gets_a_follow_up(make_callback, api):
    accept_tickets(api, [{'ticket_id': 7, 'status': 'solved', 'description': 'Dedupe reference: ' + reference()}])
    callback = failed_run(make_callback)
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert body['followup_tid'] == '7'


def test_a_lost_create_answer_is_checked_before_filing_again(make_callback, api):
    api.allow_exchange()
    filed = {'ticket_id': 9, 'status': 'new', 'zd_ticket_url': 'https://support.example/tickets/9',
             'description': 'Dedupe reference: ' + reference()}
    api.on('GET', '/tickets', (200, {'count': 0, 'tickets': []}), (200, {'count': 1, 'tickets': [filed]}))
    api.on('POST', '/tickets', (502, {'error': 'Bad gateway'}))
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(api.requests('POST', '/tickets')) == 1
    assert displayed(callback) == [
        'upsun.support.ticket_on_failure: filed Upsun ticket 9 for this failed run: https://support.example/tickets/9']
    [warning] = warnings(callback)
    assert 'ticket 9 carries the dedupe_key, so it was filed' in warning


def test_the_line_goes_to_stderr_when_stdout_is_json(make_callback, api, monkeypatch):
    accept_tickets(api)
    monkeypatch.setattr(plugin.C, 'DEFAULT_STDOUT_CALLBACK', 'ansible.posix.json', raising=False)
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [call] = callback._display.display.call_args_list
    assert call.kwargs == {'stderr': True}


def test_the_stats_event_files_once(make_callback, api):
    accept_tickets(api)
    callback = failed_run(make_callback)
    stats = stats_for(web1=dict(failures=1))
    callback.v2_playbook_on_stats(stats)
    callback.v2_playbook_on_stats(stats)
    assert len(posted(api)) == 1


# --- errors become warnings, and the ticket is spooled ----------------------------------------------------------------


def test_an_unreachable_api_spools_the_ticket_without_any_secret(make_callback, closed_port_url, spool_dir, tokens):
    callback = make_callback(api_url=closed_port_url, auth_url=closed_port_url, priority='urgent', subscription_id='123')
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    path, text, record = spooled(spool_dir)
    assert tokens.api not in text
    assert record['source'] == 'callback' and record['format'] == 2
    assert 'Could not connect to' in record['error']
    assert record['may_exist'] is False
    # Only the API URL, to be shown and compared by the flush: a record never decides where a flush connects.
    assert record['connection'] == dict(api_url=closed_port_url)
    ticket = record['ticket']
    assert set(ticket) == {'subject', 'description', 'dedupe_key', 'recovery_key', 'priority', 'subscription_id', 'filed_by',
                           'repeat_comment'}
    assert ticket['dedupe_key'] == keys('Deploy')[0] and ticket['filed_by'] == 'callback'
    assert 'Dedupe reference' not in ticket['description'], 'the ticket module adds the footer when it files it'
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    assert displayed(callback) == []
    command = 'ansible-playbook upsun.support.flush_spool -e upsun_support_spool_dir={0}'.format(spool_dir)
    assert any(path in warning and command in warning for warning in warnings(callback))
    assert not any(tokens.api in warning for warning in warnings(callback))


def test_an_api_error_spools_the_ticket(make_callback, api, spool_dir):
    api.allow_exchange()
    api.on('GET', '/tickets', (200, {'count': 0, 'tickets': []}))
    api.on('POST', '/tickets', (403, {'error': 'Not your organization'}))
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, dummy, record = spooled(spool_dir)
    assert 'HTTP 403' in record['error'] and 'Not your organization' in record['error']


def test_a_refused_token_is_named_by_where_it_came_from(make_callback, api, spool_dir, tokens):
    api.on('POST', '/oauth2/token', (401, {'error': 'invalid_grant'}))
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, text, record = spooled(spool_dir)
    assert 'the UPSUN_CLI_TOKEN environment variable' in record['error']
    assert tokens.api not in text


def test_missing_credentials_spool_the_ticket(make_callback, api, spool_dir):
    callback = make_callback(api_token=None)
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, dummy, record = spooled(spool_dir)
    assert record['error'].startswith('No Upsun credentials')
    assert api.calls == []


def test_missing_requests_spools_the_ticket(make_callback, api, spool_dir, monkeypatch):
    monkeypatch.setattr(client_module, 'HAS_REQUESTS', False)
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, dummy, record = spooled(spool_dir)
    assert 'requests' in record['error']
    assert api.calls == []


def test_an_unwritable_spool_directory_is_a_warning_too(make_callback, closed_port_url, tmp_path):
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text('')
    callback = make_callback(api_url=closed_port_url, auth_url=closed_port_url, spool_dir=str(blocker))
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert 'retry 1 of 1' in warnings(callback)[0]
    # Nothing is lost silently: the warning holds the ticket itself.
    last = warnings(callback)[-1]
    assert 'nor spool it' in last and 'is not a directory' in last
    assert 'Ansible run of site.yml failed on 1 host(s): Deploy' in last and 'Task "Deploy" (command) failed' in last


def test_a_bug_in_the_callback_is_a_warning_not_a_broken_run(make_callback, api):
    callback = failed_run(make_callback)
    with mock.patch.object(plugin, 'ticket_request', side_effect=RuntimeError('oops')):
        assert callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1))) is None
    [warning] = warnings(callback)
    assert warning == ('upsun.support.ticket_on_failure: internal error in v2_playbook_on_stats (RuntimeError: oops); '
                       'the run itself is not affected.')
    with mock.patch.object(plugin, 'in_rescued_block', side_effect=TypeError('bad result')):
        callback.v2_runner_on_failed(Result('web1', TASKS['Deploy'], {'failed': True}))
    assert 'internal error in v2_runner_on_failed' in warnings(callback)[-1]


def test_retries_are_reported_as_warnings(make_callback, api):
    accept_tickets(api)
    api.on('GET', '/tickets', (503, {'error': 'busy'}), (200, {'count': 0, 'tickets': []}))
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(posted(api)) == 1
    [warning] = warnings(callback)
    assert 'answered HTTP 503; retry 1 of 1' in warning


# --- recovery ---------------------------------------------------------------------------------------------------------


def test_a_successful_run_solves_the_tickets_of_earlier_failures_only_when_asked(make_callback, api):
    earlier = {'ticket_id': 7, 'status': 'open', 'zd_ticket_url': 'https://support.example/tickets/7',
               'description': 'x\n\n--\nFiled by Ansible: the upsun.support.ticket_on_failure callback.\n'
                              'Recovery reference: ' + recovery_reference(keys()[1])}
    accept_tickets(api, [earlier])
    api.on('PATCH', '/tickets/7', (200, dict(earlier, status='solved')))
    make_callback().v2_playbook_on_stats(stats_for(web1={}))
    assert api.calls == []

    callback = make_callback(resolve_on_success=True)
    callback.v2_playbook_on_stats(stats_for(web1={}))
    assert [call.json() for call in api.requests('PATCH', '/tickets/7')] == [{'status': 'solved'}]
    assert displayed(callback) == ['upsun.support.ticket_on_failure: solved Upsun ticket 7, filed for an earlier failed run '
                                   'of this playbook: https://support.example/tickets/7']


def test_a_run_whose_failure_the_role_reported_solves_nothing(make_callback, api):
    callback = make_callback(resolve_on_success=True)
    reraise = mock.Mock(vars={'__deploy_failure_ticket_reported': True}, action='ansible.builtin.fail', no_log=False,
                        delegate_to=None, _parent=None, _uuid='u1')
    reraise.get_name.return_value = 'Fail each failed host'
    callback.v2_runner_on_failed(Result('web1', reraise, {'failed': True, 'msg': 'deploy error'}))
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert api.calls == [] and warnings(callback) == []


def test_a_failed_recovery_is_a_warning(make_callback, closed_port_url):
    callback = make_callback(resolve_on_success=True, api_url=closed_port_url, auth_url=closed_port_url, retries=0)
    callback.v2_playbook_on_stats(stats_for(web1={}))
    [warning] = warnings(callback)
    assert 'could not solve the tickets of earlier failed runs of this playbook: Could not connect' in warning


# --- check mode and the project ---------------------------------------------------------------------------------------


def test_a_failed_check_run_files_nothing_and_says_so(make_callback, api, spool_dir, check_run):
    accept_tickets(api)
    callback = failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert api.calls == []
    assert spool_files(spool_dir) == []
    assert displayed(callback) == ['upsun.support.ticket_on_failure: check mode (--check): filed no Upsun ticket for this '
                                   'failed run (set file_in_check_mode to file one in check runs).']


def test_a_green_check_run_solves_nothing(make_callback, api, check_run):
    accept_tickets(api)
    make_callback(resolve_on_success=True).v2_playbook_on_stats(stats_for(web1={}))
    assert api.calls == []


def test_file_in_check_mode_files_the_failure_of_a_check_run(make_callback, api, check_run):
    accept_tickets(api)
    callback = make_callback(file_in_check_mode=True)
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(posted(api)) == 1


def test_the_project_option_and_the_inventory_make_the_keys(make_callback, api, monkeypatch):
    accept_tickets(api)
    monkeypatch.setattr(plugin.context, 'CLIARGS', ImmutableDict(inventory=('/ci/checkout/hosts', 'web9,')))
    assert make_callback()._project() == 'where=/ci/checkout/site.yml;inventory=/ci/checkout/hosts,web9,'
    callback = make_callback(project='shop')
    fail(callback, 'web1', 'Deploy', msg='x')
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert body['description'].endswith('Dedupe reference: {0}\nRecovery reference: {1}'.format(
        dedupe_reference('ticket_on_failure|project=shop|site.yml|Deploy'),
        recovery_reference('ticket_on_failure|project=shop|site.yml')))
