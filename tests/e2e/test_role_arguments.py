# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy_failure_ticket role checks its arguments once, also when imported with ``rolespec_validate: false``.

The README's way to use the role is ``import_role`` with ``rolespec_validate: false``: Ansible's own check of the
arguments would run on every failed host. The role then checks them itself, once. These runs attack that check:
a wrong argument never loses the ticket (it is filed with the argument's default, and a warning names the argument
and what is allowed), each failed host fails with its own error and the argument errors, the hosts whose deploy worked
are left alone, and right arguments are checked once, not once per host. With Ansible's own check (``include_role``),
a wrong argument fails the hosts before the role runs, as Ansible does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

import pytest

from helpers import ansible_env, files_under, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ROLE = 'upsun.support.deploy_failure_ticket'
CHECK_TASK = "TASK [upsun.support.deploy_failure_ticket : Check the role's arguments, once]"

# (role variable, wrong value, what the warning says, the default the ticket is filed with: (field, value) or None)
WRONG_ARGUMENTS = [
    ('deploy_failure_ticket_priority', 'High', 'deploy_failure_ticket_priority must be one of: low, normal, high, urgent',
     ('priority', 'high')),
    ('deploy_failure_ticket_category', 'outage', 'deploy_failure_ticket_category must be one of: access, ',
     ('category', 'incident_outage')),
    ('deploy_failure_ticket_error_max_chars', 'lots', "'deploy_failure_ticket_error_max_chars' is of type", None),
    ('deploy_failure_ticket_context', 'not a dict', "'deploy_failure_ticket_context' is of type", None),
    ('deploy_failure_ticket_logs', {'path': '/var/log/deploy.log'}, "'deploy_failure_ticket_logs' is of type", None),
]
WARNING = '[WARNING]: upsun.support.deploy_failure_ticket: '

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


def warnings(output):
    """The role's warnings, each on one line (the display wraps long warnings)."""
    text = re.sub(r'\n(?!\[WARNING\]|\S+: \[|TASK |PLAY |fatal|ok:|skipping|changed|included)', ' ', output)
    return [' '.join(line.split()) for line in text.splitlines() if line.startswith(WARNING)]


@pytest.mark.parametrize('name, value, warning, default', WRONG_ARGUMENTS, ids=[case[0] for case in WRONG_ARGUMENTS])
def test_a_wrong_argument_files_with_its_default_and_warns(sandbox, tmp_path, name, value, warning, default):
    # The failed hosts still fail, the others go on.
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {name: value}, 'import_role, rolespec_validate false (the README)'))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    # The ticket is not lost: filed once, with the default in place of the wrong value.
    [ticket] = sandbox.tickets()
    assert 'Run the migrations' in ticket['subject'] and 'migration failed on web1' in ticket['description']
    if default:
        assert ticket[default[0]] == default[1]
    # One warning, naming the argument and what is allowed, and the default used.
    [shown] = warnings(output)
    assert warning in shown and 'used its default' in shown, shown
    failed = fatal_messages(result.stdout)
    assert sorted(failed) == ['web1', 'web2'], output
    for host in ('web1', 'web2'):
        assert failed[host].startswith('migration failed on {0}\n\n'.format(host)), failed[host]
        assert 'some of its arguments are wrong, their defaults were used' in failed[host] and warning in failed[host]
    assert re.search(r'ok: \[web3\] => \{\s*"msg": "the play went on"', result.stdout), output
    assert 'Traceback' not in output


def test_with_ansible_s_own_check_a_wrong_argument_fails_the_hosts_before_the_role_runs(sandbox, tmp_path):
    # include_role (or import_role without rolespec_validate: false): Ansible checks the arguments on each host first
    # and fails it; the role cannot run. The documentation says to import it as the README shows.
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {'deploy_failure_ticket_priority': 'High'},
                                                'include_role, Ansible checks every host'))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    failed = fatal_messages(result.stdout)
    assert sorted(failed) == ['web1', 'web2'], output
    assert 'deploy_failure_ticket_priority must be one of' in failed['web1']
    assert sandbox.journal() == [] and 'web3' not in failed


def test_wrong_arguments_keep_each_hosts_own_error(sandbox, tmp_path):
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {'deploy_failure_ticket_priority': 'asap',
                                                           'deploy_failure_ticket_dedupe': 'maybe'},
                                                'import_role, rolespec_validate false (the README)'))
    failed = fatal_messages(result.stdout)
    assert 'migration failed on web1' in failed['web1'] and 'migration failed on web2' not in failed['web1']
    assert 'migration failed on web2' in failed['web2']
    for name in ('deploy_failure_ticket_priority', 'deploy_failure_ticket_dedupe'):
        assert name in failed['web2']
    assert len(warnings(result.stdout + result.stderr)) == 2
    # dedupe falls back to true: the ticket carries a dedupe reference.
    [ticket] = sandbox.tickets()
    assert 'Dedupe reference: upsundedupe' in ticket['description']


def test_a_wrong_argument_with_the_api_down_is_spooled_with_the_default(sandbox, tmp_path):
    sandbox.fault('/tickets', method='POST', status=503, count=10)
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {'deploy_failure_ticket_priority': 'High'},
                                                'import_role, rolespec_validate false (the README)'))
    assert result.returncode == 2, result.stdout + result.stderr
    [path] = files_under(tmp_path / 'home' / '.ansible' / 'upsun_support_spool')
    assert json.loads(path.read_text())['ticket']['priority'] == 'high'


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


@pytest.mark.parametrize('name, value', [
    ('deploy_failure_ticket_priority', 'ghp_' + 'R8t2Kq9VxW4mZ7pL3nB6cD1fG5hJ0sA2eY8u'),
    # No rule finds this one: the wrong value itself is masked.
    ('deploy_failure_ticket_category', 'correct-horse-battery-staple-42'),
    ('deploy_failure_ticket_log_tail_kib', 'hunter2hunter2'),
], ids=['token', 'plain', 'wrong-type'])
def test_a_secret_given_as_a_wrong_argument_is_never_shown(sandbox, tmp_path, name, value):
    # A value pasted into the wrong variable: Ansible's error quotes it ("got: ..."); the role's messages must not.
    result = run(sandbox, tmp_path, deploy_play(tmp_path, {name: value}, 'import_role, rolespec_validate false (the README)'),
                 args=['-vvvv'])
    output = result.stdout + result.stderr
    failed = fatal_messages(result.stdout)
    assert name in failed['web1'] and '[REDACTED]' in failed['web1']
    [shown] = warnings(output)
    assert name in shown and '[REDACTED]' in shown
    # Nowhere in the output, at -vvvv (not in the check's result, the warning, the final fail), nor in the ticket.
    assert value not in output
    [ticket] = sandbox.tickets()
    assert value not in json.dumps(ticket)
