# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The access token: exchanged for the API token, exchanged again after a 401 and before it expires."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
)
from ansible_collections.upsun.support.tests.unit.fake_api import TICKET, TICKETS, assert_no_secret


def basic_auth(user, password):
    return 'Basic ' + base64.b64encode('{0}:{1}'.format(user, password).encode('ascii')).decode('ascii')


# --- token exchange ---------------------------------------------------------------------------------------------------


def test_exchange_posts_form_with_basic_auth_then_sends_bearer(api, make_client, tokens):
    api.allow_exchange()
    api.on('GET', '/tickets', (200, TICKETS))

    assert make_client().request('GET', '/tickets') == (200, TICKETS)

    exchange, call = api.calls
    assert (exchange.method, exchange.path) == ('POST', '/oauth2/token')
    assert exchange.headers['Content-Type'] == 'application/x-www-form-urlencoded'
    assert exchange.form() == {'grant_type': ['api_token'], 'api_token': [tokens.api]}
    assert exchange.headers['Authorization'] == basic_auth('platform-api-user', '')
    assert (call.method, call.path) == ('GET', '/tickets')
    assert call.headers['Authorization'] == 'Bearer ' + tokens.exchanged
    assert call.headers['Accept'] == 'application/json'


@pytest.mark.parametrize('entry', ['default', 'machine 127.0.0.1'])
def test_a_netrc_login_never_replaces_the_tokens(api, make_client, monkeypatch, tmp_path, tokens, entry):
    # requests, left to trust the environment, sends the ~/.netrc login of the host instead of the Bearer token.
    password = 'netrc-SECRET-0b9d4e'
    netrc = tmp_path / '.netrc'
    netrc.write_text('{0} login someone password {1}\n'.format(entry, password))
    netrc.chmod(0o600)
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setenv('NETRC', str(netrc))
    api.allow_exchange()
    api.on('GET', '/tickets', (200, TICKETS))

    assert make_client().request('GET', '/tickets') == (200, TICKETS)

    exchange, call = api.calls
    assert exchange.headers['Authorization'] == basic_auth('platform-api-user', '')
    assert call.headers['Authorization'] == 'Bearer ' + tokens.exchanged
    assert basic_auth('someone', password) not in [each.headers.get('Authorization') for each in api.calls]


def test_one_exchange_for_several_calls(api, make_client):
    api.allow_exchange()
    api.on('GET', '/tickets', (200, TICKETS))
    api.on('POST', '/tickets', (200, TICKET))
    client = make_client()

    client.request('GET', '/tickets')
    client.request('POST', '/tickets', body={'subject': 's', 'description': 'd'})
    client.request('GET', '/tickets')

    assert len(api.requests('POST', '/oauth2/token')) == 1
    assert client.exchanges == 1
    assert len(api.calls) == 4


def test_one_session_and_one_connection_for_exchange_and_calls(api, make_client):
    api.allow_exchange()
    api.on('POST', '/tickets', (200, TICKET))
    api.on('GET', '/tickets', (200, TICKETS))
    client = make_client()

    session = client.session
    client.request('POST', '/tickets', body={'subject': 's', 'description': 'd'})
    client.request('GET', '/tickets')

    assert client.session is session
    assert [call.path for call in api.calls] == ['/oauth2/token', '/tickets', '/tickets']
    # The exchange and both API calls went over the same kept-alive TCP connection.
    assert len(api.connections()) == 1


def test_exchange_without_access_token_in_answer_is_api_error(api, make_client):
    api.on('POST', '/oauth2/token', (200, {'token_type': 'bearer'}))

    with pytest.raises(ApiError) as info:
        make_client().request('GET', '/tickets')

    assert not isinstance(info.value, AuthenticationError)
    assert 'access_token' in info.value.msg
    assert info.value.url == api.url + '/oauth2/token'
    assert api.requests('GET') == []


@pytest.mark.parametrize('status, body, api_text', [
    (400, {'error': 'invalid_grant', 'error_description': 'The API token is invalid or revoked.'}, 'invalid_grant'),
    (401, {'error': 'invalid_client'}, 'invalid_client'),
])
@pytest.mark.parametrize('token_source, named', [
    (None, 'the api_token option'),
    ('the UPSUN_CLI_TOKEN environment variable', 'UPSUN_CLI_TOKEN'),
    ('the PLATFORMSH_CLI_TOKEN environment variable', 'PLATFORMSH_CLI_TOKEN'),
])
def test_exchange_refused_is_authentication_error_naming_token_source(api, make_client, tokens, status, body, api_text,
                                                                      token_source, named):
    api.on('POST', '/oauth2/token', (status, body, {'Content-Type': 'application/problem+json'}))

    with pytest.raises(AuthenticationError) as info:
        make_client(token_source=token_source).request('GET', '/tickets')

    error = info.value
    assert named in error.msg
    assert api_text in error.msg
    assert 'HTTP {0}'.format(status) in error.msg
    assert error.status == status
    assert api_text in error.api_error
    assert error.url == api.url + '/oauth2/token'
    assert_no_secret(error.msg, tokens)
    assert_no_secret(error.to_result(), tokens)
    # Refused is refused: no retry, and no API call without a token.
    assert [call.path for call in api.calls] == ['/oauth2/token']


# --- 401 from the API -------------------------------------------------------------------------------------------------


def test_401_triggers_one_new_exchange_and_one_retry(api, make_client):
    api.allow_exchange('first-access', 'second-access')
    api.on('GET', '/tickets', (401, {'error': 'Invalid token'}), (200, TICKETS))
    client = make_client()

    assert client.request('GET', '/tickets') == (200, TICKETS)

    assert [call.path for call in api.calls] == ['/oauth2/token', '/tickets', '/oauth2/token', '/tickets']
    assert [call.headers['Authorization'] for call in api.requests('GET')] == ['Bearer first-access', 'Bearer second-access']
    assert client.exchanges == 2


def test_401_twice_is_authentication_error(api, make_client, tokens):
    api.allow_exchange()
    api.on('GET', '/tickets', (401, {'error': 'Invalid token'}))

    with pytest.raises(AuthenticationError) as info:
        make_client().request('GET', '/tickets')

    assert info.value.status == 401
    assert 'Invalid token' in info.value.msg
    assert info.value.api_error == 'Invalid token'
    assert len(api.requests('POST', '/oauth2/token')) == 2
    assert len(api.requests('GET', '/tickets')) == 2
    assert_no_secret(info.value.to_result(), tokens)


def test_access_token_is_used_first_then_api_token_exchanged_on_401(api, make_client, tokens):
    api.allow_exchange()
    api.on('GET', '/tickets', (401, {'error': 'Token expired'}), (200, TICKETS))

    assert make_client(access_token=tokens.access).request('GET', '/tickets') == (200, TICKETS)

    assert [call.path for call in api.calls] == ['/tickets', '/oauth2/token', '/tickets']
    assert [call.headers['Authorization'] for call in api.requests('GET')] == [
        'Bearer ' + tokens.access, 'Bearer ' + tokens.exchanged]


def test_access_token_only_and_401_tells_to_set_api_token(api, make_client, tokens):
    api.on('GET', '/tickets', (401, {'error': 'Token expired'}))

    with pytest.raises(AuthenticationError) as info:
        make_client(api_token=None, access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 401
    assert 'api_token' in info.value.msg
    assert 'UPSUN_CLI_TOKEN' in info.value.msg
    assert api.requests('POST', '/oauth2/token') == []
    assert len(api.requests('GET', '/tickets')) == 1
    assert_no_secret(info.value.to_result(), tokens)


# --- access tokens exchanged again before they expire (issue 24) ------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize('lifetime, renewed_after', [(900, 840), (60, 30)])
def test_an_access_token_is_exchanged_again_shortly_before_it_expires(api, make_client, lifetime, renewed_after):
    api.on('POST', '/oauth2/token', *[(200, {'access_token': token, 'expires_in': lifetime, 'token_type': 'bearer'})
                                      for token in ('first-token', 'second-token')])
    api.on('GET', '/tickets', (200, TICKETS))
    client = make_client()
    clock = client.clock = FakeClock()

    client.request('GET', '/tickets')
    clock.now += renewed_after - 1
    client.request('GET', '/tickets')
    clock.now += 1
    client.request('GET', '/tickets')

    calls = [(call.method, call.headers.get('Authorization')) for call in api.calls]
    assert calls == [('POST', basic_auth('platform-api-user', '')), ('GET', 'Bearer first-token'),
                     ('GET', 'Bearer first-token'),
                     ('POST', basic_auth('platform-api-user', '')), ('GET', 'Bearer second-token')]
    assert client.exchanges == 2


def exchanges_over_a_long_wait(make_client, **options):
    """How many exchanges two requests a very long time apart make."""
    client = make_client(**options)
    clock = client.clock = FakeClock()
    client.request('GET', '/tickets')
    clock.now += 10 ** 6
    client.request('GET', '/tickets')
    return client.exchanges


@pytest.mark.parametrize('answer', [{'access_token': 'first-token'}, {'access_token': 'first-token', 'expires_in': 'soon'},
                                    {'access_token': 'first-token', 'expires_in': -5},
                                    {'access_token': 'first-token', 'expires_in': 'nan'}])
def test_without_a_usable_lifetime_the_token_is_kept_until_a_401(api, make_client, answer):
    api.on('POST', '/oauth2/token', (200, answer))
    api.on('GET', '/tickets', (200, TICKETS))

    assert exchanges_over_a_long_wait(make_client) == 1


def test_an_access_token_given_as_is_is_never_exchanged_ahead(api, make_client, tokens):
    api.on('GET', '/tickets', (200, TICKETS))

    assert exchanges_over_a_long_wait(make_client, access_token=tokens.access) == 0
