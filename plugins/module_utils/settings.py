# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection settings, described once, and the one adapter that resolves them.

Modules build their argument spec from ``CONNECTION_SETTINGS``; plugins (the
callback, the flush, the event source) read the same names from their own
configuration. Both then hand the values they were given to
``resolve_connection``, which fills what is unset from the environment
variables and defaults of this table, checks the values and records where each
came from. This is the one file that names the environment variables; the
``upsun.support.connection`` doc fragment documents the same table, and a unit
test keeps the two in step.

Precedence: a given value (module option, plugin argument or configuration) >
the environment > the default. The Upsun CLI's variables come in two families,
``UPSUN_CLI_*`` (the ``upsun`` command) and ``PLATFORMSH_CLI_*`` (the older
``platform`` command). The token is read from ``UPSUN_CLI_TOKEN`` first, then
``PLATFORMSH_CLI_TOKEN``; the other CLI settings (URLs, timeout, skip SSL) are
read from the family the token came from, so that a token meant for another API
never goes to api.upsun.com because its URL was read from the other family. A
token given as an option, or none, reads the ``UPSUN_CLI_*`` family. Within a
family, the CLI's own name (``API_URL``) wins over its config-key spelling
(``API_BASE_URL``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from urllib.parse import urlparse

from ansible_collections.upsun.support.plugins.module_utils.constants import DEFAULT_API_URL, DEFAULT_AUTH_URL, default_token_url
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError, mask_userinfo

# The Upsun CLI's variable prefixes, the first one first: its token wins when both are set.
CLI_FAMILIES = ('UPSUN_CLI_', 'PLATFORMSH_CLI_')
# The Upsun CLI's switch for TLS verification (after the prefix): set and true means do not verify.
SKIP_SSL_NAMES = ('SKIP_SSL', 'API_SKIP_SSL')
# Where the trust store comes from, after validate_certs, ca_path and requests' own variables (trust.py).
CA_BUNDLE_ENV = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')
SSL_CERT_FILE_ENV = 'SSL_CERT_FILE'
SSL_CERT_DIR_ENV = 'SSL_CERT_DIR'
# Whitespace or control characters inside a token: never part of a real token, always a copy-and-paste accident.
_NOT_IN_TOKEN = re.compile(r'[\s\x00-\x1f\x7f]')

_TRUE = ('1', 'true', 'yes', 'on', 'y', 't')
_FALSE = ('0', 'false', 'no', 'off', 'n', 'f', '')


class Setting:
    """One connection setting: how it is typed, where it comes from, and whether it is a secret."""

    def __init__(self, name, type, env=(), default=None, secret=False, cli=()):  # pylint: disable=redefined-builtin
        self.name = name
        self.type = type
        # ``cli``: the Upsun CLI's names after the family prefix; ``env``: every variable, in the order read.
        self.cli = tuple(cli)
        self.env = tuple(family + key for family in CLI_FAMILIES for key in self.cli) + tuple(env)
        self.default = default
        self.secret = secret

    def variables(self, family=CLI_FAMILIES[0]):
        """The variables this setting is read from when the token's family is ``family``, in order."""
        if self.name == 'validate_certs':
            return tuple(family + key for key in SKIP_SSL_NAMES)
        if self.name == 'api_token':
            return self.env
        return tuple(family + key for key in self.cli) + tuple(name for name in self.env if not _in_cli_family(name))

    def module_spec(self):
        """The ``AnsibleModule`` argument spec entry; the environment is read by ``resolve_connection``."""
        spec = dict(type=self.type, no_log=self.secret)
        if self.default is not None:
            spec['default'] = self.default
        return spec


CONNECTION_SETTINGS = (
    Setting('api_token', 'str', cli=('TOKEN',), secret=True),
    Setting('access_token', 'str', env=('UPSUN_SUPPORT_ACCESS_TOKEN',), secret=True),
    # The CLI's own name, then its config-key spelling (<SECTION>_<KEY>, for the config key api.base_url).
    Setting('api_url', 'str', cli=('API_URL', 'API_BASE_URL'), default=DEFAULT_API_URL),
    Setting('auth_url', 'str', cli=('AUTH_URL', 'API_AUTH_URL'), default=DEFAULT_AUTH_URL),
    # Default: {auth_url}/oauth2/token.
    Setting('token_url', 'str', cli=('OAUTH2_TOKEN_URL',)),
    Setting('timeout', 'float', cli=('DEFAULT_TIMEOUT', 'API_DEFAULT_TIMEOUT'), default=30.0),
    # Default true; the Upsun CLI's UPSUN_CLI_SKIP_SSL turns it off (an inverted variable, read by the adapter).
    Setting('validate_certs', 'bool'),
    Setting('ca_path', 'path', env=('UPSUN_SUPPORT_CA_PATH',)),
    Setting('retries', 'int', env=('UPSUN_SUPPORT_RETRIES',), default=3),
    # The ceiling of one whole operation (every attempt and every wait), so that nothing can hang a run.
    Setting('deadline', 'float', env=('UPSUN_SUPPORT_DEADLINE',), default=120.0),
    # The most pages one listing reads: paging never loops, whatever the API's links say.
    Setting('page_limit', 'int', env=('UPSUN_SUPPORT_PAGE_LIMIT',), default=100),
    # Pages of one listing read at once, once its first page gave the count (1: one after the other).
    Setting('page_concurrency', 'int', env=('UPSUN_SUPPORT_PAGE_CONCURRENCY',), default=4),
    # The most bytes of one answer (API or auth server) read into memory: a longer answer fails instead.
    Setting('max_response_size', 'int', env=('UPSUN_SUPPORT_MAX_RESPONSE_SIZE',), default=10485760),
)
# The most pages read at once: a few are enough to hide the latency, more would only load the API.
MAX_PAGE_CONCURRENCY = 16
# The numeric settings' allowed values: (name, check, what the error message says is allowed). Each has an upper
# bound too: inf, nan and 1e308 are numbers to Python, but no clock or loop can use them.
MAX_TIMEOUT = 3600
MAX_DEADLINE = 86400
MAX_RETRIES = 100
MAX_PAGE_LIMIT = 10000
MIN_RESPONSE_SIZE = 1024
MAX_RESPONSE_SIZE = 1073741824
NUMBER_RANGES = (
    ('timeout', lambda value: 0 < value <= MAX_TIMEOUT, 'a number of seconds above 0, at most {0}'.format(MAX_TIMEOUT)),
    ('retries', lambda value: 0 <= value <= MAX_RETRIES, 'from 0 to {0}'.format(MAX_RETRIES)),
    ('deadline', lambda value: 0 < value <= MAX_DEADLINE, 'a number of seconds above 0, at most {0}'.format(MAX_DEADLINE)),
    ('page_limit', lambda value: 1 <= value <= MAX_PAGE_LIMIT, 'from 1 to {0}'.format(MAX_PAGE_LIMIT)),
    ('page_concurrency', lambda value: 1 <= value <= MAX_PAGE_CONCURRENCY, 'from 1 to {0}'.format(MAX_PAGE_CONCURRENCY)),
    ('max_response_size', lambda value: MIN_RESPONSE_SIZE <= value <= MAX_RESPONSE_SIZE,
     'a number of bytes from {0} to {1}'.format(MIN_RESPONSE_SIZE, MAX_RESPONSE_SIZE)),
)
SETTINGS_BY_NAME = dict((setting.name, setting) for setting in CONNECTION_SETTINGS)
CONNECTION_NAMES = tuple(setting.name for setting in CONNECTION_SETTINGS)
SECRET_NAMES = tuple(setting.name for setting in CONNECTION_SETTINGS if setting.secret)


def connection_argument_spec(**module_options):
    """A module's argument spec: the connection settings plus the module's own options."""
    spec = dict((setting.name, setting.module_spec()) for setting in CONNECTION_SETTINGS)
    spec.update(module_options)
    return spec


class ConnectionSettings:
    """The resolved connection settings of one run, with where each value came from.

    ``origins`` maps each name to ``'option'`` (or what the caller passed in as
    the origin), ``'env: NAME'`` or ``'default'``. Secrets are held here and
    passed to the client only: ``public()`` is what may be shown or stored.
    """

    def __init__(self, values, origins, family=CLI_FAMILIES[0]):
        self.values = values
        self.origins = origins
        # The Upsun CLI family (variable prefix) the environment was read from: the token's.
        self.family = family

    def __getattr__(self, name):
        try:
            return self.__dict__['values'][name]
        except KeyError:
            raise AttributeError(name)

    def client_kwargs(self):
        """The keyword arguments of ``client.Client``."""
        kwargs = dict(self.values)
        kwargs['token_source'] = self.token_source()
        origin = self.origins.get('validate_certs') or ''
        if origin.startswith('env: '):
            kwargs['validate_certs_source'] = 'the {0} environment variable'.format(origin[len('env: '):])
        return kwargs

    def public(self):
        """The settings that are not secret and were set (not defaults, nor made from another), for a spool record."""
        return dict((name, value) for name, value in self.values.items()
                    if name not in SECRET_NAMES and self.origins.get(name) not in ('default', 'derived'))

    def secret_values(self):
        """The secrets in use, for literal redaction of anything that leaves the controller."""
        return [self.values[name] for name in SECRET_NAMES if self.values.get(name)]

    def token_source(self):
        """Where the API token came from, by name only, for authentication error messages."""
        origin = self.origins.get('api_token') or 'option'
        if origin.startswith('env: '):
            return 'the {0} environment variable'.format(origin[len('env: '):])
        if origin == 'option':
            return 'the api_token option'
        return origin

    def validate(self):
        """Check that a request can be made: credentials present, URLs absolute, numbers in range."""
        if not self.api_token and not self.access_token:
            raise InputError(
                'No Upsun credentials: set api_token (or the UPSUN_CLI_TOKEN or PLATFORMSH_CLI_TOKEN environment '
                'variable, as for the Upsun CLI), or access_token (UPSUN_SUPPORT_ACCESS_TOKEN).')
        for name in ('api_url', 'auth_url', 'token_url'):
            value = self.values[name]
            parsed = urlparse(value or '')
            if parsed.scheme not in ('http', 'https') or not parsed.netloc:
                raise InputError('{0} must be an absolute http:// or https:// URL, got {1!r} ({2}).'.format(
                    name, _shown_url(value), _source(name, self.origins[name], self.family)))
        for name, allowed, wording in NUMBER_RANGES:
            if not allowed(self.values[name]):
                raise InputError('{0} must be {1}, got {2!r} ({3}).'.format(
                    name, wording, self.values[name], _source(name, self.origins[name], self.family)))

    def url_passwords(self):
        """The passwords written in the URLs (``https://user:password@host``), for a module's ``no_log_values``."""
        found = []
        for name in ('api_url', 'auth_url', 'token_url'):
            password = urlparse(self.values.get(name) or '').password
            if password:
                found.append(password)
        return found


def _source(name, origin, family=CLI_FAMILIES[0]):
    """Where a value came from, and where else it can be set, for an error message."""
    variables = SETTINGS_BY_NAME[name].variables(family)
    if origin.startswith('env: '):
        return 'from the {0} environment variable'.format(origin[len('env: '):])
    if origin in ('default', 'derived'):
        where = 'its default'
    elif origin == 'option':
        where = 'from the {0} option'.format(name)
    else:
        where = 'from {0}'.format(origin)
    if variables:
        where += '; the {0} environment variable sets it too'.format(' or '.join(variables))
    return where


def resolve_connection(values, origins=None, environ=None):
    """Resolve the connection settings; raise ``InputError`` naming a value that cannot be used.

    ``values`` maps setting names to what the caller was given (module
    options, or a plugin's options), ``None`` meaning unset. Unset values come
    from the environment variables of the table (of the token's family, see
    the module's docstring), then from its defaults. ``origins`` says where the
    given values came from (a plugin's configuration origin, ``'env: NAME'``
    when its configuration read a variable); a value without one is an
    ``'option'``, unless it equals the default (a plugin's configuration hands
    defaults over as values).
    """
    environ = os.environ if environ is None else environ
    origins = dict(origins or {})
    token = SETTINGS_BY_NAME['api_token']
    token_value, token_origin = _given(token, values, origins, token.env)
    if token_value is None:
        token_value, token_origin = _from_environment(token, environ, token.env)
    family = _family_of(token_origin)
    resolved = {}
    where = {}
    for setting in CONNECTION_SETTINGS:
        variables = setting.variables(family)
        if setting is token:
            value, origin = token_value, token_origin
        else:
            value, origin = _given(setting, values, origins, variables)
            if value is None:
                value, origin = _from_environment(setting, environ, variables)
        if value is None:
            value, origin = setting.default, 'default'
        value = _convert(setting, value, origin, family)
        if setting.secret:
            value = _trimmed(setting.name, value, origin, family)
        resolved[setting.name] = value
        where[setting.name] = origin
    if resolved['validate_certs'] is None:
        resolved['validate_certs'] = True
    for name in ('api_url', 'auth_url'):
        resolved[name] = resolved[name].rstrip('/') if isinstance(resolved[name], str) else resolved[name]
    if resolved['token_url'] is None:
        resolved['token_url'] = default_token_url(resolved['auth_url'])
        where['token_url'] = 'derived'
    if resolved['ca_path']:
        resolved['ca_path'] = os.path.expanduser(resolved['ca_path'])
    return ConnectionSettings(resolved, where, family)


def _shown_url(value):
    """A URL that is not valid, as it may be shown: without what could be credentials (``user:password@``)."""
    if isinstance(value, str) and '@' in value and '://' not in value:
        return '***@' + value.rsplit('@', 1)[1]
    return mask_userinfo(value)


def _in_cli_family(variable):
    return variable.startswith(CLI_FAMILIES)


def _family_of(origin):
    """The Upsun CLI family of the variable ``origin`` names; the first family for any other origin."""
    variable = origin[len('env: '):] if origin and origin.startswith('env: ') else ''
    for family in CLI_FAMILIES:
        if variable.startswith(family):
            return family
    return CLI_FAMILIES[0]


def _given(setting, values, origins, variables):
    """The value the caller gave and its origin, or ``(None, None)`` when the environment and defaults decide."""
    value = values.get(setting.name)
    origin = origins.get(setting.name)
    if value is None or value == '' and setting.type != 'str':
        return None, None
    if origin is None:
        if setting.default is not None and value == setting.default:
            # A plugin's configuration hands the default over as if it were given.
            return None, None
        return value, 'option'
    if origin.startswith('env: ') and _in_cli_family(origin[len('env: '):]) and origin[len('env: '):] not in variables:
        # A plugin's configuration read the variable of the other family than the token's: not this run's.
        return None, None
    return value, origin


def _from_environment(setting, environ, variables):
    """The first of ``variables`` that is set, and its origin; ``(None, None)`` when none is."""
    for name in variables:
        raw = environ.get(name)
        if raw in (None, ''):
            continue
        if setting.name == 'validate_certs':
            return (not _boolean(raw, name, 'which turns validate_certs off when true')), 'env: ' + name
        return raw, 'env: ' + name
    return None, None


def _trimmed(name, value, origin, family):
    """A token without the whitespace around it (a file's last newline); one with whitespace inside is refused."""
    if value is None:
        return None
    value = value.strip()
    if _NOT_IN_TOKEN.search(value):
        raise InputError(
            '{0} holds whitespace or control characters inside the token ({1}); a token is one word: copy it again '
            'from the Upsun console (My profile > API tokens) without line breaks or spaces.'.format(
                name, _source(name, origin, family)))
    return value or None


def _convert(setting, value, origin, family=CLI_FAMILIES[0]):
    """``value`` as the setting's type; a value of another type is an ``InputError`` naming its source."""
    if value is None:
        return None
    source = _source(setting.name, origin, family)
    if setting.type in ('str', 'path'):
        if not isinstance(value, str):
            raise InputError('{0} must be a string, got {1} ({2}).'.format(setting.name, type(value).__name__, source))
        return value
    if setting.type == 'bool':
        return _boolean(value, setting.name, source)
    kind = 'an integer' if setting.type == 'int' else 'a number'
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        if setting.type == 'int':
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value.strip()) if isinstance(value, str) else int(value)
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError('{0} must be {1}, got {2!r} ({3}).'.format(setting.name, kind, value, source))


def _boolean(value, name, source):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError('{0} must be true or false (1/0, yes/no, on/off), got {1!r} ({2}).'.format(name, value, source))
