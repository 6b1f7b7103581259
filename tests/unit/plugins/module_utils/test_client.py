# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP client: sessions, requests and answers (read within a size cap), identity, credentials never shown."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import threading
import time

import pytest
import yaml

from ansible_collections.upsun.support.plugins.module_utils.constants import COLLECTION_NAME, COLLECTION_VERSION
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    ResponseLostError,
    TransportError,
)
from ansible_collections.upsun.support.tests.unit.fake_api import TICKET, TICKETS


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
