# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where the API modules' code runs, against the sandbox.

On a local connection (ad hoc on localhost, ``delegate_to: localhost``) the action plugin runs the module's code in
the controller's worker: Ansible packs no module (AnsiballZ) and starts no module process. Elsewhere, and with
``async``, the module runs as any module does. Both give the same results, share the ledger, and honour the task's
``environment``; an item's environment is not left behind for the next item.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from helpers import adhoc_result, ansible_env, run_adhoc, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

MODULE = 'upsun.support.ticket'
NEW = dict(subject='Deploy of release 42 failed', description='The deploy hook exited 1.', priority='high')
PACKED = 'AnsiballZ_ticket.py'


def env_for(sandbox, tmp_path, **extra):
    return ansible_env(sandbox, home=tmp_path / 'ansible-home', **extra)


def test_adhoc_on_localhost_runs_the_code_in_the_worker_and_files_once(sandbox, tmp_path):
    run = run_adhoc(MODULE, dict(NEW, dedupe_key='release-42'), env_for(sandbox, tmp_path), args=['-vvv'])
    assert run.returncode == 0, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    [stored] = sandbox.tickets()
    assert result['ticket']['ticket_id'] == stored['ticket_id'] and result['changed'] is True
    # No module was packed, sent or started: -vvv shows each of those steps when they happen.
    assert PACKED not in run.stdout + run.stderr
    assert 'ESTABLISH LOCAL CONNECTION' not in run.stdout + run.stderr


def test_async_runs_the_module_itself_with_the_same_results_and_ledger(sandbox, tmp_path):
    env = env_for(sandbox, tmp_path)
    args = dict(NEW, dedupe_key='release-42')
    # The listings lag: only the ledger the first run writes can tell the second that the ticket exists.
    sandbox.set_listing(lag=3600)
    here = run_adhoc(MODULE, args, env)
    assert here.returncode == 0, here.stdout + here.stderr
    filed = adhoc_result(here.stdout)['ticket']
    # async: the module is packed and run in its own process, which finds the same ticket and files nothing.
    there = run_adhoc(MODULE, args, env, args=['-B', '60', '-P', '1', '-vvv'])
    assert there.returncode == 0, there.stdout + there.stderr
    assert PACKED in there.stdout + there.stderr
    again = adhoc_result(there.stdout)
    assert again['changed'] is False and again['ticket']['ticket_id'] == filed['ticket_id'], again
    assert len(sandbox.tickets()) == 1
    # The same refusal, in the same words, from both places.
    refused_here = run_adhoc(MODULE, dict(NEW, priority='High'), env)
    refused_there = run_adhoc(MODULE, dict(NEW, priority='High'), env, args=['-B', '60', '-P', '1'])
    assert refused_here.returncode == refused_there.returncode == 2
    assert adhoc_result(refused_here.stdout)['msg'] == adhoc_result(refused_there.stdout)['msg']
    assert 'priority' in adhoc_result(refused_here.stdout)['msg']


def test_each_item_gets_its_own_task_environment_and_nothing_of_the_one_before(sandbox, tmp_path):
    env = env_for(sandbox, tmp_path)
    # The token reaches the module only through the task's environment, and only for the first item.
    env['TOKEN_OF_THE_FIRST_ITEM'] = env.pop('UPSUN_CLI_TOKEN')
    playbook = write(tmp_path / 'environment.yml', '''
        - name: The token only in the task environment, per item
          hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - name: File with the token of the item's environment
              upsun.support.ticket:
                subject: "Item {{ item }}"
                description: The deploy hook exited 1.
              environment: "{{ {'UPSUN_CLI_TOKEN': lookup('ansible.builtin.env', 'TOKEN_OF_THE_FIRST_ITEM')} if item == 'first' else {} }}"
              loop: [first, second]
              register: filed
              ignore_errors: true

            - name: Show what each item returned
              ansible.builtin.debug:
                msg: "RESULTS {{ filed.results | map(attribute='msg') | list | to_json }}"
        ''')
    run = run_playbook(playbook, 'localhost,', env)
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(line for line in run.stdout.splitlines() if 'RESULTS' in line)
    first, second = json.loads(json.loads(line.split(':', 1)[1].strip())[len('RESULTS '):])
    assert first.startswith('Filed Upsun ticket'), first
    # The second item ran in the same worker: the first item's token must be gone from its environment.
    assert 'api_token' in second and 'UPSUN_CLI_TOKEN' in second and not second.startswith('Filed'), second
    assert [ticket['subject'] for ticket in sandbox.tickets()] == ['Item first']
    assert env['TOKEN_OF_THE_FIRST_ITEM'] not in run.stdout + run.stderr
