# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Close the loop: a recovered deploy (module, role, callback) solves the tickets its failures filed.

The lifecycle each test walks: failure, ticket, rerun (no duplicate), recovery (solved), and where it matters the
next failure (a new ticket that follows up on the solved one).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from helpers import adhoc_result, ansible_env, closed_port_url, run_adhoc, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

TICKET = 'upsun.support.ticket'
CALLBACK = 'upsun.support.ticket_on_failure'


def patches(client):
    return client.journal('PATCH')


# --- the module -------------------------------------------------------------------------------------------------------


def test_the_module_solves_the_unsolved_tickets_carrying_a_key(sandbox, tmp_path):
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    for subject in ('first failure', 'second failure'):
        filed = run_adhoc(TICKET, dict(subject=subject, description='x', dedupe_key=subject, recovery_key='deploy-shop'), env)
        assert filed.returncode == 0, filed.stdout + filed.stderr
    other = run_adhoc(TICKET, dict(subject='another deploy', description='x', recovery_key='deploy-blog'), env)
    assert other.returncode == 0
    sandbox.set_ticket(1001, status='pending')

    # Check mode: says what it would solve, with a diff, and sends no PATCH.
    checked = run_adhoc(TICKET, dict(status='solved', recovery_key='deploy-shop'), env, args=['--check', '--diff'])
    result = adhoc_result(checked.stdout)
    assert result['changed'] is True and sorted(result['solved']) == [1001, 1002]
    assert 'Would solve' in result['msg'] and 'new' in checked.stdout and 'solved' in checked.stdout
    assert patches(sandbox) == []

    solved = adhoc_result(run_adhoc(TICKET, dict(status='solved', recovery_key='deploy-shop'), env).stdout)
    assert solved['changed'] is True and sorted(solved['solved']) == [1001, 1002]
    assert [ticket['status'] for ticket in sandbox.tickets()] == ['solved', 'solved', 'new']
    assert len(patches(sandbox)) == 2

    # Again: nothing carries the key unsolved any more; one search and nothing else.
    sandbox.clear_journal()
    again = adhoc_result(run_adhoc(TICKET, dict(status='solved', recovery_key='deploy-shop'), env).stdout)
    assert again['changed'] is False and again['solved'] == []
    assert 'nothing to solve' in again['msg']
    assert [entry['method'] for entry in sandbox.journal() if entry['path'] == '/tickets'] == ['GET']

    # A key nobody filed with, and solving by dedupe_key.
    unknown = adhoc_result(run_adhoc(TICKET, dict(status='solved', dedupe_key='never-filed'), env).stdout)
    assert unknown['changed'] is False
    by_dedupe = adhoc_result(run_adhoc(TICKET, dict(status='solved', recovery_key='deploy-blog'), env).stdout)
    assert by_dedupe['solved'] == [1003]


def test_solving_by_key_refuses_options_that_file_a_ticket(sandbox, tmp_path):
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    run = run_adhoc(TICKET, dict(status='solved', recovery_key='k', subject='x'), env)
    assert run.returncode == 2
    assert 'subject cannot be given with status=solved' in adhoc_result(run.stdout)['msg']
    both = adhoc_result(run_adhoc(TICKET, dict(status='solved', recovery_key='k', dedupe_key='d'), env).stdout)
    assert 'not both' in both['msg']
    blank = adhoc_result(run_adhoc(TICKET, dict(status='solved', recovery_key='  '), env).stdout)
    assert 'recovery_key must not be blank' in blank['msg']
    assert sandbox.journal() == []


# --- the role ---------------------------------------------------------------------------------------------------------


def deploy_playbook(tmp_path, fail_on):
    """Two hosts; the deploy step fails on the hosts of ``fail_on`` (or none); the role's two entry points."""
    play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False, 'vars': {'deploy_failure_ticket_environment': 'prod'},
             'tasks': [{'name': 'Deploy', 'block': [
                 {'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed on {{ inventory_hostname }}'},
                  'when': 'inventory_hostname in ' + json.dumps(fail_on)},
                 {'name': 'Solve the tickets of earlier failures', 'ansible.builtin.include_role': {
                     'name': 'upsun.support.deploy_failure_ticket', 'tasks_from': 'recovered'}},
             ], 'rescue': [{'name': 'File a ticket', 'ansible.builtin.include_role': {'name': 'upsun.support.deploy_failure_ticket'}}]},
                 {'name': 'After the deploy', 'ansible.builtin.debug': {'msg': 'the play went on'}}]}]
    return write(tmp_path / 'deploy-{0}.yml'.format(len(fail_on)), json.dumps(play, indent=2))


def role_env(client, tmp_path, **extra):
    return ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', **extra)


def test_the_role_lifecycle_failure_rerun_recovery_next_failure(sandbox, tmp_path):
    inventory = write(tmp_path / 'inventory.ini', '[web]\nweb1\nweb2\n\n[web:vars]\nansible_connection=local\n')
    env = role_env(sandbox, tmp_path)

    failed = run_playbook(deploy_playbook(tmp_path, ['web1', 'web2']), inventory, env)
    assert failed.returncode == 2, failed.stdout + failed.stderr
    rerun = run_playbook(deploy_playbook(tmp_path, ['web1', 'web2']), inventory, env)
    assert rerun.returncode == 2
    [ticket] = sandbox.tickets()
    assert 'Recovery reference: upsunrecovery' in ticket['description']

    # The deploy works: the one ticket is solved, with one search and one PATCH, and the play goes on.
    sandbox.clear_journal()
    good = run_playbook(deploy_playbook(tmp_path, []), inventory, env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert sandbox.ticket(ticket['ticket_id'])['status'] == 'solved'
    assert [(entry['method'], entry['path']) for entry in sandbox.journal() if entry['path'] != '/oauth2/token'] == [
        ('GET', '/tickets'), ('PATCH', '/tickets/{0}'.format(ticket['ticket_id']))]
    assert 'Solved Upsun ticket(s) {0}'.format(ticket['ticket_id']) in good.stdout
    assert 'the play went on' in good.stdout

    # Good again: nothing to solve, no PATCH.
    sandbox.clear_journal()
    quiet = run_playbook(deploy_playbook(tmp_path, []), inventory, env)
    assert quiet.returncode == 0
    assert patches(sandbox) == [] and 'nothing to solve' in quiet.stdout

    # The next failure of the same task: a new ticket, following up on the solved one.
    next_failure = run_playbook(deploy_playbook(tmp_path, ['web2']), inventory, env)
    assert next_failure.returncode == 2
    tickets = sandbox.tickets()
    assert len(tickets) == 2 and tickets[1]['followup_tid'] == str(ticket['ticket_id'])


def test_the_role_recovery_solves_tickets_of_another_failed_task_of_the_same_deploy(sandbox, tmp_path):
    inventory = write(tmp_path / 'inventory.ini', '[web]\nweb1\n\n[web:vars]\nansible_connection=local\n')
    env = role_env(sandbox, tmp_path)
    assert run_playbook(deploy_playbook(tmp_path, ['web1']), inventory, env).returncode == 2
    # Another deploy step failed another day: a ticket with another dedupe key, the same recovery key.
    other = json.loads(deploy_playbook(tmp_path, ['web1']).read_text())
    other[0]['tasks'][0]['block'][0]['name'] = 'Warm the caches'
    assert run_playbook(write(tmp_path / 'other.yml', json.dumps(other)), inventory, env).returncode == 2
    assert len(sandbox.tickets()) == 2

    assert run_playbook(deploy_playbook(tmp_path, []), inventory, env).returncode == 0
    assert [ticket['status'] for ticket in sandbox.tickets()] == ['solved', 'solved']


def test_the_role_recovery_warns_and_the_play_goes_on_when_the_api_is_down(sandbox, tmp_path):
    inventory = write(tmp_path / 'inventory.ini', '[web]\nweb1\n\n[web:vars]\nansible_connection=local\n')
    env = role_env(sandbox, tmp_path, UPSUN_CLI_API_URL=closed_port_url(), UPSUN_CLI_AUTH_URL=closed_port_url(),
                   UPSUN_SUPPORT_RETRIES='0')
    run = run_playbook(deploy_playbook(tmp_path, []), inventory, env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'could not solve the tickets of earlier failures of this deploy' in run.stdout
    assert 'the play went on' in run.stdout
    assert sandbox.api_token not in run.stdout + run.stderr


# --- the callback -----------------------------------------------------------------------------------------------------

PLAYBOOK = '''
- name: Nightly job
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the job
      ansible.builtin.fail:
        msg: the job failed
      when: fail_it | bool
'''


def callback_run(client, tmp_path, fail, resolve=None, **extra):
    playbook = write(tmp_path / 'nightly.yml', PLAYBOOK)
    if resolve is not None:
        extra['UPSUN_TICKET_ON_FAILURE_RESOLVE_ON_SUCCESS'] = 'true' if resolve else 'false'
    env = ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', ANSIBLE_CALLBACKS_ENABLED=CALLBACK, **extra)
    return run_playbook(playbook, 'localhost,', env, args=['-c', 'local', '-e', 'fail_it={0}'.format(fail)])


def test_the_callback_solves_on_success_only_when_asked(sandbox, tmp_path):
    assert callback_run(sandbox, tmp_path, True).returncode == 2
    [ticket] = sandbox.tickets()

    # A good run without the option: no request at all.
    sandbox.clear_journal()
    assert callback_run(sandbox, tmp_path, False).returncode == 0
    assert callback_run(sandbox, tmp_path, False, resolve=False).returncode == 0
    assert sandbox.journal() == []

    # With it: the ticket is solved, and the run says so.
    good = callback_run(sandbox, tmp_path, False, resolve=True)
    assert good.returncode == 0, good.stdout + good.stderr
    assert sandbox.ticket(ticket['ticket_id'])['status'] == 'solved'
    assert 'solved Upsun ticket {0}'.format(ticket['ticket_id']) in good.stdout + good.stderr
    assert len(patches(sandbox)) == 1

    # A failed run with the option set files (a follow-up), and solves nothing.
    again = callback_run(sandbox, tmp_path, True, resolve=True)
    assert again.returncode == 2
    tickets = sandbox.tickets()
    assert len(tickets) == 2 and tickets[1]['status'] == 'new' and tickets[1]['followup_tid'] == str(ticket['ticket_id'])
    assert len(patches(sandbox)) == 1


def test_the_callback_recovery_warns_when_the_api_is_down_and_keeps_the_exit_code(sandbox, tmp_path):
    run = callback_run(sandbox, tmp_path, False, resolve=True, UPSUN_CLI_API_URL=closed_port_url(),
                       UPSUN_CLI_AUTH_URL=closed_port_url(), UPSUN_SUPPORT_RETRIES='0')
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'could not solve the tickets of earlier failed runs of this playbook' in ' '.join((run.stdout + run.stderr).split())
