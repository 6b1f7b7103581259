# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Text of any value, made cheap and safe to redact, then cut: bounding, tails and cuts.

A value of a result can be megabytes: ``bounded`` keeps its start and end
before it is redacted; ``tail`` and ``cut`` shorten it afterwards, so that no
cut leaves a piece of a secret the redaction would have recognised whole.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

MAX_OUTPUT_LINES = 20
# The most characters of one value (a msg, a stream, a label) that are redacted and kept: beyond, only its start and
# its end, so that a task that printed megabytes cannot stall the end of a run. Runs of characters without a space
# longer than MAX_WORD_CHARS are left out whole: no readable text is that long, and a secret is never kept in part.
MAX_VALUE_CHARS = 16384
MAX_WORD_CHARS = 4096
_LONG_WORD = re.compile(r'(?<!\S)\S{%d,}' % (MAX_WORD_CHARS + 1))


def as_text(value):
    """``value`` as text: bytes decoded, a list of strings one per line, other containers as JSON."""
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


def tail(text, lines=MAX_OUTPUT_LINES):
    """The last ``lines`` lines of ``text``, saying how many were left out."""
    parts = as_text(text).strip().splitlines()
    if len(parts) > lines:
        return '[{0} earlier lines left out]\n'.format(len(parts) - lines) + '\n'.join(parts[-lines:])
    return '\n'.join(parts)


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


def cut(text, limit):
    """``text`` cut to ``limit`` characters (0: no limit), saying how much was cut."""
    if limit and len(text) > limit:
        keep = max(limit - 40, 0)
        return text[:keep].rstrip() + '\n[... {0} more characters cut]'.format(len(text) - keep)
    return text
