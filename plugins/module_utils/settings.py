# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection settings, described once, and the one adapter that resolves them.

Modules build their argument spec from ``CONNECTION_SETTINGS``; plugins (the
callback, the flush, the event source) read the same names from their own
configuration. Both then hand the values to ``resolve_connection``, which
fills what is unset from the same environment variables and defaults, checks
the values and says where each came from. The ``upsun.support.connection``
doc fragment documents the same table; a unit test keeps the two in step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from urllib.parse import urlparse

from ansible.module_utils.basic import env_fallback

from ansible_collections.upsun.support.plugins.module_utils.constants import DEFAULT_API_URL, DEFAULT_AUTH_URL, TOKEN_PATH
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError

# The section of ansible.cfg that plugins read the connection settings from.
INI_SECTION = 'upsun_support'
# The Upsun CLI's switch for TLS verification: set and true means do not verify.
SKIP_SSL_ENV = 'UPSUN_CLI_SKIP_SSL'

_TRUE = ('1', 'true', 'yes', 'on', 'y', 't')
_FALSE = ('0', 'false', 'no', 'off', 'n', 'f', '')


class Setting:
    """One connection setting: how it is typed, where it comes from, and whether it is a secret."""

    def __init__(self, name, type, env=(), default=None, secret=False):  # pylint: disable=redefined-builtin
        self.name = name
        self.type = type
        self.env = tuple(env)
        self.default = default
        self.secret = secret

    def module_spec(self):
        """The ``AnsibleModule`` argument spec entry: the same variables and default as the adapter's."""
        spec = dict(type=self.type, no_log=self.secret)
        if self.env:
            spec['fallback'] = (env_fallback, list(self.env))
        if self.default is not None:
            spec['default'] = self.default
        return spec


CONNECTION_SETTINGS = (
    Setting('api_token', 'str', env=('UPSUN_CLI_TOKEN', 'PLATFORMSH_CLI_TOKEN'), secret=True),
    Setting('access_token', 'str', env=('UPSUN_SUPPORT_ACCESS_TOKEN',), secret=True),
    Setting('api_url', 'str', env=('UPSUN_CLI_API_URL',), default=DEFAULT_API_URL),
    Setting('auth_url', 'str', env=('UPSUN_CLI_AUTH_URL',), default=DEFAULT_AUTH_URL),
    # Default: {auth_url}/oauth2/token.
    Setting('token_url', 'str', env=('UPSUN_CLI_OAUTH2_TOKEN_URL',)),
    Setting('timeout', 'float', env=('UPSUN_CLI_DEFAULT_TIMEOUT',), default=30.0),
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

    def __init__(self, values, origins):
        self.values = values
        self.origins = origins

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
                    name, value, _source(name, self.origins[name])))
        for name, allowed, wording in NUMBER_RANGES:
            if not allowed(self.values[name]):
                raise InputError('{0} must be {1}, got {2!r} ({3}).'.format(
                    name, wording, self.values[name], _source(name, self.origins[name])))


def _source(name, origin):
    """Where a value came from, and where else it can be set, for an error message."""
    setting = SETTINGS_BY_NAME[name]
    variables = setting.env or ((SKIP_SSL_ENV,) if name == 'validate_certs' else ())
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

    ``values`` maps setting names to what the caller was given (module params,
    or a plugin's options), ``None`` meaning unset. Unset values come from the
    environment variables of the table, then from its defaults. ``origins``
    optionally says where the given values came from (a plugin's configuration
    origin); it defaults to ``'option'``.
    """
    environ = os.environ if environ is None else environ
    origins = dict(origins or {})
    resolved = {}
    where = {}
    for setting in CONNECTION_SETTINGS:
        value = values.get(setting.name)
        origin = origins.get(setting.name) or _origin_of(setting, value, environ)
        if setting.name not in origins and origin == 'option' and setting.default is not None and value == setting.default:
            # A module's argument spec, or a plugin's configuration, hands the default over as if it were given.
            origin = 'default'
        if value is None or value == '' and setting.type != 'str':
            value, origin = _from_environment(setting, environ)
        if value is None:
            value, origin = setting.default, 'default'
        resolved[setting.name] = _convert(setting, value, origin)
        where[setting.name] = origin
    if resolved['validate_certs'] is None:
        resolved['validate_certs'] = True
    for name in ('api_url', 'auth_url'):
        resolved[name] = resolved[name].rstrip('/') if isinstance(resolved[name], str) else resolved[name]
    if resolved['token_url'] is None:
        resolved['token_url'] = resolved['auth_url'] + TOKEN_PATH
        where['token_url'] = 'derived'
    if resolved['ca_path']:
        resolved['ca_path'] = os.path.expanduser(resolved['ca_path'])
    return ConnectionSettings(resolved, where)


def set_in_environment(name, environ=None):
    """Whether an environment variable of the setting ``name`` is set (and not empty)."""
    environ = os.environ if environ is None else environ
    setting = SETTINGS_BY_NAME[name]
    variables = setting.env or ((SKIP_SSL_ENV,) if name == 'validate_certs' else ())
    return any(environ.get(variable) not in (None, '') for variable in variables)


def _origin_of(setting, value, environ):
    """``'option'``, or the variable a module's ``env_fallback`` took ``value`` from."""
    if value is not None:
        for name in setting.env:
            if environ.get(name) not in (None, '') and environ.get(name) == str(value):
                return 'env: ' + name
    return 'option'


def _from_environment(setting, environ):
    if setting.name == 'validate_certs':
        raw = environ.get(SKIP_SSL_ENV)
        if raw is None:
            return None, None
        skip = _boolean(raw, SKIP_SSL_ENV, 'which turns validate_certs off when true')
        return (not skip), 'env: ' + SKIP_SSL_ENV
    for name in setting.env:
        raw = environ.get(name)
        if raw not in (None, ''):
            return raw, 'env: ' + name
    return None, None


def _convert(setting, value, origin):
    """``value`` as the setting's type; a value of another type is an ``InputError`` naming its source."""
    if value is None:
        return None
    source = _source(setting.name, origin)
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
