# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback: which failures of a run count, and that a run without one files nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest


from ansible_collections.upsun.support.plugins.callback import ticket_on_failure as plugin
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference
from ansible_collections.upsun.support.tests.unit.plugins.callback.playbook_run import (
    TASKS, LegacyResult, Result, accept_tickets, displayed, fail, filed_ticket, keys, posted, spool_files, stats_for,
    warnings,
)


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
    body = filed_ticket(callback, api, web1=dict(rescued=1, failures=1))
    assert 'recovery failed' in body['description']
    assert 'risky failed' not in body['description']
    assert body['subject'].endswith('failed on 1 host(s): Recover')


def test_the_play_stats_win_when_the_block_structure_disagrees(make_callback, api):
    """A layout the structure check misreads: the stats count one unhandled failure, the latest one is taken."""
    accept_tickets(api)
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='first, rescued')
    fail(callback, 'web1', 'Bare', msg='second, fatal')
    body = filed_ticket(callback, api, web1=dict(rescued=1, failures=1))
    assert 'second, fatal' in body['description'] and 'first, rescued' not in body['description']


def test_a_host_the_stats_count_as_failed_without_an_event_is_still_reported(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    body = filed_ticket(callback, api, web1=dict(failures=1))
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
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert 'Task "Deploy" (command) failed on 1 host:\n   web1\n   Error:\n      legacy failure' in body['description']
