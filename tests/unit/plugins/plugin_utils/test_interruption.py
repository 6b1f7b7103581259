# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs stopped by a signal: the hook that passes the signal on, the running tasks, the rule and the ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import Failure, FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.interruption import (
    RunningTasks,
    SignalHook,
    hung_task_seconds,
    interrupted_ticket,
    worth_a_ticket,
)
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor

REDACT = Redactor(environ={})


@pytest.fixture(autouse=True)
def signal_handlers_restored():
    saved = dict((signum, signal.getsignal(signum)) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1))
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_the_hook_runs_once_then_passes_every_signal_to_the_handler_before_it():
    seen, passed = [], []
    signal.signal(signal.SIGTERM, lambda signum, frame: passed.append(signum))
    hook = SignalHook(seen.append)
    hook.install()

    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGTERM)

    assert seen == [signal.SIGTERM] and passed == [signal.SIGTERM, signal.SIGTERM]
    assert hook.received == signal.SIGTERM


def test_sigint_still_raises_keyboard_interrupt_after_the_hook():
    seen = []
    signal.signal(signal.SIGINT, signal.default_int_handler)
    SignalHook(seen.append).install()

    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
    assert seen == [signal.SIGINT]


def test_an_error_while_spooling_never_stops_the_signal():
    passed = []
    signal.signal(signal.SIGTERM, lambda signum, frame: passed.append(signum))

    def broken(signum):
        raise OSError('disk full')
    SignalHook(broken).install()
    os.kill(os.getpid(), signal.SIGTERM)

    assert passed == [signal.SIGTERM]


def test_an_ignored_signal_is_left_alone_as_it_stops_nothing():
    seen = []
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    SignalHook(seen.append, signals=(signal.SIGUSR1,)).install()

    os.kill(os.getpid(), signal.SIGUSR1)

    assert seen == [] and signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN


def test_a_default_action_is_taken_after_the_hook_and_a_forked_child_only_passes_it_on(tmp_path):
    # SIG_DFL before: the process dies of the signal. In a forked child (an Ansible worker before it sets its own
    # handlers) the hook does not run: only the process that installed it spools.
    marker = tmp_path / 'spooled'
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    SignalHook(lambda signum: marker.write_text(str(os.getpid()))).install()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.kill(os.getpid(), signal.SIGTERM)
        os._exit(0)
    dummy, status = os.waitpid(child, 0)

    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    assert not marker.exists()


def test_running_tasks_are_grouped_longest_first_and_done_hosts_leave():
    now = [100.0]
    running = RunningTasks(clock=lambda: now[0])
    running.start('web1', 'Migrate', 'command')
    now[0] = 110.0
    running.start('web2', 'Migrate', 'command')
    running.start('db1', 'Backup', 'shell')
    running.start('web3', 'Migrate', 'command')
    running.done('web3')
    running.done('unknown')
    now[0] = 130.0

    assert running.groups() == [
        dict(task='Migrate', action='command', hosts=['web1', 'web2'], seconds=30.0),
        dict(task='Backup', action='shell', hosts=['db1'], seconds=20.0),
    ]


@pytest.mark.parametrize('value', [0, '12.5', 604800])
def test_hung_task_seconds_takes_a_number_from_0_to_a_week(value):
    assert hung_task_seconds(value) == float(value)


@pytest.mark.parametrize('value', [-1, float('inf'), float('nan'), 1e308, 'soon', None, [1]])
def test_hung_task_seconds_refuses_anything_else_naming_the_option(value):
    with pytest.raises(ValueError, match='hung_task_seconds must be a number of seconds from 0 to 604800'):
        hung_task_seconds(value)


def test_the_rule_spools_a_failure_or_a_task_running_long_enough():
    failure = [Failure('web1')]
    short, long_ = [dict(seconds=5.0)], [dict(seconds=61.0)]

    assert worth_a_ticket(failure, [], 60) and worth_a_ticket([], long_, 60) and worth_a_ticket([], short, 0)
    assert not worth_a_ticket([], short, 60) and not worth_a_ticket([], [], 0)


def test_the_ticket_says_the_signal_the_failures_and_where_the_run_hung_redacted():
    report = FailureReport('callback', [Failure('web1', task='Deploy', action='command', error='password=[REDACTED]')],
                           plays=['Deploy web'], playbooks=['/ci/site.yml'])
    running = [dict(task='Wait token=abcdef0123456789abcdef', action='command', hosts=['web3', 'web2'], seconds=75.4)]

    ticket = interrupted_ticket(report, signal.SIGTERM, running, REDACT, options={'priority': 'high'})

    assert ticket['subject'].startswith('Ansible run of site.yml interrupted by SIGTERM after failing on 1 host(s): '
                                        'Deploy; hung at Wait token=')
    assert 'abcdef0123456789abcdef' not in ticket['subject'] + ticket['description']
    assert 'The run was stopped by SIGTERM' in ticket['description']
    assert 'on 2 host(s), running for 75 s: web2, web3' in ticket['description']
    assert 'Failed hosts (1): web1' in ticket['description']
    assert ticket['priority'] == 'high' and ticket['filed_by'] == 'callback'
    assert ticket['dedupe_key'].startswith('ticket_on_failure|') and '|site.yml|Deploy|interrupted|Wait' in ticket['dedupe_key']
    # Written to the spool as it is: a secret in a running task's name is redacted there too.
    assert 'abcdef0123456789abcdef' not in ticket['dedupe_key']


def test_a_stopped_run_without_failure_or_running_task_says_so():
    report = FailureReport('callback', [], plays=['Deploy web'], playbooks=['/ci/site.yml'])

    ticket = interrupted_ticket(report, signal.SIGINT, [], REDACT, dedupe_key='mine')

    assert ticket['subject'] == 'Ansible run of site.yml interrupted by SIGINT'
    assert 'No task was running.' in ticket['description'] and 'No task had failed yet.' in ticket['description']
    assert ticket['dedupe_key'] == 'mine'


def test_a_stopped_run_reads_as_stopped_not_as_a_run_that_ended():
    report = FailureReport('callback', [], plays=['Deploy web'], playbooks=['/ci/site.yml'])
    running = [dict(task='Wait for the cluster', action='command', hosts=['web1'], seconds=75.4)]

    description = interrupted_ticket(report, signal.SIGTERM, running, REDACT)['description']

    assert description.startswith('The run was stopped by SIGTERM')
    assert 'The run hung at task "Wait for the cluster" (command) on 1 host(s), running for 75 s: web1' in description
    assert 'ended with' not in description and 'unhandled failure(s)' not in description
    # The rest of the report is still there.
    assert '\nPlaybook: /ci/site.yml\nPlay: Deploy web\n' in description


def test_a_stopped_run_with_failures_counts_them_by_then():
    report = FailureReport('callback', [Failure('web1', task='Deploy', action='command', error='disk full')],
                           playbooks=['/ci/site.yml'])

    description = interrupted_ticket(report, signal.SIGINT, [], REDACT)['description']

    assert description.startswith('The run was stopped by SIGINT')
    assert '1 unhandled failure(s) by then' in description and 'ended with' not in description
    assert 'Task "Deploy" (command) failed on 1 host:\n   web1\n   Error:\n      disk full' in description
