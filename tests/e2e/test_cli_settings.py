# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Upsun CLI's settings, end to end (issue 24): both variable families and the config-key spellings, the URLs
read from the token's family, the trust store (SSL_CERT_FILE) over TLS, tokens trimmed, the API's field messages
named by option, access tokens exchanged again before they expire, and credentials in URLs never shown (issue 22).

Each run is an ad hoc ``ansible localhost -m upsun.support.ticket`` against a sandbox started by the test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import subprocess

import pytest

from helpers import adhoc_result, ansible_env, closed_port_url, one_line, run_adhoc  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import
from upsun_sandbox import self_signed_certificate  # pylint: disable=import-error

TICKET = 'upsun.support.ticket'
NEW = {'subject': 'Nightly deploy failed', 'description': 'disk full on web1', 'priority': 'high'}
# Bounds the runs that would otherwise try the real api.upsun.com (offline here: it fails fast anyway).
BOUNDED = dict(NEW, retries=0, deadline=15)
# Variables of a CI image or a developer's shell that would change what is trusted.
TLS_VARIABLES = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR')
PROXY_VARIABLES = ('HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy')


def environment(tmp_path, sandbox_client=None, **variables):
    """A run's environment: none of the caller's Upsun, TLS or proxy variables; ``variables`` added."""
    env = ansible_env(sandbox_client, home=tmp_path / 'ansible-home')
    for name in TLS_VARIABLES + PROXY_VARIABLES:
        env.pop(name, None)
    env.update((name, str(value)) for name, value in variables.items())
    return env


def file_ticket(env, module_args=None, args=()):
    run = run_adhoc(TICKET, module_args or NEW, env, args=args, timeout=120)
    return run, adhoc_result(run.stdout)


# --- both families, the config-key spellings, the URLs of the token's family ----------------------------------------


def test_a_platformsh_token_goes_to_the_platformsh_urls_not_the_upsun_ones(sandbox, tmp_path):
    elsewhere = closed_port_url()
    env = environment(tmp_path, PLATFORMSH_CLI_TOKEN=sandbox.api_token, PLATFORMSH_CLI_API_URL=sandbox.url,
                      PLATFORMSH_CLI_AUTH_URL=sandbox.url, UPSUN_CLI_API_URL=elsewhere, UPSUN_CLI_AUTH_URL=elsewhere)

    run, result = file_ticket(env, BOUNDED)

    assert run.returncode == 0, run.stdout + run.stderr
    assert result['changed'] is True and len(sandbox.tickets()) == 1
    assert len(sandbox.journal(method='POST', path='/oauth2/token')) == 1


def test_an_upsun_token_never_goes_to_the_platformsh_urls(sandbox, tmp_path):
    env = environment(tmp_path, UPSUN_CLI_TOKEN=sandbox.api_token, UPSUN_CLI_API_URL=sandbox.url,
                      UPSUN_CLI_AUTH_URL=sandbox.url, PLATFORMSH_CLI_TOKEN='token-for-another-api',
                      PLATFORMSH_CLI_API_URL=closed_port_url(), PLATFORMSH_CLI_AUTH_URL=closed_port_url())

    run, dummy = file_ticket(env, BOUNDED)

    assert run.returncode == 0, run.stdout + run.stderr
    assert len(sandbox.tickets()) == 1


@pytest.mark.parametrize('family', ['UPSUN_CLI_', 'PLATFORMSH_CLI_'])
def test_the_config_key_spellings_of_the_urls_are_read(sandbox, tmp_path, family):
    env = environment(tmp_path, **{family + 'TOKEN': sandbox.api_token, family + 'API_BASE_URL': sandbox.url,
                                   family + 'API_AUTH_URL': sandbox.url, family + 'API_DEFAULT_TIMEOUT': '20'})

    run, dummy = file_ticket(env, BOUNDED)

    assert run.returncode == 0, run.stdout + run.stderr
    assert len(sandbox.tickets()) == 1


# --- the trust store: SSL_CERT_FILE over TLS -------------------------------------------------------------------------


@pytest.fixture
def tls_sandbox(sandbox_factory, tmp_path):
    """An HTTPS sandbox (self-signed), and a CA file that does not sign its certificate."""
    client = sandbox_factory(tls=True)
    other, dummy = self_signed_certificate(tmp_path / 'other-ca')
    return client, str(other)


def test_ssl_cert_file_is_trusted_as_by_the_cli(tls_sandbox, tmp_path):
    client, dummy = tls_sandbox

    run, result = file_ticket(environment(tmp_path, client, SSL_CERT_FILE=client.ca_file))

    assert run.returncode == 0, run.stdout + run.stderr
    assert result['changed'] is True and len(client.tickets()) == 1


def test_ssl_cert_dir_is_trusted_as_by_the_cli(tls_sandbox, tmp_path):
    # A hashed directory, as OpenSSL reads it (openssl rehash names the links <subject hash>.0).
    client, dummy = tls_sandbox
    directory = tmp_path / 'certs'
    directory.mkdir()
    shutil.copy(client.ca_file, str(directory / 'sandbox.pem'))
    subprocess.run(['openssl', 'rehash', str(directory)], check=True, capture_output=True)

    run, result = file_ticket(environment(tmp_path, client, SSL_CERT_DIR=directory))

    assert run.returncode == 0, run.stdout + run.stderr
    assert result['changed'] is True and len(client.tickets()) == 1


def test_an_untrusted_certificate_names_what_was_trusted(tls_sandbox, tmp_path):
    client, other = tls_sandbox

    run, result = file_ticket(environment(tmp_path, client, SSL_CERT_FILE=other))

    assert run.returncode == 2, run.stdout + run.stderr
    assert 'TLS verification failed' in result['msg']
    assert 'Trusted: the CA certificates of SSL_CERT_FILE ({0})'.format(other) in result['msg']
    assert client.tickets() == []


def test_requests_ca_bundle_still_comes_before_ssl_cert_file(tls_sandbox, tmp_path):
    client, other = tls_sandbox

    run, dummy = file_ticket(environment(tmp_path, client, REQUESTS_CA_BUNDLE=client.ca_file, SSL_CERT_FILE=other))
    assert run.returncode == 0, run.stdout + run.stderr

    run, result = file_ticket(environment(tmp_path, client, REQUESTS_CA_BUNDLE=other, SSL_CERT_FILE=client.ca_file))
    assert run.returncode == 2 and 'REQUESTS_CA_BUNDLE' in result['msg']
    assert len(client.tickets()) == 1


# --- tokens trimmed ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('padding', ['\n', '\r\n', '  \t'])
def test_a_token_with_a_trailing_newline_works(sandbox, tmp_path, padding):
    env = environment(tmp_path, sandbox, UPSUN_CLI_TOKEN=sandbox.api_token + padding)

    run, result = file_ticket(env)

    assert run.returncode == 0, run.stdout + run.stderr
    assert result['changed'] is True and len(sandbox.tickets()) == 1


def test_a_token_with_inner_whitespace_is_refused_before_any_request(sandbox, tmp_path):
    broken = sandbox.api_token[:6] + '\n' + sandbox.api_token[6:]

    run, result = file_ticket(environment(tmp_path, sandbox, UPSUN_CLI_TOKEN=broken))

    assert run.returncode == 2, run.stdout + run.stderr
    assert result['msg'].startswith('api_token holds whitespace or control characters inside the token')
    assert 'UPSUN_CLI_TOKEN' in result['msg']
    assert sandbox.api_token[6:] not in run.stdout + run.stderr
    assert sandbox.journal() == []


# --- the API's field messages, with the option ------------------------------------------------------------------------


def test_a_400_whose_detail_names_a_field_names_the_option(sandbox, tmp_path):
    detail = {'requester_id': 'This user does not exist.', 'attachments[0].filename': 'This value should not be blank.'}
    sandbox.fault('/tickets', method='POST', status=400, body={'error': 'Bad Request', 'detail': detail})

    run, result = file_ticket(environment(tmp_path, sandbox))

    assert run.returncode == 2, run.stdout + run.stderr
    msg = one_line(result['msg'])
    assert 'the requester_id option: This user does not exist.' in msg
    assert 'the attachments option (attachments[0].filename): This value should not be blank.' in msg
    assert 'check the option the message names' not in msg
    assert sandbox.tickets() == []


# --- access tokens exchanged again before they expire -----------------------------------------------------------------


def test_an_access_token_is_exchanged_again_before_it_expires_not_after_a_401(sandbox_factory, tmp_path):
    # Tokens live 2 s; the dedupe search is answered 2.5 s after it arrived, so the create comes after the first
    # token expired. Exchanged again ahead of time, no request is refused.
    client = sandbox_factory('--token-lifetime', '2')
    client.fault('/tickets', 'latency', method='GET', delay=2.5)

    run, result = file_ticket(environment(tmp_path, client), dict(NEW, dedupe_key='nightly-deploy'))

    assert run.returncode == 0, run.stdout + run.stderr
    assert result['changed'] is True and len(client.tickets()) == 1
    statuses = [(entry['method'], entry['path'], entry['status']) for entry in client.journal()]
    assert 401 not in [status for dummy, dummy, status in statuses], statuses
    assert [entry for entry in statuses if entry[1] == '/oauth2/token'] == [('POST', '/oauth2/token', 200)] * 2


# --- credentials in URLs are never shown ------------------------------------------------------------------------------


@pytest.mark.parametrize('how', ['option', 'UPSUN_CLI_API_URL'])
def test_credentials_in_api_url_are_never_shown(sandbox, tmp_path, how):
    closed = closed_port_url()
    url = closed.replace('http://', 'http://robot:hunter2-SECRET@')
    env = environment(tmp_path, sandbox, UPSUN_CLI_AUTH_URL=url)
    module_args = dict(NEW, retries=0)
    if how == 'option':
        module_args['api_url'] = url
    else:
        env['UPSUN_CLI_API_URL'] = url

    run, result = file_ticket(env, module_args, args=('-vvvv',))

    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert 'hunter2-SECRET' not in output and 'robot' not in result['msg']
    assert closed[len('http://'):] in result['msg']
    assert 'Could not connect' in result['msg']
