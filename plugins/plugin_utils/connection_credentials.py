# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The credentials of connections: in URLs and connect strings, and in the credential files a log may show.

The password of ``scheme://user:password@host`` and a user name that is a token (``https://ghp_xxx@github.com``),
also percent-encoded; Oracle's ``user/password@host``; ``.netrc`` entries (``machine h login u password p``, also
over several lines) and ``.pgpass`` lines (``host:port:database:user:password``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.upsun.support.plugins.plugin_utils.text_spans import disjoint, mask_group, masked

# A URL's scheme and the start of its authority, plain or percent-encoded.
_URL_SEPARATOR = re.compile(r'://|%3a%2f%2f')
_SCHEME_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-')
_AUTHORITY_END = {'://': re.compile(r'[/?#\s"\'<>\\`,;|)\]}]'), '%3A%2F%2F': re.compile(r'(?i)%2F|%3F|%23|[/?#\s"\'<>\\`,;&|)\]}]')}
# A user name that is a token by itself (https://ghp_xxx@github.com, a Sentry DSN key): long, letters and digits.
_TOKEN_USER = re.compile(r'[A-Za-z0-9_\-.~%]{20,}')
_ORACLE_CREDENTIALS = re.compile(r'(?i)(?<![\w.-])[a-z0-9_$#]{1,30}/(?P<secret>[^\s@/"\']{1,200})@(?=[\w.-]*[:/])')


def mask_url_credentials(text, replacement, lowered):
    """The password of ``scheme://user:password@host``, and a user that is a token, also percent-encoded."""
    spans = []
    for match in _URL_SEPARATOR.finditer(lowered):
        if not match.start() or text[match.start() - 1] not in _SCHEME_CHARS:  # no scheme before it
            continue
        encoded = match.group(0) != '://'
        start = match.end()
        end_match = _AUTHORITY_END['%3A%2F%2F' if encoded else '://'].search(text, start)
        end = end_match.start() if end_match else len(text)
        authority = text[start:end]
        at = authority.upper().rfind('%40') if encoded else authority.rfind('@')
        if at <= 0:
            continue
        userinfo = authority[:at]
        colon = userinfo.upper().find('%3A') if encoded else userinfo.find(':')
        if colon >= 0:
            spans.append((start + colon + (3 if encoded else 1), start + at))
        elif _TOKEN_USER.fullmatch(userinfo) and any(char.isdigit() for char in userinfo):
            spans.append((start, start + at))
    text = masked(text, [span for span in spans if span[0] < span[1]], replacement)
    if 'thin:' in lowered:
        text = _ORACLE_CREDENTIALS.sub(lambda match: mask_group(match, replacement), text)
    return text


_NETRC = re.compile(r'(?i)(?:(?<!\S)(?:login|account)[ \t]+\S+\s+|^[ \t]*)password[ \t]+(?P<secret>\S+)', re.MULTILINE)
_NETRC_LINE = re.compile(r'(?i)[ \t]*(?:machine|default|login|account)[ \t]')


def _after_netrc_line(text, line_start):
    """Whether the line before ``line_start`` (looking back a little only) starts with a .netrc keyword."""
    floor = max(0, line_start - 300)
    previous_start = max(floor, text.rfind('\n', floor, max(0, line_start - 1)) + 1)
    return line_start > 0 and _NETRC_LINE.match(text, previous_start, line_start) is not None


# host:port:database:user:password (host with a letter, a dot or *, port a number or *).
_PGPASS = re.compile(r'(?<![^\s\'"])(?=[^\s:]*[A-Za-z.*])[A-Za-z0-9*][\w.*-]{0,252}:(?:[0-9]{1,5}|\*):[^\s:]{1,64}:'
                     r'[^\s:]{1,64}:(?P<secret>(?:\\.|[^\s\\:])+)(?![^\s\'"])')
# What every .pgpass line holds: the rule's trigger, as no word says it.
PGPASS_HINT_PATTERN = r':(?:[0-9]{1,5}|\*):[^\s:]{1,64}:[^\s:]{1,64}:[^\s:]'
_PGPASS_HINT = re.compile(PGPASS_HINT_PATTERN)


def mask_credential_files(text, replacement, lowered):
    """``.netrc`` entries (``machine h login u password p``, also over several lines) and ``.pgpass`` lines."""
    spans = []
    if 'password' in lowered:
        for match in _NETRC.finditer(text):
            # "password x" starting its line is a .netrc entry only right after its machine or login line.
            if not match.group(0).lstrip().lower().startswith('password') or _after_netrc_line(text, match.start()):
                spans.append(match.span('secret'))
    if _PGPASS_HINT.search(text):
        spans.extend(match.span('secret') for match in _PGPASS.finditer(text))
    return masked(text, disjoint(spans), replacement)
