# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The controller step of the upsun.support.deploy_failure_ticket role: from the facts of a rescue to the ticket.

``deploy_failure_filing`` runs once per failed deploy, after the log tails were
read on the failed hosts. It reads each failed host's error once, redacts every
text once with the one redactor it is given, builds the ``FailureReport`` once
(with the identity of the deploy, so the dedupe and recovery keys come from
``identity``), and returns plain data: the report for the user's templates and
results, the ``upsun.support.ticket`` options to file or spool, and the message
each failed host fails again with.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.log_tails import log_attachments
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import redacted_subject, ticket_request
from ansible_collections.upsun.support.plugins.plugin_utils.rescue_facts import failures_from_hostvars
from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import memoized

NO_LOGS = dict(attachments=[], files=[], notes=[], total=0)
ARGUMENTS_REPLACED = 'upsun.support.deploy_failure_ticket: some of its arguments are wrong, their defaults were used: '


class Deploy:
    """What the role knows of the deploy around its failures: the play, environment, context and project identity."""

    def __init__(self, play=None, environment=None, play_hosts_count=None, context=None, ansible_version=None,
                 project=None):
        self.play = play
        self.environment = environment
        self.play_hosts_count = play_hosts_count
        self.context = context
        self.ansible_version = ansible_version
        self.project = project or None

    def report(self, failures):
        return FailureReport('role', failures, plays=[self.play], environment=self.environment,
                             play_hosts_count=self.play_hosts_count, context=self.context,
                             ansible_version=self.ansible_version, project=self.project)


class LogReads:
    """Where the role's log reader registered its output on the failed hosts, and the caps of the attachments."""

    def __init__(self, register, marker, tail_bytes=65536, max_total_bytes=4194304):
        self.register = register
        self.marker = marker
        self.tail_bytes = int(tail_bytes)
        self.max_total_bytes = int(max_total_bytes)

    def attachments(self, facts, hosts, redact):
        """``log_attachments`` of the failed ``hosts``, from their ``facts``."""
        reads = [(host, facts[host].get(self.register), self.marker) for host in hosts if host in facts]
        return log_attachments(reads, redact, self.tail_bytes, self.max_total_bytes)


def deploy_failure_filing(facts, hosts, redact, deploy, log_reads=None, handled=None, max_chars=4000,
                          argument_errors=(), ticket=None):
    """``dict(report, request, messages, task_uuids, failed_hosts)`` of the deploy's new failures, each text redacted once.

    ``facts`` maps host names to their variables, ``deploy`` is a ``Deploy``,
    ``log_reads`` a ``LogReads`` (``None``: no logs), ``ticket`` the options
    of ``ticket_request`` (``options``, ``dedupe_key``, ``dedupe``,
    ``recovery_key``), ``None`` for no ``request``. ``report`` is what the
    role shows as ``deploy_failure_ticket_report``; ``messages`` maps each
    failed host to its whole error (not cut), and the wrong arguments.
    """
    redact = memoized(redact)
    failures, messages = failures_from_hostvars(facts, hosts, redact, handled=handled, max_chars=int(max_chars),
                                                play=deploy.play)
    messages, argument_errors = _with_argument_errors(messages, argument_errors, redact)
    report = deploy.report(failures)
    logs = log_reads.attachments(facts, report.hosts(), redact) if log_reads and failures else NO_LOGS
    report.logs = dict(files=list(logs['files']), notes=list(logs['notes']))
    request = None
    if ticket is not None and failures:
        request, dummy = ticket_request(report, redact, **ticket)
        if logs['attachments']:
            # Redacted already, by log_attachments.
            request.update(attachments=logs['attachments'], max_attachment_size=log_reads.max_total_bytes)
    data = report.as_dict()
    data.update(argument_errors=argument_errors)
    return dict(report=data, request=request, messages=messages, failed_hosts=report.hosts(),
                task_uuids=dict((failure.host, failure.task_uuid) for failure in failures))


def _with_argument_errors(messages, argument_errors, redact):
    """``(messages, argument errors)``: each host's message followed by the role's wrong arguments, all redacted."""
    # The errors quote the wrong values, which may be secrets pasted into the wrong variable.
    argument_errors = [redact(str(error)) for error in argument_errors or []]
    if argument_errors:
        replaced = ARGUMENTS_REPLACED + ' '.join(argument_errors)
        messages = dict((host, '{0}\n\n{1}'.format(message, replaced)) for host, message in messages.items())
    return messages, argument_errors


def with_own_text(request, redact, subject=None, description=None):
    """``request`` with the ``subject`` and ``description`` of the user's templates, when given, redacted."""
    request = dict(request)
    if subject:
        request['subject'] = redacted_subject(subject, redact)
    if description:
        request['description'] = redact(str(description))
    return request
