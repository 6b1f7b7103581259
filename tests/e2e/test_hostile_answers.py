# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hostile answers and inputs against the sandbox: an answer that never ends costs neither memory nor time, every
way a create can be lost says the ticket may exist, and numbers or UUIDs that no request could use are refused (or
normalised) before any request.

Memory is the peak RSS of the whole ``ansible`` process tree (the controller, its worker and the module), read
from the kernel when the run ends: it includes the module's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import time

import pytest

from helpers import BIN_DIR, REPO_ROOT, adhoc_result, files_under, one_line, run_adhoc, run_playbook, write  # pylint: disable=import-error
from test_callback_and_role_under_faults import CALLBACK, FAILING, env_for, spooled  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

TICKET = 'upsun.support.ticket'
INFO = 'upsun.support.ticket_info'
NEW = {'subject': 'Nightly deploy failed', 'description': 'disk full on web1'}
UUID = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
# The bound for the module's peak memory on an endless answer.
MAX_RSS_BYTES = 200 * 1024 * 1024


def peak_rss_of(module, module_args, env, timeout=120):
    """Run the ad hoc command in a helper Python that reports the peak RSS of its descendants (Linux: KiB)."""
    executable = BIN_DIR / 'ansible'
    command = [str(executable) if executable.exists() else 'ansible', 'localhost', '-m', module, '-a', json.dumps(module_args)]
    helper = ('import json, resource, subprocess, sys, time\n'
              'started = time.monotonic()\n'
              'run = subprocess.run(json.loads(sys.argv[1]), stdin=subprocess.DEVNULL, capture_output=True, text=True)\n'
              'print(json.dumps(dict(seconds=time.monotonic() - started, returncode=run.returncode, stdout=run.stdout,'
              ' stderr=run.stderr, maxrss_kib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))\n')
    done = subprocess.run([str(BIN_DIR / 'python') if (BIN_DIR / 'python').exists() else 'python3', '-c', helper,
                           json.dumps(command)], env=env, cwd=str(REPO_ROOT), capture_output=True, text=True,
                          timeout=timeout, check=True)
    report = json.loads(done.stdout)
    return report['seconds'], report['maxrss_kib'] * 1024, report


# --- answers that never end -------------------------------------------------------------------------------------------


@pytest.mark.parametrize('action', ['endless_chunked', 'endless_unsized'])
def test_an_endless_listing_fails_at_the_cap_in_bounded_time_and_memory(sandbox, tmp_path, action):
    sandbox.add_ticket(subject='Seeded', description='disk full')
    sandbox.fault('/tickets', action, method='GET', count=10)
    # The default timeout (30 s) and cap (10 MiB): the cap, not the timeout, ends it.
    seconds, rss, report = peak_rss_of(INFO, {'fetch': ['tickets']}, env_for(sandbox, tmp_path))

    assert report['returncode'] == 2, report['stdout'] + report['stderr']
    message = adhoc_result(report['stdout'])['msg']
    assert 'GET {0}/tickets'.format(sandbox.url) in message
    assert 'more than max_response_size (10485760 bytes; UPSUN_SUPPORT_MAX_RESPONSE_SIZE)' in message
    assert seconds < 25, seconds
    assert rss < MAX_RSS_BYTES, rss
    # Not retried: one request, and the sandbox serves on.
    assert len(sandbox.journal(method='GET', path='/tickets')) == 1
    assert len(sandbox.tickets()) == 1


def test_an_endless_answer_to_the_create_says_the_ticket_may_exist(sandbox, tmp_path):
    sandbox.fault('/tickets', 'endless_chunked', method='POST')
    seconds, rss, report = peak_rss_of(TICKET, dict(NEW, max_response_size=1048576), env_for(sandbox, tmp_path))

    assert report['returncode'] == 2, report['stdout'] + report['stderr']
    result = adhoc_result(report['stdout'])
    assert result['may_exist'] is True
    assert result['msg'].startswith('The ticket may have been created')
    assert 'max_response_size (1048576 bytes' in result['msg']
    assert seconds < 25, seconds
    assert rss < MAX_RSS_BYTES, rss
    assert len(sandbox.journal(method='POST', path='/tickets')) == 1
    assert len(sandbox.tickets()) == 1


def test_a_slow_endless_answer_ends_at_the_timeout(sandbox, tmp_path):
    # 1 KiB every 0.1 s never reaches the cap within the timeout: the timeout ends it, as before.
    sandbox.fault('/tickets', 'endless_unsized', method='GET', chunk=1024, interval=0.1, count=10)
    started = time.monotonic()
    run = run_adhoc(INFO, {'timeout': 3, 'retries': 0}, env_for(sandbox, tmp_path))

    assert run.returncode == 2, run.stdout + run.stderr
    assert 'within 3 s' in adhoc_result(run.stdout)['msg']
    assert time.monotonic() - started < 30


# --- every way a create can be lost is "may exist" ------------------------------------------------------------------


def test_an_unreadable_200_to_the_create_says_the_ticket_may_exist(sandbox, tmp_path):
    sandbox.fault('/tickets', 'unreadable', method='POST')
    run = run_adhoc(TICKET, NEW, env_for(sandbox, tmp_path))

    assert run.returncode == 2, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    assert result['may_exist'] is True and result['status'] == 200
    assert 'HTTP 200 but a body that is not JSON' in result['msg']
    assert len(sandbox.journal(method='POST', path='/tickets')) == 1
    assert len(sandbox.tickets()) == 1


def test_the_role_without_dedupe_spools_an_unreadable_create_as_may_exist(sandbox, tmp_path):
    sandbox.fault('/tickets', 'unreadable', method='POST')
    play = [{'name': 'Deploy the shop', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Deploy', 'block': [{'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed'}}],
         'rescue': [{'name': 'File a ticket', 'ansible.builtin.include_role': {'name': 'upsun.support.deploy_failure_ticket'},
                     'vars': {'deploy_failure_ticket_dedupe': False}}]}]}]
    run = run_playbook(write(tmp_path / 'deploy.yml', json.dumps(play)), 'localhost,', env_for(sandbox, tmp_path),
                       args=['-c', 'local'], timeout=170)

    assert run.returncode == 2, run.stdout + run.stderr
    record = spooled(tmp_path)
    assert record['source'] == 'role' and record['may_exist'] is True
    assert not record['ticket'].get('dedupe_key')
    assert 'not JSON' in record['error']
    # The ticket exists: one POST, one ticket; the record says the flush must look for it first.
    assert len(sandbox.journal(method='POST', path='/tickets')) == 1
    assert len(sandbox.tickets()) == 1


def test_the_callback_finds_the_ticket_of_an_unreadable_create_by_its_dedupe_key(sandbox, tmp_path):
    # The callback files with a dedupe key: after an answer that may hide a ticket, it searches instead of posting
    # again, and finds it.
    sandbox.fault('/tickets', 'unreadable', method='POST')
    env = env_for(sandbox, tmp_path, ANSIBLE_CALLBACKS_ENABLED=CALLBACK)
    run = run_playbook(write(tmp_path / 'nightly.yml', FAILING), 'localhost,', env, args=['-c', 'local'], timeout=170)

    assert run.returncode == 2, run.stdout + run.stderr
    output = one_line(run.stdout + run.stderr)
    assert 'ticket 1001 carries the dedupe_key, so it was filed' in output
    assert 'filed Upsun ticket 1001' in output
    assert files_under(tmp_path / 'home' / '.ansible' / 'upsun_support_spool') == []
    methods = [entry['method'] for entry in sandbox.journal(path='/tickets')]
    assert methods.count('POST') == 1 and methods[-1] == 'GET'
    assert len(sandbox.tickets()) == 1


# --- options checked before any request ------------------------------------------------------------------------------


@pytest.mark.parametrize('options, words', [
    ({'timeout': 'inf'}, ['timeout must be a number of seconds above 0, at most 3600', 'got inf']),
    ({'deadline': 1e308}, ['deadline must be a number of seconds above 0, at most 86400']),
    ({'retries': 10 ** 30}, ['retries must be from 0 to 100']),
    ({'max_response_size': 10}, ['max_response_size must be a number of bytes from 1024 to 1073741824', 'got 10']),
    ({'collaborator_ids': [UUID, 'urn:uuid:{' + UUID + '}']}, ['collaborator_ids[1] must be a UUID']),
    ({'requester_id': '{' + UUID}, ['requester_id must be a UUID']),
], ids=['timeout-inf', 'deadline-1e308', 'retries-huge', 'size-tiny', 'collaborator-braced-urn', 'requester-half-braced'])
def test_a_bad_value_is_refused_naming_the_option_before_any_request(sandbox, tmp_path, options, words):
    run = run_adhoc(TICKET, dict(NEW, **options), env_for(sandbox, tmp_path))

    assert run.returncode == 2, run.stdout + run.stderr
    message = adhoc_result(run.stdout)['msg']
    for word in words:
        assert word in message
    assert 'time_t' not in message and 'Traceback' not in run.stdout + run.stderr
    assert sandbox.journal() == []
    assert sandbox.tickets() == []


@pytest.mark.parametrize('variable, value', [('UPSUN_CLI_DEFAULT_TIMEOUT', 'inf'), ('UPSUN_SUPPORT_DEADLINE', '1e308')])
def test_the_callback_names_an_infinite_number_from_the_environment_before_any_request(sandbox, tmp_path, variable, value):
    env = env_for(sandbox, tmp_path, ANSIBLE_CALLBACKS_ENABLED=CALLBACK, **{variable: value})
    run = run_playbook(write(tmp_path / 'nightly.yml', FAILING), 'localhost,', env, args=['-c', 'local'], timeout=170)

    assert run.returncode == 2, run.stdout + run.stderr
    record = spooled(tmp_path)
    assert variable in record['error'] and 'at most' in record['error']
    assert 'time_t' not in record['error']
    assert sandbox.journal() == []


def test_the_common_spellings_of_a_uuid_are_filed_in_the_form_the_api_takes(sandbox, tmp_path):
    spelled = {'requester_id': '{' + UUID.upper() + '}', 'collaborator_ids': ['urn:uuid:' + UUID, UUID.replace('-', '')]}
    run = run_adhoc(TICKET, dict(NEW, **spelled), env_for(sandbox, tmp_path))

    assert run.returncode == 0, run.stdout + run.stderr
    [posted] = sandbox.journal(method='POST', path='/tickets')
    assert posted['status'] == 200
    assert posted['body']['requester_id'] == UUID and posted['body']['collaborator_ids'] == [UUID, UUID]
    [filed] = sandbox.tickets()
    assert filed['requester_id'] == UUID and filed['collaborator_ids'] == [UUID]


def test_the_role_files_a_braced_requester_id_in_the_form_the_api_takes(sandbox, tmp_path):
    play = [{'name': 'Deploy the shop', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Deploy', 'block': [{'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed'}}],
         'rescue': [{'name': 'File a ticket', 'ansible.builtin.include_role': {'name': 'upsun.support.deploy_failure_ticket'},
                     'vars': {'deploy_failure_ticket_requester_id': '{' + UUID.upper() + '}',
                              'deploy_failure_ticket_collaborator_ids': [UUID.replace('-', '')]}}]}]}]
    run = run_playbook(write(tmp_path / 'deploy.yml', json.dumps(play)), 'localhost,', env_for(sandbox, tmp_path),
                       args=['-c', 'local'], timeout=170)

    assert run.returncode == 2, run.stdout + run.stderr
    assert files_under(tmp_path / 'home' / '.ansible' / 'upsun_support_spool') == []
    [filed] = sandbox.tickets()
    assert filed['requester_id'] == UUID and filed['collaborator_ids'] == [UUID]
