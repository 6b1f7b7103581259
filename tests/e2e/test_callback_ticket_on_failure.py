# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback in real runs, through ansible-playbook and ansible-runner, against the sandbox.

The playbooks only use actions that run on the controller (``debug``, ``fail``)
and ``raw``, so no module is shipped and no interpreter is discovered: a run
takes about a second.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from helpers import ansible_env, closed_port_url, files_under, run_playbook, run_runner_cli, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ansible_runner = pytest.importorskip('ansible_runner')

CALLBACK = 'upsun.support.ticket_on_failure'
PREFIX = CALLBACK + ': '
SECTION = 'callback_upsun_support_ticket_on_failure'

FAILING = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Reach the host
      ansible.builtin.raw: "true"
      changed_when: false

    - name: Optional cleanup
      ansible.builtin.fail:
        msg: ignored failure text
      ignore_errors: true

    - name: Guarded step
      block:
        - name: Flaky step
          ansible.builtin.fail:
            msg: rescued failure text
      rescue:
        - name: Recover
          ansible.builtin.debug:
            msg: recovered

    - name: Read the secret
      ansible.builtin.fail:
        msg: the password is s3cr3t-value
      no_log: true
      when: inventory_hostname == 'web2'

    - name: Deploy release
      ansible.builtin.fail:
        msg: "disk full on {{ inventory_hostname }}"
'''

SUCCEEDING = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Deploy release
      ansible.builtin.debug:
        msg: deployed
'''

RESCUED = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Guarded deploy
      block:
        - name: Deploy release
          ansible.builtin.fail:
            msg: rescued failure text
      rescue:
        - name: Roll back
          ansible.builtin.debug:
            msg: rolled back
'''

IGNORED = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Deploy release
      ansible.builtin.fail:
        msg: ignored failure text
      ignore_errors: true
'''

# One failing host, for the runs that only check how a ticket gets out (or does not).
ONE_FAILURE = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Deploy release
      ansible.builtin.fail:
        msg: "disk full on {{ inventory_hostname }}"
'''

LOCAL_HOSTS = '''
web1 ansible_connection=local
web2 ansible_connection=local
'''


def inventory_with_a_down_host():
    return LOCAL_HOSTS + 'down ansible_connection=ssh ansible_host=127.0.0.1 ansible_port={0} ansible_user=nobody\n'.format(
        closed_port_url().rsplit(':', 1)[1])


def callback_env(tmp_path, sandbox_client=None, enable=True, **extra):
    settings = dict(UPSUN_TICKET_ON_FAILURE_SPOOL_DIR=str(tmp_path / 'spool'), UPSUN_SUPPORT_RETRIES='1')
    if enable:
        settings['ANSIBLE_CALLBACKS_ENABLED'] = CALLBACK
    settings.update(extra)
    return ansible_env(sandbox_client, home=tmp_path / 'ansible-home', **settings)


def api_requests(sandbox_client):
    """The journal without the sandbox's own control calls (never journaled anyway)."""
    return [(entry['method'], entry['path']) for entry in sandbox_client.journal()]


def posts(sandbox_client):
    return sandbox_client.journal(method='POST', path='/tickets')


def callback_lines(output):
    return [line for line in output.splitlines() if line.startswith(PREFIX)]


def spooled(spool_dir):
    paths = files_under(spool_dir)
    assert len(paths) == 1, paths
    text = paths[0].read_text()
    return paths[0], text, json.loads(text)


def test_a_failed_run_files_one_ticket_and_a_rerun_files_no_duplicate(sandbox, tmp_path):
    playbook = write(tmp_path / 'deploy.yml', FAILING)
    inventory = write(tmp_path / 'hosts', inventory_with_a_down_host())
    env = callback_env(tmp_path, sandbox, UPSUN_TICKET_ON_FAILURE_PRIORITY='high')

    run = run_playbook(playbook, inventory, env)
    # ansible-playbook's own exit code: 4 as a host was unreachable (2 when hosts only failed).
    assert run.returncode == 4, run.stdout + run.stderr
    [ticket] = sandbox.tickets()
    assert ticket['subject'] == 'Ansible run of deploy.yml failed on 3 host(s): Reach the host, Read the secret, Deploy release'
    assert ticket['priority'] == 'high'
    description = ticket['description']
    assert 'Playbook: {0}'.format(playbook) in description
    assert 'Failed hosts (2): web2, web1' in description
    assert 'Unreachable hosts (1): down' in description
    assert 'Play: Deploy web\n' in description
    assert 'Task "Reach the host" (ansible.builtin.raw): 1 host unreachable:\n   down\n' in description
    assert 'Task "Read the secret" (ansible.builtin.fail) failed on 1 host:\n   web2\n   Error:\n      hidden by no_log\n' in description
    assert 'Task "Deploy release" (ansible.builtin.fail) failed on 1 host:\n   web1\n   Error:\n      disk full on web1\n' in description
    for hidden in ('s3cr3t-value', 'ignored failure text', 'rescued failure text', 'Optional cleanup', 'Flaky step'):
        assert hidden not in description
    assert '\nFiled by Ansible: the upsun.support.ticket_on_failure callback.\nDedupe reference: ' in description
    assert callback_lines(run.stdout) == [
        '{0}filed Upsun ticket {1} for this failed run: {2}'.format(PREFIX, ticket['ticket_id'], ticket['zd_ticket_url'])]
    assert sandbox.api_token not in run.stdout + run.stderr

    # The same failure again: the open ticket is found, nothing more is filed (one comment says it failed again:
    # test_repeat_comments.py), the run still fails.
    sandbox.clear_journal()
    rerun = run_playbook(playbook, inventory, env)
    assert rerun.returncode == 4
    assert len(sandbox.tickets()) == 1
    assert posts(sandbox) == []
    [comment] = sandbox.comments(ticket['ticket_id'])[1:]
    assert callback_lines(rerun.stdout) == [
        '{0}Upsun ticket {1} (status new) already tracks this failure, filed nothing; comment {2} on it says it failed '
        'again: {3}'.format(PREFIX, ticket['ticket_id'], comment['comment_id'], ticket['zd_ticket_url'])]


@pytest.mark.parametrize('playbook_text', [SUCCEEDING, RESCUED, IGNORED], ids=['success', 'rescued', 'ignore_errors'])
def test_a_run_without_unhandled_failure_files_nothing_and_sends_nothing(sandbox, tmp_path, playbook_text):
    playbook = write(tmp_path / 'deploy.yml', playbook_text)
    inventory = write(tmp_path / 'hosts', LOCAL_HOSTS)
    run = run_playbook(playbook, inventory, callback_env(tmp_path, sandbox))
    assert run.returncode == 0, run.stdout + run.stderr
    assert api_requests(sandbox) == []
    assert sandbox.tickets() == []
    assert callback_lines(run.stdout) == [] and 'WARNING' not in run.stderr
    assert files_under(tmp_path / 'spool') == []


def test_an_api_answering_503_spools_the_ticket_and_keeps_the_exit_code(sandbox, tmp_path):
    """Enabled and configured from ansible.cfg this time ([defaults] callbacks_enabled and the callback's section)."""
    sandbox.fault('/*', status=503, count=100)
    playbook = write(tmp_path / 'deploy.yml', ONE_FAILURE)
    inventory = write(tmp_path / 'hosts', LOCAL_HOSTS)
    write(tmp_path / 'ansible.cfg', '''
        [defaults]
        callbacks_enabled = {0}

        [upsun_support]
        retries = 1

        [{1}]
        spool_dir = {2}
        category = incident_outage
        dedupe_key = nightly deploy
    '''.format(CALLBACK, SECTION, tmp_path / 'cfg-spool'))
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')

    run = run_playbook(playbook, inventory, env, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert sandbox.tickets() == []
    assert api_requests(sandbox) == [('POST', '/oauth2/token')] * 2, 'one try and one retry, then it gave up'
    path, text, record = spooled(tmp_path / 'cfg-spool')
    assert sandbox.api_token not in text
    assert record['source'] == 'callback'
    assert 'HTTP 503' in record['error']
    assert record['ticket']['category'] == 'incident_outage'
    assert record['ticket']['dedupe_key'] == 'nightly deploy'
    assert 'disk full on web1' in record['ticket']['description']
    output = ' '.join((run.stdout + run.stderr).split())
    assert str(path) in output and 'flush_spool' in output
    assert sandbox.api_token not in run.stdout + run.stderr
    assert callback_lines(run.stdout) == []


def test_ansible_runner_cli_with_env_envvars_files_the_ticket(sandbox, tmp_path):
    """ansible-runner run <private_data_dir> -p <playbook>, the callback enabled in env/envvars, settings in ansible.cfg."""
    data_dir = tmp_path / 'runner'
    write(data_dir / 'project' / 'deploy.yml', ONE_FAILURE)
    write(data_dir / 'project' / 'ansible.cfg', '''
        [{0}]
        priority = urgent
        subject = [CI] {{playbook}}: {{tasks}} failed on {{hosts}}
    '''.format(SECTION))
    write(data_dir / 'inventory' / 'hosts', LOCAL_HOSTS)
    envvars = dict(sandbox.env(), ANSIBLE_CALLBACKS_ENABLED=CALLBACK, UPSUN_TICKET_ON_FAILURE_SPOOL_DIR=str(tmp_path / 'spool'),
                   # A bad setting is a warning and its default, never a disabled callback.
                   UPSUN_SUPPORT_RETRIES='many')
    write(data_dir / 'env' / 'envvars', json.dumps(envvars))

    run = run_runner_cli(data_dir, 'deploy.yml', ansible_env(home=tmp_path / 'ansible-home'))
    assert run.returncode == 2, run.stdout + run.stderr
    [ticket] = sandbox.tickets()
    assert ticket['subject'] in ('[CI] deploy.yml: Deploy release failed on web1, web2', '[CI] deploy.yml: Deploy release failed on web2, web1')
    assert ticket['priority'] == 'urgent'
    assert 'disk full on web1' in ticket['description'] and 'disk full on web2' in ticket['description']
    assert 'filed Upsun ticket {0}'.format(ticket['ticket_id']) in run.stdout
    assert 'ignored the retries setting' in ' '.join(run.stdout.split())
    [stdout_artifact] = [path for path in files_under(data_dir / 'artifacts') if path.name == 'stdout']
    assert 'filed Upsun ticket {0}'.format(ticket['ticket_id']) in stdout_artifact.read_text()


def test_ansible_runner_python_api_files_the_ticket_then_spools_when_the_api_is_down(sandbox, tmp_path, monkeypatch):
    """ansible_runner.run(envvars=...): the token stays out of the artifacts with suppress_env_files."""
    for name in list(os.environ):
        if name.startswith(('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')):
            monkeypatch.delenv(name)
    data_dir = tmp_path / 'runner'
    write(data_dir / 'project' / 'deploy.yml', ONE_FAILURE)
    write(data_dir / 'project' / 'ok.yml', SUCCEEDING)
    write(data_dir / 'inventory' / 'hosts', LOCAL_HOSTS)
    base = ansible_env(home=tmp_path / 'ansible-home', ANSIBLE_CALLBACKS_ENABLED=CALLBACK,
                       UPSUN_SUPPORT_RETRIES='1', UPSUN_TICKET_ON_FAILURE_SPOOL_DIR=str(tmp_path / 'spool'))
    # ansible-runner starts from this process' environment (cleaned above) and adds envvars.
    base = dict((name, value) for name, value in base.items() if name.startswith(('ANSIBLE_', 'UPSUN_')) or name == 'PATH')

    def run(playbook, **env):
        return ansible_runner.run(private_data_dir=str(data_dir), playbook=playbook, envvars=dict(base, **env),
                                  quiet=True, suppress_env_files=True)

    failed = run('deploy.yml', **sandbox.env())
    assert (failed.status, failed.rc) == ('failed', 2)
    [ticket] = sandbox.tickets()
    assert 'disk full on web2' in ticket['description']

    down = closed_port_url()
    succeeded = run('ok.yml', UPSUN_CLI_TOKEN=sandbox.api_token, UPSUN_CLI_API_URL=down, UPSUN_CLI_AUTH_URL=down)
    assert (succeeded.status, succeeded.rc) == ('successful', 0)
    assert files_under(tmp_path / 'spool') == []

    failed_again = run('deploy.yml', UPSUN_CLI_TOKEN=sandbox.api_token, UPSUN_CLI_API_URL=down, UPSUN_CLI_AUTH_URL=down)
    assert (failed_again.status, failed_again.rc) == ('failed', 2)
    dummy, text, record = spooled(tmp_path / 'spool')
    assert sandbox.api_token not in text
    assert 'Could not connect to {0}'.format(down) in record['error']
    assert 'flush_spool' in ' '.join(failed_again.stdout.read().split())

    # ansible-runner itself records the whole environment of each run in artifacts/<ident>/command (mode 0600):
    # that file holds the token whichever way it was passed. Nothing else may.
    artifacts = [path for path in files_under(data_dir) if path.parent.name != 'project' and path.name != 'command']
    assert artifacts
    for path in artifacts:
        assert sandbox.api_token not in path.read_text(errors='replace'), path
    assert not os.path.exists(data_dir / 'env' / 'envvars')
