# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument specs shared by every module of the collection.

The connection options are documented once, in the ``upsun.support.connection``
doc fragment; the environment variables are the ones the Upsun CLI reads, so a
CI job that already has them set needs no extra configuration.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from urllib.parse import urlparse

from ansible.module_utils.basic import env_fallback

from ansible_collections.upsun.support.plugins.module_utils.constants import DEFAULT_API_URL, DEFAULT_AUTH_URL
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError

API_TOKEN_ENV = ('UPSUN_CLI_TOKEN', 'PLATFORMSH_CLI_TOKEN')

CONNECTION_ARGUMENT_SPEC = dict(
    api_token=dict(type='str', no_log=True, fallback=(env_fallback, list(API_TOKEN_ENV))),
    access_token=dict(type='str', no_log=True),
    api_url=dict(type='str', default=DEFAULT_API_URL, fallback=(env_fallback, ['UPSUN_CLI_API_URL'])),
    auth_url=dict(type='str', default=DEFAULT_AUTH_URL, fallback=(env_fallback, ['UPSUN_CLI_AUTH_URL'])),
    timeout=dict(type='float', default=30, fallback=(env_fallback, ['UPSUN_CLI_DEFAULT_TIMEOUT'])),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    retries=dict(type='int', default=3),
)


def connection_argument_spec(**module_options):
    """Return a module's argument spec: its own options plus the connection ones."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


def api_token_source(params):
    """Say where the API token in ``params`` came from, for error messages.

    Only names are returned, never the value.
    """
    token = params.get('api_token')
    if token is None:
        return None
    for name in API_TOKEN_ENV:
        if os.environ.get(name) == token:
            return 'the {0} environment variable'.format(name)
    return 'the api_token option'


def validate_connection(params):
    """Check the connection options before any request."""
    if not params.get('api_token') and not params.get('access_token'):
        raise InputError(
            'No Upsun credentials: set api_token (or the UPSUN_CLI_TOKEN or PLATFORMSH_CLI_TOKEN environment '
            'variable, as for the Upsun CLI), or access_token.')
    for name, env in (('api_url', 'UPSUN_CLI_API_URL'), ('auth_url', 'UPSUN_CLI_AUTH_URL')):
        value = params.get(name) or ''
        parsed = urlparse(value)
        if parsed.scheme not in ('http', 'https') or not parsed.netloc:
            raise InputError('{0} (or {1}) must be an absolute http:// or https:// URL, got {2!r}.'.format(name, env, value))
    if params.get('timeout') is not None and params['timeout'] <= 0:
        raise InputError('timeout must be a number of seconds above 0, got {0!r}.'.format(params['timeout']))
    if params.get('retries') is not None and params['retries'] < 0:
        raise InputError('retries must be 0 or more, got {0!r}.'.format(params['retries']))
