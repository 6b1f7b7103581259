# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private key blocks: PEM (RSA, EC, OPENSSH, ENCRYPTED, PGP...) and PuTTY keys, also a block a log tail shows only
in part.

A block is masked between its markers. An END without its BEGIN (a tail that starts inside the key) masks the
base64 ending the lines above it; a BEGIN without its END masks the base64 lines after it. Whatever prefix the
lines have (indentation, a timestamp, ``host | ``) stays.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.upsun.support.plugins.plugin_utils.text_spans import masked


_KEY_MARKER = re.compile(r'-----(?P<kind>BEGIN|END) [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----')
# The base64 at the end of a line (what follows any prefix: indentation, a timestamp, "host | ").
_BASE64_TAIL = re.compile(r'(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]+={0,2}[ \t\r]*$')
# A full line of key material is 64 (PEM) or 70 (OpenSSH) characters; shorter runs end a block.
_KEY_LINE_MIN = 40
_PUTTY_LINES = re.compile(r'Private-Lines: *(?P<count>\d{1,4})[ \t\r]*\n|Private-MAC: *(?P<mac>[0-9a-fA-F]+)')
_BASE64_LINE = re.compile(r'[ \t]*[A-Za-z0-9+/]+={0,2}[ \t\r]*(?=\n|$)')


def mask_private_keys(text, replacement, dummy_lowered=None):
    """Every private key block masked between its markers; one cut by a log tail, up to its END or from its BEGIN."""
    if 'PRIVATE KEY' in text:
        text = _pem_blocks(text, replacement)
    if 'Private-' in text:
        text = _putty_keys(text, replacement)
    return text


def _pem_blocks(text, replacement):
    spans = []
    markers = list(_KEY_MARKER.finditer(text))
    pos = 0
    index = 0
    while index < len(markers):
        marker = markers[index]
        if marker.group('kind') == 'END':
            # An END without its BEGIN: a log tail that starts inside the key.
            spans.extend(_base64_lines_before(text, marker.start(), pos))
            pos = marker.end()
            index += 1
            continue
        following = markers[index + 1] if index + 1 < len(markers) else None
        if following is not None and following.group('kind') == 'END':
            spans.append((marker.end(), following.start()))
            pos = following.end()
            index += 2
            continue
        # A BEGIN without its END (cut at the end of the tail, or another BEGIN follows): the rest of its line and the
        # base64 lines after it.
        spans.append((marker.end(), _base64_lines_after(text, marker.end(), following.start() if following else len(text))))
        pos = marker.end()
        index += 1
    return masked(text, sorted(span for span in spans if span[0] < span[1]), replacement)


def _base64_lines_before(text, end, floor):
    """The key material above an END marker: the base64 ending each line (after any prefix, which stays)."""
    line_start = max(floor, text.rfind('\n', floor, end) + 1)
    spans = []
    tail = _BASE64_TAIL.search(text, line_start, end)
    if tail is not None and tail.end() == end:  # "...base64-----END" on one line
        spans.append(tail.span())
    last = True
    while line_start > floor:
        previous_start = max(floor, text.rfind('\n', floor, line_start - 1) + 1)
        tail = _BASE64_TAIL.search(text, previous_start, line_start - 1)
        if tail is None:
            break
        # A full key line, or the last (shorter) one just above the END, or a first line of the text that is all
        # base64 (the tail starts inside that key line).
        if not (tail.end() - tail.start() >= _KEY_LINE_MIN or last or tail.start() == previous_start == 0):
            break
        spans.append((tail.start(), tail.end() - len(tail.group(0)) + len(tail.group(0).rstrip(' \t\r'))))
        last = False
        line_start = previous_start
    return spans


def _base64_lines_after(text, start, limit):
    """Where the key material after a BEGIN marker without END ends: the rest of its line and full base64 lines."""
    end = text.find('\n', start, limit)
    if end < 0:
        return limit
    while end < limit:
        next_end = text.find('\n', end + 1, limit)
        next_end = limit if next_end < 0 else next_end
        tail = _BASE64_TAIL.search(text, end + 1, next_end)
        if tail is None or tail.end() - tail.start() < 4:
            break
        end = next_end
    return end


def _putty_keys(text, replacement):
    """The private lines (the base64 lines after ``Private-Lines: N``, N at most) and the MAC of PuTTY keys."""
    spans = []
    match = _PUTTY_LINES.search(text)
    while match is not None:
        if match.group('mac'):
            spans.append(match.span('mac'))
            match = _PUTTY_LINES.search(text, match.end())
            continue
        end = match.end()
        for dummy in range(int(match.group('count'))):
            line = _BASE64_LINE.match(text, end)
            if line is None:
                break
            spans.append(line.span())
            end = line.end() + 1
        match = _PUTTY_LINES.search(text, max(end, match.end()))
    return masked(text, spans, replacement)
