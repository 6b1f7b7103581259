# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module, run through main() against the fake API: no secret in any result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.upsun.support.plugins.modules import ticket as ticket_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import CREATED, NEW, existing, listing


# --- no secret in any result ------------------------------------------------------------------------------------------


def _exchange_refused(api, status, error):
    api.on('POST', '/tickets', (401, {'error': 'expired'}))
    api.on('POST', '/oauth2/token', (status, {'error': error}))
    return {}


def _answer(method, path, *answers):
    def setup(api):
        api.allow_exchange()
        api.on(method, path, *answers)
        return {}
    return setup


LEAK_SCENARIOS = [
    ('exchange refused 400', lambda api, **kw: _exchange_refused(api, 400, 'invalid_grant')),
    ('exchange refused 401', lambda api, **kw: _exchange_refused(api, 401, 'invalid_client')),
    ('exchange without access_token', lambda api, **kw: dict(
        access_token=None, **(api.on('POST', '/oauth2/token', (200, {'token_type': 'bearer'})) or {}))),
    ('exchange answered 500', lambda api, **kw: dict(access_token=None, **(api.on('POST', '/oauth2/token', (500, 'boom')) or {}))),
    ('401 twice', lambda api, **kw: _answer('POST', '/tickets', (401, {'error': 'Invalid token'}))(api)),
    ('access_token only and 401', lambda api, **kw: dict(api_token=None, **_answer('POST', '/tickets', (401, {'error': 'no'}))(api))),
    ('403', lambda api, **kw: _answer('POST', '/tickets', (403, {'error': 'Forbidden'}))(api)),
    ('422', lambda api, **kw: _answer('POST', '/tickets', (422, {'error': 'category is invalid'}))(api)),
    ('429 exhausted', lambda api, **kw: _answer('POST', '/tickets', (429, {'error': 'slow down'}, {'Retry-After': '2'}))(api)),
    ('500', lambda api, **kw: _answer('POST', '/tickets', (500, {'error': 'Internal error'}))(api)),
    ('502 lost', lambda api, **kw: _answer('POST', '/tickets', (502, 'Bad Gateway'))(api)),
    ('read timeout', lambda api, **kw: _answer('POST', '/tickets', api.slow(1.0, (200, CREATED)))(api)),
    ('connection reset', lambda api, raw_server, **kw: dict(api_url=raw_server('close').url)),
    ('connection refused', lambda api, closed_port_url, **kw: dict(api_url=closed_port_url)),
    ('token exchange lost', lambda api, raw_server, **kw: dict(access_token=None, auth_url=raw_server('close').url)),
    ('connection refused at the auth server', lambda api, closed_port_url, **kw: dict(access_token=None, auth_url=closed_port_url)),
    ('TLS error', lambda api, **kw: dict(api_url=api.url.replace('http://', 'https://'))),
    ('dedupe search 503 exhausted', lambda api, **kw: dict(dedupe_key='k', **_answer('GET', '/tickets', (503, {'error': 'down'}))(api))),
    ('update: ticket not found', lambda api, **kw: dict(
        ticket_id=5, status='solved', subject=None, description=None, **_answer('GET', '/tickets', listing())(api))),
    ('update: PATCH 422', lambda api, **kw: dict(
        ticket_id=1234, status='solved', subject=None, description=None,
        **_answer('GET', '/tickets', listing(existing()))(api) or api.on('PATCH', '/tickets/1234', (422, {'error': 'no'})) or {})),
    ('invalid: bad priority', lambda api, **kw: dict(priority='critical')),
    ('invalid: ticket_id not an int', lambda api, **kw: dict(ticket_id='abc')),
    ('invalid: unknown option', lambda api, **kw: dict(colour='red')),
    ('invalid: bad api_url', lambda api, **kw: dict(api_url='api.upsun.com')),
    ('invalid: missing attachment', lambda api, **kw: dict(attachments=[dict(path='/nonexistent/upsun.log')])),
    ('invalid: status without ticket_id', lambda api, **kw: dict(status='open')),
]


@pytest.mark.parametrize('setup', [case[1] for case in LEAK_SCENARIOS], ids=[case[0] for case in LEAK_SCENARIOS])
def test_no_token_in_any_failure_result(api, raw_server, closed_port_url, run_module, module_params, tokens, setup):
    options = dict(NEW, access_token=tokens.access, timeout=0.3, retries=1)
    options.update(setup(api=api, raw_server=raw_server, closed_port_url=closed_port_url))

    result = run_module(ticket_module, module_params(**options))

    assert result.get('failed') is True, result
    serialized = json.dumps(result, sort_keys=True, default=repr)
    for secret in (tokens.api, tokens.access, tokens.exchanged):
        assert secret not in serialized


def test_token_echoed_by_the_server_is_hidden_by_no_log(api, run_module_output, module_params, tokens):
    api.on('POST', '/tickets', (401, {'error': 'Access token {0} expired'.format(tokens.access)}))
    api.on('POST', '/oauth2/token', (400, {'error': 'invalid_grant', 'error_description': 'Unknown token ' + tokens.api}))

    output = run_module_output(ticket_module, module_params(access_token=tokens.access, **NEW))

    assert output['failed'] is True
    assert 'invalid_grant' in output['msg']
    serialized = json.dumps(output)
    assert tokens.api not in serialized
    assert tokens.access not in serialized
