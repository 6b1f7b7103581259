# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The error of a failed or unreachable task result, as text for a ticket: what it says went wrong, ``no_log`` kept.

``error_text`` reads msg, the failed loop items, rc, and the end of stderr (else
stdout) of one result; ``whole_error`` says ``hidden by no_log`` instead when
the task or the result is ``no_log``. Each value is bounded, then redacted,
and only then cut.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.upsun.support.plugins.plugin_utils.text_bounds import as_text, bounded, cut, tail

HIDDEN = 'hidden by no_log'
# The message Ansible puts in a censored (no_log) result.
CENSORED_KEY = 'censored'
MAX_LABEL_CHARS = 80
MAX_ITEMS = 3


def _truthy(value):
    """A ``no_log`` value; anything unclear (an unrendered template) counts as true, to be safe."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return as_text(value).strip().lower() not in ('', 'false', 'no', 'off', '0', 'n', 'f')


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


def _same(text):
    return text


def memoized(redact):
    """``redact`` redacting each distinct text once: hosts that failed the same way have the same texts."""
    done = {}

    def redact_once(text):
        if text not in done:
            done[text] = redact(text)
        return done[text]
    return redact_once


def error_text(result, redact=_same):
    """The error of one failed or unreachable result (not hidden): msg, failed items, rc, stderr, else stdout.

    Each value is bounded, then redacted with ``redact``, and only then cut
    (item labels, stream tails): a cut never leaves a piece of a secret that
    the redaction would have recognised whole.
    """
    def clean(value):
        return redact(bounded(as_text(value)))

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


def whole_error(result, redact, no_log=None):
    """The error of ``result`` redacted and not cut, or ``HIDDEN`` when ``no_log`` hides it."""
    return HIDDEN if is_hidden(no_log, result) else error_text(result, redact)
