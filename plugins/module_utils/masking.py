# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one masking of known secret values, used by the modules and by the controller's redaction.

A known value (a credential in use, a vaulted or ``no_log`` value) is masked wherever it appears, and in the forms
text gives it: as is, JSON-escaped (once and twice), percent-encoded (upper and lower case), and base64-encoded, alone
or after ``user:`` (standard and URL-safe alphabets), in one pass of one regular expression built from all of them.
A base64 form is masked with the whole base64 word around it. ``mask_userinfo`` masks the credentials of URLs in a
message, whatever their values.

Modules import this, so nothing is built at import; for a module's few values, the pattern is built only for a text
that holds one of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import functools
import json
import re

from urllib.parse import quote, quote_plus

REPLACEMENT = '[REDACTED]'
# The shortest value also looked for in base64 (a shorter one has no core long enough; see _MIN_BASE64_CORE).
MIN_BASE64_VALUE = 6
# The shortest base64 core of a known value that is looked for (shorter ones would turn up by chance).
_MIN_BASE64_CORE = 8
# At most this many forms (a few values) are looked for one by one before the pattern is built.
_FEW_FORMS = 64
_BASE64_RUN_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=')
# user:password@ (or user@) after a scheme: the credentials of a URL, in a URL or in a message quoting one.
_USERINFO = re.compile(r'(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@')


def mask_known(text, secrets, replacement=REPLACEMENT):
    """``text`` with each of ``secrets`` masked, in every form text gives it (see the module's description)."""
    return _known_values(frozenset(str(secret) for secret in secrets if secret)).mask(text, replacement)


@functools.lru_cache(maxsize=8)  # a module masks several texts with the same credentials
def _known_values(secrets):
    return KnownValues(secrets)


def mask_userinfo(text):
    """``text`` with the credentials of every URL in it (``scheme://user:password@``) replaced by ``***``.

    Every error of the collection goes through it (``UpsunError``), and so
    does every warning of the client: a password written in api_url, auth_url,
    token_url or a proxy URL is never shown.
    """
    if not isinstance(text, str):
        return text
    return _USERINFO.sub(r'\1***@', text)


class KnownValues:
    """Every known value, in every form, found in one pass; a base64 form is masked with the whole base64 word."""

    def __init__(self, values):
        plain = set()
        encoded = set()
        for value in values:
            if not value:
                continue
            plain |= _text_forms(value)
            if len(value) >= MIN_BASE64_VALUE:
                encoded |= _base64_cores(value)
        encoded -= plain
        self._encoded = encoded
        self._forms = plain | encoded
        # A module's few values: a text is first searched for each form (cheaper than building the pattern, which
        # only a text holding one of them needs). The controller's many values: one pattern, built now.
        self._regex = None if len(self._forms) <= _FEW_FORMS else re.compile(trie_pattern(self._forms))

    def mask(self, text, replacement=REPLACEMENT):
        """``text`` with every form of every value replaced by ``replacement``."""
        if self._regex is None:
            if not any(form in text for form in self._forms):
                return text
            self._regex = re.compile(trie_pattern(self._forms))
        out = []
        pos = 0
        for match in self._regex.finditer(text):
            start, end = match.span()
            if start < pos:
                continue
            if match.group(0) in self._encoded:
                start, end = _base64_word(text, start, end, pos)
            out.append(text[pos:start])
            out.append(replacement)
            pos = end
        out.append(text[pos:])
        return ''.join(out)


def _text_forms(value):
    """``value`` as it may be written: as is, JSON-escaped (once and twice), percent-encoded (upper and lower case)."""
    escaped = json.dumps(value)[1:-1]
    forms = {value, escaped, json.dumps(escaped)[1:-1]}
    for encode in (quote, quote_plus):
        for encoded in (encode(value, safe=''), encode(value)):
            forms.add(encoded)
            forms.add(_lower_escapes(encoded))
    return forms


def _lower_escapes(encoded):
    """``encoded`` (percent-encoded: every ``%`` starts an escape) with its escapes in lower case (``%2f``)."""
    parts = encoded.split('%')
    return '%'.join(parts[:1] + [part[:2].lower() + part[2:] for part in parts[1:]])


def _base64_cores(value):
    """The part of base64(``prefix + value``) that depends on ``value`` only, for each of the 3 alignments.

    base64 of ``user:password`` contains one of these whatever the user name; standard and URL-safe alphabets.
    """
    data = value.encode('utf-8')
    cores = set()
    for shift, skip in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b'\0' * shift + data).decode('ascii').rstrip('=')
        tail = (shift + len(data)) % 3
        # The last characters of an unfinished group also hold bits of whatever follows the value.
        core = encoded[skip:len(encoded) - (1 if tail else 0)]
        if len(core) >= _MIN_BASE64_CORE:
            cores.add(core)
            cores.add(core.replace('+', '-').replace('/', '_'))
    return cores


def _base64_word(text, start, end, floor):
    """The span of the base64 word around ``text[start:end]`` (not before ``floor``)."""
    while start > floor and text[start - 1] in _BASE64_RUN_CHARS:
        start -= 1
    while end < len(text) and text[end] in _BASE64_RUN_CHARS:
        end += 1
    return start, end


def trie_pattern(words):
    """One regular expression matching any of ``words``, longest first, as a trie (one branch per next character)."""
    trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[''] = {}
    return _trie_node_pattern(trie)


def _trie_node_pattern(node):
    branches = []
    for char in sorted(key for key in node if key):
        prefix = [char]
        child = node[char]
        while len(child) == 1 and '' not in child:  # a chain of single characters: one literal
            char, child = next(iter(child.items()))
            prefix.append(char)
        branches.append(re.escape(''.join(prefix)) + _trie_node_pattern(child))
    if not branches:
        return ''
    body = branches[0] if len(branches) == 1 else '(?:{0})'.format('|'.join(branches))
    return '(?:{0})?'.format(body) if '' in node else body
