# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy_failure_ticket role when hosts cannot be reached during the deploy, against the sandbox.

Ansible runs no ``rescue:`` for an unreachable host, and ends the play when every host is unreachable. The role's
``unreachable`` entry point, last in a deploy block with ``ignore_unreachable: true``, fails each host it cannot reach
with the connection error, so that the role in the ``rescue:`` files one ticket for the failed and unreachable hosts.
The unreachable hosts use ssh to a local port nothing listens on (refused at once); the others the local connection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from helpers import ansible_env, closed_port_url, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ROLE = 'upsun.support.deploy_failure_ticket'


def inventory(tmp_path, reachable=(), unreachable=()):
    port = closed_port_url().rsplit(':', 1)[1]
    lines = ['{0} ansible_connection=local'.format(host) for host in reachable]
    lines += ['{0} ansible_connection=ssh ansible_host=127.0.0.1 ansible_port={1} ansible_user=deploy'.format(host, port)
              for host in unreachable]
    return write(tmp_path / 'inventory.ini', '\n'.join(lines) + '\n')


def playbook(tmp_path, check=True, role_vars=None):
    """The README's layout: the deploy block with ignore_unreachable, the check last in it, the role in its rescue.

    Without ``check``: the usual layout, the role in the rescue only.
    """
    deploy = [
        {'name': 'Upload the release', 'ansible.builtin.raw': 'true', 'changed_when': True},
        {'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration 42 failed on {{ inventory_hostname }}'},
         'when': "inventory_hostname == 'web1'"},
    ]
    if check:
        deploy.append({'name': 'Fail the hosts the deploy could not reach',
                       'ansible.builtin.import_role': {'name': ROLE, 'tasks_from': 'unreachable'}})
    play = {'name': 'Deploy the shop', 'hosts': 'all', 'gather_facts': False, 'tasks': [
        {'name': 'Deploy', 'ignore_unreachable': check, 'block': deploy, 'rescue': [
            {'name': 'File a ticket for the failed deploy',
             'ansible.builtin.import_role': {'name': ROLE, 'rolespec_validate': False}, 'vars': role_vars or {}}]},
    ]}
    return write(tmp_path / 'deploy.yml', json.dumps([play], indent=2))


def run(sandbox_client, tmp_path, hosts, check=True, role_vars=None, **settings):
    env = ansible_env(sandbox_client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', **settings)
    started = time.monotonic()
    result = run_playbook(playbook(tmp_path, check, role_vars), hosts, env, timeout=120)
    return result, time.monotonic() - started


@pytest.mark.parametrize('settings', [{}, {'ANSIBLE_CALLBACKS_ENABLED': 'upsun.support.ticket_on_failure'}],
                         ids=['role', 'role-and-callback'])
def test_every_host_unreachable_files_one_ticket_naming_them_with_their_error(sandbox, tmp_path, settings):
    # With the callback as well, still one ticket: it files nothing for the failures the role reported.
    result, seconds = run(sandbox, tmp_path, inventory(tmp_path, unreachable=['db1', 'db2']), **settings)

    output = result.stdout + result.stderr
    # The hosts still fail (with the connection error), after the ticket is filed.
    assert result.returncode == 2, output
    assert seconds < 60, seconds
    [ticket] = sandbox.tickets()
    assert len(sandbox.journal('POST', '/tickets')) == 1
    description = ticket['description']
    assert 'Unreachable hosts (2): db1, db2' in description, description
    assert 'Task "Reach the host at the end of the deploy" (ansible.builtin.ping): 2 hosts unreachable' in description
    assert 'Connection refused' in description
    assert 'Failed hosts' not in description
    assert 'Filed Upsun ticket' in output and 'failed=1' in output
    assert sandbox.api_token not in json.dumps(ticket) and sandbox.api_token not in output


def test_failed_and_unreachable_hosts_file_one_ticket_for_both(sandbox, tmp_path):
    hosts = inventory(tmp_path, reachable=['web1', 'web2'], unreachable=['db1'])
    deploy_log = write(tmp_path / 'deploy.log', 'step 1\nstep 2: migration 42 failed\n')
    result, dummy = run(sandbox, tmp_path, hosts, role_vars={'deploy_failure_ticket_logs': [str(deploy_log)]})

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    [ticket] = sandbox.tickets()
    description = ticket['description']
    assert 'Failed hosts (1 of 3 in the play): web1' in description, description
    assert 'Unreachable hosts (1): db1' in description
    assert 'migration 42 failed on web1' in description and 'Connection refused' in description
    assert 'web2' not in description
    # The logs: read on the failed host, listed as not read on the unreachable one.
    assert [item['filename'] for item in ticket['attachments']] == ['web1-deploy.log']
    assert 'Failed to connect to the host' in description.split('Logs of db1 could not be read: ')[1].splitlines()[0]
    # web2's deploy worked: it is not failed by the role.
    assert 'web2                       : ok=' in output and 'failed=0' in output.split('web2 ', 1)[1].splitlines()[0]


def test_a_deploy_that_reaches_every_host_files_nothing(sandbox, tmp_path):
    result, dummy = run(sandbox, tmp_path, inventory(tmp_path, reachable=['web2', 'web3']))

    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.tickets() == [] and sandbox.journal('POST', '/tickets') == []


def test_without_the_check_every_host_unreachable_files_nothing(sandbox, tmp_path):
    # Why the entry point exists: the rescue never runs for unreachable hosts.
    result, dummy = run(sandbox, tmp_path, inventory(tmp_path, unreachable=['db1', 'db2']), check=False)

    assert result.returncode == 4, result.stdout + result.stderr
    assert sandbox.tickets() == []
