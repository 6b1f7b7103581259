# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the upsun.support.deploy_failure_ticket role, thin wrappers of plugins/plugin_utils/.

- ``deploy_failure_report``: what failed, from the facts Ansible sets on each host entering a ``rescue:``.
- ``deploy_failure_logs``: the log tails read on the failed hosts, redacted and capped, as attachments.
- ``deploy_failure_ticket``: the ``upsun.support.ticket`` options for a report, redacted.
- ``deploy_failure_keys``: what identifies a failed deploy (the project, the dedupe and recovery keys).
- ``redact_secrets``: any text, redacted with the same rules.

They run on the controller, once per failed deploy (the role calls them from ``run_once`` tasks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import (
    MAX_ERROR_CHARS, Failure, FailureReport, failures_from_hostvars)
from ansible_collections.upsun.support.plugins.plugin_utils.identity import project_identity
from ansible_collections.upsun.support.plugins.plugin_utils.log_tails import log_attachments
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import REPLACEMENT, RedactionError, Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import default_dedupe_key, default_recovery_key, ticket_request


def _redactor(redaction):
    """The ``Redactor`` for the role's ``redaction`` settings (``patterns``, ``disable``, ``replacement``)."""
    redaction = redaction or {}
    if not isinstance(redaction, Mapping):
        raise AnsibleFilterError('redaction must be a dict with patterns, disable and replacement, got {0!r}'.format(redaction))
    try:
        return Redactor(redaction.get('patterns'), redaction.get('disable'), redaction.get('replacement', REPLACEMENT))
    except RedactionError as exc:
        raise AnsibleFilterError(str(exc))


def deploy_failure_report(hostvars, hosts, play=None, environment=None, handled=None, redaction=None, max_chars=4000,
                          play_hosts_count=None, context=None, ansible_version=None, argument_errors=None, project=None):
    """The failure report of a deploy, as data; also ``messages`` and ``task_uuids`` per failed host.

    With ``argument_errors`` (the role's arguments failed their check) the role's own settings are not used: each
    failed host's message is its error followed by the argument errors, redacted with the default rules.
    """
    redact = _redactor(None if argument_errors else redaction)
    # The errors quote the wrong values, which may be secrets pasted into the wrong variable.
    argument_errors = [redact(str(error)) for error in argument_errors or []]
    failures, messages = failures_from_hostvars(hostvars, hosts, redact, handled=handled,
                                                max_chars=MAX_ERROR_CHARS if argument_errors else int(max_chars), play=play)
    if argument_errors:
        refused = 'upsun.support.deploy_failure_ticket filed no ticket, its arguments are wrong: ' + '; '.join(argument_errors)
        messages = dict((host, '{0}\n\n{1}'.format(message, refused)) for host, message in messages.items())
    report = FailureReport('role', failures, plays=[play], environment=environment, play_hosts_count=play_hosts_count,
                           context=context, ansible_version=ansible_version, project=project or None)
    data = report.as_dict()
    data.update(messages=messages, task_uuids=dict((failure.host, failure.task_uuid) for failure in failures),
                argument_errors=argument_errors)
    return data


def deploy_failure_logs(hostvars, hosts, register, marker, tail_bytes=65536, max_total_bytes=4194304, redaction=None):
    """The log tails the role's reader registered as ``register`` on ``hosts``, as attachments."""
    reads = []
    for host in hosts or []:
        try:
            reads.append((host, hostvars[host].get(register), marker))
        except KeyError:
            continue
    return log_attachments(reads, _redactor(redaction), int(tail_bytes), int(max_total_bytes))


def deploy_failure_ticket(report, redaction=None, options=None, subject=None, description=None, dedupe_key=None,
                          dedupe=True, attachments=None, max_attachment_size=None, recovery_key=None):
    """The ``upsun.support.ticket`` options that file ``report``, its text redacted."""
    try:
        failure_report = FailureReport.from_dict(report)
    except TypeError as exc:
        raise AnsibleFilterError(str(exc))
    request, dummy = ticket_request(
        failure_report, _redactor(redaction), options=options, subject=subject or None, description=description or None,
        dedupe_key=dedupe_key or None, dedupe=dedupe, attachments=attachments, max_attachment_size=max_attachment_size,
        recovery_key=recovery_key or None)
    return request


def deploy_failure_keys(project=None, playbook_dir=None, inventory_sources=None, play=None, environment=None, tasks=None):
    """What identifies a failed deploy: ``project`` (the identity), ``dedupe_key`` and ``recovery_key``, as the role files them."""
    if isinstance(inventory_sources, str):
        inventory_sources = [inventory_sources]
    report = FailureReport('role', [Failure('', task=str(task)) for task in tasks or []], plays=[play], environment=environment,
                           project=project_identity(project, [playbook_dir], inventory_sources or []))
    return dict(project=report.project, dedupe_key=default_dedupe_key(report), recovery_key=default_recovery_key(report))


def redact_secrets(text, patterns=None, disable=None, replacement=REPLACEMENT):
    """``text`` with its secrets replaced by ``replacement``."""
    return _redactor(dict(patterns=patterns, disable=disable, replacement=replacement)).redact(text)


class FilterModule(object):
    """Filters of the upsun.support.deploy_failure_ticket role."""

    def filters(self):
        return {
            'deploy_failure_report': deploy_failure_report,
            'deploy_failure_logs': deploy_failure_logs,
            'deploy_failure_ticket': deploy_failure_ticket,
            'deploy_failure_keys': deploy_failure_keys,
            'redact_secrets': redact_secrets,
        }
