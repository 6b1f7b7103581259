# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Redaction of secrets in text that leaves the controller or that the collection writes.

One ``Redactor`` is used by the role's filters, the callback and the spool: the
same rules everywhere. Each built-in rule replaces only the secret itself, so a
line keeps its meaning (``mysql -u app --password [REDACTED] -h db``). Users add
patterns of their own and can switch a built-in rule off by name, except
``credentials``: the collection's own tokens are always masked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

REPLACEMENT = '[REDACTED]'

# Words that make a name look secret. Ending one of its words (PGPASSWORD, db_password, x-auth-token) ...
_SECRET_PARTS = ('password', 'passwd', 'passphrase', 'secret', 'token', 'credential', 'apikey', 'accesskey',
                 'privatekey')
# ... or equal to one of its words ...
_SECRET_WORDS = frozenset(('pwd', 'auth', 'cookie', 'signature', 'sessionid'))
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
))
_NAME_WORD = re.compile(r'[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+')
# The shortest secret value worth masking: below this, "true", "1" and the like would be blanked everywhere.
MIN_LITERAL_LENGTH = 6
# Header names with rules of their own, which keep the scheme.
_HEADERS = ('authorization', 'proxy-authorization', 'cookie', 'set-cookie')


def looks_secret(name):
    """Whether a variable, key or flag name looks like it holds a secret (``DB_PASSWORD``, ``apiKey``, ``x-auth-token``)."""
    words = [word.lower() for word in _NAME_WORD.findall(name or '')]
    if not words or words[-1] in _HARMLESS_LAST_WORDS:
        return False
    for word in words:
        if word in _SECRET_WORDS or any(word.endswith((part, part + 's')) for part in _SECRET_PARTS):
            return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


_NAME = r'[A-Za-z_][A-Za-z0-9_.-]*'
_QUOTED = r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\''


def _mask_group(match, replacement, group='secret'):
    """The text of ``match`` with its ``group`` masked (keeping the quotes the value had)."""
    text = match.group(0)
    start, end = match.span(group)
    if start < 0:
        return text
    value = match.group(group)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
        masked = value[0] + replacement + value[0]
    else:
        masked = replacement
    offset = match.start(0)
    return text[:start - offset] + masked + text[end - offset:]


def _if_secret_name(match, replacement):
    name = match.group('name')
    if name.lower() in _HEADERS or not looks_secret(name):
        return match.group(0)
    return _mask_group(match, replacement)


class Rule:
    """A built-in rule: a regular expression, and what to make of each match (by default: mask its ``secret`` group)."""

    def __init__(self, name, description, pattern=None, replace=_mask_group, apply=None):
        self.name = name
        self.description = description
        self.regex = re.compile(pattern) if pattern else None
        self._replace = replace
        self._apply = apply

    def apply(self, text, replacement):
        if self._apply is not None:
            return self._apply(text, replacement)
        return self.regex.sub(lambda match: self._replace(match, replacement), text)


_PEM_BEGIN = re.compile(r'-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----')
_PEM_END = re.compile(r'-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----')
_BASE64_LINE = re.compile(r'^[A-Za-z0-9+/=]*$')


def _private_keys(text, replacement):
    """Every private key block replaced, also one cut by a log tail (END without BEGIN) or unfinished (BEGIN only)."""
    if 'PRIVATE KEY' not in text:
        return text
    out = []
    pos = 0
    while True:
        begin = _PEM_BEGIN.search(text, pos)
        end = _PEM_END.search(text, pos)
        if end is not None and (begin is None or end.start() < begin.start()):
            # An END line without its BEGIN (a log tail that starts inside a key): the key material is the run of
            # base64 lines just before it.
            lines = text[pos:end.start()].split('\n')
            body = len(lines) - 1
            while body > 0 and _BASE64_LINE.match(lines[body - 1]):
                body -= 1
            kept = '\n'.join(lines[:body]) + '\n' if body > 0 else ''
            out.append('{0}-----BEGIN PRIVATE KEY----- {1} {2}'.format(kept, replacement, end.group(0)))
            pos = end.end()
            continue
        if begin is None:
            out.append(text[pos:])
            return ''.join(out)
        out.append(text[pos:begin.start()])
        end = _PEM_END.search(text, begin.end())
        out.append('{0} {1} {2}'.format(begin.group(0), replacement, end.group(0) if end else '[cut]'))
        if end is None:
            return ''.join(out)
        pos = end.end()


_ASSIGNMENT = re.compile(r'(?<![\w.\-"\'])(?P<name>' + _NAME + r')(?:(?P<eq>[ \t]*=[ \t]*)|[ \t]*:[ \t]+)(?=\S)')
_QUOTED_VALUE = re.compile(_QUOTED)
_WORD_VALUE = re.compile(r'[^\s&"\',;]+')
_LINE_VALUE = re.compile(r'[^\n]*[^\s]')
# What may stand before the key of a "name: value" line: indentation, a list dash.
_KEY_LINE_START = re.compile(r'[ \t]*(?:-[ \t]+)?$')


def _assignments(text, replacement):
    """Mask the value after each secret-looking ``NAME=`` or ``NAME:``; other names are stepped over, not skipped."""
    out = []
    pos = 0
    search_from = 0
    while True:
        match = _ASSIGNMENT.search(text, search_from)
        if match is None:
            break
        name = match.group('name')
        comparison = match.group('eq') is not None and text.startswith('=', match.end())
        if comparison or name.lower() in _HEADERS or not looks_secret(name):
            search_from = match.start('name') + len(name)
            continue
        start = match.end()
        value = _QUOTED_VALUE.match(text, start)
        if value is None:
            # A "name: value" line of YAML or a config file: the value is the rest of the line (a passphrase may
            # have spaces). Elsewhere ("the API token: ..." in a sentence), only the word after the colon.
            whole_line = match.group('eq') is None and _KEY_LINE_START.match(text, text.rfind('\n', 0, match.start()) + 1,
                                                                             match.start()) is not None
            value = (_LINE_VALUE if whole_line else _WORD_VALUE).match(text, start)
        if value is None:
            search_from = match.end()
            continue
        quote = value.group(0)[0] if value.re is _QUOTED_VALUE else ''
        out.append(text[pos:start])
        out.append(quote + replacement + quote)
        pos = search_from = value.end()
    out.append(text[pos:])
    return ''.join(out)


BUILTIN_RULES = (
    Rule('private_key', 'PEM private key blocks of every kind (RSA, EC, OPENSSH, ENCRYPTED, PGP), also one cut off '
         'at the start or the end of a log tail', apply=_private_keys),
    Rule('authorization_header', 'Authorization and Proxy-Authorization headers of any scheme (the scheme stays)',
         r'(?i)\b(?:proxy-)?authorization["\']?\s*[:=]\s*["\']?(?:(?:bearer|basic|token|digest|negotiate|ntlm|'
         r'aws4-hmac-sha256|[a-z][a-z0-9_-]*(?= ))\s+)?(?P<secret>[^\s"\'][^"\'\n]*)'),
    Rule('cookie_header', 'Cookie and Set-Cookie headers', r'(?i)\b(?:set-)?cookie["\']?\s*:\s*(?P<secret>[^\s"\'][^"\'\n]*)'),
    Rule('bearer_token', 'Bearer and Basic credentials outside a header',
         r'(?i)\b(?:bearer|basic)\s+(?P<secret>[A-Za-z0-9._~+/-]{8,}=*)'),
    Rule('url_credentials', 'passwords and tokens in URLs (scheme://user:password@host)',
         r'(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@"\']*:(?P<secret>[^/\s@"\']+)@'),
    Rule('user_password_flag', 'the password of a user:password flag (curl -u, --user)',
         r'(?<![^\s"\'])(?:-u|--user|--proxy-user)[ =]["\']?[^\s:"\']+:(?P<secret>[^\s"\']+)'),
    Rule('secret_json', 'values of secret-looking quoted keys: "password": "value", {\'token\': \'value\'}',
         r'(?P<q>["\'])(?P<name>' + _NAME + r')(?P=q)\s*:\s*(?P<secret>' + _QUOTED + r'|[^\s,}\]"\']+)',
         replace=_if_secret_name),
    Rule('secret_assignment', 'values of secret-looking names: NAME=value, NAME = value, export NAME=\'value\', '
         'NAME: value (names such as password, secret, token, api_key, DB_PASSWORD, AWS_SECRET_ACCESS_KEY, in any case)',
         apply=_assignments),
    Rule('secret_flag', 'values of secret-looking command-line flags: --password value, --db-password=value',
         r'(?<![\w-])--(?P<name>[A-Za-z][A-Za-z0-9_-]*)(?:=|[ \t]+)(?P<secret>' + _QUOTED + r'|(?!-)[^\s"\']+)',
         replace=_if_secret_name),
    Rule('token_format', 'well-known token formats: GitHub, GitLab, Slack, AWS access key ids, JWTs, Stripe, '
         'Google API keys, npm, PyPI, Docker Hub and HashiCorp Vault tokens',
         r'(?P<secret>\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|gl(?:pat|dt|rt|ptt|cbt)-[A-Za-z0-9_-]{16,}'
         r'|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}'
         r'|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}'
         r'|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36,}|pypi-[A-Za-z0-9_-]{50,}|dckr_pat_[A-Za-z0-9_-]{20,}'
         r'|hv[sbr]\.[A-Za-z0-9_-]{20,})\b)'),
)
RULE_NAMES = tuple(rule.name for rule in BUILTIN_RULES) + ('environment_secrets',)
# Always applied: the collection's own credentials.
CREDENTIALS_RULE = 'credentials'


def environment_secrets(environ=None):
    """The values of the environment variables whose names look secret."""
    environ = os.environ if environ is None else environ
    values = set()
    for name, value in environ.items():
        if looks_secret(name) and value and len(value) >= MIN_LITERAL_LENGTH and value.strip().lower() not in ('true', 'false'):
            values.add(value)
    return values


class RedactionError(ValueError):
    """A user pattern or rule name that cannot be used; the message names it."""


class Redactor:
    """The redaction of one run: built-in rules, user patterns and literal secrets.

    ``patterns``: regular expressions of the user's; a match is replaced whole,
    or only its ``secret`` group (or its first group) when it has one.
    ``disable``: names of built-in rules to switch off (``RULE_NAMES``).
    ``secrets``: literal values always masked (the credentials in use).
    """

    def __init__(self, patterns=None, disable=None, replacement=REPLACEMENT, secrets=None, environ=None):
        self.replacement = REPLACEMENT if replacement is None else str(replacement)
        disable = list(disable or [])
        unknown = [name for name in disable if name not in RULE_NAMES]
        if CREDENTIALS_RULE in disable:
            raise RedactionError('the credentials rule cannot be switched off: the collection never sends its own tokens')
        if unknown:
            raise RedactionError('unknown redaction rule(s) {0}; the rules are {1}'.format(
                ', '.join(repr(str(name)) for name in unknown), ', '.join(RULE_NAMES)))
        self.rules = [rule for rule in BUILTIN_RULES if rule.name not in disable]
        self.user_patterns = [_compile_user_pattern(pattern) for pattern in (patterns or [])]
        literals = set(str(value) for value in (secrets or []) if value and len(str(value)) >= 4)
        if 'environment_secrets' not in disable:
            literals |= environment_secrets(environ)
        # Longest first, so that a secret containing another is masked whole.
        self._literals = sorted(literals, key=len, reverse=True)

    def redact(self, text):
        """``text`` with every secret the rules find replaced; ``None`` stays ``None``."""
        if text is None:
            return None
        if not isinstance(text, str):
            text = str(text)
        for literal in self._literals:
            if literal in text:
                text = text.replace(literal, self.replacement)
        for rule in self.rules:
            text = rule.apply(text, self.replacement)
        for regex in self.user_patterns:
            text = regex.sub(self._user_replacement, text)
        return text

    __call__ = redact

    def _user_replacement(self, match):
        group = 'secret' if 'secret' in match.re.groupindex else (1 if match.re.groups else 0)
        if group != 0 and match.group(group) is not None:
            start, end = match.span(group)
            offset = match.start(0)
            text = match.group(0)
            return text[:start - offset] + self.replacement + text[end - offset:]
        return self.replacement

    def redact_data(self, value):
        """Every string inside ``value`` (dicts, lists) redacted; keys are kept."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return dict((key, self.redact_data(item)) for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return [self.redact_data(item) for item in value]
        return value


def _compile_user_pattern(pattern):
    if not isinstance(pattern, str) or not pattern:
        raise RedactionError('a redaction pattern must be a non-empty string (a Python regular expression), got {0!r}'.format(
            pattern))
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RedactionError('the redaction pattern {0!r} is not a valid regular expression: {1}'.format(pattern, exc))
