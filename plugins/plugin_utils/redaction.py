# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Redaction of secrets in text that leaves the controller or that the collection writes.

One ``Redactor``, built once per run, is used by the role's filters, the callback and the spool: the same rules
everywhere. It works in three layers, in this order:

1. Known values: every literal secret it was given (the collection's credentials, vaulted and ``no_log`` values) and
   the values of the environment variables whose names say they hold secrets, also JSON-escaped, percent-encoded and
   base64-encoded (alone or after ``user:``), in one pass of one regular expression built once.
2. Key blocks: PEM, OpenSSH and PuTTY private keys, also a block a log tail shows only in part.
3. Formats, line by line: provider token formats, JWTs, credentials in URLs, headers, flags, prompts and assignments
   in the syntaxes a CI log shows. One scan of the lower-cased text for the words these rules start from picks the
   lines to look at; the other lines are not touched again.

Each built-in rule replaces only the secret, so a line keeps its meaning (``mysql -u app --password [REDACTED] -h
db``). Every pattern is written so that it cannot backtrack: a run of characters is only entered at its start, and
what follows it is outside its class, so the work grows linearly with the text. Users add patterns of their own and
can switch a built-in rule off by name, except ``credentials``: the collection's own tokens are always masked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import functools
import json
import os
import re
from urllib.parse import quote, quote_plus

REPLACEMENT = '[REDACTED]'

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
# The shortest secret value worth masking: below this, "true", "1" and the like would be blanked everywhere.
MIN_LITERAL_LENGTH = 6
# The shortest value given in secrets= that is masked (shorter ones would blank common words).
MIN_KNOWN_LENGTH = 4
# Header names with rules of their own, which keep the scheme.
_HEADERS = ('authorization', 'proxy-authorization', 'cookie', 'set-cookie')
# The lower-case fragments that the names looks_secret() accepts contain: the triggers of the name-based rules.
_NAME_TRIGGERS = ('pass', 'pw', 'secret', 'token', 'credential', 'key', 'auth', 'cookie', 'sig', 'session', 'bearer')


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


class RedactionError(ValueError):
    """A user pattern or rule name that cannot be used; the message names it."""


# -- layer 1: known values ---------------------------------------------------------------------------------------------

_BASE64_RUN_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=')
# The shortest base64 core of a known value that is looked for (shorter ones would turn up by chance).
_MIN_BASE64_CORE = 8


def _text_forms(value):
    """``value`` as it may be written: as is, JSON-escaped (once and twice), percent-encoded (upper and lower case)."""
    escaped = json.dumps(value)[1:-1]
    forms = {value, escaped, json.dumps(escaped)[1:-1]}
    for encode in (quote, quote_plus):
        for encoded in (encode(value, safe=''), encode(value)):
            forms.add(encoded)
            forms.add(re.sub('%[0-9A-F]{2}', lambda match: match.group(0).lower(), encoded))
    return forms


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


def _trie_pattern(words):
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


class _KnownValues:
    """Every known secret, in every form, found in one pass; a base64 form is masked with the whole base64 word."""

    def __init__(self, values):
        plain = set()
        encoded = set()
        for value in values:
            plain |= _text_forms(value)
            if len(value) >= MIN_LITERAL_LENGTH:
                encoded |= _base64_cores(value)
        encoded -= plain
        self._encoded = encoded
        self.regex = re.compile(_trie_pattern(plain | encoded)) if plain or encoded else None

    def redact(self, text, replacement):
        if self.regex is None:
            return text
        out = []
        pos = 0
        for match in self.regex.finditer(text):
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


def _base64_word(text, start, end, floor):
    """The span of the base64 word around ``text[start:end]`` (not before ``floor``)."""
    while start > floor and text[start - 1] in _BASE64_RUN_CHARS:
        start -= 1
    while end < len(text) and text[end] in _BASE64_RUN_CHARS:
        end += 1
    return start, end


# -- helpers of the rules ----------------------------------------------------------------------------------------------

def _masked(text, spans, replacement):
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


def _char_before(text, pos):
    """The last character before ``pos`` that is not a space or a tab (looking back a little only), or ''."""
    floor = max(0, pos - 40)
    while pos > floor and text[pos - 1] in ' \t':
        pos -= 1
    return text[pos - 1] if pos > floor else ''


def _mask_group(match, replacement, group='secret'):
    """The text of ``match`` with its ``group`` masked."""
    start, end = match.span(group)
    if start < 0 or start == end:
        return match.group(0)
    offset = match.start(0)
    text = match.group(0)
    return text[:start - offset] + replacement + text[end - offset:]


# The longest run of backslashes before a quote taken for an escaped quote (3 levels of JSON in JSON).
_MAX_ESCAPES = 7


def _quoted_value(text, start):
    """The span of the content of a quoted value opening at ``start`` (``"v"``, ``'v'``, ``\\"v\\"``...), and its end.

    The value ends at the first quote written as the opening one was (same count of backslashes, in the JSON sense),
    or at the end of the line when it is not closed. ``None`` when no quote opens at ``start``.
    """
    quote_at = start
    while quote_at < len(text) and text[quote_at] == '\\' and quote_at - start < _MAX_ESCAPES:
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


_WORD_VALUE = re.compile(r'[^\s&"\',;<>\\]+')
_LINE_VALUE = re.compile(r'[^\n]*[^\s]')


def _value_span(text, start, word=_WORD_VALUE):
    """The span of the secret value starting at ``start``: a quoted one's content, or a word; ``None`` if none."""
    quoted = _quoted_value(text, start)
    if quoted is not None:
        return quoted[0], quoted[1]
    match = word.match(text, start)
    return match.span() if match else None


def _lower(text):
    """``text`` lower-cased, character for character (ASCII only for the rare text whose ``lower()`` changes length)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


_ASCII_LOWER = dict((code, code + 32) for code in range(ord('A'), ord('Z') + 1))


def _finder_pattern(words, patterns):
    """One regular expression finding any of ``words`` (a trie) or of ``patterns``."""
    return '|'.join([_trie_pattern(words)] + [pattern for pattern in patterns if pattern])


class Rule:
    """A built-in rule: its name, what it masks, the lower-case words a text must hold for it, and how it masks.

    ``apply(text, replacement, lowered)`` masks what the rule finds in ``text`` (lines, or the whole text when
    ``whole_text``); ``lowered`` is ``text`` lower-cased. A rule made from a ``pattern`` masks the ``secret`` group of
    each match. ``finder`` finds the triggers in lower-cased text.
    """

    def __init__(self, name, description, triggers=(), pattern=None, apply=None, whole_text=False, trigger_pattern=None):
        self.name = name
        self.description = description
        self.triggers = tuple(triggers)
        # A regular expression for what a trigger word cannot say (.pgpass lines).
        self.trigger_pattern = trigger_pattern
        self.finder = re.compile(_finder_pattern(self.triggers, [trigger_pattern])) if self.triggers else None
        self.whole_text = whole_text
        self.regex = re.compile(pattern) if pattern else None
        self._apply = apply

    def apply(self, text, replacement, lowered=None):
        lowered = _lower(text) if lowered is None else lowered
        if self.finder is not None and self.finder.search(lowered) is None:
            return text
        if self._apply is not None:
            return self._apply(text, replacement, lowered)
        # The pattern starts with a trigger word: it is only tried where the finder found one.
        spans = []
        pos = 0
        while True:
            found = self.finder.search(lowered, pos)
            if found is None:
                return _masked(text, spans, replacement)
            match = self.regex.match(text, found.start())
            if match is not None and match.end('secret') > match.start('secret'):
                spans.append(match.span('secret'))
            pos = match.end() if match is not None else found.end()


# -- layer 2: key blocks -----------------------------------------------------------------------------------------------

_KEY_MARKER = re.compile(r'-----(?P<kind>BEGIN|END) [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----')
# The base64 at the end of a line (what follows any prefix: indentation, a timestamp, "host | ").
_BASE64_TAIL = re.compile(r'(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]+={0,2}[ \t\r]*$')
# A full line of key material is 64 (PEM) or 70 (OpenSSH) characters; shorter runs end a block.
_KEY_LINE_MIN = 40
_PUTTY_LINES = re.compile(r'Private-Lines: *(?P<count>\d{1,4})[ \t\r]*\n|Private-MAC: *(?P<mac>[0-9a-fA-F]+)')
_BASE64_LINE = re.compile(r'[ \t]*[A-Za-z0-9+/]+={0,2}[ \t\r]*(?=\n|$)')


def _private_keys(text, replacement, dummy_lowered=None):
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
    return _masked(text, sorted(span for span in spans if span[0] < span[1]), replacement)


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
    return _masked(text, spans, replacement)


# -- layer 3: formats, line by line ------------------------------------------------------------------------------------

_PROVIDER_TOKENS = (
    # GitHub, GitLab (personal, deploy, runner, pipeline trigger, CI job, feed, OAuth app, incoming mail, agent)
    r'gh[pousr]_[A-Za-z0-9]{30,}', r'github_pat_[A-Za-z0-9_]{40,}',
    r'gl(?:pat|dt|rt|ptt|cbt|ft|soat|imt|oas|agent|ffct)-[A-Za-z0-9_-]{16,}', r'GR1348941[A-Za-z0-9_-]{20,}',
    # Slack
    r'xox[abposre]-[A-Za-z0-9-]{10,}', r'xapp-[A-Za-z0-9-]{10,}',
    # AWS access key ids, Google API keys and OAuth tokens and client secrets
    r'(?:AKIA|ASIA|AGPA|AIDA|AROA|ABIA|ACCA|ANPA|ANVA|AIPA)[0-9A-Z]{16}', r'AIza[0-9A-Za-z_-]{35}',
    r'ya29\.[0-9A-Za-z_-]{20,}', r'GOCSPX-[A-Za-z0-9_-]{20,}',
    # Stripe, Square, Shopify, Mailchimp, Mailgun, SendGrid, Twilio API keys
    r'(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}', r'whsec_[A-Za-z0-9]{20,}', r'sq0(?:csp|atp)-[A-Za-z0-9_-]{22,}',
    r'EAAA[A-Za-z0-9_-]{60}', r'shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}', r'key-[0-9a-f]{32}',
    r'SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}', r'SK[0-9a-fA-F]{32}',
    # npm, PyPI, Docker Hub, RubyGems, NuGet, Artifactory, Hugging Face
    r'npm_[A-Za-z0-9]{36,}', r'pypi-[A-Za-z0-9_-]{50,}', r'dckr_pat_[A-Za-z0-9_-]{20,}', r'rubygems_[0-9a-f]{48}',
    r'oy2[a-z0-9]{43}', r'AKC[a-zA-Z0-9]{60,}', r'hf_[A-Za-z]{34,}',
    # HashiCorp Vault and Terraform Cloud, Doppler, Pulumi, Atlassian, DigitalOcean, Heroku, Sentry, New Relic,
    # Grafana, Databricks, Postman, Linear, OpenAI, Anthropic, age
    r'hv[sbr]\.[A-Za-z0-9_-]{20,}', r'dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,}',
    r'pul-[a-f0-9]{40}', r'AT(?:ATT|CTT)[A-Za-z0-9_=-]{20,}', r'do[opr]_v1_[a-f0-9]{64}', r'HRKU-[A-Za-z0-9_-]{20,}',
    r'sntr[ysu]_[A-Za-z0-9_=+/-]{20,}', r'NRAK-[A-Z0-9]{27}', r'gl(?:sa|c)_[A-Za-z0-9_+/=-]{32,}',
    r'dapi[0-9a-f]{32}', r'PMAK-[A-Za-z0-9-]{20,}', r'lin_api_[A-Za-z0-9]{40}',
    r'sk-(?:proj|svcacct|admin|ant-api03|ant)-[A-Za-z0-9_-]{20,}', r'sk-[A-Za-z0-9]{48}', r'AGE-SECRET-KEY-1[A-Z0-9]{58}',
    # Mailchimp, Telegram bots (after "<bot id>:"), Terraform Cloud, Discord bots
    r'[0-9a-f]{32}-us[0-9]{1,2}', r'(?<=[0-9]:)AA[A-Za-z0-9_-]{33}', r'[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}',
    r'[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}',
)
_TOKEN = re.compile(r'(?:{0})(?![A-Za-z0-9_-])'.format('|'.join(_PROVIDER_TOKENS)))
# Where a token may be: a run of 16 token characters (lower-cased text), and the word it starts.
_TOKEN_RUN_PATTERN = r'[a-z0-9_-]{16}'
_TOKEN_WORD = re.compile(r'[A-Za-z0-9_.-]{16,}')
# Three to five base64url parts; the first one must decode to a JSON object with a JWT header field.
_JWT = re.compile(r'e[wy][A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}')
_JWT_HEADER_FIELDS = ('"alg"', '"typ"', '"enc"', '"kid"', '"cty"')
# Webhook URLs whose path is the secret.
_WEBHOOK = re.compile(r'(?i)(?:hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/webhooks/[0-9]+/'
                      r'|\.webhook\.office\.com/webhookb2/|chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]+/messages\?)'
                      r'(?P<secret>[A-Za-z0-9_%=&/@.-]+)')


def _is_jwt(token):
    header = token.split('.', 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + '=' * (-len(header) % 4)).decode('utf-8', 'replace')
    except (binascii.Error, ValueError):
        return False
    return decoded.lstrip().startswith('{') and any(field in decoded for field in _JWT_HEADER_FIELDS)


def _token_spans(text):
    """The provider tokens and JWTs, each at the start of a word (or right after one found in the same word)."""
    spans = []
    for word in _TOKEN_WORD.finditer(text):
        pos = word.start()
        while pos < word.end():
            match = _TOKEN.match(text, pos)
            if match is None:
                match = _JWT.match(text, pos)
                match = match if match is not None and _is_jwt(match.group(0)) else None
            if match is None:
                break
            spans.append(match.span())
            pos = match.end()
            while pos < word.end() and text[pos] in '.-_':
                pos += 1
    return spans


def _token_formats(text, replacement, lowered):
    spans = _token_spans(text)
    if 'hook' in lowered or 'chat.googleapis' in lowered:
        spans.extend(match.span('secret') for match in _WEBHOOK.finditer(text))
    return _masked(text, _disjoint(spans), replacement)


def _disjoint(spans):
    """``spans`` in order, each one that overlaps the one before merged into it."""
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# A URL's scheme and the start of its authority, plain or percent-encoded.
_URL_SEPARATOR = re.compile(r'://|%3a%2f%2f')
_SCHEME_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-')
_AUTHORITY_END = {'://': re.compile(r'[/?#\s"\'<>\\`,;|)\]}]'), '%3A%2F%2F': re.compile(r'(?i)%2F|%3F|%23|[/?#\s"\'<>\\`,;&|)\]}]')}
# A user name that is a token by itself (https://ghp_xxx@github.com, a Sentry DSN key): long, letters and digits.
_TOKEN_USER = re.compile(r'[A-Za-z0-9_\-.~%]{20,}')
_ORACLE_CREDENTIALS = re.compile(r'(?i)(?<![\w.-])[a-z0-9_$#]{1,30}/(?P<secret>[^\s@/"\']{1,200})@(?=[\w.-]*[:/])')


def _url_credentials(text, replacement, lowered):
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
    text = _masked(text, [span for span in spans if span[0] < span[1]], replacement)
    if 'thin:' in lowered:
        text = _ORACLE_CREDENTIALS.sub(lambda match: _mask_group(match, replacement), text)
    return text


# -- names that look secret, and what follows them: NAME=value in every syntax --------------------------------------

_NAME_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-')
# Longer runs of name characters before a trigger word are not names (and are not searched back further).
_LONGEST_NAME = 200
_NAME_FINDER = re.compile(_trie_pattern(_NAME_TRIGGERS))
_NAME_TAIL = re.compile(r'[A-Za-z0-9_.-]*')


def _secret_names(text, lowered):
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
    if name.lower() == 'pwd' and _char_before(text, start) != ';':  # only ODBC's ...;Uid=app;Pwd=secret
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
    return _value_span(text, separator.end(), _LINE_VALUE if whole_line else _WORD_VALUE)


def _assignments(text, replacement, lowered):
    """Mask the value after each secret-looking ``NAME=``, ``NAME:``, ``NAME =>``, ``NAME%3D``, of
    ``<name>value</name>`` and of ``key="name" value="..."``."""
    spans = [(0, 0)]
    for start, end, name in _secret_names(text, lowered):
        span = _assignment_value(text, start, end, name) if start >= spans[-1][1] else None  # not in a masked value
        if span is not None and span[0] < span[1]:
            spans.append(span)
    for regex, hint in ((_XML_ELEMENT, '</'), (_KEY_VALUE_ATTRIBUTES, 'value')):
        for match in (regex.finditer(text) if hint in lowered else ()):
            if looks_secret(match.group('name')):
                spans.append(match.span('secret'))
    return _masked(text, _disjoint(spans), replacement)


# Quoted keys: "password": "x", \"password\":\"x\", 'password' => 'x', ('password', 'x').
_KEY_SEPARATOR = re.compile(r'[ \t]*(?P<sep>:|=>|,)[ \t]*')
_UNQUOTED_JSON_VALUE = re.compile(r'[^\s,}\])"\'\\]+')


def _quoted_key_quote(text, start, end):
    """The end of the closing quote when ``text[start:end]`` is quoted alike on both sides (``\\"name\\"``), else None."""
    quote_at = end
    while quote_at < len(text) and text[quote_at] == '\\' and quote_at - end < _MAX_ESCAPES:
        quote_at += 1
    if quote_at >= len(text) or text[quote_at] not in '"\'':
        return None
    opening = text[quote_at - (quote_at - end):quote_at + 1]
    return quote_at + 1 if text[max(0, start - len(opening)):start] == opening else None


def _quoted_keys(text, replacement, lowered):
    spans = [(0, 0)]
    for start, end, name in _secret_names(text, lowered):
        after_quote = _quoted_key_quote(text, start, end) if start >= spans[-1][1] else None
        if after_quote is None or name.lower() == 'pwd':
            continue
        separator = _KEY_SEPARATOR.match(text, after_quote)
        if separator is None:
            continue
        opening_at = start - (after_quote - end)
        if separator.group('sep') == ',' and _char_before(text, opening_at) != '(':  # a tuple, not a list
            continue
        span = _value_span(text, separator.end(), _UNQUOTED_JSON_VALUE)
        if span is not None and span[0] < span[1]:
            spans.append(span)
    return _masked(text, _disjoint(spans), replacement)


# -- command lines and prompts -----------------------------------------------------------------------------------------

_FLAG_VALUE = re.compile(r'(?:=|[ \t]+)(?P<secret>"[^"\n]*"|\'[^\'\n]*\'|(?!-)[^\s"\']+)')
# Commands whose short flags take a password; each is read up to the end of its command (| ; & or the line).
_COMMAND = re.compile(r'(?P<command>mysql(?:dump|admin|import|check|sh)?|mariadb(?:-dump|-admin)?|docker|podman'
                      r'|nerdctl|buildah|skopeo|oras|helm|sshpass|redis-cli|keytool|jarsigner|openssl|htpasswd'
                      r'|ldap(?:search|modify|add|delete|whoami|passwd|compare)|sqlcmd|bcp|smbclient|rpcclient|zip|unzip'
                      r'|7za?|mongo(?:sh|dump|restore|import|export)?|npm|yarn|pnpm|sqlplus)(?:\.exe)?(?![\w-])'
                      r'(?P<args>[^\n|;&]*)', re.IGNORECASE)
_ATTACHED = r'(?P<secret>"[^"\n]*"|\'[^\'\n]*\'|[^\s"\']+)'
_SPACED = r'[ \t]+(?P<secret>"[^"\n]*"|\'[^\'\n]*\'|(?!-)[^\s"\']+)'
_COMMAND_FLAGS = {
    'mysql': re.compile(r'(?<!\S)-p' + _ATTACHED),  # also 7z
    'login': re.compile(r'(?<!\S)-p(?:[ \t]+(?!-))?' + _ATTACHED),
    'sshpass': re.compile(r'(?<!\S)-p[ \t]*' + _ATTACHED),
    'redis-cli': re.compile(r'(?<!\S)-a[ \t]*' + _ATTACHED),
    'keytool': re.compile(r'(?<!\S)-(?:src|dest|new)?(?:store|key)?pass(?:word)?' + _SPACED),
    'openssl': re.compile(r'(?<!\S)-(?:passin|passout|pass|password|k|kfile)[ \t]+(?:pass:)' + _ATTACHED),
    'ldap': re.compile(r'(?<!\S)-w[ \t]*' + _ATTACHED),
    'sqlcmd': re.compile(r'(?<!\S)-P[ \t]*' + _ATTACHED),
    'smbclient': re.compile(r'(?<!\S)(?:-U|--user(?:name)?)[ =\t]*[^\s%]+%' + _ATTACHED),
    'zip': re.compile(r'(?<!\S)-P' + _SPACED),
    'mongo': re.compile(r'(?<!\S)-p' + _SPACED),
    'sqlplus': re.compile(r'(?<!\S)[^\s/@-][^\s/@]{0,60}/(?P<secret>[^\s@/"\']+)(?=@|\s|$)'),
}
_COMMAND_KINDS = (('mysql', 'mysql'), ('mariadb', 'mysql'), ('sshpass', 'sshpass'), ('redis-cli', 'redis-cli'),
                  ('keytool', 'keytool'), ('jarsigner', 'keytool'), ('openssl', 'openssl'), ('ldap', 'ldap'),
                  ('sqlcmd', 'sqlcmd'), ('bcp', 'sqlcmd'), ('smbclient', 'smbclient'), ('rpcclient', 'smbclient'),
                  ('zip', 'zip'), ('unzip', 'zip'), ('7z', 'mysql'), ('mongo', 'mongo'), ('sqlplus', 'sqlplus'))
_COMMANDS = ('mysql', 'mariadb', 'docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'oras', 'helm', 'sshpass',
             'redis-cli', 'keytool', 'jarsigner', 'openssl', 'htpasswd', 'ldap', 'sqlcmd', 'bcp', 'smbclient',
             'rpcclient', 'zip', '7z', 'mongo', 'npm', 'yarn', 'pnpm', 'sqlplus')
_COMMAND_FINDER = re.compile(_trie_pattern(_COMMANDS))
_COMMAND_WORD_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-')
_LOGIN = re.compile(r'(?<!\S)login(?!\S)')
_HTPASSWD_WORD = re.compile(r'\S+')
_CONFIG_SET = re.compile(r'(?<!\S)config[ \t]+set[ \t]+(?P<name>\S+)(?:[ \t]+|=)' + _ATTACHED)
_PROMPT_FINDER = re.compile('pass(?:word|phrase|code)[ \t]+for[ \t]')
_PROMPT = re.compile(r'(?i)(?:password|passphrase|passcode)[ \t]+for[ \t]+[^\n]{1,200}?:[ \t]+(?P<secret>\S+)')


def _command_kind(command):
    command = command.lower()
    for start, kind in _COMMAND_KINDS:
        if command.startswith(start):
            return kind
    return command


def _command_spans(match):
    """The spans (in the match's args) of the passwords its command takes as short flags or positional arguments."""
    kind = _command_kind(match.group('command'))
    args = match.group('args')
    if kind in ('docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'oras', 'helm'):
        login = _LOGIN.search(args)
        return [found.span('secret') for found in _COMMAND_FLAGS['login'].finditer(args, login.end())] if login else []
    if kind in ('npm', 'yarn', 'pnpm'):
        return [found.span('secret') for found in _CONFIG_SET.finditer(args)
                if looks_secret(re.split(r'[:/.]', found.group('name'))[-1])]
    if kind == 'htpasswd':
        return _htpasswd_password(args)
    regex = _COMMAND_FLAGS.get(kind)
    return [found.span('secret') for found in regex.finditer(args)] if regex else []


def _htpasswd_password(args):
    """htpasswd -b[cmBdsp...] [file] user password: the last positional argument of batch mode."""
    words = list(_HTPASSWD_WORD.finditer(args))
    flags = ''.join(word.group(0)[1:] for word in words if word.group(0).startswith('-'))
    positional = [word for word in words if not word.group(0).startswith('-')]
    wanted = 2 if 'n' in flags else 3
    if 'b' not in flags or len(positional) < wanted:
        return []
    return [positional[wanted - 1].span()]


def _commands(text, lowered):
    """The matches of ``_COMMAND`` where a command name starts a word (each one read to the end of its command)."""
    pos = 0
    while True:
        found = _COMMAND_FINDER.search(lowered, pos)
        if found is None:
            return
        start = found.start()
        match = None if start and text[start - 1] in _COMMAND_WORD_CHARS else _COMMAND.match(text, start)
        if match is not None:
            yield match
        pos = match.end() if match is not None else found.end()


def _flags(text, replacement, lowered):
    """Secret-looking flags (--password x, -storepass x), the short flags of known commands, and prompts."""
    spans = [(0, 0)]
    for start, end, name in _secret_names(text, lowered):
        dashes = len(name) - len(name.lstrip('-'))
        value = _FLAG_VALUE.match(text, end) if dashes in (1, 2) and start >= spans[-1][1] and looks_secret(name[dashes:]) \
            else None
        if value is not None:
            spans.append(value.span('secret'))
    for match in _commands(text, lowered):
        offset = match.start('args')
        spans.extend((offset + start, offset + end) for start, end in _command_spans(match))
    for found in _PROMPT_FINDER.finditer(lowered):
        match = _PROMPT.match(text, found.start())
        if match is not None:
            spans.append(match.span('secret'))
    spans = [(start + 1, end - 1) if text[start:start + 1] in ('"', "'") and end - start >= 2 else (start, end)
             for start, end in spans if start < end]
    return _masked(text, _disjoint(spans), replacement)


# -- credential files --------------------------------------------------------------------------------------------------

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


_PGPASS_HINT_PATTERN = r':(?:[0-9]{1,5}|\*):[^\s:]{1,64}:[^\s:]{1,64}:[^\s:]'
_PGPASS_HINT = re.compile(_PGPASS_HINT_PATTERN)


def _credential_files(text, replacement, lowered):
    """``.netrc`` entries (``machine h login u password p``, also over several lines) and ``.pgpass`` lines."""
    spans = []
    if 'password' in lowered:
        for match in _NETRC.finditer(text):
            # "password x" starting its line is a .netrc entry only right after its machine or login line.
            if not match.group(0).lstrip().lower().startswith('password') or _after_netrc_line(text, match.start()):
                spans.append(match.span('secret'))
    if _PGPASS_HINT.search(text):
        spans.extend(match.span('secret') for match in _PGPASS.finditer(text))
    return _masked(text, _disjoint(spans), replacement)


BUILTIN_RULES = (
    Rule('private_key', 'private key blocks of every kind (PEM: RSA, EC, OPENSSH, ENCRYPTED, PGP; PuTTY), also one '
         'that a log tail shows only in part, whatever prefix its lines have', apply=_private_keys, whole_text=True),
    Rule('authorization_header', 'Authorization and Proxy-Authorization headers of any scheme (the scheme stays), '
         'also JSON-escaped', ('authorization',),
         r'(?i)authorization(?:\\{0,7}["\'])?[ \t]*[:=][ \t]*(?:\\{0,7}["\'])?(?:(?:bearer|basic|token|digest|'
         r'negotiate|ntlm|aws4-hmac-sha256|[a-z][a-z0-9_-]{0,30}(?= ))[ \t]+)?(?P<secret>[^\s"\'\\][^"\'\n\\]*)'),
    Rule('cookie_header', 'Cookie and Set-Cookie headers', ('cookie',),
         r'(?i)cookie(?:\\{0,7}["\'])?[ \t]*:[ \t]*(?:\\{0,7}["\'])?(?P<secret>[^\s"\'\\][^"\'\n\\]*)'),
    Rule('bearer_token', 'Bearer and Basic credentials outside a header', ('bearer', 'basic'),
         r'(?i)(?:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{8,}=*)'),
    Rule('url_credentials', 'passwords and tokens in URLs (scheme://user:password@host, scheme://token@host), also '
         'percent-encoded, and Oracle user/password@host', ('://', '%3a%2f%2f', 'thin:'), apply=_url_credentials),
    Rule('user_password_flag', 'the password of a user:password flag (curl -u, --user)', ('-u', '-user', '-proxy-user'),
         r'(?<![^\s"\'-])(?:-u|-user|-proxy-user)[ =]["\']?[^\s:"\']+:(?P<secret>[^\s"\']+)'),
    Rule('secret_json', 'values of secret-looking quoted keys: JSON "password": "value" and escaped JSON '
         '{\\"password\\":\\"value\\"}, PHP and Ruby \'password\' => \'value\', Python (\'password\', \'value\')',
         _NAME_TRIGGERS, apply=_quoted_keys),
    Rule('secret_assignment', 'values of secret-looking names in every syntax: NAME=value, export NAME=\'value\', '
         'NAME: value (YAML, prompts), name=\'value\' (keyword arguments), :name => value, form bodies name=value& '
         'also percent-encoded, XML <password>value</password>, key="password" value="...", connection strings '
         '(Password=...; AccountKey=...; SharedAccessSignature, sig=); names such as password, pass, secret, token, '
         'api_key, DB_PASSWORD, AWS_SECRET_ACCESS_KEY, in any case', _NAME_TRIGGERS, apply=_assignments),
    Rule('secret_flag', 'values of secret-looking command-line flags (--password value, --db-password=value, '
         '-storepass value), the password flags of mysql -pX, docker/podman/helm login -p X, sshpass -p X, '
         'redis-cli -a X, keytool, openssl -passin pass:X, htpasswd -b, ldapsearch -w X, sqlcmd -P X, smbclient '
         '-U user%X, zip -P X, npm config set ..._authToken X, and password prompts (Password for \'...\': X)',
         _NAME_TRIGGERS + _COMMANDS + ('passcode',), apply=_flags),
    Rule('token_format', 'well-known token formats (GitHub, GitLab, Slack, Discord, Telegram, AWS access key ids, '
         'Google API keys and OAuth tokens, Stripe, Square, Shopify, Mailchimp, Mailgun, SendGrid, Twilio, npm, PyPI, '
         'Docker Hub, RubyGems, NuGet, Artifactory, Hugging Face, Vault, Terraform Cloud, Doppler, Pulumi, Atlassian, '
         'DigitalOcean, Heroku, Sentry, New Relic, Grafana, Databricks, Postman, Linear, OpenAI, Anthropic, age), '
         'JWTs (any payload), and Slack, Discord, Teams and Google Chat webhook URLs',
         ('hook', 'chat.googleapis'), apply=_token_formats, trigger_pattern=_TOKEN_RUN_PATTERN),
    Rule('credential_files', '.netrc entries (machine host login user password value) and .pgpass lines '
         '(host:port:database:user:password)', ('password', 'machine', 'login'), apply=_credential_files,
         trigger_pattern=_PGPASS_HINT_PATTERN),
)
RULE_NAMES = tuple(rule.name for rule in BUILTIN_RULES) + ('environment_secrets',)
# Always applied: the collection's own credentials.
CREDENTIALS_RULE = 'credentials'


# The most text between two lines holding a trigger that still joins them into one run.
_JOIN_GAP = 2048


class _Triggers:
    """The next place in ``lowered`` where one of ``finders`` matches (each one searched again only when passed)."""

    def __init__(self, finders, lowered):
        self._finders = finders
        self._lowered = lowered
        self._next = [-1] * len(finders)

    def next(self, pos):
        best = None
        for index, finder in enumerate(self._finders):
            at = self._next[index]
            if at is not None and at < pos:
                match = finder.search(self._lowered, pos)
                at = self._next[index] = match.start() if match else None
            if at is not None and (best is None or at < best):
                best = at
        return best


class Redactor:
    """The redaction of one run: known values, built-in rules and user patterns.

    ``patterns``: regular expressions of the user's; a match is replaced whole,
    or only its ``secret`` group (or its first group) when it has one.
    ``disable``: names of built-in rules to switch off (``RULE_NAMES``).
    ``secrets``: literal values always masked (the credentials in use, vaulted and no_log values).
    ``environ``: the environment whose secret-looking variables are masked (default ``os.environ``).
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
        literals = set(str(value) for value in (secrets or []) if value and len(str(value)) >= MIN_KNOWN_LENGTH)
        if 'environment_secrets' not in disable:
            literals |= environment_secrets(environ)
        self._known = _KnownValues(literals)
        self._whole_text_rules = [rule for rule in self.rules if rule.whole_text]
        self._line_rules = [rule for rule in self.rules if not rule.whole_text]
        # The trigger words of all the line rules in one trie; each trigger pattern searched on its own (in one
        # alternation with the trie, each would make the search try it at every character).
        words = set(trigger for rule in self._line_rules for trigger in rule.triggers)
        trigger_patterns = sorted(set(rule.trigger_pattern for rule in self._line_rules if rule.trigger_pattern))
        self._finders = [re.compile(pattern) for pattern in trigger_patterns + ([_trie_pattern(words)] if words else [])]

    def redact(self, text):
        """``text`` with every secret the rules find replaced; ``None`` stays ``None``."""
        if text is None:
            return None
        if not isinstance(text, str):
            text = str(text)
        text = self._known.redact(text, self.replacement)
        for rule in self._whole_text_rules:
            text = rule.apply(text, self.replacement, '')
        text = self._redact_lines(text)
        for regex in self.user_patterns:
            text = regex.sub(self._user_replacement, text)
        return text

    __call__ = redact

    def _redact_lines(self, text):
        """The line rules applied to the lines holding one of their trigger words (runs of such lines at once)."""
        if not self._finders:
            return text
        lowered = _lower(text)
        trigger = _Triggers(self._finders, lowered)
        out = []
        pos = 0
        found = trigger.next(0)
        while found is not None:
            start = text.rfind('\n', pos, found) + 1
            end = text.find('\n', found)
            end = len(text) if end < 0 else end
            # The following lines holding a trigger join this run, with the few lines between: fewer, longer runs
            # cost less (each rule is one regular expression pass over a run).
            found = trigger.next(end)
            while found is not None and found - end <= _JOIN_GAP:
                end = text.find('\n', found)
                end = len(text) if end < 0 else end
                found = trigger.next(end)
            out.append(text[pos:start])
            out.append(self._redact_segment(text[start:end], lowered[start:end]))
            pos = end
        out.append(text[pos:])
        return ''.join(out)

    def _redact_segment(self, segment, lowered):
        for rule in self._line_rules:
            redacted = rule.apply(segment, self.replacement, lowered)
            if redacted != segment:
                segment = redacted
                lowered = _lower(segment)
        return segment

    def _user_replacement(self, match):
        group = 'secret' if 'secret' in match.re.groupindex else (1 if match.re.groups else 0)
        if group != 0 and match.group(group) is not None:
            return _mask_group(match, self.replacement, group)
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
