# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules against a sandbox over TLS with a CA bundle in the environment, through proxies and redirects, and
with inputs that must be refused before any request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from helpers import one_line, run_adhoc  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import
from upsun_sandbox import ForwardProxy, self_signed_certificate  # pylint: disable=import-error
from network_runs import INFO, NEW, TICKET, environment, result_of, timed  # pylint: disable=import-error


# --- TLS and proxies ------------------------------------------------------------------------------------------------


@pytest.fixture
def tls_sandbox(sandbox_factory, tmp_path):
    """An HTTPS sandbox, and the path of another CA that does not sign its certificate."""
    client = sandbox_factory(tls=True)
    other, dummy = self_signed_certificate(tmp_path / 'other-ca')
    return client, str(other)


def file_over_tls(sandbox_client, tmp_path, module_args=None, **env):
    return timed(TICKET, module_args or dict(NEW), environment(sandbox_client, tmp_path, **env))


def test_tls_with_the_ca_bundle_from_requests_ca_bundle(tls_sandbox, tmp_path):
    client, dummy = tls_sandbox
    seconds, run = file_over_tls(client, tmp_path, REQUESTS_CA_BUNDLE=client.ca_file)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'validate_certs' not in run.stderr
    assert seconds < 30 and len(client.tickets()) == 1


def test_tls_fails_clearly_against_an_untrusted_certificate(tls_sandbox, tmp_path):
    client, other = tls_sandbox
    run = file_over_tls(client, tmp_path, REQUESTS_CA_BUNDLE=other)[1]
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'TLS verification failed' in result_of(run)['msg']
    assert client.tickets() == []


@pytest.mark.parametrize('variable', ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE'])
def test_ca_path_holds_whatever_the_ca_bundle_variables_say(tls_sandbox, tmp_path, variable):
    client, other = tls_sandbox
    seconds, run = file_over_tls(client, tmp_path, dict(NEW, ca_path=client.ca_file), **{variable: other})
    assert run.returncode == 0, run.stdout + run.stderr
    assert seconds < 30 and len(client.tickets()) == 1
    # And the other way round: a wrong ca_path is not rescued by a right bundle in the environment.
    run = file_over_tls(client, tmp_path, dict(NEW, ca_path=other), **{variable: client.ca_file})[1]
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'TLS verification failed' in result_of(run)['msg']
    assert len(client.tickets()) == 1


@pytest.mark.parametrize('how', ['option', 'UPSUN_CLI_SKIP_SSL'])
def test_validate_certs_false_holds_and_warns(tls_sandbox, tmp_path, how):
    client, other = tls_sandbox
    if how == 'option':
        seconds, run = file_over_tls(client, tmp_path, dict(NEW, validate_certs=False), REQUESTS_CA_BUNDLE=other,
                                     CURL_CA_BUNDLE=other)
    else:
        seconds, run = file_over_tls(client, tmp_path, REQUESTS_CA_BUNDLE=other, CURL_CA_BUNDLE=other, UPSUN_CLI_SKIP_SSL=1)
    assert run.returncode == 0, run.stdout + run.stderr
    warning = one_line(run.stderr)
    assert '[WARNING]: validate_certs is false' in warning
    assert 'TLS certificates' in warning and 'are not checked' in warning
    if how == 'UPSUN_CLI_SKIP_SSL':
        assert 'UPSUN_CLI_SKIP_SSL' in warning
    # urllib3's own InsecureRequestWarning is not printed on top of it.
    assert 'InsecureRequestWarning' not in run.stdout + run.stderr
    assert seconds < 30 and len(client.tickets()) == 1


def test_https_proxy_tunnels_the_requests_and_no_proxy_bypasses_it(tls_sandbox, tmp_path):
    client, dummy = tls_sandbox
    host_port = client.url.split('://', 1)[1]
    with ForwardProxy() as proxy:
        seconds, run = file_over_tls(client, tmp_path, REQUESTS_CA_BUNDLE=client.ca_file, HTTPS_PROXY=proxy.url)
        assert run.returncode == 0, run.stdout + run.stderr
        tunnels = proxy.requests()
        assert tunnels and set((item['method'], item['target']) for item in tunnels) == {('CONNECT', host_port)}
        run = file_over_tls(client, tmp_path, REQUESTS_CA_BUNDLE=client.ca_file, HTTPS_PROXY=proxy.url,
                            NO_PROXY='127.0.0.1')[1]
        assert run.returncode == 0, run.stdout + run.stderr
        assert proxy.requests() == tunnels
    assert seconds < 30 and len(client.tickets()) == 2


def test_http_proxy_forwards_plain_http(sandbox, tmp_path):
    with ForwardProxy() as proxy:
        run = run_adhoc(TICKET, dict(NEW), environment(sandbox, tmp_path, HTTP_PROXY=proxy.url))
        assert run.returncode == 0, run.stdout + run.stderr
        targets = [item['target'] for item in proxy.requests()]
    assert targets and all(target.startswith(sandbox.url + '/') for target in targets)
    assert len(sandbox.tickets()) == 1


def test_an_unreachable_proxy_is_named(sandbox, tmp_path):
    from helpers import closed_port_url  # pylint: disable=import-error

    seconds, run = timed(TICKET, dict(NEW, retries=0), environment(sandbox, tmp_path, HTTP_PROXY=closed_port_url()))
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'HTTPS_PROXY/HTTP_PROXY/NO_PROXY' in result_of(run)['msg']
    assert seconds < 30 and sandbox.tickets() == []


@pytest.mark.parametrize('path, status', [('/oauth2/token', 307), ('/tickets', 308), ('/tickets', 301)])
def test_a_redirect_is_not_followed_with_the_token_or_the_ticket(sandbox, tmp_path, path, status):
    # The same sandbox under another host name: a followed redirect would show as a second request in its journal.
    elsewhere = sandbox.url.replace('127.0.0.1', 'localhost') + path
    sandbox.fault(path, method='POST', status=status, location=elsewhere)
    seconds, run = timed(TICKET, dict(NEW), environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    msg = result_of(run)['msg']
    assert 'with HTTP {0}{1}, a redirect to {2}: it is not followed'.format(
        status, ' for the token exchange' if path == '/oauth2/token' else '', elsewhere) in msg
    sent = [('POST', '/oauth2/token')] + ([('POST', '/tickets')] if path == '/tickets' else [])
    assert [(entry['method'], entry['path']) for entry in sandbox.journal()] == sent
    assert sandbox.api_token not in run.stdout + run.stderr
    assert seconds < 30 and sandbox.tickets() == []


# --- attachments and inputs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize('path', ['/proc/self/environ', 'link-to-environ'])
def test_files_of_proc_are_never_attached(sandbox, tmp_path, path):
    if path == 'link-to-environ':
        link = tmp_path / 'deploy.log'
        link.symlink_to('/proc/self/environ')
        path = str(link)
    run = run_adhoc(TICKET, dict(NEW, attachments=[{'path': path}]), environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    message = result_of(run)['msg']
    assert repr(path) in message and 'under /proc' in message
    assert sandbox.api_token not in run.stdout + run.stderr
    assert sandbox.journal() == [] and sandbox.tickets() == []


@pytest.mark.parametrize('filename', ['../deploy.log', 'deploy\n.log', '..'])
def test_a_given_attachment_filename_with_dots_or_control_characters_is_refused(sandbox, tmp_path, filename):
    run = run_adhoc(TICKET, dict(NEW, attachments=[{'content': 'x', 'filename': filename}]), environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'attachments[0].filename' in result_of(run)['msg']
    assert sandbox.journal() == [] and sandbox.tickets() == []


@pytest.mark.parametrize('value', ['', '   '])
def test_an_empty_or_blank_dedupe_key_fails_naming_it(sandbox, tmp_path, value):
    run = run_adhoc(TICKET, dict(NEW, dedupe_key=value), environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    assert result_of(run)['msg'].startswith('dedupe_key must not be empty or blank')
    assert sandbox.journal() == [] and sandbox.tickets() == []


@pytest.mark.parametrize('module, options', [
    (TICKET, {'ticket_id': 0, 'status': 'solved'}),
    (TICKET, {'ticket_id': -3, 'status': 'solved'}),
    (INFO, {'ticket_id': 0}),
])
def test_a_ticket_id_of_0_or_less_fails_before_any_request(sandbox, tmp_path, module, options):
    run = run_adhoc(module, options, environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    assert result_of(run)['msg'] == 'ticket_id must be a positive ticket number, got {0}.'.format(options['ticket_id'])
    assert sandbox.journal() == []


@pytest.mark.parametrize('module_args', [
    "subject=s description=d attachments=file.log",
    {'subject': 's', 'description': 'd', 'attachments': 'file.log'},
    {'subject': 's', 'description': 'd', 'attachments': ['file.log']},
    {'subject': 's', 'description': 'd', 'attachments': {'path': 'file.log'}},
])
def test_attachments_of_the_wrong_type_fail_naming_attachments(sandbox, tmp_path, module_args):
    run = run_adhoc(TICKET, module_args, environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    message = result_of(run)['msg']
    assert message.startswith('attachments'), message
    assert 'path, content or data' in message
    assert sandbox.journal() == [] and sandbox.tickets() == []


def test_attachments_options_are_still_checked(sandbox, tmp_path):
    for item, words in (({'content': 'x'}, ['attachments[0]', 'filename']),
                        ({'path': '/etc/hostname', 'content': 'x'}, ['attachments[0]', 'only one of path, content or data']),
                        ({}, ['attachments[0]', 'one of path, content or data']),
                        ({'path': '/etc/hostname', 'colour': 'red'}, ['attachments[0]', 'colour'])):
        run = run_adhoc(TICKET, dict(NEW, attachments=[item]), environment(sandbox, tmp_path))
        assert run.returncode == 2, run.stdout + run.stderr
        for word in words:
            assert word in result_of(run)['msg'], (item, result_of(run)['msg'])
    log = tmp_path / 'deploy.log'
    log.write_text('line 1\n')
    run = run_adhoc(TICKET, dict(NEW, attachments=[{'path': str(log)}, {'content': 'c', 'filename': 'c.txt'}]),
                    environment(sandbox, tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    [stored] = sandbox.tickets()
    assert [item['filename'] for item in stored['attachments']] == ['deploy.log', 'c.txt']
