# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the upsun.support.deploy_failure_ticket role, thin wrappers of plugins/plugin_utils/.

- ``deploy_failure_report``: what failed, from the facts Ansible sets on each host entering a ``rescue:``.
- ``deploy_failure_logs``: the log tails read on the failed hosts, redacted and capped, as attachments.
- ``deploy_failure_ticket``: the ``upsun.support.ticket`` options for a report, redacted.
- ``redact_secrets``: any text, redacted with the same rules.

They run on the controller, once per failed deploy (the role calls them from ``run_once`` tasks). Each redacts with
the run's redactor: the role's settings, and the values known to be secret in the variables of the task (vault-encrypted
values, results of ``no_log`` tasks, the collection's credentials), also those of the failed hosts where it reads them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from jinja2 import pass_context

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import (
    MAX_ERROR_CHARS, FailureReport, failures_from_hostvars)
from ansible_collections.upsun.support.plugins.plugin_utils.known_secrets import KnownSecrets, shared_redactor
from ansible_collections.upsun.support.plugins.plugin_utils.log_tails import log_attachments
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import REPLACEMENT, RedactionError
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import ticket_request


def _redactor(variables, redaction, hosts_facts=()):
    """The run's ``Redactor``: the role's ``redaction`` settings (``patterns``, ``disable``, ``replacement``), and the
    values known to be secret in ``variables`` (the Jinja context of the task) and in ``hosts_facts``."""
    redaction = redaction or {}
    if not isinstance(redaction, Mapping):
        raise AnsibleFilterError('redaction must be a dict with patterns, disable and replacement, got {0!r}'.format(redaction))
    known = KnownSecrets().credentials().collect(getattr(variables, 'parent', None))
    for facts in hosts_facts:
        # A host's raw variables (HostVarsVars keeps them in _vars): read without templating them.
        known.collect(getattr(facts, '_vars', facts))
    try:
        return shared_redactor(redaction.get('patterns'), redaction.get('disable'), redaction.get('replacement', REPLACEMENT),
                               secrets=known.values)
    except RedactionError as exc:
        raise AnsibleFilterError(str(exc))


def _hosts_facts(hostvars, hosts):
    """``{host: its variables}`` for the ``hosts`` that ``hostvars`` knows, each looked up once."""
    facts = {}
    for host in hosts or []:
        try:
            facts[host] = hostvars[host]
        except KeyError:
            continue
    return facts


@pass_context
def deploy_failure_report(variables, hostvars, hosts, play=None, environment=None, handled=None, redaction=None, max_chars=4000,
                          play_hosts_count=None, context=None, ansible_version=None, argument_errors=None):
    """The failure report of a deploy, as data; also ``messages`` and ``task_uuids`` per failed host.

    With ``argument_errors`` (the role's arguments failed their check) the role's own settings are not used: each
    failed host's message is its error followed by the argument errors, redacted with the default rules.
    """
    facts = _hosts_facts(hostvars, hosts)
    redact = _redactor(variables, None if argument_errors else redaction, facts.values())
    # The errors quote the wrong values, which may be secrets pasted into the wrong variable.
    argument_errors = [redact(str(error)) for error in argument_errors or []]
    failures, messages = failures_from_hostvars(facts, hosts, redact, handled=handled,
                                                max_chars=MAX_ERROR_CHARS if argument_errors else int(max_chars), play=play)
    if argument_errors:
        refused = 'upsun.support.deploy_failure_ticket filed no ticket, its arguments are wrong: ' + '; '.join(argument_errors)
        messages = dict((host, '{0}\n\n{1}'.format(message, refused)) for host, message in messages.items())
    report = FailureReport('role', failures, plays=[play], environment=environment, play_hosts_count=play_hosts_count,
                           context=context, ansible_version=ansible_version)
    data = report.as_dict()
    data.update(messages=messages, task_uuids=dict((failure.host, failure.task_uuid) for failure in failures),
                argument_errors=argument_errors)
    return data


@pass_context
def deploy_failure_logs(variables, hostvars, hosts, register, marker, tail_bytes=65536, max_total_bytes=4194304,
                        redaction=None):
    """The log tails the role's reader registered as ``register`` on ``hosts``, as attachments."""
    facts = _hosts_facts(hostvars, hosts)
    reads = [(host, facts[host].get(register), marker) for host in hosts or [] if host in facts]
    return log_attachments(reads, _redactor(variables, redaction, facts.values()), int(tail_bytes), int(max_total_bytes))


@pass_context
def deploy_failure_ticket(variables, report, redaction=None, options=None, subject=None, description=None, dedupe_key=None,
                          dedupe=True, attachments=None, max_attachment_size=None, recovery_key=None):
    """The ``upsun.support.ticket`` options that file ``report``, its text redacted."""
    try:
        failure_report = FailureReport.from_dict(report)
    except TypeError as exc:
        raise AnsibleFilterError(str(exc))
    request, dummy = ticket_request(
        failure_report, _redactor(variables, redaction), options=options, subject=subject or None, description=description or None,
        dedupe_key=dedupe_key or None, dedupe=dedupe, attachments=attachments, max_attachment_size=max_attachment_size,
        recovery_key=recovery_key or None)
    return request


@pass_context
def redact_secrets(variables, text, patterns=None, disable=None, replacement=REPLACEMENT):
    """``text`` with its secrets replaced by ``replacement``."""
    return _redactor(variables, dict(patterns=patterns, disable=disable, replacement=replacement)).redact(text)


class FilterModule(object):
    """Filters of the upsun.support.deploy_failure_ticket role."""

    def filters(self):
        return {
            'deploy_failure_report': deploy_failure_report,
            'deploy_failure_logs': deploy_failure_logs,
            'deploy_failure_ticket': deploy_failure_ticket,
            'redact_secrets': redact_secrets,
        }
