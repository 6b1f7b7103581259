# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Names that look like they hold a secret (``DB_PASSWORD``, ``apiKey``, ``x-auth-token``), found in text.

``looks_secret`` judges one name by its words; ``secret_names`` finds the names in a text from the trigger words
they contain; ``environment_secrets`` gives the values of the environment variables whose names look secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os
import re

from ansible_collections.upsun.support.plugins.module_utils.masking import trie_pattern

# Words that make a name look secret. Ending one of its words (PGPASSWORD, db_password, x-auth-token) ...
_SECRET_PARTS = ('password', 'passwd', 'passphrase', 'secret', 'token', 'credential', 'apikey', 'accesskey',
                 'privatekey')
# ... or equal to one of its words (DB_PASS, SMTP_PW, DB_PWD: but PWD alone is the working directory) ...
_SECRET_WORDS = frozenset(('pass', 'pw', 'pwd', 'auth', 'cookie', 'signature', 'sig', 'sessionid', 'bearer'))
# ... or two of its words in a row (API_KEY, AWS_SECRET_ACCESS_KEY).
_SECRET_PAIRS = frozenset((
    ('api', 'key'), ('access', 'key'), ('private', 'key'), ('secret', 'key'), ('session', 'id'), ('signing', 'key'),
    ('encryption', 'key'), ('master', 'key'), ('account', 'key'), ('client', 'secret'),
))
# A name ending with one of these names something about a secret, not the secret: TOKEN_URL, password_file.
_HARMLESS_LAST_WORDS = frozenset((
    'url', 'uri', 'endpoint', 'host', 'hostname', 'port', 'file', 'path', 'dir', 'directory', 'type', 'method',
    'mode', 'name', 'user', 'username', 'length', 'len', 'policy', 'expiry', 'expires', 'expiration', 'ttl', 'count',
    'enabled', 'required', 'version', 'header', 'sock', 'socket', 'format', 'source', 'env', 'lifetime', 'timeout',
    'strategy', 'provider', 'scope', 'scopes', 'kind', 'prompt', 'manager', 'helper', 'store', 'rotation', 'stdin',
    'reset', 'hint', 'algorithm', 'alg', 'fingerprint',
))
# A name starting with one of these is a switch or a question about a secret: --no-password, ask_vault_pass.
_HARMLESS_FIRST_WORDS = frozenset(('no', 'ask', 'prompt', 'skip', 'without', 'show', 'forgot', 'is', 'has', 'use'))
# Names that are never secret whatever the words say: the shell's working directories.
_HARMLESS_NAMES = frozenset(('pwd', 'oldpwd'))
_NAME_WORD = re.compile(r'[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+')
# The shortest value of a secret-looking variable worth masking: below this, "true", "1" and the like would be
# blanked everywhere.
MIN_LITERAL_LENGTH = 6
# The shortest secret value worth masking: below this, "true", "1" and the like would be blanked everywhere.
# Header names with rules of their own, which keep the scheme.
_HEADERS = ('authorization', 'proxy-authorization', 'cookie', 'set-cookie')
# The lower-case fragments that the names looks_secret() accepts contain: the triggers of the name-based rules.
NAME_TRIGGERS = ('pass', 'pw', 'secret', 'token', 'credential', 'key', 'auth', 'cookie', 'sig', 'session', 'bearer')


def looks_secret(name):
    """Whether a variable, key or flag name looks like it holds a secret (``DB_PASSWORD``, ``apiKey``, ``x-auth-token``)."""
    return _looks_secret(name or '')


@functools.lru_cache(maxsize=4096)  # a log repeats its names
def _looks_secret(name):
    words = [word.lower() for word in _NAME_WORD.findall(name)]
    if not words or words[-1] in _HARMLESS_LAST_WORDS or ''.join(words) in _HARMLESS_NAMES:
        return False
    if len(words) > 1 and words[0] in _HARMLESS_FIRST_WORDS:
        return False
    for word in words:
        if word in _SECRET_WORDS or any(word.endswith((part, part + 's')) for part in _SECRET_PARTS):
            return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def environment_secrets(environ=None):
    """The values of the environment variables whose names look secret."""
    environ = os.environ if environ is None else environ
    values = set()
    for name, value in environ.items():
        if looks_secret(name) and value and len(value) >= MIN_LITERAL_LENGTH and value.strip().lower() not in ('true', 'false'):
            values.add(value)
    return values


_NAME_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-')
# Longer runs of name characters before a trigger word are not names (and are not searched back further).
_LONGEST_NAME = 200
_NAME_FINDER = re.compile(trie_pattern(NAME_TRIGGERS))
_NAME_TAIL = re.compile(r'[A-Za-z0-9_.-]*')


def secret_names(text, lowered):
    """(start, end, name) of each name (a run of letters, digits, ``_.-``) holding a trigger word and looking secret.

    Found from the trigger words, each name once: linear in the text. ``name`` keeps its leading dashes (a flag).
    """
    pos = 0
    while True:
        found = _NAME_FINDER.search(lowered, pos)
        if found is None:
            return
        start, end = found.span()
        floor = max(0, start - _LONGEST_NAME)
        while start > floor and text[start - 1] in _NAME_CHARS:
            start -= 1
        end = _NAME_TAIL.match(text, end).end()
        pos = end
        if start == floor and floor > 0 and text[floor - 1] in _NAME_CHARS:
            continue
        name = text[start:end].rstrip('.')
        bare = name.lstrip('-.')
        if bare.lower() not in _HEADERS and (looks_secret(bare) or bare.lower() == 'pwd'):
            yield start, start + len(name), name
