# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module when things go wrong, ad hoc against the sandbox: bad input, bad token, retries, lost answers,
expired access tokens, and check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import urllib.parse
import urllib.request

import pytest

from helpers import adhoc_result, ansible_env, one_line, run_adhoc  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

MODULE = 'upsun.support.ticket'
TICKET = "subject='Deploy of release 42 failed' description='See the CI log' priority=high"


def adhoc(sandbox_client, tmp_path, module_args=TICKET, args=(), **env):
    return run_adhoc(MODULE, module_args, ansible_env(sandbox_client, home=tmp_path / 'ansible-home', **env), args=args)


def requests_sent(sandbox_client):
    return [(entry['method'], entry['path'], entry['status']) for entry in sandbox_client.journal()]


@pytest.mark.parametrize('option, value, allowed', [
    ('priority', 'critical', 'low, normal, high, urgent'),
    ('category', 'outage', 'access, billing_question, complaint, compliance_question, configuration_change, general_question, '
                           'incident_outage, bug_report, report_a_gui_bug, onboarding, close_my_account'),
])
def test_invalid_choice_fails_before_any_request(sandbox, tmp_path, option, value, allowed):
    run = adhoc(sandbox, tmp_path, "subject=s description=d {0}={1}".format(option, value))
    assert run.returncode == 2, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    assert result['msg'] == 'value of {0} must be one of: {1}, got: {2}'.format(option, allowed, value)
    assert sandbox.journal() == []
    assert sandbox.tickets() == []


def test_refused_api_token_names_the_variable_and_is_never_shown(sandbox, tmp_path):
    token = 'wrong-token-SECRET-4f7c1a9e2b'
    run = adhoc(sandbox, tmp_path, args=['-vvvv'], UPSUN_CLI_TOKEN=token)
    assert run.returncode == 2, run.stdout + run.stderr
    message = adhoc_result(run.stdout)['msg']
    assert 'refused the API token from the UPSUN_CLI_TOKEN environment variable' in message
    assert 'HTTP 400' in message
    assert token not in run.stdout + run.stderr
    # -vvvv shows the module's arguments: a token read from the environment is not one of them (the module reads the
    # environment itself).
    assert '"module_args": {' in run.stdout
    assert '"api_token": null' in run.stdout
    assert requests_sent(sandbox) == [('POST', '/oauth2/token', 400)]
    assert sandbox.tickets() == []


@pytest.mark.parametrize('status, retry_after', [(429, 1), (503, None)])
def test_refused_create_is_retried_once_and_files_one_ticket(sandbox, tmp_path, status, retry_after):
    sandbox.fault('/tickets', method='POST', status=status, retry_after=retry_after)
    run = adhoc(sandbox, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    [ticket] = sandbox.tickets()
    assert adhoc_result(run.stdout)['ticket']['ticket_id'] == ticket['ticket_id']
    assert requests_sent(sandbox) == [('POST', '/oauth2/token', 200), ('POST', '/tickets', status), ('POST', '/tickets', 200)]
    warning = '[WARNING]: Upsun API: POST /tickets answered HTTP {0}; retry 1 of 3 in {1} s.'.format(status, retry_after or 0)
    assert warning in one_line(run.stderr)


def test_lost_answer_without_dedupe_key_fails_saying_the_ticket_may_exist(sandbox, tmp_path):
    sandbox.fault('/tickets', 'create_then_drop', method='POST')
    run = adhoc(sandbox, tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    message = adhoc_result(run.stdout)['msg']
    assert message.startswith('The ticket may have been created, but its answer was lost')
    assert 'set dedupe_key' in message
    assert len(sandbox.tickets()) == 1
    assert [entry['path'] for entry in sandbox.journal(method='POST')] == ['/oauth2/token', '/tickets']


def exchange(sandbox_client):
    """An access token from the sandbox, as the module would get it."""
    request = urllib.request.Request(
        sandbox_client.url + '/oauth2/token',
        data=urllib.parse.urlencode(dict(grant_type='api_token', api_token=sandbox_client.api_token)).encode('ascii'),
        headers={'Authorization': 'Basic ' + base64.b64encode(b'platform-api-user:').decode('ascii')})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())['access_token']


def test_expired_access_token_is_exchanged_once_more(sandbox, tmp_path):
    """access_token has expired: the API answers 401, the module exchanges api_token once and sends again."""
    access_token = exchange(sandbox)
    assert sandbox.expire_tokens() == 1
    sandbox.clear_journal()
    run = adhoc(sandbox, tmp_path, TICKET + ' access_token=' + access_token)
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(sandbox.tickets()) == 1
    assert requests_sent(sandbox) == [('POST', '/tickets', 401), ('POST', '/oauth2/token', 200), ('POST', '/tickets', 200)]
    assert access_token not in run.stdout + run.stderr


def test_check_mode_sends_nothing(sandbox, tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_bytes(b'x' * 1234)
    module_args = dict(subject='Deploy failed', description='See the log', priority='high', dedupe_key='deploy-42',
                       attachments=[dict(path=str(log))])
    run = adhoc(sandbox, tmp_path, module_args, args=['--check', '--diff'])
    assert run.returncode == 0, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    assert result['changed'] is True
    assert result['msg'] == 'Would file an Upsun ticket (check mode): nothing was sent.'
    assert result['payload']['attachments'] == [dict(filename='deploy.log', size=1234)]
    assert result['payload']['priority'] == 'high'
    # With a dedupe_key, check mode reads (is a ticket already tracking it?) to tell the truth, and writes nothing.
    assert [(entry['method'], entry['path']) for entry in sandbox.journal()] == [('POST', '/oauth2/token'), ('GET', '/tickets')]
    assert sandbox.tickets() == []
