# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the upsun.support.deploy_failure_ticket role, thin wrappers of plugins/plugin_utils/.

- ``deploy_failure_filing``: the role's one controller step: what failed, the logs, and the ticket, each text redacted once.
- ``deploy_failure_report``: what failed, from the facts Ansible sets on each host entering a ``rescue:``.
- ``deploy_failure_logs``: the log tails read on the failed hosts, redacted and capped, as attachments.
- ``deploy_failure_ticket``: the ``upsun.support.ticket`` options for a report, redacted.
- ``deploy_failure_keys``: what identifies a failed deploy (the project, the dedupe and recovery keys).
- ``deploy_failure_arguments``: the role's arguments, the wrong ones replaced by their defaults.
- ``redact_secrets``: any text, redacted with the same rules.

They run on the controller, once per failed deploy (the role calls them from ``run_once`` tasks). Each redacts with
the run's redactor: the role's settings, and the values known to be secret in the variables of the task (vault-encrypted
values, results of ``no_log`` tasks, the collection's credentials), also those of the failed hosts where it reads them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display
from jinja2 import pass_context

from ansible_collections.upsun.support.plugins.plugin_utils.failure import Failure
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.identity import project_identity
from ansible_collections.upsun.support.plugins.plugin_utils.known_secrets import KnownSecrets, shared_redactor
from ansible_collections.upsun.support.plugins.plugin_utils.log_tails import log_attachments
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import REPLACEMENT, RedactionError, Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import default_dedupe_key, default_recovery_key, ticket_request
from ansible_collections.upsun.support.plugins.plugin_utils.role_filing import Deploy, LogReads, deploy_failure_filing, with_own_text

# The role's arguments, without this prefix, are the keys of deploy_failure_arguments.
ARGUMENT_PREFIX = 'deploy_failure_ticket_'


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
                          play_hosts_count=None, context=None, ansible_version=None, argument_errors=None, project=None):
    """The failure report of a deploy, as data; also ``messages`` and ``task_uuids`` per failed host.

    ``argument_errors``: the role's arguments that were wrong and replaced by
    their defaults (``errors`` of ``deploy_failure_arguments``): each failed
    host's message is its error followed by them, redacted.
    """
    facts = _hosts_facts(hostvars, hosts)
    filing = deploy_failure_filing(
        facts, hosts, _redactor(variables, redaction, facts.values()),
        Deploy(play, environment, play_hosts_count, context, ansible_version, project), handled=handled, max_chars=max_chars,
        argument_errors=argument_errors)
    data = filing['report']
    data.update(messages=filing['messages'], task_uuids=filing['task_uuids'])
    return data


@pass_context
def deploy_failure_filing_filter(variables, hostvars, hosts, play=None, environment=None, handled=None, redaction=None,
                                 max_chars=4000, play_hosts_count=None, context=None, ansible_version=None, argument_errors=None,
                                 project=None, playbook_dir=None, inventory_sources=None, logs=None, ticket=None):
    """What the role files for a failed deploy, in one step: ``report``, ``request``, ``messages``, ``task_uuids``, ``failed_hosts``.

    ``logs``: where the log reader registered its output (``register``,
    ``marker``, ``tail_bytes``, ``max_total_bytes``), empty for no logs;
    ``ticket``: ``options``, ``dedupe_key``, ``dedupe``, ``recovery_key``, ``repeat_comment``.
    """
    for name, value in (('logs', logs), ('ticket', ticket)):
        if value is not None and not isinstance(value, Mapping):
            raise AnsibleFilterError('{0} must be a dict, got {1}'.format(name, type(value).__name__))
    facts = _hosts_facts(hostvars, hosts)
    identity = project_identity(project, [playbook_dir], _as_list(inventory_sources))
    try:
        log_reads = LogReads(**logs) if logs else None
        deploy = Deploy(play, environment, play_hosts_count, context, ansible_version, identity)
        return deploy_failure_filing(facts, hosts, _redactor(variables, redaction, facts.values()), deploy, log_reads=log_reads,
                                     handled=handled, max_chars=max_chars, argument_errors=argument_errors, ticket=dict(ticket or {}))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('upsun.support.deploy_failure_filing: {0}'.format(exc))


def _as_list(value):
    return [value] if isinstance(value, str) else list(value or [])


@pass_context
def deploy_failure_logs(variables, hostvars, hosts, register, marker, tail_bytes=65536, max_total_bytes=4194304,
                        redaction=None):
    """The log tails the role's reader registered as ``register`` on ``hosts``, as attachments."""
    facts = _hosts_facts(hostvars, hosts)
    reads = [(host, facts[host].get(register), marker) for host in hosts or [] if host in facts]
    return log_attachments(reads, _redactor(variables, redaction, facts.values()), int(tail_bytes), int(max_total_bytes))


@pass_context
def deploy_failure_ticket(variables, report, redaction=None, options=None, subject=None, description=None, dedupe_key=None,
                          dedupe=True, attachments=None, max_attachment_size=None, recovery_key=None, repeat_comment=True,
                          request=None):
    """The ``upsun.support.ticket`` options that file ``report`` (or comment on its open ticket), its text redacted.

    With ``request`` (a ticket ``deploy_failure_filing`` wrote), that ticket
    with ``subject`` and ``description``, when given, instead of its own.
    """
    if request is not None:
        if not isinstance(request, Mapping):
            raise AnsibleFilterError('request must be the request of deploy_failure_filing, got {0}'.format(type(request).__name__))
        return with_own_text(request, _redactor(variables, redaction), subject=subject, description=description)
    try:
        failure_report = FailureReport.from_dict(report)
    except TypeError as exc:
        raise AnsibleFilterError(str(exc))
    request, dummy = ticket_request(
        failure_report, _redactor(variables, redaction), options=options, subject=subject or None, description=description or None,
        dedupe_key=dedupe_key or None, dedupe=dedupe, attachments=attachments, max_attachment_size=max_attachment_size,
        recovery_key=recovery_key or None, repeat_comment=repeat_comment)
    return request


def deploy_failure_keys(project=None, playbook_dir=None, inventory_sources=None, play=None, environment=None, tasks=None):
    """What identifies a failed deploy: ``project`` (the identity), ``dedupe_key`` and ``recovery_key``, as the role files them."""
    report = FailureReport('role', [Failure('', task=str(task)) for task in tasks or []], plays=[play], environment=environment,
                           project=project_identity(project, [playbook_dir], _as_list(inventory_sources)))
    return dict(project=report.project, dedupe_key=default_dedupe_key(report), recovery_key=default_recovery_key(report))


def deploy_failure_arguments(spec, values, argument_errors=None):
    """The role's arguments to use, by short name (``priority``): ``values``, the wrong ones replaced by their defaults.

    ``spec`` is the main entry point's options, ``values`` their values in the
    same order, ``argument_errors`` what ``validate_argument_spec`` found wrong.
    ``errors`` lists what was replaced, redacted: the wrong values are masked,
    as they may be secrets pasted into the wrong variable. Each is also shown as
    a warning, so that the ticket is filed with the defaults, never lost.
    """
    if not isinstance(spec, Mapping):
        raise AnsibleFilterError('spec must be the options of the role\'s argument spec, got {0}'.format(type(spec).__name__))
    given = dict(zip(spec, values or []))
    wrong = wrong_arguments(spec, argument_errors or [])
    redact = Redactor(secrets=_literals(given[name] for name in wrong if name in given))
    arguments = dict((name[len(ARGUMENT_PREFIX):], given.get(name)) for name in spec)
    errors = []
    for name, messages in wrong.items():
        default = spec[name].get('default')
        arguments[name[len(ARGUMENT_PREFIX):]] = default
        error = redact('{0}; used its default, {1!r}.'.format('; '.join(messages), default))
        Display().warning('upsun.support.deploy_failure_ticket: ' + error)
        errors.append(error)
    arguments['errors'] = errors
    return arguments


def wrong_arguments(spec, argument_errors):
    """``{argument name: [its errors]}``, from the messages of ``validate_argument_spec``, which name the argument."""
    wrong = {}
    for message in argument_errors:
        for name in spec:
            if re.search(r'\b{0}\b'.format(re.escape(name)), str(message)):
                wrong.setdefault(name, []).append(str(message))
    return wrong


def _literals(values):
    """The strings in ``values`` (also inside lists and dicts) and their ``repr``, to mask."""
    found = []
    for value in values:
        if isinstance(value, Mapping):
            found.extend(_literals(list(value.keys()) + list(value.values())))
        elif isinstance(value, (list, tuple)):
            found.extend(_literals(value))
        if value is not None and not isinstance(value, bool):
            found.extend([str(value), repr(value)])
    return found


@pass_context
def redact_secrets(variables, text, patterns=None, disable=None, replacement=REPLACEMENT):
    """``text`` with its secrets replaced by ``replacement``."""
    return _redactor(variables, dict(patterns=patterns, disable=disable, replacement=replacement)).redact(text)


class FilterModule(object):
    """Filters of the upsun.support.deploy_failure_ticket role."""

    def filters(self):
        return {
            'deploy_failure_report': deploy_failure_report,
            'deploy_failure_filing': deploy_failure_filing_filter,
            'deploy_failure_logs': deploy_failure_logs,
            'deploy_failure_ticket': deploy_failure_ticket,
            'deploy_failure_keys': deploy_failure_keys,
            'deploy_failure_arguments': deploy_failure_arguments,
            'redact_secrets': redact_secrets,
        }
