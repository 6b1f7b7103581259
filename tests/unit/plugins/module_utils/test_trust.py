# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What TLS certificates are checked against: the certificate options, the variables, the trust store."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils import trust
from ansible_collections.upsun.support.plugins.module_utils.errors import TransportError
from ansible_collections.upsun.support.tests.unit.fake_api import TICKETS, assert_no_secret


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


# --- trust store: what certificates are checked against (issue 24) ----------------------------------------------------


@pytest.fixture
def system_store(monkeypatch):
    """The operating system's store as truststore would give it (a marker context), whether or not it is installed."""
    import ssl

    context = ssl.create_default_context()
    monkeypatch.setattr(trust, '_system_context', lambda: context)
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

    got, context, what = trust.trust_store(validate_certs, ca_path, environ)

    assert (got, context) == (verify, None)
    assert trusted in what


def test_ssl_cert_file_and_dir_come_before_the_system_store(system_store, ca_file, tmp_path):
    got, context, what = trust.trust_store(True, None, dict(SSL_CERT_FILE=ca_file, SSL_CERT_DIR=str(tmp_path)))

    assert got is True and context is not system_store
    # The context trusts that file's CAs, and nothing else (not the rest of certifi, not the system store).
    assert len(context.get_ca_certs()) == 3
    assert 'SSL_CERT_FILE ({0})'.format(ca_file) in what and 'SSL_CERT_DIR' in what


def test_the_system_store_comes_before_certifi(system_store):
    assert trust.trust_store(True, None, {}) == (True, system_store, "the operating system's trust store (truststore)")


def test_certifi_is_the_last_resort(monkeypatch):
    monkeypatch.setattr(trust, '_system_context', lambda: None)
    assert trust.trust_store(True, None, {}) == (True, None, "requests' CA bundle (certifi)")


def test_without_truststore_there_is_no_system_context(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, 'truststore', None)
    assert trust._system_context() is None


def test_a_bad_ssl_cert_file_is_named(tmp_path):
    from ansible_collections.upsun.support.plugins.module_utils.errors import InputError

    with pytest.raises(InputError) as info:
        trust.trust_store(True, None, dict(SSL_CERT_FILE=str(tmp_path / 'missing.pem')))
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
    monkeypatch.setattr(trust, '_system_context', lambda: None)
    tls_url = api.url.replace('http://', 'https://')

    with pytest.raises(TransportError) as info:
        make_client(api_url=tls_url, access_token=tokens.access).request('GET', '/tickets')

    assert info.value.msg.endswith("Trusted: requests' CA bundle (certifi).")
