# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The callback and the role under network faults: a run never hangs, a ticket that may exist is spooled as such,
and the flush searches before it posts. Each test asserts the time bound (generous) and the tickets filed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from helpers import ansible_env, files_under, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

CALLBACK = 'upsun.support.ticket_on_failure'
FAILING = '''
- name: Nightly job
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the job
      ansible.builtin.fail:
        msg: the job failed
'''
ROLE_PLAY = [{'name': 'Deploy the shop', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
    {'name': 'Deploy', 'block': [{'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed'}}],
     'rescue': [{'name': 'File a ticket', 'ansible.builtin.include_role': {'name': 'upsun.support.deploy_failure_ticket'}}]}]}]


def env_for(client, tmp_path, **extra):
    (tmp_path / 'tmp').mkdir(exist_ok=True)
    return ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', TMPDIR=tmp_path / 'tmp', **extra)


def timed_playbook(playbook, env):
    started = time.monotonic()
    run = run_playbook(playbook, 'localhost,', env, args=['-c', 'local'], timeout=170)
    return time.monotonic() - started, run


def spooled(tmp_path):
    [path] = files_under(tmp_path / 'home' / '.ansible' / 'upsun_support_spool')
    return json.loads(path.read_text())


def test_a_stalled_api_never_hangs_the_run_the_callback_spools_within_its_deadline(sandbox, tmp_path):
    # Every answer trickles in a byte a second: without a deadline the dedupe search alone would take minutes.
    sandbox.fault('/tickets', action='trickle', method='GET', chunk=1, interval=1.0, count=50)
    env = env_for(sandbox, tmp_path, ANSIBLE_CALLBACKS_ENABLED=CALLBACK, UPSUN_SUPPORT_DEADLINE='6',
                  UPSUN_CLI_DEFAULT_TIMEOUT='3')
    seconds, run = timed_playbook(write(tmp_path / 'nightly.yml', FAILING), env)

    assert run.returncode == 2, run.stdout + run.stderr
    assert seconds < 45, seconds
    record = spooled(tmp_path)
    assert record['source'] == 'callback' and record['may_exist'] is False
    assert sandbox.tickets() == []


def test_an_endless_next_link_ends_and_the_callback_files_once(sandbox, tmp_path):
    for index in range(3):
        sandbox.add_ticket(subject='Seeded {0}'.format(index), description='unrelated')
    sandbox.fault('/tickets', action='endless_next', method='GET', count=1000)
    env = env_for(sandbox, tmp_path, ANSIBLE_CALLBACKS_ENABLED=CALLBACK)
    seconds, run = timed_playbook(write(tmp_path / 'nightly.yml', FAILING), env)

    assert run.returncode == 2, run.stdout + run.stderr
    assert seconds < 60, seconds
    assert len(sandbox.journal('POST', '/tickets')) == 1
    assert len(sandbox.tickets()) == 4


def test_a_ticket_that_may_exist_is_spooled_as_such_by_the_callback_and_flushed_after_a_search(sandbox, tmp_path):
    # The gateway answers 502 to the create: nothing was created, but the client cannot know.
    sandbox.fault('/tickets', method='POST', status=502)
    env = env_for(sandbox, tmp_path, ANSIBLE_CALLBACKS_ENABLED=CALLBACK, UPSUN_SUPPORT_DEADLINE='8')
    seconds, run = timed_playbook(write(tmp_path / 'nightly.yml', FAILING), env)

    assert run.returncode == 2, run.stdout + run.stderr
    assert seconds < 60, seconds
    record = spooled(tmp_path)
    assert record['may_exist'] is True and record['ticket']['dedupe_key']
    assert 'it may have been filed' in ' '.join((run.stdout + run.stderr).split())
    assert len(sandbox.journal('POST', '/tickets')) == 1 and sandbox.tickets() == []

    # At once, it is held back: the listings may just not show the ticket yet (the live API's lag). The record waits
    # (may_exist_wait) and so does a post for its key on this controller (the ledger's hold).
    held = run_playbook('upsun.support.flush_spool', 'localhost,', env_for(sandbox, tmp_path), args=['-c', 'local'])
    assert held.returncode == 0, held.stdout + held.stderr
    assert len(sandbox.journal('POST', '/tickets')) == 1 and spooled(tmp_path)['may_exist'] is True

    # Once both waits are over (here 0 s: the sandbox does not lag), the flush searches and files it.
    sandbox.clear_journal()
    flushed = run_playbook('upsun.support.flush_spool', 'localhost,', env_for(sandbox, tmp_path, UPSUN_SUPPORT_MAY_EXIST_HOLD='0'),
                           args=['-c', 'local', '-e', 'upsun_support_may_exist_wait=0'])
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    # It searched for the ticket by its dedupe reference before posting it.
    methods = [entry['method'] for entry in sandbox.journal() if entry['path'] == '/tickets']
    assert methods[0] == 'GET' and methods.count('POST') == 1
    assert len(sandbox.tickets()) == 1


def test_a_ticket_that_may_exist_is_spooled_as_such_by_the_role_and_the_flush_finds_it_filed(sandbox, tmp_path):
    # The create happens, but the connection is cut before the answer, and the searches within the deadline find
    # nothing yet: the role spools the ticket marked "may exist". By the flush, the ticket is there: nothing is posted.
    sandbox.fault('/tickets', method='POST', action='create_later', create_after=12)
    env = env_for(sandbox, tmp_path, UPSUN_SUPPORT_DEADLINE='6', UPSUN_CLI_DEFAULT_TIMEOUT='2')
    seconds, run = timed_playbook(write(tmp_path / 'deploy.yml', json.dumps(ROLE_PLAY)), env)

    assert run.returncode == 2, run.stdout + run.stderr
    assert seconds < 60, seconds
    record = spooled(tmp_path)
    assert record['source'] == 'role' and record['may_exist'] is True

    time.sleep(8)
    assert len(sandbox.tickets()) == 1
    sandbox.clear_journal()
    flushed = run_playbook('upsun.support.flush_spool', 'localhost,', env_for(sandbox, tmp_path), args=['-c', 'local'])
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert sandbox.journal('POST', '/tickets') == []
    assert len(sandbox.tickets()) == 1
    assert 'already open' in flushed.stdout


@pytest.mark.parametrize('source', ['callback', 'role'])
def test_a_redirected_create_is_spooled_not_followed_and_the_flush_keeps_it_until_it_can_file(sandbox, tmp_path, source):
    # The same sandbox under another host name: a followed redirect would post the ticket a second time.
    elsewhere = sandbox.url.replace('127.0.0.1', 'localhost') + '/tickets'
    sandbox.fault('/tickets', method='POST', status=307, location=elsewhere, count=2)
    if source == 'callback':
        env = env_for(sandbox, tmp_path, ANSIBLE_CALLBACKS_ENABLED=CALLBACK)
        playbook = write(tmp_path / 'nightly.yml', FAILING)
    else:
        env = env_for(sandbox, tmp_path)
        playbook = write(tmp_path / 'deploy.yml', json.dumps(ROLE_PLAY))
    seconds, run = timed_playbook(playbook, env)

    assert run.returncode == 2, run.stdout + run.stderr
    assert seconds < 60, seconds
    record = spooled(tmp_path)
    assert record['source'] == source and record['may_exist'] is False
    assert 'a redirect to {0}: it is not followed'.format(elsewhere) in record['error']
    assert len(sandbox.journal('POST', '/tickets')) == 1 and sandbox.tickets() == []

    # The first flush meets the second redirect and keeps the ticket; the next one files it, once.
    outputs = []
    for expected in (2, 0):
        flushed = run_playbook('upsun.support.flush_spool', 'localhost,', env_for(sandbox, tmp_path), args=['-c', 'local'])
        outputs.append(flushed.stdout + flushed.stderr)
        assert flushed.returncode == expected, outputs[-1]
    assert 'it is not followed' in outputs[0]
    assert len(sandbox.tickets()) == 1
    assert files_under(tmp_path / 'home' / '.ansible' / 'upsun_support_spool') == []
    assert sandbox.api_token not in run.stdout + run.stderr + ''.join(outputs) + json.dumps(record)
