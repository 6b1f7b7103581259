# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy_failure_ticket role checks its arguments once, also when imported with ``rolespec_validate: false``.

The README's way to use the role is ``import_role`` with ``rolespec_validate: false``: Ansible's own check of the
arguments would run on every failed host. The role then checks them itself, once. These runs attack that check:
wrong arguments must stop the ticket before any request, fail each failed host with its own error and the argument
errors, and leave the hosts whose deploy worked alone; right arguments are checked once, not once per host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

import pytest

from helpers import ansible_env, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ROLE = 'upsun.support.deploy_failure_ticket'
CHECK_TASK = "TASK [upsun.support.deploy_failure_ticket : Check the role's arguments, once]"

# (role variable, wrong value, what the error says)
WRONG_ARGUMENTS = [
    ('deploy_failure_ticket_priority', 'asap', 'deploy_failure_ticket_priority must be one of: low, normal, high, urgent'),
    ('deploy_failure_ticket_error_max_chars', 'lots', 'deploy_failure_ticket_error_max_chars'),
    ('deploy_failure_ticket_context', 'not a dict', 'deploy_failure_ticket_context'),
    ('deploy_failure_ticket_logs', {'path': '/var/log/deploy.log'}, 'deploy_failure_ticket_logs'),
]

USES = {
    'import_role, rolespec_validate false (the README)': ('ansible.builtin.import_role', {'rolespec_validate': False}),
    'include_role, Ansible checks every host': ('ansible.builtin.include_role', {}),
}


def deploy_play(tmp_path, role_vars, use):
    """Three hosts: the deploy fails on web1 and web2 (each with its own error) and works on web3."""
    action, options = USES[use]
    play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False, 'tasks': [
        {'name': 'Deploy', 'block': [
            {'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed on {{ inventory_hostname }}'},
             'when': "inventory_hostname != 'web3'"}],
         'rescue': [{'name': 'File a ticket', action: dict(options, name=ROLE), 'vars': role_vars}]},
        {'name': 'After the deploy', 'ansible.builtin.debug': {'msg': 'the play went on'}}]}]
    return write(tmp_path / 'deploy.yml', json.dumps(play, indent=2))


def run(client, tmp_path, book, args=()):
    inventory = write(tmp_path / 'inventory.ini', '[web]\nweb1\nweb2\nweb3\n\n[web:vars]\nansible_connection=local\n')
    env = ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home')
    return run_playbook(book, inventory, env, args=args)


def fatal_messages(stdout):
    """{host: msg} of the hosts that ended FAILED (the last time each did), at any verbosity."""
    found = {}
    decoder = json.JSONDecoder()
    for match in re.finditer(r'^fatal: \[(web\d)\]: FAILED! => ', stdout, re.MULTILINE):
        found[match.group(1)] = decoder.raw_decode(stdout, match.end())[0]['msg']
    return found


@pytest.mark.parametrize('use', sorted(USES))
@pytest.mark.parametrize('name, value, error', WRONG_ARGUMENTS, ids=[case[0] for case in WRONG_ARGUMENTS])
def test_wrong_arguments_file_nothing_and_fail_only_the_failed_hosts(sandbox, tmp_path, use, name, value, error):
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {name: value}, use))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    # Not one request: the check comes first.
    assert sandbox.journal() == [] and sandbox.tickets() == []
    failed = fatal_messages(result.stdout)
    assert set(failed) >= {'web1', 'web2'}, output
    assert 'web3' not in failed, output
    # Each failed host ends failed with the argument error; the healthy host goes on with the play.
    for host in ('web1', 'web2'):
        assert error in failed[host], failed[host]
    assert re.search(r'ok: \[web3\] => \{\s*"msg": "the play went on"', result.stdout), output
    assert 'Traceback' not in output


def test_wrong_arguments_keep_each_hosts_own_error(sandbox, tmp_path):
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {'deploy_failure_ticket_priority': 'asap'},
                                                'import_role, rolespec_validate false (the README)'))
    failed = fatal_messages(result.stdout)
    assert 'migration failed on web1' in failed['web1'] and 'migration failed on web2' not in failed['web1']
    assert 'migration failed on web2' in failed['web2']
    assert 'filed no ticket, its arguments are wrong' in failed['web2']


def test_right_arguments_are_checked_once_and_the_ticket_is_filed(sandbox, tmp_path):
    # A variable the role does not know is not one of its arguments: no error.
    role_vars = {'deploy_failure_ticket_priority': 'urgent', 'deploy_failure_ticket_unknown_option': 'x'}
    result = run(sandbox, tmp_path, deploy_play(tmp_path, role_vars, 'import_role, rolespec_validate false (the README)'))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    check = result.stdout.split(CHECK_TASK, 1)[1].split('\nTASK [', 1)[0]
    # Once for the play, not once per failed host; and no per-host check by Ansible.
    assert len(re.findall(r'^ok: \[web\d\]', check, re.MULTILINE)) == 1, check
    assert "Validating arguments against arg spec" not in result.stdout
    [ticket] = sandbox.tickets()
    assert ticket['priority'] == 'urgent'
    failed = fatal_messages(result.stdout)
    assert sorted(failed) == ['web1', 'web2'] and failed['web1'] == 'migration failed on web1'


def test_a_secret_given_as_a_wrong_argument_is_redacted(sandbox, tmp_path):
    # A value pasted into the wrong variable: Ansible's error quotes it ("got: ..."); the role's message must not.
    token = 'ghp_' + 'R8t2Kq9VxW4mZ7pL3nB6cD1fG5hJ0sA2eY8u'
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {'deploy_failure_ticket_priority': token},
                                                'import_role, rolespec_validate false (the README)'), args=['-vvvv'])
    failed = fatal_messages(result.stdout)
    assert 'deploy_failure_ticket_priority must be one of' in failed['web1']
    assert '[REDACTED]' in failed['web1']
    # Nowhere in the output, at -vvvv: not in the check's result, not in the final fail.
    assert token not in result.stdout + result.stderr
