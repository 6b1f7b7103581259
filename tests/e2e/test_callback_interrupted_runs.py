# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback in runs stopped by SIGTERM (a CI job timeout) or SIGINT (Ctrl-C), against the sandbox.

ansible-playbook runs as a subprocess in its own session; the test waits until the long task runs, sends the signal
(SIGTERM to the main process, as a CI runner does; SIGINT to the whole process group, as Ctrl-C does), and checks
that a spool record exists within a second, that the run still ends non-zero, that no request reached the sandbox,
and that the flush then files the record once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import time

import pytest

from helpers import BIN_DIR, ansible_env, files_under, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

CALLBACK = 'upsun.support.ticket_on_failure'
SECRET = 'hunter2hunter2hunter2'
INVENTORY = 'web1 ansible_connection=local\nweb2 ansible_connection=local\n'
# web1 fails, then web2 hangs in a long command.
FAILS_THEN_HANGS = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Deploy release
      ansible.builtin.fail:
        msg: "disk full on {{ inventory_hostname }}, password=%s"
      when: inventory_hostname == 'web1'

    - name: Wait for the cluster
      ansible.builtin.command: sleep 60
      changed_when: false
''' % SECRET
# No failure: both hosts in a long command.
HANGS = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Wait for the cluster
      ansible.builtin.command: sleep 60
      changed_when: false
'''


def env_for(sandbox_client, tmp_path, **extra):
    return ansible_env(sandbox_client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home',
                       ANSIBLE_CALLBACKS_ENABLED=CALLBACK, UPSUN_TICKET_ON_FAILURE_SPOOL_DIR=tmp_path / 'spool', **extra)


def start(tmp_path, playbook_text, env):
    playbook = write(tmp_path / 'deploy.yml', playbook_text)
    inventory = write(tmp_path / 'hosts', INVENTORY)
    output = open(str(tmp_path / 'output.txt'), 'w')
    process = subprocess.Popen([str(BIN_DIR / 'ansible-playbook'), '-i', str(inventory), str(playbook)], env=env,
                               cwd=str(tmp_path), stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                               start_new_session=True)
    output.close()
    return process


def wait_for_the_long_task(process, tmp_path, timeout=60):
    deadline = time.monotonic() + timeout
    while 'TASK [Wait for the cluster]' not in (tmp_path / 'output.txt').read_text():
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / 'output.txt').read_text()
        time.sleep(0.1)
    # The banner is printed when the task is queued: let the workers start the command.
    time.sleep(2)
    assert process.poll() is None


def interrupt(process, tmp_path, signum, group=False):
    """Send ``signum``; return ``(seconds until a spool record exists or None, exit code, output)``."""
    if group:
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    sent = time.monotonic()
    seconds = None
    while time.monotonic() - sent < 3:
        if files_under(tmp_path / 'spool'):
            seconds = time.monotonic() - sent
            break
        time.sleep(0.02)
    try:
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return seconds, code, (tmp_path / 'output.txt').read_text()


def the_record(tmp_path):
    [path] = files_under(tmp_path / 'spool')
    return path.read_text()


def assert_flushed_once(sandbox_client, tmp_path):
    flush_env = ansible_env(sandbox_client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home')
    for dummy in range(2):
        flushed = run_playbook('upsun.support.flush_spool', 'localhost,', flush_env, cwd=tmp_path,
                               args=['-c', 'local', '-e', 'upsun_support_spool_dir={0}'.format(tmp_path / 'spool'),
                                     # a record that may exist is filed at once when its ticket is not found
                                     '-e', 'upsun_support_may_exist_wait=0'])
        assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert len(sandbox_client.journal('POST', '/tickets')) == 1
    assert files_under(tmp_path / 'spool') == []
    [ticket] = sandbox_client.tickets()
    return ticket


def test_sigterm_after_a_failure_spools_the_failure_and_the_hung_task_within_a_second(sandbox, tmp_path):
    process = start(tmp_path, FAILS_THEN_HANGS, env_for(sandbox, tmp_path))
    wait_for_the_long_task(process, tmp_path)

    seconds, code, output = interrupt(process, tmp_path, signal.SIGTERM)

    assert seconds is not None and seconds < 1.0, (seconds, output)
    # SIGTERM still ends the run as it did: killed by the signal.
    assert code == -signal.SIGTERM, (code, output)
    text = the_record(tmp_path)
    record = json.loads(text)
    assert record['source'] == 'callback' and 'stopped by SIGTERM' in record['error']
    ticket = record['ticket']
    assert ticket['subject'] == ('Ansible run of deploy.yml interrupted by SIGTERM after failing on 1 host(s): '
                                 'Deploy release; hung at Wait for the cluster on web2')
    description = ticket['description']
    assert 'The run was stopped by SIGTERM' in description
    assert 'The run hung at task "Wait for the cluster" (ansible.builtin.command) on 1 host(s)' in description
    assert 'disk full on web1, password=[REDACTED]' in description and 'Failed hosts (1): web1' in description
    # (ansible-core itself shows the failed task's message, before the long task.)
    assert SECRET not in text and SECRET not in output.split('TASK [Wait for the cluster]')[1]
    assert sandbox.api_token not in text and sandbox.api_token not in output
    assert 'the run was stopped by SIGTERM: its ticket was spooled to' in output
    # There was no time to file: not one request.
    assert sandbox.journal() == []

    ticket = assert_flushed_once(sandbox, tmp_path)
    assert ticket['subject'].startswith('Ansible run of deploy.yml interrupted by SIGTERM')


def test_ctrl_c_after_a_failure_spools_once_and_the_run_ends_as_interrupted(sandbox, tmp_path):
    process = start(tmp_path, FAILS_THEN_HANGS, env_for(sandbox, tmp_path))
    wait_for_the_long_task(process, tmp_path)

    # Ctrl-C: SIGINT to every process of the run, the workers too; only the controller spools.
    seconds, code, output = interrupt(process, tmp_path, signal.SIGINT, group=True)

    assert seconds is not None and seconds < 1.0, (seconds, output)
    assert code == 99 and 'User interrupted execution' in output, (code, output)
    record = json.loads(the_record(tmp_path))
    assert 'interrupted by SIGINT after failing on 1 host(s)' in record['ticket']['subject']
    assert output.count('its ticket was spooled to') == 1
    assert sandbox.journal() == []
    assert_flushed_once(sandbox, tmp_path)


def test_sigterm_while_a_slow_api_files_the_ticket_spools_that_ticket_and_the_flush_files_it_once(sandbox, tmp_path):
    # The run failed and ended; the callback is filing, but every answer trickles in: the CI job reaches its timeout.
    sandbox.fault('/tickets', action='trickle', method='GET', chunk=1, interval=1.0, count=50)
    process = start(tmp_path, FAILS_THEN_HANGS.replace('sleep 60', 'sleep 0'), env_for(sandbox, tmp_path))
    deadline = time.monotonic() + 60
    while 'PLAY RECAP' not in (tmp_path / 'output.txt').read_text():
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / 'output.txt').read_text()
        time.sleep(0.1)
    time.sleep(2)

    seconds, code, output = interrupt(process, tmp_path, signal.SIGTERM)

    assert seconds is not None and seconds < 1.0 and code == -signal.SIGTERM, (seconds, code, output)
    record = json.loads(the_record(tmp_path))
    # The ticket that was being filed, with its own dedupe key, marked as one that may exist.
    assert record['may_exist'] is True and 'while its ticket was being filed' in record['error']
    assert record['ticket']['dedupe_key'].startswith('ticket_on_failure|')
    assert record['ticket']['dedupe_key'].endswith('|deploy.yml|Deploy release')
    assert sandbox.journal('POST', '/tickets') == []

    sandbox.clear_faults()
    sandbox.clear_journal()
    assert assert_flushed_once(sandbox, tmp_path)['subject'] == record['ticket']['subject']
    # It looked for the ticket before it filed it.
    assert [entry['method'] for entry in sandbox.journal() if entry['path'] == '/tickets'][0] == 'GET'


def test_a_run_hung_longer_than_hung_task_seconds_spools_where_it_hung(sandbox, tmp_path):
    process = start(tmp_path, HANGS, env_for(sandbox, tmp_path, UPSUN_TICKET_ON_FAILURE_HUNG_TASK_SECONDS='1'))
    wait_for_the_long_task(process, tmp_path)

    seconds, code, output = interrupt(process, tmp_path, signal.SIGTERM)

    assert seconds is not None and seconds < 1.0 and code == -signal.SIGTERM, (seconds, code, output)
    ticket = json.loads(the_record(tmp_path))['ticket']
    assert ticket['subject'] == 'Ansible run of deploy.yml interrupted by SIGTERM; hung at Wait for the cluster on web1, web2'
    assert 'on 2 host(s)' in ticket['description'] and 'No task had failed yet.' in ticket['description']
    # Said as a stopped run, not as one that ended with no failure.
    assert ticket['description'].startswith('The run was stopped by SIGTERM')
    assert 'ended with 0 unhandled failure(s)' not in ticket['description']
    assert sandbox.journal() == []


@pytest.mark.parametrize('playbook_text, settings, signum, said', [
    # The rule: no failure and no task running for hung_task_seconds (60 by default): a plain Ctrl-C spools nothing.
    (HANGS, {}, signal.SIGINT, ''),
    (FAILS_THEN_HANGS, {'UPSUN_TICKET_ON_FAILURE_SPOOL_ON_INTERRUPT': 'false'}, signal.SIGTERM, ''),
    (HANGS, {'UPSUN_TICKET_ON_FAILURE_HUNG_TASK_SECONDS': 'inf'}, signal.SIGTERM,
     'ignored the hung_task_seconds setting: hung_task_seconds must be a number of seconds from 0 to 604800, got inf; '
     'using its default (60).'),
], ids=['healthy-ctrl-c', 'spool_on_interrupt-false', 'bad-hung_task_seconds'])
def test_runs_that_spool_nothing_still_end_by_the_signal(sandbox, tmp_path, playbook_text, settings, signum, said):
    process = start(tmp_path, playbook_text, env_for(sandbox, tmp_path, **settings))
    wait_for_the_long_task(process, tmp_path)

    seconds, code, output = interrupt(process, tmp_path, signum, group=signum == signal.SIGINT)

    assert seconds is None and code == (99 if signum == signal.SIGINT else -signum), (code, output)
    assert files_under(tmp_path / 'spool') == [] and 'spooled' not in output and 'Traceback' not in output
    assert said in ' '.join(output.split())
    assert sandbox.journal() == []
