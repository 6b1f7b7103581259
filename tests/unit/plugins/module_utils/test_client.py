# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP client: token exchange, re-authentication, retries (urllib3's, really run), error messages."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import threading
import time

import pytest
import yaml

from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils.constants import COLLECTION_NAME, COLLECTION_VERSION
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    DeadlineError,
    ResponseLostError,
    TransportError,
)

TICKETS = {'count': 0, 'tickets': [], '_links': {}}
TICKET = {'ticket_id': 42, 'subject': 'Deploy failed', 'status': 'new', 'priority': 'high'}


def basic_auth(user, password):
    return 'Basic ' + base64.b64encode('{0}:{1}'.format(user, password).encode('ascii')).decode('ascii')


def assert_no_secret(value, tokens):
    text = json.dumps(value) if not isinstance(value, str) else value
    for secret in (tokens.api, tokens.access, tokens.exchanged):
        assert secret not in text


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


# --- retry matrix -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('status', [429, 500, 502, 503, 504])
def test_get_is_retried_once_after_status(api, make_client, warned, tokens, status):
    api.on('GET', '/tickets', (status, {'error': 'busy'}), (200, TICKETS))

    assert make_client(access_token=tokens.access).request('GET', '/tickets') == (200, TICKETS)

    assert len(api.requests('GET', '/tickets')) == 2
    assert len(warned) == 1
    assert 'GET /tickets' in warned[0]
    assert 'HTTP {0}'.format(status) in warned[0]


@pytest.mark.parametrize('status', [429, 503])
def test_post_is_retried_after_status_that_created_nothing(api, make_client, warned, tokens, status):
    api.on('POST', '/tickets', (status, {'error': 'busy'}), (200, TICKET))

    assert make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'}) == (200, TICKET)

    assert len(api.requests('POST', '/tickets')) == 2
    assert len(warned) == 1
    assert 'POST /tickets' in warned[0]
    assert 'HTTP {0}'.format(status) in warned[0]


@pytest.mark.parametrize('status', [500, 502, 504])
def test_post_is_not_retried_after_server_error(api, make_client, warned, tokens, status):
    api.on('POST', '/tickets', (status, {'error': 'upstream failed'}), (200, TICKET))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    assert len(api.requests('POST', '/tickets')) == 1
    assert info.value.status == status
    assert info.value.api_error == 'upstream failed'
    assert 'Gave up' not in info.value.msg
    assert warned == []


def test_get_connection_refused_is_retried_then_transport_error(make_client, closed_port_url, warned, tokens):
    client = make_client(api_url=closed_port_url, access_token=tokens.access, retries=2)

    with pytest.raises(TransportError) as info:
        client.request('GET', '/tickets')

    assert not isinstance(info.value, ResponseLostError)
    assert 'Could not connect' in info.value.msg
    assert 'after 2 retries' in info.value.msg
    assert info.value.url == closed_port_url + '/tickets'
    assert len(warned) == 2
    assert all('GET /tickets' in message and 'NewConnectionError' in message for message in warned)


def test_post_connection_refused_is_retried_then_transport_error(make_client, closed_port_url, warned, tokens):
    client = make_client(api_url=closed_port_url, access_token=tokens.access, retries=2)

    with pytest.raises(TransportError) as info:
        client.request('POST', '/tickets', body={'subject': 's'})

    assert not isinstance(info.value, ResponseLostError)
    assert 'after 2 retries' in info.value.msg
    assert len(warned) == 2
    assert all('POST /tickets' in message for message in warned)


@pytest.mark.parametrize('mode', ['hang', 'close'])
def test_get_lost_answer_is_retried(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=2, timeout=0.2)

    with pytest.raises(TransportError):
        client.request('GET', '/tickets')

    assert server.requests == 3
    assert len(warned) == 2


@pytest.mark.parametrize('mode', ['hang', 'close'])
def test_post_lost_answer_is_not_retried(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=3, timeout=0.2)

    with pytest.raises(ResponseLostError) as info:
        client.request('POST', '/tickets', body={'subject': 's'})

    assert server.requests == 1
    assert warned == []
    assert 'was sent but no answer came back' in info.value.msg
    assert info.value.url == server.url + '/tickets'


def test_token_exchange_lost_answer_is_not_retried(raw_server, make_client, warned):
    server = raw_server('close')
    client = make_client(auth_url=server.url, retries=3)

    with pytest.raises(ResponseLostError):
        client.request('GET', '/tickets')

    assert server.requests == 1
    assert warned == []


@pytest.mark.parametrize('method', ['GET', 'POST'])
def test_429_retries_exhausted_is_api_error_with_api_text(api, make_client, warned, tokens, method):
    api.on(method, '/tickets', (429, {'error': 'Too many requests for this token'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access, retries=2).request(method, '/tickets')

    assert len(api.requests(method, '/tickets')) == 3
    assert info.value.status == 429
    assert info.value.api_error == 'Too many requests for this token'
    assert 'Too many requests for this token' in info.value.msg
    assert 'Gave up after 2 retries' in info.value.msg
    assert len(warned) == 2


def test_retry_after_is_honoured(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (429, {'error': 'slow down'}, {'Retry-After': '7'}), (200, TICKETS))

    make_client(access_token=tokens.access).request('GET', '/tickets')

    assert retry_sleeps == [7.0]
    assert 'in 7 s' in warned[0]


def test_a_429_pauses_the_requests_of_the_other_threads_too(api, make_client, warned, tokens, monkeypatch):
    # Real waits: what is tested is that a thread that did not get the 429 waits too.
    monkeypatch.setattr(client_module, 'time', time)
    limited = threading.Event()
    arrived = {}

    def answer(call):
        who = call.query['who'][0]
        if who == 'first' and not limited.is_set():
            arrived['429'] = time.monotonic()
            limited.set()
            return 429, {'error': 'slow down'}, {'Retry-After': '1'}
        arrived.setdefault(who, time.monotonic())
        return 200, TICKETS

    api.on('GET', '/tickets', answer)
    client = make_client(access_token=tokens.access)
    first = threading.Thread(target=client.request, args=('GET', '/tickets'), kwargs=dict(params={'who': 'first'}))
    first.start()
    limited.wait(5)
    time.sleep(0.2)  # the 429 has reached the client by now
    client.request('GET', '/tickets', params={'who': 'second'})
    first.join(5)

    assert arrived['second'] >= arrived['429'] + 0.95
    assert arrived['first'] >= arrived['429'] + 0.95
    assert client.rate_limited == 1
    assert warned == ['Upsun API: GET /tickets answered HTTP 429; retry 1 of 3 in 1 s.']


def test_each_thread_has_its_own_session_and_close_closes_them_all(make_client, monkeypatch):
    client = make_client()
    sessions = [client.session]
    thread = threading.Thread(target=lambda: sessions.append(client.session))
    thread.start()
    thread.join(5)
    assert sessions[0] is client.session is not sessions[1]
    closed = []
    for session in sessions:
        monkeypatch.setattr(session, 'close', lambda session=session: closed.append(session))

    client.close()

    assert closed == sessions
    # A request after close() gets a fresh session.
    assert client.session not in sessions


def test_retry_after_is_capped(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'maintenance'}, {'Retry-After': '3600'}), (200, TICKETS))

    make_client(access_token=tokens.access).request('GET', '/tickets')

    assert retry_sleeps == [client_module.MAX_RETRY_AFTER]
    assert client_module.MAX_RETRY_AFTER == 60.0
    assert 'in 60 s' in warned[0]


def test_retry_after_is_honoured_for_post(api, make_client, retry_sleeps, tokens):
    api.on('POST', '/tickets', (503, {'error': 'maintenance'}, {'Retry-After': '5'}), (200, TICKET))

    make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    assert retry_sleeps == [5.0]


def test_exponential_backoff_without_retry_after(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'busy'}), (503, {'error': 'busy'}), (503, {'error': 'busy'}), (200, TICKETS))

    make_client(access_token=tokens.access, retries=3).request('GET', '/tickets')

    # urllib3 skips the first wait (0 s), then backoff_factor * 2 ** (n - 1).
    assert retry_sleeps == [2.0, 4.0]
    assert [message.split(' in ')[-1] for message in warned] == ['0 s.', '2 s.', '4 s.']
    assert ['retry {0} of 3'.format(n) in message for n, message in enumerate(warned, 1)] == [True] * 3


def test_no_retry_with_retries_0(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'busy'}), (200, TICKETS))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access, retries=0).request('GET', '/tickets')

    assert info.value.status == 503
    assert len(api.requests('GET', '/tickets')) == 1
    assert warned == []
    assert retry_sleeps == []


def test_no_retry_on_connection_refused_with_retries_0(make_client, closed_port_url, warned, tokens):
    with pytest.raises(TransportError):
        make_client(api_url=closed_port_url, access_token=tokens.access, retries=0).request('GET', '/tickets')

    assert warned == []


def test_each_retry_warns_once_naming_method_path_status_without_secret(api, make_client, warned, tokens):
    api.on('POST', '/oauth2/token', (503, {'error': 'busy'}), (200, {'access_token': tokens.exchanged}))
    api.on('PATCH', '/tickets/42', (502, 'Bad Gateway'), (429, {'error': 'slow'}), (200, TICKET))

    make_client(access_token=None).request('PATCH', '/tickets/42', body={'status': 'solved'})

    assert len(warned) == 3
    assert 'POST /oauth2/token' in warned[0] and 'HTTP 503' in warned[0]
    assert 'PATCH /tickets/42' in warned[1] and 'HTTP 502' in warned[1]
    assert 'PATCH /tickets/42' in warned[2] and 'HTTP 429' in warned[2]
    assert_no_secret(warned, tokens)


# --- errors -----------------------------------------------------------------------------------------------------------


def test_problem_json_error_is_api_error_with_api_text_status_and_url(api, make_client, tokens):
    api.on('POST', '/tickets', (422, {'error': 'The category is not allowed for this subscription'},
                                {'Content-Type': 'application/problem+json'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    error = info.value
    assert error.api_error == 'The category is not allowed for this subscription'
    assert error.status == 422
    assert error.url == api.url + '/tickets'
    assert 'HTTP 422' in error.msg and 'The category is not allowed for this subscription' in error.msg
    assert error.to_result() == {'msg': error.msg, 'status': 422, 'url': api.url + '/tickets',
                                 'api_error': 'The category is not allowed for this subscription'}


@pytest.mark.parametrize('status', [301, 302, 303, 307, 308])
@pytest.mark.parametrize('method, path', [('POST', '/oauth2/token'), ('POST', '/tickets'), ('GET', '/tickets')])
def test_a_redirect_is_answered_not_followed(api, make_client, tokens, retry_sleeps, method, path, status):
    # Followed, a 307 or 308 sends the form (the API token) or the ticket on to another host, and a 301 or 302
    # turns the POST that files a ticket into a GET.
    elsewhere = api.url.replace('127.0.0.1', 'localhost') + '/elsewhere'
    api.on(method, path, (status, None, {'Location': elsewhere + '?code=from-the-redirect#part'}))
    for other in ('GET', 'POST'):
        api.on(other, '/elsewhere', (200, TICKET))
    client = make_client() if path == '/oauth2/token' else make_client(access_token=tokens.access)

    with pytest.raises(ApiError) as info:
        client.request(method, '/tickets', body={'subject': 's'} if method == 'POST' else None)

    assert [(call.method, call.path) for call in api.calls] == [(method, path)]
    assert retry_sleeps == []
    error = info.value
    assert error.status == status
    assert error.url.endswith(path)
    assert 'with HTTP {0}{1}, a redirect to {2}: it is not followed'.format(
        status, ' for the token exchange' if path == '/oauth2/token' else '', elsewhere) in error.msg
    assert 'from-the-redirect' not in error.msg and 'part' not in error.msg.split(elsewhere)[1]
    assert 'UPSUN_CLI_API_URL' in error.msg and 'UPSUN_CLI_AUTH_URL' in error.msg
    assert_no_secret(error.msg, tokens)


def test_a_redirect_without_location_says_so(api, make_client, tokens):
    api.on('GET', '/tickets', (302, None))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert 'with HTTP 302, a redirect without a Location: it is not followed' in info.value.msg


def test_non_json_error_body_is_carried_as_text(api, make_client, tokens):
    api.on('GET', '/tickets', (404, '<html><body>Not Found</body></html>', {'Content-Type': 'text/html'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 404
    assert info.value.api_error == '<html><body>Not Found</body></html>'
    assert 'Not Found' in info.value.msg


def test_empty_error_body_says_no_detail(api, make_client, tokens):
    api.on('GET', '/tickets', (403, None))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 403
    assert info.value.api_error is None
    assert 'no detail' in info.value.msg


def test_success_with_non_json_body_is_api_error(api, make_client, tokens):
    api.on('GET', '/tickets', (200, 'not json'))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 200
    assert 'not JSON' in info.value.msg


def test_204_returns_no_body(api, make_client, tokens):
    api.on('PATCH', '/tickets/42', (204, None))

    assert make_client(access_token=tokens.access).request('PATCH', '/tickets/42', body={'status': 'open'}) == (204, None)


def test_read_timeout_fails_fast_with_small_timeout(raw_server, make_client, tokens):
    server = raw_server('hang')
    client = make_client(api_url=server.url, access_token=tokens.access, retries=0, timeout=0.2)
    started = time.monotonic()

    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 2
    assert '0.2 s' in info.value.msg


def test_tls_failure_is_transport_error_naming_ca_path(api, make_client, tokens):
    # The fake API speaks plain HTTP: a TLS handshake with it fails.
    tls_url = api.url.replace('http://', 'https://')

    with pytest.raises(TransportError) as info:
        make_client(api_url=tls_url, access_token=tokens.access).request('GET', '/tickets')

    assert 'TLS' in info.value.msg and 'ca_path' in info.value.msg
    assert info.value.url == tls_url + '/tickets'


def test_query_params_and_json_body_are_sent(api, make_client, tokens):
    api.on('POST', '/tickets', (200, TICKET))
    api.on('GET', '/tickets', (200, TICKETS))
    client = make_client(access_token=tokens.access)

    client.request('POST', '/tickets', body={'subject': 'Deploy failed', 'priority': 'high'})
    client.request('GET', '/tickets', params={'filter[status]': 'open', 'page': 2})

    post, get = api.calls
    assert post.json() == {'subject': 'Deploy failed', 'priority': 'high'}
    assert post.headers['Content-Type'] == 'application/json'
    assert get.query == {'filter[status]': ['open'], 'page': ['2']}


def test_api_url_trailing_slash_is_ignored(api, make_client, tokens):
    api.on('GET', '/tickets', (200, TICKETS))

    make_client(api_url=api.url + '/', access_token=tokens.access).request('GET', '/tickets')

    assert api.calls[0].path == '/tickets'


@pytest.mark.parametrize('options, verify', [
    (dict(), True),
    (dict(validate_certs=False), False),
    (dict(ca_path='/etc/ssl/corp-ca.pem'), '/etc/ssl/corp-ca.pem'),
])
def test_certificate_options_set_session_verify(make_client, options, verify):
    assert make_client(**options).session.verify == verify


# --- identity ---------------------------------------------------------------------------------------------------------


def test_user_agent_names_collection_and_version(api, make_client):
    api.allow_exchange()
    api.on('GET', '/tickets', (200, TICKETS))

    make_client().request('GET', '/tickets')

    for call in api.calls:
        user_agent = call.headers['User-Agent']
        assert COLLECTION_NAME == 'upsun.support'
        assert '{0}/{1}'.format(COLLECTION_NAME, COLLECTION_VERSION) in user_agent


def test_collection_version_matches_galaxy_yml():
    root = os.path.dirname(os.path.abspath(__file__))
    for dummy in range(4):  # tests/unit/plugins/module_utils -> the collection root
        root = os.path.dirname(root)
    with open(os.path.join(root, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)

    assert galaxy['namespace'] + '.' + galaxy['name'] == COLLECTION_NAME
    assert str(galaxy['version']) == COLLECTION_VERSION


# --- deadlines --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('mode', ['trickle', 'trickle_headers'])
def test_timeout_bounds_the_whole_answer_not_each_read(raw_server, make_client, tokens, mode):
    # One byte every 50 ms: no single read waits long, the answer would take more than an hour.
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=0, timeout=0.5)
    started = time.monotonic()

    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 2.5
    assert 'within 0.5 s' in info.value.msg and 'last byte' in info.value.msg
    assert server.requests == 1


def test_each_attempt_has_its_own_timeout(raw_server, make_client, warned, tokens):
    server = raw_server('trickle')
    client = make_client(api_url=server.url, access_token=tokens.access, retries=2, timeout=0.3)
    started = time.monotonic()

    with pytest.raises(ResponseLostError):
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 4
    assert server.requests == 3
    assert len(warned) == 2


def test_the_deadline_stops_retries_whose_wait_would_pass_it(api, make_client, warned, retry_sleeps, tokens):
    api.on('GET', '/tickets', (503, {'error': 'busy'}))
    client = make_client(access_token=tokens.access, retries=10, deadline=5)

    with pytest.raises(ApiError) as info:
        client.request('GET', '/tickets')

    # Waits of 0 s and 2 s were made; the next one (4 s) would have ended after the 5 s deadline.
    assert retry_sleeps == [2.0]
    assert len(api.requests('GET', '/tickets')) == 3
    assert info.value.status == 503
    assert 'Gave up after 2 retries' in info.value.msg
    assert 'no retry: waiting 4 s would pass the deadline of 5 s' in info.value.msg
    assert len(warned) == 2


def test_a_retry_after_beyond_the_deadline_is_not_waited(api, make_client, retry_sleeps, tokens):
    api.on('GET', '/tickets', (429, {'error': 'slow down'}, {'Retry-After': '30'}), (200, TICKETS))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access, deadline=10).request('GET', '/tickets')

    assert retry_sleeps == []
    assert len(api.requests('GET', '/tickets')) == 1
    assert 'no retry: waiting 30 s would pass the deadline of 10 s' in info.value.msg


def test_no_request_once_the_deadline_has_passed(api, make_client, tokens):
    api.on('GET', '/tickets', (200, TICKETS))
    client = make_client(access_token=tokens.access, deadline=1)
    client.sleep(1.5)

    with pytest.raises(DeadlineError) as info:
        client.request('GET', '/tickets')

    assert api.calls == []
    assert info.value.msg.startswith('Gave up on GET {0}/tickets: the deadline of 1 s'.format(api.url))
    assert 'UPSUN_SUPPORT_DEADLINE' in info.value.msg
    assert isinstance(info.value, TransportError)


def test_an_attempt_is_cut_to_what_is_left_of_the_deadline(raw_server, make_client, tokens):
    server = raw_server('hang')
    client = make_client(api_url=server.url, access_token=tokens.access, timeout=5, retries=3, deadline=0.5)
    started = time.monotonic()

    with pytest.raises(TransportError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 2
    assert 'deadline' in info.value.msg
    assert server.requests == 1


def test_remaining_counts_down_from_the_deadline(make_client):
    client = make_client(deadline=10)
    assert 9 < client.remaining() <= 10
    client.sleep(4)
    assert 5 < client.remaining() <= 6
    assert make_client().deadline == 120.0


# --- lost answers after the headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize('mode', ['reset_after_headers', 'reset_in_body', 'close_in_body'])
def test_post_reset_after_the_status_line_is_a_lost_answer(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)
    client = make_client(api_url=server.url, access_token=tokens.access, retries=3)

    with pytest.raises(ResponseLostError) as info:
        client.request('POST', '/tickets', body={'subject': 's'})

    assert server.requests == 1
    assert warned == []
    assert 'was sent but no answer came back' in info.value.msg


@pytest.mark.parametrize('mode', ['reset_after_headers', 'reset_in_body', 'close_in_body'])
def test_get_reset_after_the_status_line_is_retried(raw_server, make_client, warned, tokens, mode):
    server = raw_server(mode)

    with pytest.raises(ResponseLostError):
        make_client(api_url=server.url, access_token=tokens.access, retries=1).request('GET', '/tickets')

    assert server.requests == 2
    assert len(warned) == 1


# --- TLS settings -----------------------------------------------------------------------------------------------------


@pytest.fixture
def verify_seen(monkeypatch):
    """The ``verify`` value each request really went out with (what requests hands its adapter)."""
    from requests.adapters import HTTPAdapter

    seen = []
    real = HTTPAdapter.send

    def spy(self, request, **kwargs):
        seen.append(kwargs.get('verify'))
        return real(self, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, 'send', spy)
    return seen


@pytest.mark.parametrize('options, verify', [
    (dict(validate_certs=False), False),
    (dict(validate_certs=False, ca_path='/etc/ssl/corp-ca.pem'), False),
    (dict(ca_path='/etc/ssl/corp-ca.pem'), '/etc/ssl/corp-ca.pem'),
    # Without either option, requests' own rule stands: the bundle variables say which CAs to trust.
    (dict(), '/ci/image/requests-ca.pem'),
])
def test_the_ca_bundle_variables_never_override_the_certificate_options(api, make_client, monkeypatch, verify_seen,
                                                                        tokens, options, verify):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/ci/image/requests-ca.pem')
    monkeypatch.setenv('CURL_CA_BUNDLE', '/ci/image/curl-ca.pem')
    api.on('GET', '/tickets', (200, TICKETS))

    make_client(access_token=tokens.access, **options).request('GET', '/tickets')

    assert verify_seen == [verify]


def test_validate_certs_false_warns_once(api, make_client, warned, tokens):
    api.on('GET', '/tickets', (200, TICKETS))
    client = make_client(access_token=tokens.access, validate_certs=False)

    client.request('GET', '/tickets')
    client.request('GET', '/tickets')

    assert len(warned) == 1
    assert warned[0].startswith('validate_certs is false: the TLS certificates of {0} are not checked'.format(api.url))
    assert_no_secret(warned, tokens)


def test_upsun_cli_skip_ssl_gives_the_same_warning_naming_the_variable(api, warned, tokens):
    from ansible_collections.upsun.support.plugins.module_utils.settings import resolve_connection

    settings = resolve_connection(dict(access_token=tokens.access, api_url=api.url, auth_url=api.url),
                                  environ={'UPSUN_CLI_SKIP_SSL': '1'})
    client = client_module.client_from_settings(settings, warn=warned.append)
    try:
        assert client.validate_certs is False
    finally:
        client.close()

    assert len(warned) == 1
    assert warned[0].startswith('validate_certs is false (set by the UPSUN_CLI_SKIP_SSL environment variable): ')


def test_validate_certs_true_does_not_warn(make_client, warned):
    make_client()
    assert warned == []


# --- the watchdog: one thread ends the attempts whose time ran out -------------------------------------------------


class _RecordingSocket:
    def __init__(self):
        self.shut = threading.Event()

    def shutdown(self, how):
        self.shut.set()


class _Connection:
    def __init__(self):
        self.sock = _RecordingSocket()


def _watched_attempt(seconds):
    attempt = client_module._Attempt(seconds)
    attempt.__enter__()
    connection = _Connection()
    attempt.watch(connection)
    return attempt, connection


def test_an_attempt_still_running_when_its_time_runs_out_has_its_socket_shut():
    attempt, connection = _watched_attempt(0.05)
    try:
        assert connection.sock.shut.wait(5), 'the watchdog never ended the attempt'
        assert attempt.expired
    finally:
        attempt.__exit__(None, None, None)


def test_an_attempt_that_ended_in_time_is_left_alone():
    attempt, connection = _watched_attempt(0.05)
    attempt.__exit__(None, None, None)
    time.sleep(0.2)
    assert not connection.sock.shut.is_set() and not attempt.expired


def test_a_shorter_attempt_watched_after_a_longer_one_still_ends_on_time():
    # The watchdog sleeps until the earliest deadline: a new earlier one must wake it.
    long_attempt, long_connection = _watched_attempt(30)
    short_attempt, short_connection = _watched_attempt(0.05)
    started = time.monotonic()
    try:
        assert short_connection.sock.shut.wait(5)
        assert time.monotonic() - started < 2
        assert not long_connection.sock.shut.is_set()
    finally:
        short_attempt.__exit__(None, None, None)
        long_attempt.__exit__(None, None, None)


def test_one_watchdog_thread_serves_many_attempts():
    before = [thread for thread in threading.enumerate() if thread.name == 'upsun-support-watchdog']
    attempts = [_watched_attempt(30)[0] for dummy in range(20)]
    for attempt in attempts:
        attempt.__exit__(None, None, None)
    after = [thread for thread in threading.enumerate() if thread.name == 'upsun-support-watchdog']
    assert len(after) == 1 and len(before) <= 1


def test_a_forked_child_starts_its_own_watchdog(monkeypatch):
    # A worker forked from the controller has no copy of the parent's thread: a new process id means a new thread.
    watchdog = client_module._Watchdog()
    attempt, connection = client_module._Attempt(0.05), _Connection()
    attempt.watch(connection)
    watchdog.watch(attempt, 0.05)
    first = watchdog._cond
    monkeypatch.setattr(client_module.os, 'getpid', lambda: -1)
    child_attempt, child_connection = client_module._Attempt(0.05), _Connection()
    child_attempt.watch(child_connection)
    watchdog.watch(child_attempt, 0.05)
    assert watchdog._cond is not first
    assert child_connection.sock.shut.wait(5) and connection.sock.shut.wait(5)


# --- trust store: what certificates are checked against (issue 24) ----------------------------------------------------


@pytest.fixture
def system_store(monkeypatch):
    """The operating system's store as truststore would give it (a marker context), whether or not it is installed."""
    import ssl

    context = ssl.create_default_context()
    monkeypatch.setattr(client_module, '_system_context', lambda: context)
    return context


@pytest.fixture
def ca_file(tmp_path):
    """A PEM file of CA certificates: a copy of a few of certifi's, which no other trust store holds alone."""
    import certifi

    with open(certifi.where()) as handle:
        pem = handle.read()
    end = '-----END CERTIFICATE-----\n'
    path = tmp_path / 'ca.pem'
    path.write_text(end.join(pem.split(end)[:3]) + end)
    return str(path)


ALL_SOURCES = dict(REQUESTS_CA_BUNDLE='/ci/requests-ca.pem', CURL_CA_BUNDLE='/ci/curl-ca.pem')


@pytest.mark.parametrize('validate_certs, ca_path, environ, verify, trusted', [
    (False, '/etc/ca.pem', dict(ALL_SOURCES), False, 'nothing'),
    (True, '/etc/ca.pem', dict(ALL_SOURCES), '/etc/ca.pem', 'ca_path'),
    (True, None, dict(ALL_SOURCES), '/ci/requests-ca.pem', 'REQUESTS_CA_BUNDLE'),
    (True, None, dict(CURL_CA_BUNDLE='/ci/curl-ca.pem'), '/ci/curl-ca.pem', 'CURL_CA_BUNDLE'),
])
def test_the_certificate_options_and_requests_variables_come_first(system_store, ca_file, validate_certs, ca_path,
                                                                   environ, verify, trusted):
    environ = dict(environ, SSL_CERT_FILE=ca_file)

    got, context, what = client_module.trust_store(validate_certs, ca_path, environ)

    assert (got, context) == (verify, None)
    assert trusted in what


def test_ssl_cert_file_and_dir_come_before_the_system_store(system_store, ca_file, tmp_path):
    got, context, what = client_module.trust_store(True, None, dict(SSL_CERT_FILE=ca_file, SSL_CERT_DIR=str(tmp_path)))

    assert got is True and context is not system_store
    # The context trusts that file's CAs, and nothing else (not the rest of certifi, not the system store).
    assert len(context.get_ca_certs()) == 3
    assert 'SSL_CERT_FILE ({0})'.format(ca_file) in what and 'SSL_CERT_DIR' in what


def test_the_system_store_comes_before_certifi(system_store):
    assert client_module.trust_store(True, None, {}) == (True, system_store, "the operating system's trust store (truststore)")


def test_certifi_is_the_last_resort(monkeypatch):
    monkeypatch.setattr(client_module, '_system_context', lambda: None)
    assert client_module.trust_store(True, None, {}) == (True, None, "requests' CA bundle (certifi)")


def test_without_truststore_there_is_no_system_context(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, 'truststore', None)
    assert client_module._system_context() is None


def test_a_bad_ssl_cert_file_is_named(tmp_path):
    from ansible_collections.upsun.support.plugins.module_utils.errors import InputError

    with pytest.raises(InputError) as info:
        client_module.trust_store(True, None, dict(SSL_CERT_FILE=str(tmp_path / 'missing.pem')))
    assert 'SSL_CERT_FILE' in info.value.msg and 'missing.pem' in info.value.msg


def test_the_sessions_check_certificates_with_the_trust_store_context(make_client, monkeypatch, system_store):
    client = make_client()
    adapter = client.session.get_adapter('https://api.upsun.com')

    assert client.verify is True
    assert adapter.poolmanager.connection_pool_kw['ssl_context'] is system_store
    assert adapter.proxy_manager_for('http://proxy.example:3128').connection_pool_kw['ssl_context'] is system_store


def test_requests_own_bundle_is_not_added_to_the_context(make_client, system_store):
    from urllib3.connectionpool import HTTPSConnectionPool

    adapter = make_client().session.get_adapter('https://api.upsun.com')
    pool = HTTPSConnectionPool('api.upsun.com')

    adapter.cert_verify(pool, 'https://api.upsun.com/tickets', True, None)

    assert pool.cert_reqs == 'CERT_REQUIRED'
    assert pool.ca_certs is None and pool.ca_cert_dir is None


def test_the_tls_error_says_what_was_trusted(api, make_client, tokens, monkeypatch):
    monkeypatch.setattr(client_module, '_system_context', lambda: None)
    tls_url = api.url.replace('http://', 'https://')

    with pytest.raises(TransportError) as info:
        make_client(api_url=tls_url, access_token=tokens.access).request('GET', '/tickets')

    assert info.value.msg.endswith("Trusted: requests' CA bundle (certifi).")


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


# --- the API's messages by field, with the option that sets it (issue 24) ---------------------------------------------


def test_a_400_whose_detail_names_fields_names_the_options(api, make_client, tokens):
    detail = {'requester_id': 'This value is not a valid UUID.', 'attachments[0].filename': 'This value should not be blank.'}
    api.on('POST', '/tickets', (400, {'error': 'Bad Request', 'detail': detail},
                                {'Content-Type': 'application/problem+json'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    msg = info.value.msg
    assert 'HTTP 400' in msg
    assert 'the requester_id option: This value is not a valid UUID.' in msg
    assert 'the attachments option (attachments[0].filename): This value should not be blank.' in msg
    assert 'Fix them and run again.' in msg
    assert 'check the option the message names' not in msg
    assert info.value.api_error == ('Bad Request: requester_id: This value is not a valid UUID.; '
                                    'attachments[0].filename: This value should not be blank.')


@pytest.mark.parametrize('field, option', [
    ('requester_id', 'requester_id'), ('attachments[0].filename', 'attachments'), ('filter[type]', 'type'),
    ('collaborator_ids[2]', 'collaborator_ids'), ('body.subject', 'body'),
])
def test_option_of_field(field, option):
    assert client_module.option_of_field(field) == option


def test_a_detail_that_is_text_keeps_the_generic_advice(api, make_client, tokens):
    api.on('POST', '/tickets', (400, {'error': 'Bad Request', 'detail': 'The body could not be read.'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={})

    assert 'Bad Request: The body could not be read.' in info.value.msg
    assert 'check the option the message names' in info.value.msg


# --- credentials in URLs are never shown (issue 22) -------------------------------------------------------------------


def test_credentials_in_api_url_are_masked_in_connection_errors(make_client, closed_port_url, warned, tokens):
    url = closed_port_url.replace('http://', 'http://robot:hunter2-SECRET@')

    with pytest.raises(TransportError) as info:
        make_client(api_url=url, access_token=tokens.access, retries=1).request('GET', '/tickets')

    shown = json.dumps([info.value.to_result(), warned, str(info.value)])
    assert 'hunter2-SECRET' not in shown and 'robot' not in shown
    assert closed_port_url.replace('http://', 'http://***@') + '/tickets' in info.value.msg
    assert warned


def test_credentials_in_urls_are_masked_in_the_validate_certs_warning(make_client, warned):
    make_client(api_url='https://robot:hunter2-SECRET@api.example.com', validate_certs=False)

    assert warned and 'hunter2-SECRET' not in warned[0] and 'https://***@api.example.com' in warned[0]


def test_credentials_in_urls_are_masked_in_api_errors(api, make_client, tokens):
    api.on('GET', '/tickets', (404, {'error': 'Not Found'}))
    url = api.url.replace('http://', 'http://robot:hunter2-SECRET@')

    with pytest.raises(ApiError) as info:
        make_client(api_url=url, access_token=tokens.access).request('GET', '/tickets')

    assert 'hunter2-SECRET' not in json.dumps(info.value.to_result())


def test_credentials_in_a_proxy_url_are_masked(make_client, closed_port_url, monkeypatch, warned, tokens):
    monkeypatch.setenv('HTTP_PROXY', closed_port_url.replace('http://', 'http://robot:hunter2-SECRET@'))

    with pytest.raises(TransportError) as info:
        make_client(api_url='http://api.example.invalid', access_token=tokens.access, retries=1).request('GET', '/tickets')

    assert 'hunter2-SECRET' not in json.dumps([info.value.to_result(), warned, str(info.value)])
# --- the size cap of an answer ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('framing', ['chunked', 'unsized'])
def test_an_endless_answer_fails_at_max_response_size_naming_it(raw_server, make_client, tokens, framing):
    server = raw_server('endless_' + framing)
    client = make_client(api_url=server.url, access_token=tokens.access, timeout=20, max_response_size=65536)

    started = time.monotonic()
    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 5
    message = info.value.msg
    assert 'max_response_size (65536 bytes; UPSUN_SUPPORT_MAX_RESPONSE_SIZE)' in message
    assert 'GET {0}/tickets'.format(server.url) in message and 'HTTP 200' in message
    # Not retried: the same request would bring the same endless answer.
    assert server.requests == 1
    # Read no further than the cap (plus what was in flight in the socket buffers).
    assert server.sent < 65536 + 8 * 1024 * 1024


def test_an_announced_length_above_the_cap_fails_before_the_body_is_read(raw_server, make_client, tokens):
    server = raw_server('endless_announced')
    client = make_client(api_url=server.url, access_token=tokens.access, max_response_size=1024)

    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert 'a body of 52428800 bytes, more than max_response_size (1024 bytes' in info.value.msg


def test_the_token_exchange_answer_is_capped_too(raw_server, make_client):
    server = raw_server('endless_chunked')
    client = make_client(auth_url=server.url, max_response_size=4096)

    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert 'POST {0}/oauth2/token'.format(server.url) in info.value.msg
    assert 'max_response_size (4096 bytes' in info.value.msg


def test_an_error_answer_above_the_cap_is_not_retried(raw_server, make_client, tokens):
    server = raw_server('endless_unsized')
    server.status = 503
    client = make_client(api_url=server.url, access_token=tokens.access, max_response_size=2048, retries=3)

    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert 'HTTP 503' in info.value.msg and 'max_response_size' in info.value.msg
    assert server.requests == 1


def test_an_answer_of_exactly_the_cap_is_read_and_keeps_its_connection(api, make_client, tokens):
    body = {'count': 0, 'tickets': [], '_links': {}, 'pad': ''}
    body['pad'] = 'p' * (2048 - len(json.dumps(body)))
    api.on('GET', '/tickets', (200, body))
    client = make_client(access_token=tokens.access, max_response_size=2048)

    assert client.request('GET', '/tickets') == (200, body)
    assert client.request('GET', '/tickets') == (200, body)
    # Read to its end, the answer left its connection for the next request.
    assert len(api.connections()) == 1

    client = make_client(access_token=tokens.access, max_response_size=2047)
    with pytest.raises(ResponseLostError, match='max_response_size'):
        client.request('GET', '/tickets')


def test_the_default_cap_is_ten_mib(make_client):
    assert make_client().max_response_size == 10 * 1024 * 1024


@pytest.mark.parametrize('framing', ['chunked', 'unsized'])
def test_a_slow_endless_answer_ends_at_the_timeout_with_or_without_a_length(raw_server, make_client, tokens, framing):
    # Without a length, http.client lets go of the socket as soon as the headers say Connection: close: the watchdog
    # must still find it, or a byte every 0.1 s holds the run for ever.
    server = raw_server('endless_' + framing)
    server.interval = 0.1
    client = make_client(api_url=server.url, access_token=tokens.access, timeout=0.5, retries=0)

    started = time.monotonic()
    with pytest.raises(ResponseLostError) as info:
        client.request('GET', '/tickets')

    assert time.monotonic() - started < 3
    assert 'within 0.5 s' in info.value.msg
