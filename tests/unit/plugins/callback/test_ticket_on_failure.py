# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback: what it counts, what it writes, and that it never breaks a run.

Events are fed by hand with real ansible Task/Block objects (loaded from a
play) and real play stats; the API is the fake one of conftest.py, reached
through the real client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import sys
import types
from unittest import mock

import pytest
import yaml

from ansible.executor.stats import AggregateStats
from ansible.inventory.host import Host
from ansible.inventory.manager import InventoryManager
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.block import Block
from ansible.playbook.play import Play
from ansible.vars.manager import VariableManager

from ansible_collections.upsun.support.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.upsun.support.plugins.callback import ticket_on_failure as plugin
from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import DEFAULT_SUBJECTS
from ansible_collections.upsun.support.plugins.plugin_utils.spool import DEFAULT_SPOOL_DIR
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference
from ansible_collections.upsun.support.plugins.plugin_utils.identity import failure_keys, project_identity


def _documentation():
    """The callback's docs with its doc fragments merged in, as Ansible reads them."""
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    for part in ('DOCUMENTATION', 'PLUGINS'):
        for name, spec in yaml.safe_load(getattr(ModuleDocFragment, part))['options'].items():
            doc['options'].setdefault(name, {}).update(spec)
    return doc


DOC = _documentation()
PLAY = dict(name='Deploy web', hosts='all', gather_facts=False, tasks=[
    dict(name='Check', debug=dict(msg='ok')),
    dict(name='Deploy', command='/usr/local/bin/deploy'),
    dict(name='Read secret', command='cat /secret', no_log=True),
    dict(name='Guarded', block=[
        dict(name='Risky', fail=dict(msg='risky failed')),
        dict(name='Nested', block=[dict(name='Deep', fail=None)], always=[dict(name='Inner always', debug=None)]),
    ], rescue=[dict(name='Recover', fail=dict(msg='recovery failed'))], always=[dict(name='Cleanup', debug=None)]),
    dict(name='Unguarded', block=[dict(name='Bare', fail=None)], always=[dict(name='Bare always', debug=None)]),
])


def _load_tasks():
    loader = DataLoader()
    play = Play.load(PLAY, variable_manager=VariableManager(loader=loader), loader=loader)
    tasks = {}

    def walk(items):
        for item in items:
            if isinstance(item, Block):
                walk(item.block)
                walk(item.rescue)
                walk(item.always)
            elif item.name:
                tasks[item.name] = item
    walk(play.compile())
    return play, tasks


THE_PLAY, TASKS = _load_tasks()


class Result:
    """What ansible-core 2.19 passes to callbacks: ``host``, ``task``, ``result``."""

    def __init__(self, host, task, data):
        self.host = Host(host)
        self.task = task
        self.result = data


class LegacyResult:
    """What ansible-core 2.16 to 2.18 pass: ``_host``, ``_task``, ``_result``."""

    def __init__(self, host, task, data):
        self._host = Host(host)
        self._task = task
        self._result = data


def defaults():
    return dict((name, spec.get('default')) for name, spec in DOC['options'].items())


@pytest.fixture
def spool_dir(tmp_path):
    return str(tmp_path / 'spool')


@pytest.fixture
def make_callback(api, tokens, spool_dir, private_ledger):
    """Factory: a callback with the documented defaults, pointed at the fake API, plus ``options``."""
    def make(**options):
        display = mock.Mock(verbosity=0)
        callback = plugin.CallbackModule(display=display)
        settings = defaults()
        settings.update(api_url=api.url, auth_url=api.url, api_token=tokens.api, retries=1, timeout=5.0, spool_dir=spool_dir,
                        ledger_dir=str(private_ledger))
        settings.update(options)
        callback._plugin_options = settings
        callback._origins = dict((name, 'env: UPSUN_CLI_TOKEN' if name == 'api_token' else 'default') for name in settings)
        callback.v2_playbook_on_start(types.SimpleNamespace(_file_name='/ci/checkout/site.yml'))
        callback.v2_playbook_on_play_start(THE_PLAY)
        return callback
    return make


def warnings(callback):
    return [call.args[0] for call in callback._display.warning.call_args_list]


def displayed(callback):
    return [call.args[0] for call in callback._display.display.call_args_list]


def stats_for(**hosts):
    """Play stats: ``web1=dict(failures=1, rescued=1)``; every host also gets one ok."""
    stats = AggregateStats()
    for host, counts in hosts.items():
        stats.increment('ok', host)
        for what, count in counts.items():
            for dummy in range(count):
                stats.increment(what, host)
    return stats


def fail(callback, host, task, ignore_errors=False, result_class=Result, **data):
    data.setdefault('failed', True)
    callback.v2_runner_on_failed(result_class(host, TASKS[task], data), ignore_errors=ignore_errors)


def accept_tickets(api, existing=None):
    """The fake API: token exchange, a search answering ``existing``, and a create that echoes the ticket."""
    api.allow_exchange()
    api.on('GET', '/tickets', (200, {'count': len(existing or []), 'tickets': existing or [], '_links': {}}))

    def created(call):
        ticket = dict(call.json(), ticket_id=4242, status='new', zd_ticket_url='https://support.example/tickets/4242')
        return 200, ticket
    api.on('POST', '/tickets', created)


def posted(api):
    return [call.json() for call in api.requests('POST', '/tickets')]


def spool_files(spool_dir):
    if not os.path.isdir(spool_dir):
        return []
    return [os.path.join(spool_dir, name) for name in sorted(os.listdir(spool_dir))]


def keys(*tasks):
    """The callback's ``(dedupe key, recovery key)`` for site.yml of the checkout of these tests, as 1.1.0 builds them."""
    inventory = plugin.context.CLIARGS.get('inventory') or plugin.C.DEFAULT_HOST_LIST or []
    project = project_identity(None, ['/ci/checkout/site.yml'], [inventory] if isinstance(inventory, str) else inventory)
    return failure_keys('callback', project, ['site.yml'], tasks)


# --- what counts as a failure -----------------------------------------------------------------------------------------


def test_a_run_without_failure_files_nothing_and_sends_nothing(make_callback, api, spool_dir):
    callback = make_callback()
    callback.v2_playbook_on_stats(stats_for(web1={}, web2={}))
    assert api.calls == []
    assert displayed(callback) == [] and warnings(callback) == []
    assert spool_files(spool_dir) == []


def test_a_failed_run_files_one_ticket_naming_hosts_tasks_and_errors(make_callback, api):
    accept_tickets(api)
    callback = make_callback(priority='high', category='incident_outage')
    fail(callback, 'web1', 'Deploy', msg='non-zero return code', rc=3, stderr='deploy: disk full', stdout='')
    fail(callback, 'web2', 'Deploy', msg='non-zero return code', rc=3, stderr='deploy: disk full')
    callback.v2_runner_on_unreachable(Result('db1', TASKS['Check'], {'unreachable': True, 'msg': 'ssh: connect to host db1 port 22: refused'}))
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1), web2=dict(failures=1), db1=dict(dark=1)))

    [body] = posted(api)
    assert body['subject'] == 'Ansible run of site.yml failed on 3 host(s): Deploy, Check'
    assert body['priority'] == 'high' and body['category'] == 'incident_outage'
    description = body['description']
    assert 'Playbook: /ci/checkout/site.yml' in description
    assert 'Play: Deploy web' in description
    assert 'Failed hosts (2): web1, web2' in description
    assert 'Unreachable hosts (1): db1' in description
    # The two hosts that failed the same way are one entry.
    assert ('1. Task "Deploy" (command) failed on 2 hosts:\n   web1, web2\n   Error:\n'
            '      non-zero return code\n      rc: 3\n      stderr:\n      deploy: disk full\n') in description
    assert '2. Task "Check" (debug): 1 host unreachable:\n   db1\n   Error:\n      ssh: connect to host db1 port 22: refused' in description
    assert '  web1 *: ok=1 changed=0 unreachable=0 failures=1 skipped=0 rescued=0 ignored=0' in description
    assert description.endswith('Dedupe reference: {0}\nRecovery reference: {1}'.format(
        dedupe_reference(keys('Check', 'Deploy')[0]), recovery_reference(keys()[1])))
    assert displayed(callback) == [
        'upsun.support.ticket_on_failure: filed Upsun ticket 4242 for this failed run: https://support.example/tickets/4242']
    assert warnings(callback) == []


def test_ignored_errors_and_ignored_unreachable_hosts_do_not_count(make_callback, api):
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', ignore_errors=True, msg='ignored')
    task = mock.Mock(ignore_unreachable=True)
    callback.v2_runner_on_unreachable(Result('web2', task, {'unreachable': True, 'msg': 'down'}))
    callback.v2_playbook_on_stats(stats_for(web1=dict(ignored=1), web2=dict(ignored=1)))
    assert api.calls == [] and displayed(callback) == []


@pytest.mark.parametrize('name, rescued', [
    ('Risky', True), ('Deep', True), ('Inner always', True),
    ('Recover', False), ('Cleanup', False), ('Bare', False), ('Bare always', False), ('Deploy', False),
])
def test_the_block_structure_tells_which_tasks_a_rescue_handles(name, rescued):
    assert plugin.in_rescued_block(TASKS[name]) is rescued


def test_a_rescued_failure_files_nothing(make_callback, api):
    callback = make_callback()
    fail(callback, 'web1', 'Risky', msg='risky failed')
    callback.v2_playbook_on_stats(stats_for(web1=dict(rescued=1)))
    assert api.calls == []


def test_a_failing_rescue_is_reported_but_not_the_failure_it_rescued(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    fail(callback, 'web1', 'Risky', msg='risky failed')
    fail(callback, 'web1', 'Recover', msg='recovery failed')
    callback.v2_playbook_on_stats(stats_for(web1=dict(rescued=1, failures=1)))
    [body] = posted(api)
    assert 'recovery failed' in body['description']
    assert 'risky failed' not in body['description']
    assert body['subject'].endswith('failed on 1 host(s): Recover')


def test_the_play_stats_win_when_the_block_structure_disagrees(make_callback, api):
    """A layout the structure check misreads: the stats count one unhandled failure, the latest one is taken."""
    accept_tickets(api)
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='first, rescued')
    fail(callback, 'web1', 'Bare', msg='second, fatal')
    callback.v2_playbook_on_stats(stats_for(web1=dict(rescued=1, failures=1)))
    [body] = posted(api)
    assert 'second, fatal' in body['description'] and 'first, rescued' not in body['description']


def test_a_host_the_stats_count_as_failed_without_an_event_is_still_reported(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert 'Task "unknown task" (unknown action) failed on 1 host:\n   web1\n' in body['description']


def test_without_stats_the_block_structure_decides(make_callback):
    callback = make_callback()
    fail(callback, 'web1', 'Risky', msg='rescued')
    fail(callback, 'web1', 'Bare', msg='fatal')
    assert [failure.task for failure in callback._failures.unhandled(None)] == ['Bare']


def test_results_of_older_ansible_cores_are_read_too(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', result_class=LegacyResult, msg='legacy failure')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert 'Task "Deploy" (command) failed on 1 host:\n   web1\n   Error:\n      legacy failure' in body['description']


# --- what the ticket says ---------------------------------------------------------------------------------------------


def test_no_log_results_stay_hidden(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    censored = {'failed': True, 'censored': "the output has been hidden due to the fact that 'no_log: true' was specified"}
    callback.v2_runner_on_failed(Result('web1', TASKS['Deploy'], censored))
    # A no_log task whose result would still carry the secret: the task's flag is enough.
    callback.v2_runner_on_failed(Result('web2', TASKS['Read secret'], {'failed': True, 'msg': 'password=hunter2'}))
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1), web2=dict(failures=1)))
    [body] = posted(api)
    assert body['description'].count('hidden by no_log') == 2
    assert 'hunter2' not in body['description'] and "'no_log: true'" not in body['description']


def test_the_subject_template_takes_the_documented_fields(make_callback, api):
    accept_tickets(api)
    callback = make_callback(subject='[CI] {playbooks} / {plays}: {failure_count} failure(s) on {hosts} ({task})')
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert body['subject'] == '[CI] site.yml / Deploy web: 1 failure(s) on web1 (Deploy)'
    assert warnings(callback) == []


@pytest.mark.parametrize('template', ['{playbook.__class__}', '{nope}', '{0}', '{playbook'])
def test_a_bad_subject_template_warns_and_uses_the_default(make_callback, api, template):
    accept_tickets(api)
    callback = make_callback(subject=template)
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert body['subject'] == 'Ansible run of site.yml failed on 1 host(s): Deploy'
    [warning, filed] = warnings(callback) + displayed(callback)
    assert 'subject template' in warning and 'Using the default' in warning


def test_a_set_dedupe_key_is_used_as_is(make_callback, api):
    accept_tickets(api)
    callback = make_callback(dedupe_key='nightly-deploy')
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert 'Dedupe reference: {0}\n'.format(dedupe_reference('nightly-deploy')) in body['description']
    assert api.requests('GET', '/tickets')[0].query['search'] == [dedupe_reference('nightly-deploy')]


def test_the_ci_job_is_linked_when_known(make_callback, api, monkeypatch):
    accept_tickets(api)
    monkeypatch.setenv('CI_JOB_URL', 'https://gitlab.example/acme/shop/-/jobs/77')
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert 'CI job: https://gitlab.example/acme/shop/-/jobs/77' in body['description']


# --- dedupe -----------------------------------------------------------------------------------------------------------


def _failed_run(make_callback):
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    return callback


def _reference():
    return dedupe_reference(keys('Deploy')[0])


def test_an_open_ticket_for_the_same_failure_is_not_filed_again(make_callback, api):
    existing = {'ticket_id': 7, 'status': 'open', 'zd_ticket_url': 'https://support.example/tickets/7',
                'description': 'earlier\n\n--\nFiled by Ansible (upsun.support). Dedupe reference: ' + _reference()}
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
                'description': 'earlier\n\n--\nFiled by Ansible (upsun.support). Dedupe reference: ' + _reference()}
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
    accept_tickets(api, [{'ticket_id': 7, 'status': 'solved', 'description': 'Dedupe reference: ' + _reference()}])
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert body['followup_tid'] == '7'


def test_a_lost_create_answer_is_checked_before_filing_again(make_callback, api):
    api.allow_exchange()
    filed = {'ticket_id': 9, 'status': 'new', 'zd_ticket_url': 'https://support.example/tickets/9',
             'description': 'Dedupe reference: ' + _reference()}
    api.on('GET', '/tickets', (200, {'count': 0, 'tickets': []}), (200, {'count': 1, 'tickets': [filed]}))
    api.on('POST', '/tickets', (502, {'error': 'Bad gateway'}))
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(api.requests('POST', '/tickets')) == 1
    assert displayed(callback) == [
        'upsun.support.ticket_on_failure: filed Upsun ticket 9 for this failed run: https://support.example/tickets/9']
    [warning] = warnings(callback)
    assert 'ticket 9 carries the dedupe_key, so it was filed' in warning


def test_the_line_goes_to_stderr_when_stdout_is_json(make_callback, api, monkeypatch):
    accept_tickets(api)
    monkeypatch.setattr(plugin.C, 'DEFAULT_STDOUT_CALLBACK', 'ansible.posix.json', raising=False)
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [call] = callback._display.display.call_args_list
    assert call.kwargs == {'stderr': True}


def test_the_stats_event_files_once(make_callback, api):
    accept_tickets(api)
    callback = _failed_run(make_callback)
    stats = stats_for(web1=dict(failures=1))
    callback.v2_playbook_on_stats(stats)
    callback.v2_playbook_on_stats(stats)
    assert len(posted(api)) == 1


# --- errors become warnings, and the ticket is spooled ----------------------------------------------------------------


def _spooled(spool_dir):
    [path] = spool_files(spool_dir)
    with open(path) as handle:
        text = handle.read()
    return path, text, json.loads(text)


def test_an_unreachable_api_spools_the_ticket_without_any_secret(make_callback, closed_port_url, spool_dir, tokens):
    callback = make_callback(api_url=closed_port_url, auth_url=closed_port_url, priority='urgent', subscription_id='123')
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    path, text, record = _spooled(spool_dir)
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
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, dummy, record = _spooled(spool_dir)
    assert 'HTTP 403' in record['error'] and 'Not your organization' in record['error']


def test_a_refused_token_is_named_by_where_it_came_from(make_callback, api, spool_dir, tokens):
    api.on('POST', '/oauth2/token', (401, {'error': 'invalid_grant'}))
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, text, record = _spooled(spool_dir)
    assert 'the UPSUN_CLI_TOKEN environment variable' in record['error']
    assert tokens.api not in text


def test_missing_credentials_spool_the_ticket(make_callback, api, spool_dir):
    callback = make_callback(api_token=None)
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, dummy, record = _spooled(spool_dir)
    assert record['error'].startswith('No Upsun credentials')
    assert api.calls == []


def test_missing_requests_spools_the_ticket(make_callback, api, spool_dir, monkeypatch):
    monkeypatch.setattr(client_module, 'HAS_REQUESTS', False)
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    dummy, dummy, record = _spooled(spool_dir)
    assert 'requests' in record['error']
    assert api.calls == []


# --- runs stopped by a signal -----------------------------------------------------------------------------------------


def test_a_signal_after_a_failure_spools_once_and_nothing_is_sent(make_callback, api, spool_dir, tokens, capfd):
    # Not at the signal, nor at the end of the run should it still come.
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='disk full, token {0}'.format(tokens.api))
    callback.v2_runner_on_start(Host('web2'), TASKS['Check'])
    callback.v2_runner_on_start(Host('web3'), TASKS['Check'])
    callback.v2_runner_on_ok(Result('web3', TASKS['Check'], {}))

    callback.on_signal(signal.SIGTERM)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))

    path, text, record = _spooled(spool_dir)
    assert tokens.api not in text and api.requests() == []
    assert record['ticket']['subject'] == ('Ansible run of site.yml interrupted by SIGTERM after failing on 1 host(s): '
                                           'Deploy; hung at Check on web2')
    assert record['may_exist'] is False and 'stopped by SIGTERM' in record['error']
    assert path in capfd.readouterr().err and warnings(callback) == []


def test_a_signal_that_spools_nothing_leaves_the_end_of_run_filing_alone(make_callback, api, spool_dir):
    # A healthy run stopped in a short task: should the run still reach its end and fail, its ticket is filed then.
    accept_tickets(api)
    callback = make_callback()
    callback.v2_runner_on_start(Host('web1'), TASKS['Check'])
    callback.on_signal(signal.SIGINT)
    assert spool_files(spool_dir) == []

    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(posted(api)) == 1


def test_a_signal_while_the_ticket_is_filed_spools_that_ticket_as_may_exist(make_callback, api, spool_dir):
    # The API is slow: the create is being sent when the CI job reaches its timeout.
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    accept_tickets(api)
    api.on('POST', '/tickets', lambda call: callback.on_signal(signal.SIGTERM) or (200, dict(call.json(), ticket_id=1)))

    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))

    record = _spooled(spool_dir)[2]
    assert record['may_exist'] is True and 'while its ticket was being filed' in record['error']
    # The ticket that was being filed, with its own dedupe key: the flush finds it, if it was filed.
    assert record['ticket']['subject'] == posted(api)[0]['subject']
    assert record['ticket']['dedupe_key'].startswith('ticket_on_failure|')
    assert record['ticket']['dedupe_key'].endswith('|site.yml|Deploy')


def test_a_signal_after_the_ticket_was_filed_spools_nothing(make_callback, api, spool_dir):
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    accept_tickets(api)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))

    callback.on_signal(signal.SIGTERM)

    assert len(posted(api)) == 1 and spool_files(spool_dir) == []


def test_the_callback_hooks_both_signals_unless_told_not_to(make_callback):
    callback = make_callback()
    assert signal.getsignal(signal.SIGTERM) == signal.getsignal(signal.SIGINT)
    assert getattr(signal.getsignal(signal.SIGTERM), '__self__', None) is callback._signal_hook

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    make_callback(spool_on_interrupt=False)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_bad_hung_task_seconds_is_a_warning_and_the_default_is_used(make_callback):
    callback = make_callback(hung_task_seconds=float('inf'))
    assert callback._hung_after == 60.0
    assert any('hung_task_seconds must be a number of seconds from 0 to 604800' in warning for warning in warnings(callback))


def test_loading_the_callback_does_not_import_requests():
    # Most runs never call the API: the HTTP client (and requests) is imported when a ticket is filed or solved.
    code = ('import sys; import ansible_collections.upsun.support.plugins.callback.ticket_on_failure; '
            'print(sorted(name for name in ("requests", "urllib3") if name in sys.modules))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.stdout.strip() == '[]'


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


def test_the_spool_directory_defaults_to_the_shared_one():
    assert DOC['options']['spool_dir']['default'] == DEFAULT_SPOOL_DIR


def test_a_bug_in_the_callback_is_a_warning_not_a_broken_run(make_callback, api):
    callback = _failed_run(make_callback)
    with mock.patch.object(plugin, 'ticket_request', side_effect=RuntimeError('oops')):
        assert callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1))) is None
    [warning] = warnings(callback)
    assert warning == ('upsun.support.ticket_on_failure: internal error in v2_playbook_on_stats (RuntimeError: oops); '
                       'the run itself is not affected.')
    with mock.patch.object(plugin, 'in_rescued_block', side_effect=TypeError('bad result')):
        callback.v2_runner_on_failed(Result('web1', TASKS['Deploy'], {'failed': True}))
    assert 'internal error in v2_runner_on_failed' in warnings(callback)[-1]


def test_secrets_are_masked_in_every_warning(make_callback, tokens):
    callback = make_callback(access_token=tokens.access)
    callback.warn('the server echoed {0} and {1}'.format(tokens.api, tokens.access))
    assert warnings(callback) == ['upsun.support.ticket_on_failure: the server echoed [REDACTED] and [REDACTED]']


def test_retries_are_reported_as_warnings(make_callback, api):
    accept_tickets(api)
    api.on('GET', '/tickets', (503, {'error': 'busy'}), (200, {'count': 0, 'tickets': []}))
    callback = _failed_run(make_callback)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(posted(api)) == 1
    [warning] = warnings(callback)
    assert 'answered HTTP 503; retry 1 of 1' in warning


# --- settings ---------------------------------------------------------------------------------------------------------


def test_every_setting_has_an_environment_variable_and_an_ini_key():
    for name, spec in DOC['options'].items():
        section = 'upsun_support' if name in CONNECTION_NAMES else 'callback_upsun_support_ticket_on_failure'
        assert spec.get('env') or name == 'validate_certs', name
        assert spec.get('ini') == [{'section': section, 'key': name}], name
    # The config manager takes the last variable set: UPSUN_CLI_TOKEN wins over PLATFORMSH_CLI_TOKEN, as in the modules.
    assert [entry['name'] for entry in DOC['options']['api_token']['env']] == ['PLATFORMSH_CLI_TOKEN', 'UPSUN_CLI_TOKEN']
    assert DOC['options']['subject']['default'] == DEFAULT_SUBJECTS['callback']
    assert plugin.CallbackModule.CALLBACK_NEEDS_ENABLED is True
    assert plugin.CallbackModule.CALLBACK_TYPE == 'notification'


def test_a_bad_setting_falls_back_to_its_default_with_a_warning(tokens):
    definitions = dict((name, dict(spec)) for name, spec in DOC['options'].items())
    values = dict(defaults(), api_token=tokens.api)

    def value_and_origin(name, **kwargs):
        if name in ('retries', 'api_token'):
            raise ValueError('Invalid value for {0}: {1}'.format(name, tokens.api if name == 'api_token' else 'abc'))
        return values[name], 'default'

    config = mock.Mock()
    # ansible-core 2.19+ asks for options and origins, 2.16 for the options only.
    config.get_plugin_options_and_origins.side_effect = ValueError('one setting is bad')
    config.get_plugin_options.side_effect = ValueError('one setting is bad')
    config.get_configuration_definitions.return_value = definitions
    config.get_config_value_and_origin.side_effect = value_and_origin
    callback = plugin.CallbackModule(display=mock.Mock(verbosity=0))
    callback._load_name = plugin.NAME
    with mock.patch.object(plugin.C, 'config', config):
        callback.set_options()
    assert callback.get_option('retries') == 3
    assert callback.get_option('api_token') is None
    assert callback.get_option('priority') is None
    assert warnings(callback) == [
        "upsun.support.ticket_on_failure: ignored the api_token setting; using its default (None).",
        "upsun.support.ticket_on_failure: ignored the retries setting: Invalid value for retries: abc; using its default (3).",
    ]


def test_settings_that_load_fine_are_taken_as_they_are():
    config = mock.Mock()
    config.get_plugin_options_and_origins.return_value = ({'retries': 1}, {'retries': 'env: UPSUN_SUPPORT_RETRIES'})
    config.get_plugin_options.return_value = {'retries': 1}
    callback = plugin.CallbackModule(display=mock.Mock(verbosity=0))
    callback._load_name = plugin.NAME
    with mock.patch.object(plugin.C, 'config', config):
        callback.set_options()
    assert callback.get_option('retries') == 1
    assert warnings(callback) == []


@pytest.mark.parametrize('origin, source', [
    ('env: PLATFORMSH_CLI_TOKEN', 'the PLATFORMSH_CLI_TOKEN environment variable'),
    ('/ci/ansible.cfg', 'api_token in the [upsun_support] section of /ci/ansible.cfg'),
    ('default', 'the api_token option'),
])
def test_the_token_source_is_named_never_shown(make_callback, origin, source):
    callback = make_callback()
    callback._origins['api_token'] = origin
    assert callback.connection().token_source() == source


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


def test_the_callback_keeps_to_hooks_settings_and_output():
    # Describing failures, redacting, rendering and spooling live in plugin_utils: the callback stays small.
    source = open(plugin.__file__).read()
    code = source[source.index("'''\n\nimport ") + 4:]
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith('#')]
    assert len(lines) <= 300, len(lines)


def _play_with_secrets():
    """A play with a vault-encrypted variable and a token given through module_defaults, as the README shows."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret(b'unit-test-vault-password')
    try:  # ansible-core 2.19+ decrypts with the vault secrets of a context the CLI sets up
        from ansible.parsing.vault import VaultSecretsContext
        try:
            VaultSecretsContext.initialize(VaultSecretsContext(secrets=[('default', secret)]))
        except Exception:  # pylint: disable=broad-except
            pass
    except ImportError:
        pass
    loader = DataLoader()
    loader.set_vault_secrets([('default', secret)])
    ciphertext = VaultLib([('default', secret)]).encrypt('Vaulted-DB-Passw0rd-77').decode()
    variables = loader.load('db_password: !vault |\n' + ''.join('  ' + line + '\n' for line in ciphertext.splitlines()))
    variables['plain_token'] = 'ModuleDefaultsToken-4242'
    manager = VariableManager(loader=loader, inventory=InventoryManager(loader=loader))
    play = Play.load(dict(PLAY, vars=variables), variable_manager=manager, loader=loader)
    # Set after loading: resolving the group needs the collection loader of a real run. A playbook's templates are
    # trusted (ansible-core 2.19+ renders only those).
    try:
        from ansible.template import trust_as_template
    except ImportError:
        trust_as_template = str
    play.module_defaults = [{'group/upsun.support.upsun': {'api_token': trust_as_template('{{ plain_token }}')}}]
    return play, dict((task.name, task) for block in play.compile() for task in block.block if task.name)


def test_vaulted_values_and_module_defaults_credentials_are_masked_whatever_surrounds_them(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    play, tasks = _play_with_secrets()
    callback.v2_playbook_on_play_start(play)
    message = 'connect failed: dsn=mysql://app@db/shop?pwVaulted-DB-Passw0rd-77x; header X-Tok:ModuleDefaultsToken-4242;'
    callback.v2_runner_on_failed(Result('web1', tasks['Deploy'], {'failed': True, 'msg': message}))
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert 'Vaulted-DB-Passw0rd' not in body['description'] and 'ModuleDefaultsToken' not in body['description']
    assert 'connect failed: dsn=mysql://app@db/shop?pw[REDACTED]x; header X-Tok:[REDACTED];' in body['description']
    assert warnings(callback) == []
# --- check mode and the project ---------------------------------------------------------------------------------------


@pytest.fixture
def check_run(monkeypatch):
    """The run is ``ansible-playbook --check`` (what the callback reads of the command line)."""
    monkeypatch.setattr(plugin.context, 'CLIARGS', ImmutableDict(check=True, inventory=('/ci/checkout/hosts',)))


def test_a_failed_check_run_files_nothing_and_says_so(make_callback, api, spool_dir, check_run):
    accept_tickets(api)
    callback = _failed_run(make_callback)
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
    assert make_callback().project() == 'where=/ci/checkout/site.yml;inventory=/ci/checkout/hosts,web9,'
    callback = make_callback(project='shop')
    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    [body] = posted(api)
    assert body['description'].endswith('Dedupe reference: {0}\nRecovery reference: {1}'.format(
        dedupe_reference('ticket_on_failure|project=shop|site.yml|Deploy'),
        recovery_reference('ticket_on_failure|project=shop|site.yml')))
