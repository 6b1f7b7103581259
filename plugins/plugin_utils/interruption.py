# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs stopped by a signal: what the ticket_on_failure callback spools when SIGTERM or SIGINT ends a run.

A CI job killed at its timeout gets SIGTERM, a Ctrl-C sends SIGINT: ansible-playbook
then ends before the end of the run, where the callback files its ticket. ``SignalHook``
lets the callback spool one at the signal instead (no network: there is no time), then
lets the signal do exactly what it did before. ``RunningTasks`` knows the task each host
is running, so that the ticket says where the run hung.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import time

from ansible_collections.upsun.support.plugins.plugin_utils.controller_filing import flush_command, spool_ticket
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import (
    MAX_LISTED_GROUPS, default_dedupe_key, join, render_description, subject_fields, ticket_request)
from ansible_collections.upsun.support.plugins.plugin_utils.run_context import ci_job_url

SIGNALS = (signal.SIGTERM, signal.SIGINT)
DEFAULT_HUNG_TASK_SECONDS = 60.0
MAX_HUNG_TASK_SECONDS = 7 * 24 * 3600.0


class SignalHook:
    """Calls ``on_signal(signum)`` once, in this process only, when SIGTERM or SIGINT arrives; then the signal goes on.

    "Goes on": the handler that was there before runs (ansible-core's own, which
    stops the workers, then raises ``KeyboardInterrupt`` for SIGINT or kills the
    process for SIGTERM), or the default action. An ignored signal (SIGINT in a
    background job of a script) stops nothing: it is left alone. Forked workers
    inherit the hook until they set their own handlers: there it only passes the
    signal on.
    """

    def __init__(self, on_signal, signals=SIGNALS):
        self._on_signal = on_signal
        self._signals = signals
        self._pid = os.getpid()
        self._previous = {}
        self.received = None

    def install(self):
        for signum in self._signals:
            if signal.getsignal(signum) != signal.SIG_IGN:
                self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum, frame):
        if os.getpid() == self._pid and self.received is None:
            # Set first: a second signal while the record is written goes straight on.
            self.received = signum
            try:
                self._on_signal(signum)
            except Exception:  # pylint: disable=broad-except
                pass
        self._pass_on(signum, frame)

    def _pass_on(self, signum, frame):
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        else:
            # SIG_DFL, or a handler not set from Python (None): the default action.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)


class RunningTasks:
    """The task each host is running: started, and no result yet. Fed by the callback's runner events."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._running = {}

    def start(self, host, task, action):
        self._running[host] = (task, action, self._clock())

    def done(self, host):
        self._running.pop(host, None)

    def groups(self):
        """``[{task, action, hosts, seconds}]``: the running tasks, the longest running first."""
        now = self._clock()
        by_task = {}
        # A copy: the results thread may add or remove hosts meanwhile (dict.copy holds the GIL).
        for host, (task, action, started) in self._running.copy().items():
            group = by_task.setdefault((task, action), dict(task=task, action=action, hosts=[], seconds=0.0))
            group['hosts'].append(host)
            group['seconds'] = max(group['seconds'], now - started)
        return sorted(by_task.values(), key=lambda group: -group['seconds'])


def hung_task_seconds(value):
    """``value`` as a number of seconds, or ``ValueError`` saying what is allowed."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = None
    if seconds is None or not 0 <= seconds <= MAX_HUNG_TASK_SECONDS:
        raise ValueError('hung_task_seconds must be a number of seconds from 0 to {0:.0f}, got {1!r}'.format(
            MAX_HUNG_TASK_SECONDS, value))
    return seconds


def worth_a_ticket(failures, running, hung_after):
    """The rule: a stopped run is spooled when it had an unhandled failure, or a task running for ``hung_after`` s."""
    return bool(failures) or any(group['seconds'] >= hung_after for group in running)


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return 'signal {0}'.format(signum)


def interrupted_ticket(report, signum, running, redact, options=None, dedupe_key=None):
    """The ticket options for ``report``, a run stopped by ``signum`` while ``running`` (``RunningTasks.groups``)."""
    name = signal_name(signum)
    fields = subject_fields(report)
    subject = 'Ansible run of {0} interrupted by {1}'.format(fields['playbook'], name)
    if report.failures:
        subject += ' after failing on {0} host(s): {1}'.format(fields['host_count'], fields['tasks'])
    if running:
        subject += '; hung at {0} on {1}'.format(running[0]['task'], join(running[0]['hosts'], 3))
    lines = ['The run was stopped by {0} (a CI job timeout or a stop sends SIGTERM, Ctrl-C SIGINT) at {1} (UTC), '
             'before its end. The upsun.support.ticket_on_failure callback spooled this ticket at the signal, with '
             'what the run had seen so far.'.format(name, report.timestamp), '']
    if running:
        for group in running[:MAX_LISTED_GROUPS]:
            lines.append('The run hung at task "{0}" ({1}) on {2} host(s), running for {3:.0f} s: {4}'.format(
                group['task'], group['action'], len(group['hosts']), group['seconds'],
                join(sorted(group['hosts']), MAX_LISTED_GROUPS)))
    else:
        lines.append('No task was running.')
    if report.failures:
        lines.append('The run had {0} unhandled failure(s) by then, listed below.'.format(len(report.failures)))
    else:
        lines.append('No task had failed yet.')
    # The description of a run that ended opens with how it ended ("ended with 0 unhandled failure(s)"): ours instead.
    description = '\n'.join(lines + ['', render_description(report).partition('\n\n')[2]])
    # The running tasks' names are redacted like the failed ones: the key is written to the spool as it is.
    key = dedupe_key or '|'.join([default_dedupe_key(report), 'interrupted'] + sorted(redact(group['task']) for group in running))
    request, dummy = ticket_request(report, redact, options=options, subject=subject, description=description,
                                    dedupe_key=key)
    return request


def stopped_run_ticket(failures, running, hung_after, signum, redact, plays=(), playbooks=(), ansible_version=None,
                       options=None, dedupe_key=None):
    """The ticket of a run stopped by ``signum``, or ``None`` when the rule (``worth_a_ticket``) says it needs none."""
    if not worth_a_ticket(failures, running, hung_after):
        return None
    report = FailureReport('callback', failures, plays=plays, playbooks=playbooks, ci_job=ci_job_url(),
                           ansible_version=ansible_version)
    return interrupted_ticket(report, signum, running, redact, options=options, dedupe_key=dedupe_key)


def stopped_ticket(signum, filing, build):
    """``(ticket, may_exist, error)`` to spool for a run that ``signum`` stops, or ``None`` when it needs none.

    ``filing`` is the ticket the end of the run was filing when the signal came
    (that very ticket is spooled, as one that may exist); otherwise ``build()``
    makes the ticket of the run stopped now, or ``None`` (see ``worth_a_ticket``).
    """
    name = signal_name(signum)
    if filing is not None:
        return filing, True, ('the run was stopped by {0} while its ticket was being filed; it may have been filed: the '
                              'flush checks first'.format(name))
    ticket = build()
    if ticket is None:
        return None
    return ticket, False, 'the run was stopped by {0} before its end; there was no time to file the ticket'.format(name)


def spool_stopped_run(signum, stopped, directory, connection, redact):
    """Write ``stopped`` (what ``stopped_ticket`` gave) to the spool in ``directory``; the line that says where."""
    ticket, may_exist, error = stopped
    path = spool_ticket(directory, ticket, error, may_exist, connection, redact)
    message = 'the run was stopped by {0}: its ticket was spooled to {1}; file it later with "{2}".'.format(
        signal_name(signum), path, flush_command(directory))
    return message
