# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What failed, for a ticket: the failure report shared by the role and the callback.

A ``Failure`` is one failed or unreachable host with its task, action and
error text (msg, failed loop items, rc, stderr and stdout tails), ``no_log``
results hidden, redacted and cut. The role makes them from the
``ansible_failed_task``/``ansible_failed_result`` facts of a ``rescue:``
(``failures_from_hostvars``); the callback from the results of a run
(``RunFailures``, which also knows which failures a ``rescue``,
``ignore_errors`` or ``ignore_unreachable`` handled). A ``FailureReport`` holds
them with the context of the run, for ``rendering``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from collections.abc import Mapping

from ansible.playbook.block import Block

HIDDEN = 'hidden by no_log'
# The message Ansible puts in a censored (no_log) result.
CENSORED_KEY = 'censored'
# Set on the task with which the role fails each host again: the callback knows this failure has its ticket.
REPORTED_VAR = '__deploy_failure_ticket_reported'
# Set on the task with which the role's unreachable entry point fails a host it cannot reach: the check's action.
UNREACHABLE_VAR = '__deploy_failure_ticket_unreachable'
MAX_ERROR_CHARS = 4000
MAX_OUTPUT_LINES = 20
MAX_LABEL_CHARS = 80
MAX_ITEMS = 3
# The most characters of one value (a msg, a stream, a label) that are redacted and kept: beyond, only its start and
# its end, so that a task that printed megabytes cannot stall the end of a run. Runs of characters without a space
# longer than MAX_WORD_CHARS are left out whole: no readable text is that long, and a secret is never kept in part.
MAX_VALUE_CHARS = 16384
MAX_WORD_CHARS = 4096
_LONG_WORD = re.compile(r'(?<!\S)\S{%d,}' % (MAX_WORD_CHARS + 1))
# Where common CI systems say which job is running, to link the ticket to it.
CI_JOB_URL_VARIABLES = ('CI_JOB_URL', 'BUILD_URL', 'CIRCLE_BUILD_URL', 'BUILDKITE_BUILD_URL')


def _text(value):
    if value is None:
        return ''
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return '\n'.join(value)
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _truthy(value):
    """A ``no_log`` value; anything unclear (an unrendered template) counts as true, to be safe."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return _text(value).strip().lower() not in ('', 'false', 'no', 'off', '0', 'n', 'f')


def is_hidden(no_log, result):
    """Whether ``no_log`` hides this result (Ansible does not censor ``ansible_failed_result`` itself)."""
    if _truthy(no_log):
        return True
    if not isinstance(result, Mapping):
        return False
    if CENSORED_KEY in result or _truthy(result.get('_ansible_no_log')):
        return True
    return any(isinstance(item, Mapping) and (CENSORED_KEY in item or _truthy(item.get('_ansible_no_log')))
               for item in result.get('results') or [])


def tail(text, lines=MAX_OUTPUT_LINES):
    """The last ``lines`` lines of ``text``, saying how many were left out."""
    parts = _text(text).strip().splitlines()
    if len(parts) > lines:
        return '[{0} earlier lines left out]\n'.format(len(parts) - lines) + '\n'.join(parts[-lines:])
    return '\n'.join(parts)


def _same(text):
    return text


def bounded(text, limit=MAX_VALUE_CHARS):
    """``text`` made cheap to redact: its start and end only when longer than ``limit``, and no over-long word.

    The cuts fall on a line break, or on a space when a half has none, so that
    no secret is split into pieces the redaction no longer recognises; a half
    with no break at all, and a word longer than ``MAX_WORD_CHARS``, are left
    out whole.
    """
    if len(text) > limit:
        text = _start_and_end(text, limit)
    if len(text) > MAX_WORD_CHARS:
        text = _LONG_WORD.sub(lambda match: '[... {0} characters without a space left out ...]'.format(len(match.group(0))),
                              text)
    return text


def _start_and_end(text, limit):
    half = limit // 2
    head, rest = text[:half], text[-half:]
    end = head.rfind('\n')
    head = head[:end if end >= 0 else max(head.rfind(' '), head.rfind('\t'), 0)]
    start = rest.find('\n')
    if start < 0:
        breaks = [index for index in (rest.find(' '), rest.find('\t')) if index >= 0]
        start = min(breaks) if breaks else len(rest)
    rest = rest[start + 1:]
    left_out = len(text) - len(head) - len(rest)
    return '{0}\n[... {1} characters left out ...]\n{2}'.format(head, left_out, rest)


def memoized(redact):
    """``redact`` redacting each distinct text once: hosts that failed the same way have the same texts."""
    done = {}

    def redact_once(text):
        if text not in done:
            done[text] = redact(text)
        return done[text]
    return redact_once


def cut(text, limit):
    """``text`` cut to ``limit`` characters (0: no limit), saying how much was cut."""
    if limit and len(text) > limit:
        keep = max(limit - 40, 0)
        return text[:keep].rstrip() + '\n[... {0} more characters cut]'.format(len(text) - keep)
    return text


def error_text(result, redact=_same):
    """The error of one failed or unreachable result (not hidden): msg, failed items, rc, stderr, else stdout.

    Each value is bounded, then redacted with ``redact``, and only then cut
    (item labels, stream tails): a cut never leaves a piece of a secret that
    the redaction would have recognised whole.
    """
    def clean(value):
        return redact(bounded(_text(value)))

    if not isinstance(result, Mapping):
        return clean(result).strip() or 'no error message'
    message = clean(result.get('msg') or result.get('reason') or result.get('message')).strip()
    parts = [message] if message else []
    items = [item for item in result.get('results') or []
             if isinstance(item, Mapping) and (item.get('failed') or item.get('unreachable'))]
    for item in items[:MAX_ITEMS]:
        label = cut(clean(item.get('_ansible_item_label', item.get('item'))), MAX_LABEL_CHARS)
        detail = HIDDEN if is_hidden(None, item) else error_text(item, redact).replace('\n', '\n  ')
        parts.append('item {0}: {1}'.format(label, detail))
    if len(items) > MAX_ITEMS:
        parts.append('... and {0} more failed items'.format(len(items) - MAX_ITEMS))
    if result.get('rc') not in (None, 0) and 'rc' not in message:
        parts.append('rc: {0}'.format(result['rc']))
    for stream in ('stderr', 'module_stderr'):
        output = tail(clean(result.get(stream)))
        if output and output not in message:
            parts.append('{0}:\n{1}'.format(stream, output))
            break
    if not parts or parts == ['rc: {0}'.format(result.get('rc'))]:
        for stream in ('stdout', 'module_stdout'):
            output = tail(clean(result.get(stream)))
            if output and output not in message:
                parts.append('{0}:\n{1}'.format(stream, output))
                break
    if not parts and result.get('unreachable'):
        parts.append('host unreachable')
    return '\n'.join(parts) or 'no error message'


class Failure:
    """One failed or unreachable host: where it failed and its error, redacted."""

    FIELDS = ('host', 'kind', 'play', 'task', 'action', 'error', 'hidden', 'task_uuid', 'delegate_to', 'reported')

    def __init__(self, host, kind='failed', play=None, task='unknown task', action='unknown action', error='',
                 hidden=False, task_uuid=None, delegate_to=None, reported=False):
        self.host = host
        self.kind = kind
        self.play = play
        self.task = task
        self.action = action
        self.error = error
        self.hidden = hidden
        self.task_uuid = task_uuid
        self.delegate_to = delegate_to
        self.reported = reported

    @classmethod
    def from_result(cls, host, result, redact, task=None, action=None, no_log=None, kind='failed', max_chars=MAX_ERROR_CHARS,
                    **fields):
        """A failure from a task result: its error redacted (before it is cut, so no secret is cut in two)."""
        return cls.from_error(host, whole_error(result, redact, no_log), redact, task=task, action=action, kind=kind,
                              max_chars=max_chars, **fields)

    @classmethod
    def from_error(cls, host, error, redact, task=None, action=None, kind='failed', max_chars=MAX_ERROR_CHARS, **fields):
        """A failure from its ``whole_error`` (already redacted), cut to ``max_chars``."""
        return cls(host, kind=kind, task=redact(bounded(task or action or 'unnamed task')), action=action or 'unknown action',
                   error=cut(error, max_chars), hidden=error == HIDDEN, **fields)

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in self.FIELDS)

    @classmethod
    def from_dict(cls, data):
        return cls(**dict((name, data.get(name)) for name in cls.FIELDS if name in data))


def whole_error(result, redact, no_log=None):
    """The error of ``result`` redacted and not cut, or ``HIDDEN`` when ``no_log`` hides it."""
    return HIDDEN if is_hidden(no_log, result) else error_text(result, redact)


def failures_from_hostvars(hostvars, hosts, redact, handled=None, max_chars=MAX_ERROR_CHARS, play=None):
    """``(failures, messages)`` from the facts Ansible sets on each host entering a ``rescue:``.

    ``handled`` maps host names to the task uuid of a failure already reported:
    a host whose ``ansible_failed_task`` is still that task (a fact left by an
    earlier rescue) is left out. ``messages`` maps each failed host to the
    deploy's own error, whole (not cut) but redacted (or ``hidden by no_log``),
    to fail it again with.
    """
    handled = handled or {}
    redact = memoized(redact)
    failures = []
    messages = {}
    for host in hosts or []:
        try:
            facts = hostvars[host]
        except KeyError:
            continue
        task = facts.get('ansible_failed_task')
        if not isinstance(task, Mapping):
            continue
        uuid = _text(task.get('uuid')) or None
        if uuid and handled.get(host) == uuid:
            continue
        result = facts.get('ansible_failed_result')
        action = _text(task.get('action') or task.get('_resolved_action')) or None
        check = _task_vars(task).get(UNREACHABLE_VAR)
        unreachable = bool(check) or isinstance(result, Mapping) and bool(result.get('unreachable'))
        error = whole_error(result, redact, task.get('no_log'))
        failures.append(Failure.from_error(
            host, error, redact, task=_text(task.get('name')).strip() or None, action=_text(check) if check else action,
            max_chars=max_chars, play=play, task_uuid=uuid, kind='unreachable' if unreachable else 'failed'))
        messages[host] = error
    return failures, messages


class RunFailures:
    """The failures of a playbook run as its events report them, and which of them the run left unhandled.

    A failure's text is redacted when ``unhandled`` is asked, at the end of the
    run, with the redactor of the run (``redactor``, a function returning it):
    the values known to be secret are known by then, and the failures a
    ``rescue`` handled are never redacted at all.
    """

    def __init__(self, redactor, max_chars=MAX_ERROR_CHARS):
        self.redactor = redactor
        self.max_chars = max_chars
        self.failures = []
        self._in_rescued_block = {}
        self._results = {}

    def record(self, host, task, result, kind, play, rescued_block):
        """One failed (not ``ignore_errors``) or unreachable (not ``ignore_unreachable``) result."""
        failure = Failure(host, kind=kind, task=task_name(task), action=str(getattr(task, 'action', None) or 'unknown action'),
                          play=play, delegate_to=_delegate_to(task), reported=bool(_task_vars(task).get(REPORTED_VAR)))
        self._results[id(failure)] = (result, getattr(task, 'no_log', None))
        self._in_rescued_block[id(failure)] = kind == 'failed' and rescued_block
        self.failures.append(failure)

    def _redacted(self, failure, redact):
        result, no_log = self._results.get(id(failure), (None, None))
        if result is None:
            return failure
        return Failure.from_result(failure.host, result, redact, task=failure.task, action=failure.action, no_log=no_log,
                                   kind=failure.kind, max_chars=self.max_chars, play=failure.play,
                                   delegate_to=failure.delegate_to, reported=failure.reported)

    def unhandled(self, counts=None):
        """The recorded failures the run did not handle and that no ticket reported yet, oldest first.

        Per host, the play stats count the failures that were not rescued
        (``counts``; ``ignore_errors`` ones are not in it). Those are the
        failures outside a rescued block; should the block structure disagree
        with the count (an unusual layout), the host's latest failures are
        taken, as an unhandled failure ends the host's run.
        """
        by_host = {}
        for failure in self.failures:
            by_host.setdefault(failure.host, []).append(failure)
        keep = set()
        for host, failures in by_host.items():
            failed = [failure for failure in failures if failure.kind == 'failed']
            unhandled = [failure for failure in failed if not self._in_rescued_block[id(failure)]]
            if counts is not None:
                count = counts.get(host, 0)
                if count <= 0:
                    unhandled = []
                elif len(unhandled) != count:
                    unhandled = failed[-count:]
            keep.update(id(failure) for failure in unhandled)
            keep.update(id(failure) for failure in failures if failure.kind == 'unreachable')
        redact = memoized(self.redactor())
        result = [self._redacted(failure, redact) for failure in self.failures if id(failure) in keep and not failure.reported]
        for host, count in sorted((counts or {}).items()):
            if count > 0 and host not in by_host:
                result.append(Failure(host, error='failed; no detail reached the callback'))
        return result


def in_rescued_block(task):
    """True when a failure of ``task`` is handled by the ``rescue`` of a block around it.

    That is: some enclosing block has a ``rescue`` section, and the task sits in
    that block's ``block`` section (directly, or through nested blocks, includes
    and roles), not in its ``rescue`` or ``always`` sections. Objects are matched
    by ``_uuid``, which copies of tasks and blocks keep.
    """
    chain = set()
    node = task
    for dummy in range(100):
        if node is None:
            break
        if isinstance(node, Block) and chain and node.rescue:
            if any(getattr(item, '_uuid', None) in chain for item in node.block or []):
                return True
        uuid = getattr(node, '_uuid', None)
        if uuid is not None:
            chain.add(uuid)
        node = getattr(node, '_parent', None)
    return False


def recap_lines(stats, marked=(), limit=50):
    """The play recap of ``stats`` (``AggregateStats``), one line per host, ``*`` after the ``marked`` ones."""
    summarize = getattr(stats, 'summarize', None)
    processed = getattr(stats, 'processed', None)
    if summarize is None or not isinstance(processed, dict):
        return []
    lines = []
    for host in sorted(processed)[:limit]:
        counts = summarize(host)
        lines.append('  {0}{1}: {2}'.format(host, ' *' if host in marked else '', ' '.join(
            '{0}={1}'.format(name, counts.get(name, 0))
            for name in ('ok', 'changed', 'unreachable', 'failures', 'skipped', 'rescued', 'ignored'))))
    return lines


def task_name(task):
    if task is None:
        return 'unknown task'
    try:
        name = task.get_name()
    except Exception:  # pylint: disable=broad-except
        name = getattr(task, 'name', None)
    return str(name or getattr(task, 'action', None) or 'unnamed task').strip()


def _delegate_to(task):
    value = getattr(task, 'delegate_to', None)
    return value if isinstance(value, str) else None


def _task_vars(task):
    # A Task, or the dict of one (ansible_failed_task).
    value = task.get('vars') if isinstance(task, Mapping) else getattr(task, 'vars', None)
    return value if isinstance(value, Mapping) else {}


def ci_job_url(environ=None):
    """The URL of the CI job running this, when a known CI system says it."""
    environ = os.environ if environ is None else environ
    if environ.get('GITHUB_RUN_ID') and environ.get('GITHUB_REPOSITORY'):
        return '{0}/{1}/actions/runs/{2}'.format(
            environ.get('GITHUB_SERVER_URL') or 'https://github.com', environ['GITHUB_REPOSITORY'], environ['GITHUB_RUN_ID'])
    for name in CI_JOB_URL_VARIABLES:
        if environ.get(name):
            return environ[name]
    return None


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def unique(values):
    return list(dict.fromkeys(values))


class FailureReport:
    """What failed in one deploy (role) or run (callback), with what support needs to know around it."""

    def __init__(self, source, failures, plays=(), playbooks=(), environment=None, play_hosts_count=None,
                 context=None, logs=None, recap=None, ci_job=None, timestamp=None, ansible_version=None, project=None):
        self.source = source
        # What identifies the project (plugin_utils.identity.project_identity), part of the default keys.
        self.project = project
        self.failures = list(failures)
        self.plays = unique(play for play in plays if play)
        self.playbooks = list(playbooks)
        self.environment = environment
        self.play_hosts_count = play_hosts_count
        self.context = dict(context or {})
        self.logs = logs or dict(files=[], notes=[])
        self.recap = list(recap or [])
        self.ci_job = ci_job
        self.timestamp = timestamp or utc_now()
        self.ansible_version = ansible_version

    def hosts(self, kind=None):
        return unique(failure.host for failure in self.failures if kind is None or failure.kind == kind)

    def tasks(self):
        return unique(failure.task for failure in self.failures)

    def groups(self):
        """One entry per distinct failure (task, action, error, kind), with the hosts that had it, in order."""
        groups = []
        by_signature = {}
        for failure in self.failures:
            signature = (failure.kind, failure.task, failure.action, failure.error, failure.play)
            if signature not in by_signature:
                by_signature[signature] = dict(kind=failure.kind, task=failure.task, action=failure.action,
                                               error=failure.error, hidden=failure.hidden, play=failure.play, hosts=[])
                groups.append(by_signature[signature])
            host = failure.host
            if failure.delegate_to and failure.delegate_to != host:
                host = '{0} (delegated to {1})'.format(host, failure.delegate_to)
            by_signature[signature]['hosts'].append(host)
        return groups

    ATTRIBUTES = ('source', 'plays', 'playbooks', 'environment', 'play_hosts_count', 'context', 'logs', 'recap',
                  'ci_job', 'timestamp', 'ansible_version', 'project')

    def as_dict(self):
        """Plain data (for a fact the role's templates can use); ``from_dict`` reads it back."""
        data = dict((name, getattr(self, name)) for name in self.ATTRIBUTES)
        data.update(failures=[failure.as_dict() for failure in self.failures], groups=self.groups(),
                    failed_hosts=self.hosts(), tasks=self.tasks())
        return data

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, Mapping):
            raise TypeError('a failure report is a dict, got {0}'.format(type(data).__name__))
        return cls(failures=[Failure.from_dict(item) for item in data.get('failures') or []],
                   **dict((name, data.get(name)) for name in cls.ATTRIBUTES if data.get(name) is not None))
