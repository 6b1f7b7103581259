# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The values assigned to names that look secret, in every syntax a CI log shows.

``NAME=value``, ``export NAME='value'``, ``NAME: value`` (YAML, prompts), ``:name => value``, form bodies
(``name=value&``, also percent-encoded), XML ``<password>value</password>``, ``key="password" value="..."``,
connection strings (``Password=...;``), and quoted keys: JSON ``"password": "value"`` (also escaped),
PHP and Ruby ``'password' => 'value'``, Python ``('password', 'value')``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.upsun.support.plugins.plugin_utils.secret_names import looks_secret, secret_names
from ansible_collections.upsun.support.plugins.plugin_utils.text_spans import (
    LINE_VALUE,
    MAX_ESCAPES,
    WORD_VALUE,
    char_before,
    disjoint,
    masked,
    value_span,
)


_ASSIGN_SEP = re.compile(r'(?P<eq>[ \t]*(?::=|=>|=)[ \t]*|%3[Dd])(?=\S)|[ \t]*:[ \t]+(?=\S)|:(?=["\'])')
# What may stand before the key of a "name: value" line: indentation, a list dash.
_KEY_LINE_START = re.compile(r'[ \t]*(?:-[ \t]+)?$')
_ENCODED_VALUE = re.compile(r'(?:(?!%26|%20)[^\s&"\'\\])+', re.IGNORECASE)
_XML_ELEMENT = re.compile(r'<(?P<name>[A-Za-z_][\w.:-]{0,80})(?:[ \t][^<>\n]{0,300})?>(?P<secret>[^<\n]+)</(?P=name)>')
_KEY_VALUE_ATTRIBUTES = re.compile(r'(?i)key[ \t]*=[ \t]*(?P<q>["\'])(?P<name>[^"\'<>\n]{1,80})(?P=q)[ \t]+value[ \t]*=[ \t]*'
                                   r'(?P<vq>["\'])(?P<secret>[^"\'\n]*)(?P=vq)')


def _is_key_line(text, pos):
    """Whether only indentation or a list dash stands before ``pos`` on its line (looking back a little only)."""
    line_start = text.rfind('\n', max(0, pos - 40), pos) + 1
    return (line_start > 0 or pos <= 40) and _KEY_LINE_START.match(text, line_start, pos) is not None


def _assignment_value(text, start, end, name):
    """The span of the value assigned to the name at ``text[start:end]`` (``NAME=v``, ``NAME: v``...), or ``None``."""
    if name[0] in '-.' or _quoted_key_quote(text, start, end) is not None:
        return None  # a flag, or a quoted key: rules of their own
    if name.lower() == 'pwd' and char_before(text, start) != ';':  # only ODBC's ...;Uid=app;Pwd=secret
        return None
    separator = _ASSIGN_SEP.match(text, end)
    if separator is None:
        return None
    eq = separator.group('eq')
    if eq is not None and text.startswith('=', separator.end()):  # a comparison: password == x
        return None
    if eq is not None and eq.lower() == '%3d':
        value = _ENCODED_VALUE.match(text, separator.end())
        return value.span() if value else None
    # A "name: value" line of YAML or a config file: the value is the rest of the line (a passphrase may have
    # spaces). Elsewhere ("the API token: ..." in a sentence), only the word after the colon.
    whole_line = eq is None and _is_key_line(text, start)
    return value_span(text, separator.end(), LINE_VALUE if whole_line else WORD_VALUE)


def mask_assignments(text, replacement, lowered):
    """Mask the value after each secret-looking ``NAME=``, ``NAME:``, ``NAME =>``, ``NAME%3D``, of
    ``<name>value</name>`` and of ``key="name" value="..."``."""
    spans = [(0, 0)]
    for start, end, name in secret_names(text, lowered):
        span = _assignment_value(text, start, end, name) if start >= spans[-1][1] else None  # not in a masked value
        if span is not None and span[0] < span[1]:
            spans.append(span)
    for regex, hint in ((_XML_ELEMENT, '</'), (_KEY_VALUE_ATTRIBUTES, 'value')):
        for match in (regex.finditer(text) if hint in lowered else ()):
            if looks_secret(match.group('name')):
                spans.append(match.span('secret'))
    return masked(text, disjoint(spans), replacement)


# Quoted keys: "password": "x", \"password\":\"x\", 'password' => 'x', ('password', 'x').
_KEY_SEPARATOR = re.compile(r'[ \t]*(?P<sep>:|=>|,)[ \t]*')
_UNQUOTED_JSON_VALUE = re.compile(r'[^\s,}\])"\'\\]+')


def _quoted_key_quote(text, start, end):
    """The end of the closing quote when ``text[start:end]`` is quoted alike on both sides (``\\"name\\"``), else None."""
    quote_at = end
    while quote_at < len(text) and text[quote_at] == '\\' and quote_at - end < MAX_ESCAPES:
        quote_at += 1
    if quote_at >= len(text) or text[quote_at] not in '"\'':
        return None
    opening = text[quote_at - (quote_at - end):quote_at + 1]
    return quote_at + 1 if text[max(0, start - len(opening)):start] == opening else None


def mask_quoted_keys(text, replacement, lowered):
    spans = [(0, 0)]
    for start, end, name in secret_names(text, lowered):
        after_quote = _quoted_key_quote(text, start, end) if start >= spans[-1][1] else None
        if after_quote is None or name.lower() == 'pwd':
            continue
        separator = _KEY_SEPARATOR.match(text, after_quote)
        if separator is None:
            continue
        opening_at = start - (after_quote - end)
        if separator.group('sep') == ',' and char_before(text, opening_at) != '(':  # a tuple, not a list
            continue
        span = value_span(text, separator.end(), _UNQUOTED_JSON_VALUE)
        if span is not None and span[0] < span[1]:
            spans.append(span)
    return masked(text, disjoint(spans), replacement)
