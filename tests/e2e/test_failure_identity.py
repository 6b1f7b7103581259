# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What identifies a failure, and check mode telling the truth, in real runs against the sandbox.

Two projects with the same ``site.yml``, play and task names are two failures: two tickets, and a green run of one
solves its own ticket only. Two checkouts of one repository (two CI runners, with their own HOME and TMPDIR) are one
project. Check mode reads to predict: it never says "would file" when the real run would file nothing, and a
``--check`` run of the callback files nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

from helpers import adhoc_result, ansible_env, run_adhoc, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

CALLBACK = 'upsun.support.ticket_on_failure'
TICKET = 'upsun.support.ticket'
ROLE = 'upsun.support.deploy_failure_ticket'

SITE = '''
- name: Deploy web
  hosts: all
  gather_facts: false
  tasks:
    - name: Deploy
      ansible.builtin.fail:
        msg: "deploy failed on {{ inventory_hostname }}"
      when: not (green | default(false) | bool)
'''


def project(root, remote=None):
    """A project directory with site.yml and its inventory; a git checkout with ``remote`` as origin when given."""
    write(root / 'site.yml', SITE)
    write(root / 'inventory' / 'hosts', 'web1 ansible_connection=local\n')
    if remote:
        for command in (['git', 'init', '-q', str(root)], ['git', '-C', str(root), 'remote', 'add', 'origin', remote]):
            subprocess.run(command, check=True, capture_output=True)
    return root


def controller_env(client, home, **extra):
    """One controller: its own HOME, TMPDIR and Ansible home, the callback enabled."""
    settings = dict(ANSIBLE_CALLBACKS_ENABLED=CALLBACK, UPSUN_SUPPORT_RETRIES='1', HOME=home / 'home', TMPDIR=home / 'tmp')
    (home / 'tmp').mkdir(parents=True, exist_ok=True)
    settings.update(extra)
    return ansible_env(client, home=home / 'ansible-home', **settings)


def run_site(root, env, *args):
    return run_playbook(root / 'site.yml', root / 'inventory' / 'hosts', env, args=list(args))


def callback_lines(output):
    return [line for line in output.splitlines() if line.startswith(CALLBACK + ': ')]


def posts(client):
    return client.journal(method='POST', path='/tickets')


# --- the callback -----------------------------------------------------------------------------------------------------


def test_two_projects_with_the_same_playbook_and_tasks_file_two_tickets_and_solve_only_their_own(sandbox, tmp_path):
    shop, blog = project(tmp_path / 'shop'), project(tmp_path / 'blog')
    env = controller_env(sandbox, tmp_path / 'controller', UPSUN_TICKET_ON_FAILURE_RESOLVE_ON_SUCCESS='true')

    for root in (shop, blog):
        run = run_site(root, env)
        assert run.returncode == 2, run.stdout + run.stderr
    shop_ticket, blog_ticket = sandbox.tickets()
    assert shop_ticket['subject'] == blog_ticket['subject'] == 'Ansible run of site.yml failed on 1 host(s): Deploy'

    # The same project again: its ticket is found, nothing is filed.
    sandbox.clear_journal()
    again = run_site(blog, env)
    assert posts(sandbox) == []
    assert 'Upsun ticket {0} (status new) already tracks this failure'.format(blog_ticket['ticket_id']) in again.stdout

    # The shop works again: its ticket is solved, the blog's stays open.
    green = run_site(shop, env, '-e', 'green=true')
    assert green.returncode == 0, green.stdout + green.stderr
    assert [ticket['status'] for ticket in sandbox.tickets()] == ['solved', 'new']
    assert [entry['path'] for entry in sandbox.journal(method='PATCH')] == ['/tickets/{0}'.format(shop_ticket['ticket_id'])]


def test_two_runners_checking_out_one_repository_share_one_ticket(sandbox, tmp_path):
    # Two CI runners: different workspaces, HOME and TMPDIR; one cloned over HTTPS with a job token, one over SSH.
    first = project(tmp_path / 'runner-a' / 'builds' / 'acme' / 'shop', 'https://gitlab-ci-token:job-SECRET-1@example.com/acme/shop.git')
    second = project(tmp_path / 'runner-b' / 'work' / 'shop' / 'shop', 'git@example.com:acme/shop.git')
    other = project(tmp_path / 'runner-b' / 'work' / 'blog' / 'shop', 'git@example.com:acme/blog.git')

    run_site(first, controller_env(sandbox, tmp_path / 'runner-a'))
    [ticket] = sandbox.tickets()
    rerun = run_site(second, controller_env(sandbox, tmp_path / 'runner-b'))
    assert len(sandbox.tickets()) == 1, rerun.stdout + rerun.stderr
    assert 'Upsun ticket {0} (status new) already tracks this failure'.format(ticket['ticket_id']) in rerun.stdout
    # Another repository, even in a directory of the same name: another ticket.
    run_site(other, controller_env(sandbox, tmp_path / 'runner-b'))
    assert len(sandbox.tickets()) == 2
    assert 'SECRET' not in json.dumps(sandbox.tickets())


def test_the_project_option_names_the_project_wherever_it_runs(sandbox, tmp_path):
    first, second = project(tmp_path / 'copy-1'), project(tmp_path / 'copy-2')
    env = controller_env(sandbox, tmp_path / 'controller', UPSUN_TICKET_ON_FAILURE_PROJECT='shop')
    run_site(first, env)
    run_site(second, env)
    assert len(sandbox.tickets()) == 1
    # Without it, the two copies outside git are two projects.
    plain = controller_env(sandbox, tmp_path / 'controller')
    run_site(first, plain)
    run_site(second, plain)
    assert len(sandbox.tickets()) == 3


def test_a_failed_check_run_files_nothing_unless_asked(sandbox, tmp_path):
    shop = project(tmp_path / 'shop')
    checked = run_site(shop, controller_env(sandbox, tmp_path / 'controller'), '--check')
    assert checked.returncode == 2
    assert sandbox.journal() == [] and sandbox.tickets() == []
    assert callback_lines(checked.stdout) == [
        CALLBACK + ': check mode (--check): filed no Upsun ticket for this failed run (set file_in_check_mode to file '
                   'one in check runs).']

    asked = run_site(shop, controller_env(sandbox, tmp_path / 'controller', UPSUN_TICKET_ON_FAILURE_FILE_IN_CHECK_MODE='true'),
                     '--check')
    assert asked.returncode == 2
    assert len(sandbox.tickets()) == 1


def test_a_green_check_run_solves_nothing(sandbox, tmp_path):
    shop = project(tmp_path / 'shop')
    env = controller_env(sandbox, tmp_path / 'controller', UPSUN_TICKET_ON_FAILURE_RESOLVE_ON_SUCCESS='true')
    run_site(shop, env)
    sandbox.clear_journal()
    green = run_site(shop, env, '--check', '-e', 'green=true')
    assert green.returncode == 0, green.stdout + green.stderr
    assert sandbox.journal() == []
    assert [ticket['status'] for ticket in sandbox.tickets()] == ['new']


# --- the module in check mode -----------------------------------------------------------------------------------------


def test_ad_hoc_check_mode_with_a_dedupe_key_tells_what_the_real_run_would_do(sandbox, tmp_path):
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    options = dict(subject='Deploy failed', description='See the CI log', dedupe_key='deploy-shop-42')

    first = adhoc_result(run_adhoc(TICKET, options, env, args=['--check']).stdout)
    assert first['changed'] is True and 'Would file' in first['msg']
    filed = adhoc_result(run_adhoc(TICKET, options, env).stdout)
    assert filed['changed'] is True

    sandbox.clear_journal()
    checked = run_adhoc(TICKET, options, env, args=['--check', '--diff'])
    result = adhoc_result(checked.stdout)
    assert result['changed'] is False, checked.stdout
    assert result['ticket']['ticket_id'] == filed['ticket']['ticket_id']
    assert 'would file nothing' in result['msg']
    assert posts(sandbox) == [] and [entry['method'] for entry in sandbox.journal(path='/tickets')] == ['GET']

    # Solved: the real run would file a follow-up, and check mode says so.
    sandbox.set_ticket(filed['ticket']['ticket_id'], status='solved')
    follow_up = adhoc_result(run_adhoc(TICKET, options, env, args=['--check']).stdout)
    assert follow_up['changed'] is True and follow_up['payload']['followup_tid'] == str(filed['ticket']['ticket_id'])
    assert posts(sandbox) == []


# --- the role ---------------------------------------------------------------------------------------------------------


def role_project(root, recovered=False):
    """A project whose play deploys, with the role in the rescue and, when ``recovered``, its recovered entry point."""
    block = [{'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed'},
              'when': 'not (green | default(false) | bool)'}]
    if recovered:
        block.append({'name': 'Solve the tickets of earlier failures', 'ansible.builtin.import_role': {
            'name': ROLE, 'tasks_from': 'recovered', 'rolespec_validate': False}})
    play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False,
             'vars': {'deploy_failure_ticket_environment': 'prod'},
             'tasks': [{'name': 'Deploy', 'block': block, 'rescue': [
                 {'name': 'File a ticket', 'ansible.builtin.import_role': {'name': ROLE, 'rolespec_validate': False}}]}]}]
    write(root / 'deploy.yml', json.dumps(play, indent=2))
    write(root / 'inventory.ini', '[web]\nweb1\n\n[web:vars]\nansible_connection=local\n')
    return root


def run_deploy(root, client, tmp_path, *args):
    env = ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home')
    return run_playbook(root / 'deploy.yml', root / 'inventory.ini', env, args=list(args))


def test_the_role_files_one_ticket_per_project_and_recovers_only_its_own(sandbox, tmp_path):
    shop, blog = role_project(tmp_path / 'shop', recovered=True), role_project(tmp_path / 'blog', recovered=True)
    for root in (shop, blog, blog):
        run = run_deploy(root, sandbox, tmp_path)
        assert run.returncode == 2, run.stdout + run.stderr
    shop_ticket, blog_ticket = sandbox.tickets()
    assert shop_ticket['subject'] == blog_ticket['subject']

    green = run_deploy(shop, sandbox, tmp_path, '-e', 'green=true')
    assert green.returncode == 0, green.stdout + green.stderr
    assert [ticket['status'] for ticket in sandbox.tickets()] == ['solved', 'new']


def test_the_role_project_argument_names_the_project(sandbox, tmp_path):
    copies = [role_project(tmp_path / name) for name in ('copy-1', 'copy-2')]
    for root in copies:
        run = run_deploy(root, sandbox, tmp_path, '-e', 'deploy_failure_ticket_project=shop')
        assert run.returncode == 2, run.stdout + run.stderr
    assert len(sandbox.tickets()) == 1
    # Without it, the two copies outside git are two projects.
    for root in copies:
        run_deploy(root, sandbox, tmp_path)
    assert len(sandbox.tickets()) == 3


def test_the_role_in_check_mode_finds_the_existing_ticket_and_files_nothing(sandbox, tmp_path):
    shop = role_project(tmp_path / 'shop')
    run_deploy(shop, sandbox, tmp_path)
    [ticket] = sandbox.tickets()
    sandbox.clear_journal()
    checked = run_deploy(shop, sandbox, tmp_path, '--check')
    assert checked.returncode == 2
    assert posts(sandbox) == []
    assert 'Upsun ticket {0} already covers this failure'.format(ticket['ticket_id']) in ' '.join(checked.stdout.split())
