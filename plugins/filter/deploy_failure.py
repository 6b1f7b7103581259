# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the upsun.support.deploy_failure_ticket role.

- ``deploy_failures``: the failed hosts of a deploy, from the ``ansible_failed_task`` and
  ``ansible_failed_result`` facts Ansible sets on each host that enters a ``rescue:``, grouped by failure.
- ``deploy_failure_logs``: the log tails read on the failed hosts, redacted and capped, as ticket attachments.
- ``redact_secrets``: text with the lines that look like secrets redacted.

They run on the controller, once per failed deploy (the role calls them from ``run_once`` tasks), so that the
role costs the same whether 1 or 300 hosts failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

HIDDEN = 'hidden by no_log'
REPLACEMENT = '[REDACTED]'
# The message Ansible puts in a censored (no_log) result.
CENSORED_KEY = 'censored'

# The defaults of the role's deploy_failure_ticket_redact_patterns. Each is searched in every line; on a match,
# the rest of the line from the end of the first group (or from the start of the match when the pattern has no
# group) is replaced, so that "password=hunter2 user=x" becomes "password=[REDACTED]".
DEFAULT_PATTERNS = (
    r'''(?i)((?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?'''
    r'''|session[_-]?id|cookie)["']?\s*[:=]\s*)''',
    r'''(?i)(authorization["']?\s*[:=]\s*)''',
    r'(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}',
    r'(?i)([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@',
    r'\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.',
    r'\b(?:AKIA|ASIA)[0-9A-Z]{16}\b',
    r'\b(?:gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{16,})',
)

_PEM_BEGIN = re.compile(r'-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----')
_PEM_END = re.compile(r'-----END [A-Z0-9 ]*PRIVATE KEY-----')
_PEM_REDACTED = '-----BEGIN PRIVATE KEY----- {0} -----END PRIVATE KEY-----'


def _compile(patterns):
    if patterns is None:
        patterns = DEFAULT_PATTERNS
    if isinstance(patterns, (str, bytes)) or not isinstance(patterns, (list, tuple)):
        raise AnsibleFilterError('redaction patterns must be a list of regular expressions, got {0!r}'.format(patterns))
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(to_text(pattern)))
        except re.error as exc:
            raise AnsibleFilterError('invalid redaction pattern {0!r}: {1}'.format(pattern, exc))
    return compiled


def _redact_private_keys(text, replacement):
    """Replace every private key block, also one cut by a tail (END without BEGIN) or unfinished (BEGIN only)."""
    out = []
    pos = 0
    while True:
        begin = _PEM_BEGIN.search(text, pos)
        end = _PEM_END.search(text, pos)
        if end is not None and (begin is None or end.start() < begin.start()):
            # The tail starts inside a key: everything up to its END line is key material.
            out.append(_PEM_REDACTED.format(replacement))
            pos = end.end()
            continue
        if begin is None:
            out.append(text[pos:])
            return ''.join(out)
        out.append(text[pos:begin.start()])
        out.append(_PEM_REDACTED.format(replacement))
        end = _PEM_END.search(text, begin.end())
        if end is None:
            return ''.join(out)
        pos = end.end()


def _redact_lines(text, compiled, replacement):
    lines = text.split('\n')
    for index, line in enumerate(lines):
        for regex in compiled:
            match = regex.search(line)
            if match is None:
                continue
            cut = match.end(1) if regex.groups and match.group(1) is not None else match.start()
            line = line[:cut] + replacement
        lines[index] = line
    return '\n'.join(lines)


def redact(text, patterns=None, replacement=REPLACEMENT, private_keys=True, _compiled=None):
    """``text`` with private key blocks and the rest of each line matching one of ``patterns`` replaced."""
    if text is None:
        return text
    text = to_text(text, errors='surrogate_or_replace')
    if private_keys:
        text = _redact_private_keys(text, replacement)
    compiled = _compiled if _compiled is not None else _compile(patterns)
    return _redact_lines(text, compiled, replacement)


def redact_secrets(text, patterns=None, replacement=REPLACEMENT, private_keys=True):
    """Filter: see ``redact``."""
    return redact(text, patterns, replacement, private_keys)


def _truthy(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    # An unrendered template or any other non-false value: treat it as no_log, to be safe.
    return to_text(value).strip().lower() not in ('', 'false', 'no', 'off', '0', 'n', 'f')


def _is_hidden(task, result):
    """Whether the failed task's result was hidden with no_log (Ansible does not censor ansible_failed_result)."""
    if _truthy(task.get('no_log')):
        return True
    if not isinstance(result, Mapping):
        return False
    if CENSORED_KEY in result or _truthy(result.get('_ansible_no_log')):
        return True
    for item in result.get('results') or []:
        if isinstance(item, Mapping) and (CENSORED_KEY in item or _truthy(item.get('_ansible_no_log'))):
            return True
    return False


def _message(result):
    """The error of one (non-loop) result: its msg, with stderr (or stdout) and rc when they add something."""
    parts = []
    msg = result.get('msg')
    if isinstance(msg, (list, tuple)):
        msg = '\n'.join(to_text(line) for line in msg)
    msg = to_text(msg).strip() if msg not in (None, '') else ''
    if msg:
        parts.append(msg)
    for stream in ('stderr', 'stdout', 'module_stderr', 'module_stdout'):
        value = result.get(stream)
        if isinstance(value, (str, bytes)) and to_text(value).strip() and to_text(value).strip() not in msg:
            parts.append('{0}: {1}'.format(stream, to_text(value).strip()))
            break
    if result.get('rc') not in (None, 0) and 'rc' not in msg:
        parts.append('rc: {0}'.format(result.get('rc')))
    return '\n'.join(parts)


def failure_message(result):
    """The error message of ``ansible_failed_result``, looking into the failed items of a loop."""
    if not isinstance(result, Mapping):
        return to_text(result) if result else 'no error message'
    message = _message(result)
    items = [item for item in result.get('results') or [] if isinstance(item, Mapping) and item.get('failed')]
    if items:
        item_messages = []
        for item in items[:3]:
            label = item.get('_ansible_item_label', item.get('item'))
            item_messages.append('item {0}: {1}'.format(to_text(label), _message(item) or 'failed'))
        if len(items) > 3:
            item_messages.append('... and {0} more failed items'.format(len(items) - 3))
        message = '\n'.join(filter(None, [message] + item_messages))
    if result.get('unreachable'):
        message = message or 'host unreachable'
    return message or 'no error message'


def _shorten(text, limit):
    if limit and len(text) > limit:
        keep = max(limit - 40, 0)
        return text[:keep] + '\n[... {0} more characters cut]'.format(len(text) - keep)
    return text


def deploy_failures(hostvars, hosts, patterns=None, max_chars=4000, handled=None, replacement=REPLACEMENT):
    """The failed hosts among ``hosts`` and their failures, as a dict.

    - ``hosts``: one entry per failed host, in the order of ``hosts``: ``host``, ``task``, ``action``,
      ``error`` (redacted, shortened to ``max_chars``; C(hidden by no_log) for a no_log task), ``hidden`` and
      ``task_uuid``.
    - ``groups``: the same, one entry per distinct failure (task, action, error) with its ``hosts``.
    - ``messages``: host name to the deploy's own error message, for failing the host again
      (also C(hidden by no_log) when hidden). Not redacted: it only goes to the play's output, as the
      deploy's own error did.
    - ``tasks``: the distinct failed task names, in order.

    ``handled`` maps host names to the ``task_uuid`` of a failure already reported: a host whose
    ``ansible_failed_task`` is still that task (a stale fact from an earlier rescue) is left out.
    """
    handled = handled or {}
    compiled = _compile(patterns)
    failures = []
    groups = []
    by_signature = {}
    messages = {}
    tasks = []
    for host in hosts or []:
        try:
            facts = hostvars[host]
        except KeyError:
            continue
        task = facts.get('ansible_failed_task')
        if not isinstance(task, Mapping):
            continue
        uuid = to_text(task.get('uuid') or '')
        if uuid and handled.get(host) == uuid:
            continue
        result = facts.get('ansible_failed_result')
        hidden = _is_hidden(task, result)
        name = to_text(task.get('name') or '').strip()
        action = to_text(task.get('action') or task.get('_resolved_action') or '')
        if hidden:
            error = original = HIDDEN
        else:
            original = failure_message(result)
            error = _shorten(redact(original, replacement=replacement, _compiled=compiled), max_chars)
        failure = dict(host=host, task=name or action, action=action, error=error, hidden=hidden, task_uuid=uuid)
        failures.append(failure)
        messages[host] = original
        if failure['task'] not in tasks:
            tasks.append(failure['task'])
        signature = (failure['task'], action, error)
        if signature not in by_signature:
            by_signature[signature] = dict(task=failure['task'], action=action, error=error, hidden=hidden, hosts=[])
            groups.append(by_signature[signature])
        by_signature[signature]['hosts'].append(host)
    return dict(hosts=failures, groups=groups, messages=messages, tasks=tasks,
                names=[failure['host'] for failure in failures])


def _safe_filename(text):
    return re.sub(r'[^A-Za-z0-9._-]+', '_', text).strip('._') or 'log'


def _parse_tails(stdout, marker):
    """``[(status, size, path, content)]`` from the log reader's output (see the role's tasks/logs.yml)."""
    entries = []
    current = None
    lines = []
    for line in to_text(stdout, errors='surrogate_or_replace').split('\n'):
        if line.startswith(marker + ' '):
            if current is not None:
                entries.append(current + ('\n'.join(lines),))
            fields = line[len(marker) + 1:].split(' ', 2)
            if len(fields) < 3:
                current = None
                lines = []
                continue
            status, size, path = fields
            current = (status, size, path)
            lines = []
        elif current is not None:
            lines.append(line)
    if current is not None:
        entries.append(current + ('\n'.join(lines),))
    return entries


def deploy_failure_logs(hostvars, hosts, register, marker, tail_bytes=65536, max_total_bytes=4194304,
                        patterns=None, replacement=REPLACEMENT, private_keys=True):
    """The tails of the deploy logs read on ``hosts`` as ticket attachments, redacted and capped.

    ``register`` is the name of the variable the log reader registered on each host and ``marker`` the line
    prefix it wrote before each file. Returns ``attachments`` (``filename``, ``content``, for the
    ``upsun.support.ticket`` module), ``files`` (what was attached, for the description) and ``notes`` (files that
    were missing, unreadable or left out by the total cap).
    """
    compiled = _compile(patterns)
    tail_bytes = int(tail_bytes)
    max_total_bytes = int(max_total_bytes)
    attachments = []
    files = []
    notes = []
    used_names = set()
    total = 0
    for host in hosts or []:
        try:
            read = hostvars[host].get(register)
        except KeyError:
            read = None
        if not isinstance(read, Mapping) or read.get('skipped'):
            continue
        if read.get('rc') not in (0, None) or 'stdout' not in read:
            notes.append('Logs of {0} could not be read: {1}'.format(
                host, redact(failure_message(read), replacement=replacement, _compiled=compiled)))
            continue
        for status, size, path, content in _parse_tails(read.get('stdout') or '', marker):
            if status != 'ok':
                notes.append('{0} on {1}: {2}'.format(path, host, 'not found' if status == 'missing' else 'not readable'))
                continue
            try:
                size = int(size)
            except ValueError:
                size = 0
            if size > tail_bytes:
                # The tail starts in the middle of a line, which could be the end of a secret the patterns
                # no longer recognise: drop that partial line.
                content = content.split('\n', 1)[1] if '\n' in content else ''
            content = redact(content, replacement=replacement, private_keys=private_keys, _compiled=compiled)
            if size > tail_bytes:
                content = '[upsun.support: the last {0} KiB of {1} ({2} bytes) on {3}]\n{4}'.format(
                    tail_bytes // 1024, path, size, host, content)
            data = content.encode('utf-8')
            cut = False
            if total + len(data) > max_total_bytes:
                room = max_total_bytes - total
                if room < 1024:
                    notes.append('{0} on {1}: left out, the attachments reached the total cap of {2} KiB'.format(
                        path, host, max_total_bytes // 1024))
                    continue
                content = data[len(data) - (room - 200):].decode('utf-8', 'ignore')
                if '\n' in content:
                    content = content.split('\n', 1)[1]
                content = '[upsun.support: cut to fit the total cap of {0} KiB]\n{1}'.format(
                    max_total_bytes // 1024, content)
                data = content.encode('utf-8')
                cut = True
            total += len(data)
            base = '{0}-{1}'.format(_safe_filename(host), _safe_filename(path.rstrip('/').rsplit('/', 1)[-1]))
            filename = base
            counter = 2
            while filename in used_names:
                filename = '{0}-{1}'.format(base, counter)
                counter += 1
            used_names.add(filename)
            attachments.append(dict(filename=filename, content=content))
            files.append(dict(host=host, path=path, filename=filename, size=size, attached=len(data),
                              truncated=size > tail_bytes or cut))
    return dict(attachments=attachments, files=files, notes=notes, total=total)


class FilterModule(object):
    """Filters of the upsun.support.deploy_failure_ticket role."""

    def filters(self):
        return {
            'deploy_failures': deploy_failures,
            'deploy_failure_logs': deploy_failure_logs,
            'redact_secrets': redact_secrets,
        }
