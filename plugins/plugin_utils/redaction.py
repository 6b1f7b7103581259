# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Redaction of secrets in text that leaves the controller or that the collection writes: the engine and its rules.

One ``Redactor``, built once per run, is used by the role's filters, the callback and the spool: the same rules
everywhere. It works in three layers, in this order:

1. Known values: every literal secret it was given (the collection's credentials, vaulted and ``no_log`` values) and
   the values of the environment variables whose names say they hold secrets (``secret_names``), also JSON-escaped,
   percent-encoded and base64-encoded (alone or after ``user:``), in one pass of one regular expression built once:
   the masking the modules use too (``module_utils/masking``).
2. Key blocks: PEM, OpenSSH and PuTTY private keys, also a block a log tail shows only in part (``key_blocks``).
3. Formats, line by line: provider token formats and JWTs (``token_formats``), credentials in URLs, ``.netrc`` and
   ``.pgpass`` lines (``connection_credentials``), headers (the table below), flags and prompts (``command_lines``),
   assignments in the syntaxes a CI log shows (``secret_assignments``). One scan of the lower-cased text for the
   words these rules start from picks the lines to look at; the other lines are not touched again.

Each built-in rule replaces only the secret, so a line keeps its meaning (``mysql -u app --password [REDACTED] -h
db``). Every pattern is written so that it cannot backtrack: a run of characters is only entered at its start, and
what follows it is outside its class, so the work grows linearly with the text. Users add patterns of their own and
can switch a built-in rule off by name, except ``credentials``: the collection's own tokens are always masked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.upsun.support.plugins.module_utils.masking import REPLACEMENT, KnownValues, trie_pattern
from ansible_collections.upsun.support.plugins.plugin_utils.command_lines import COMMANDS, mask_flags
from ansible_collections.upsun.support.plugins.plugin_utils.connection_credentials import (
    PGPASS_HINT_PATTERN,
    mask_credential_files,
    mask_url_credentials,
)
from ansible_collections.upsun.support.plugins.plugin_utils.key_blocks import mask_private_keys
from ansible_collections.upsun.support.plugins.plugin_utils.secret_assignments import mask_assignments, mask_quoted_keys
from ansible_collections.upsun.support.plugins.plugin_utils.secret_names import NAME_TRIGGERS, environment_secrets
from ansible_collections.upsun.support.plugins.plugin_utils.text_spans import lower_same_length, mask_group, masked
from ansible_collections.upsun.support.plugins.plugin_utils.token_formats import TOKEN_RUN_PATTERN, mask_token_formats

# The shortest value given in secrets= that is masked (shorter ones would blank common words).
MIN_KNOWN_LENGTH = 4


class RedactionError(ValueError):
    """A user pattern or rule name that cannot be used; the message names it."""


def _finder_pattern(words, patterns):
    """One regular expression finding any of ``words`` (a trie) or of ``patterns``."""
    return '|'.join([trie_pattern(words)] + [pattern for pattern in patterns if pattern])


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
        lowered = lower_same_length(text) if lowered is None else lowered
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
                return masked(text, spans, replacement)
            match = self.regex.match(text, found.start())
            if match is not None and match.end('secret') > match.start('secret'):
                spans.append(match.span('secret'))
            pos = match.end() if match is not None else found.end()


BUILTIN_RULES = (
    Rule('private_key', 'private key blocks of every kind (PEM: RSA, EC, OPENSSH, ENCRYPTED, PGP; PuTTY), also one '
         'that a log tail shows only in part, whatever prefix its lines have', apply=mask_private_keys, whole_text=True),
    Rule('authorization_header', 'Authorization and Proxy-Authorization headers of any scheme (the scheme stays), '
         'also JSON-escaped', ('authorization',),
         r'(?i)authorization(?:\\{0,7}["\'])?[ \t]*[:=][ \t]*(?:\\{0,7}["\'])?(?:(?:bearer|basic|token|digest|'
         r'negotiate|ntlm|aws4-hmac-sha256|[a-z][a-z0-9_-]{0,30}(?= ))[ \t]+)?(?P<secret>[^\s"\'\\][^"\'\n\\]*)'),
    Rule('cookie_header', 'Cookie and Set-Cookie headers', ('cookie',),
         r'(?i)cookie(?:\\{0,7}["\'])?[ \t]*:[ \t]*(?:\\{0,7}["\'])?(?P<secret>[^\s"\'\\][^"\'\n\\]*)'),
    Rule('bearer_token', 'Bearer and Basic credentials outside a header', ('bearer', 'basic'),
         r'(?i)(?:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{8,}=*)'),
    Rule('url_credentials', 'passwords and tokens in URLs (scheme://user:password@host, scheme://token@host), also '
         'percent-encoded, and Oracle user/password@host', ('://', '%3a%2f%2f', 'thin:'), apply=mask_url_credentials),
    Rule('user_password_flag', 'the password of a user:password flag (curl -u, --user)', ('-u', '-user', '-proxy-user'),
         r'(?<![^\s"\'-])(?:-u|-user|-proxy-user)[ =]["\']?[^\s:"\']+:(?P<secret>[^\s"\']+)'),
    Rule('secret_json', 'values of secret-looking quoted keys: JSON "password": "value" and escaped JSON '
         '{\\"password\\":\\"value\\"}, PHP and Ruby \'password\' => \'value\', Python (\'password\', \'value\')',
         NAME_TRIGGERS, apply=mask_quoted_keys),
    Rule('secret_assignment', 'values of secret-looking names in every syntax: NAME=value, export NAME=\'value\', '
         'NAME: value (YAML, prompts), name=\'value\' (keyword arguments), :name => value, form bodies name=value& '
         'also percent-encoded, XML <password>value</password>, key="password" value="...", connection strings '
         '(Password=...; AccountKey=...; SharedAccessSignature, sig=); names such as password, pass, secret, token, '
         'api_key, DB_PASSWORD, AWS_SECRET_ACCESS_KEY, in any case', NAME_TRIGGERS, apply=mask_assignments),
    Rule('secret_flag', 'values of secret-looking command-line flags (--password value, --db-password=value, '
         '-storepass value), the password flags of mysql -pX, docker/podman/helm login -p X, sshpass -p X, '
         'redis-cli -a X, keytool, openssl -passin pass:X, htpasswd -b, ldapsearch -w X, sqlcmd -P X, smbclient '
         '-U user%X, zip -P X, npm config set ..._authToken X, and password prompts (Password for \'...\': X)',
         NAME_TRIGGERS + COMMANDS + ('passcode',), apply=mask_flags),
    Rule('token_format', 'well-known token formats (GitHub, GitLab, Slack, Discord, Telegram, AWS access key ids, '
         'Google API keys and OAuth tokens, Stripe, Square, Shopify, Mailchimp, Mailgun, SendGrid, Twilio, npm, PyPI, '
         'Docker Hub, RubyGems, NuGet, Artifactory, Hugging Face, Vault, Terraform Cloud, Doppler, Pulumi, Atlassian, '
         'DigitalOcean, Heroku, Sentry, New Relic, Grafana, Databricks, Postman, Linear, OpenAI, Anthropic, age), '
         'JWTs (any payload), and Slack, Discord, Teams and Google Chat webhook URLs',
         ('hook', 'chat.googleapis'), apply=mask_token_formats, trigger_pattern=TOKEN_RUN_PATTERN),
    Rule('credential_files', '.netrc entries (machine host login user password value) and .pgpass lines '
         '(host:port:database:user:password)', ('password', 'machine', 'login'), apply=mask_credential_files,
         trigger_pattern=PGPASS_HINT_PATTERN),
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
        self._known = KnownValues(literals)
        self._whole_text_rules = [rule for rule in self.rules if rule.whole_text]
        self._line_rules = [rule for rule in self.rules if not rule.whole_text]
        # The trigger words of all the line rules in one trie; each trigger pattern searched on its own (in one
        # alternation with the trie, each would make the search try it at every character).
        words = set(trigger for rule in self._line_rules for trigger in rule.triggers)
        trigger_patterns = sorted(set(rule.trigger_pattern for rule in self._line_rules if rule.trigger_pattern))
        self._finders = [re.compile(pattern) for pattern in trigger_patterns + ([trie_pattern(words)] if words else [])]

    def redact(self, text):
        """``text`` with every secret the rules find replaced; ``None`` stays ``None``."""
        if text is None:
            return None
        if not isinstance(text, str):
            text = str(text)
        text = self._known.mask(text, self.replacement)
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
        lowered = lower_same_length(text)
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
                lowered = lower_same_length(segment)
        return segment

    def _user_replacement(self, match):
        group = 'secret' if 'secret' in match.re.groupindex else (1 if match.re.groups else 0)
        if group != 0 and match.group(group) is not None:
            return mask_group(match, self.replacement, group)
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
