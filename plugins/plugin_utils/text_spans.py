# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Spans of text: where a secret value starts and ends (quoted, a word, the rest of a line), and masking them.

Shared by the rules of the redaction; each rule finds the spans of its secrets and masks only those, so a line
keeps its meaning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


def masked(text, spans, replacement):
    """``text`` with each (start, end) of ``spans`` (in order, not overlapping) replaced."""
    if not spans:
        return text
    out = []
    pos = 0
    for start, end in spans:
        if start < pos or start == end:
            continue
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return ''.join(out)


def char_before(text, pos):
    """The last character before ``pos`` that is not a space or a tab (looking back a little only), or ''."""
    floor = max(0, pos - 40)
    while pos > floor and text[pos - 1] in ' \t':
        pos -= 1
    return text[pos - 1] if pos > floor else ''


def mask_group(match, replacement, group='secret'):
    """The text of ``match`` with its ``group`` masked."""
    start, end = match.span(group)
    if start < 0 or start == end:
        return match.group(0)
    offset = match.start(0)
    text = match.group(0)
    return text[:start - offset] + replacement + text[end - offset:]


# The longest run of backslashes before a quote taken for an escaped quote (3 levels of JSON in JSON).
MAX_ESCAPES = 7


def quoted_value(text, start):
    """The span of the content of a quoted value opening at ``start`` (``"v"``, ``'v'``, ``\\"v\\"``...), and its end.

    The value ends at the first quote written as the opening one was (same count of backslashes, in the JSON sense),
    or at the end of the line when it is not closed. ``None`` when no quote opens at ``start``.
    """
    quote_at = start
    while quote_at < len(text) and text[quote_at] == '\\' and quote_at - start < MAX_ESCAPES:
        quote_at += 1
    if quote_at >= len(text) or text[quote_at] not in '"\'':
        return None
    level = quote_at - start
    char = text[quote_at]
    pos = quote_at + 1
    while True:
        closing = text.find(char, pos)
        line_end = text.find('\n', pos, len(text) if closing < 0 else closing)
        if line_end >= 0 or closing < 0:  # not closed on its line: the rest of the line
            line_end = len(text) if line_end < 0 else line_end
            return quote_at + 1, line_end, line_end
        escapes = closing
        while escapes > pos and text[escapes - 1] == '\\':
            escapes -= 1
        if (closing - escapes) % (2 * level + 2) == level:
            return quote_at + 1, closing - level, closing + 1
        pos = closing + 1


WORD_VALUE = re.compile(r'[^\s&"\',;<>\\]+')
LINE_VALUE = re.compile(r'[^\n]*[^\s]')


def value_span(text, start, word=WORD_VALUE):
    """The span of the secret value starting at ``start``: a quoted one's content, or a word; ``None`` if none."""
    quoted = quoted_value(text, start)
    if quoted is not None:
        return quoted[0], quoted[1]
    match = word.match(text, start)
    return match.span() if match else None


def lower_same_length(text):
    """``text`` lower-cased, character for character (ASCII only for the rare text whose ``lower()`` changes length)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


_ASCII_LOWER = dict((code, code + 32) for code in range(ord('A'), ord('Z') + 1))


def disjoint(spans):
    """``spans`` in order, each one that overlaps the one before merged into it."""
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
