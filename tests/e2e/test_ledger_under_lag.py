# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One ticket per failure while the API's listings lag (the ledger on the controller), module, role and callback.

Every sandbox here lags its listings by 120 s, and no test lets the index catch up unless it says so: what a run
knows of a ticket filed seconds earlier comes from the ledger, or from acting on the ticket itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from helpers import adhoc_result, ansible_env, one_line, run_adhoc, run_playbook, write  # pylint: disable=import-error

# The nightly job that fails when fail_it is true.
from test_recovery import PLAYBOOK  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

TICKET = 'upsun.support.ticket'
CALLBACK = 'upsun.support.ticket_on_failure'
FAILURE = dict(subject='Nightly deploy failed', description='disk full on web1', dedupe_key='nightly|production|migrate')


def lagging(sandbox_factory):
    return sandbox_factory('--listing-lag', '120')


def posts(client):
    return client.journal('POST', '/tickets')


def statuses(client):
    return [ticket['status'] for ticket in client.tickets()]


# --- the module -------------------------------------------------------------------------------------------------------


def test_the_module_files_one_ticket_per_key_and_solves_it_by_key_before_the_index_shows_it(sandbox_factory, tmp_path):
    client = lagging(sandbox_factory)
    env = ansible_env(client, home=tmp_path / 'ansible-home')

    first = adhoc_result(run_adhoc(TICKET, FAILURE, env).stdout)
    again = adhoc_result(run_adhoc(TICKET, FAILURE, env).stdout)

    assert first['changed'] is True
    assert again['changed'] is False and again['ticket']['ticket_id'] == first['ticket']['ticket_id']
    assert 'already carries this dedupe_key' in again['msg']
    assert len(posts(client)) == 1 and len(client.tickets()) == 1
    assert client.listing()['pending'] >= 1

    solved = adhoc_result(run_adhoc(TICKET, dict(status='solved', dedupe_key=FAILURE['dedupe_key']), env).stdout)
    assert solved['changed'] is True and solved['solved'] == [first['ticket']['ticket_id']]
    assert statuses(client) == ['solved']

    # Solved: the next failure files a follow-up at once, though the listing still shows the ticket new.
    follow_up = adhoc_result(run_adhoc(TICKET, FAILURE, env).stdout)
    assert follow_up['changed'] is True
    assert follow_up['ticket']['followup_tid'] == str(first['ticket']['ticket_id'])


def test_an_update_by_id_acts_on_the_ticket_itself_at_once(sandbox_factory, tmp_path):
    client = lagging(sandbox_factory)
    env = ansible_env(client, home=tmp_path / 'ansible-home')
    filed = adhoc_result(run_adhoc(TICKET, dict(subject='Deploy failed', description='x'), env).stdout)
    ticket_id = filed['ticket']['ticket_id']

    solved = run_adhoc(TICKET, dict(ticket_id=ticket_id, status='solved'), env)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert adhoc_result(solved.stdout)['changed'] is True
    assert client.ticket(ticket_id)['status'] == 'solved'
    assert client.journal('PATCH')[-1]['body'] == {'status': 'solved'}

    # Again: the API says nothing changed (204), so neither does the module.
    again = adhoc_result(run_adhoc(TICKET, dict(ticket_id=ticket_id, status='solved'), env).stdout)
    assert again['changed'] is False

    # A ticket that does not exist: the API's 404 on the update says so.
    unknown = run_adhoc(TICKET, dict(ticket_id=99999, status='solved'), env)
    assert unknown.returncode == 2
    assert 'Ticket 99999 was not found' in adhoc_result(unknown.stdout)['msg']


def test_after_a_lost_answer_a_rerun_posts_nothing_until_the_ticket_shows(sandbox_factory, tmp_path):
    client = lagging(sandbox_factory)
    # A short deadline keeps the searches after the lost answer short (the index would not show it anyway).
    env = ansible_env(client, home=tmp_path / 'ansible-home', UPSUN_SUPPORT_DEADLINE='4')
    client.fault('/tickets', 'reset_after_headers', method='POST')

    lost = run_adhoc(TICKET, FAILURE, env)
    assert lost.returncode == 2 and adhoc_result(lost.stdout)['may_exist'] is True
    rerun = run_adhoc(TICKET, FAILURE, env)
    result = adhoc_result(rerun.stdout)
    assert rerun.returncode == 2 and result['may_exist'] is True
    assert 'lost the answer to its POST /tickets for this dedupe_key' in one_line(result['msg'])
    assert len(posts(client)) == 1 and len(client.tickets()) == 1

    # The index shows it: the run finds it and files nothing.
    client.catch_up()
    found = adhoc_result(run_adhoc(TICKET, FAILURE, env).stdout)
    assert found['changed'] is False and found['ticket']['ticket_id'] == client.tickets()[0]['ticket_id']
    assert len(posts(client)) == 1


def test_two_controllers_file_one_ticket_each_then_the_next_run_keeps_the_oldest(sandbox_factory, tmp_path):
    client = lagging(sandbox_factory)

    def controller(name):
        # Its own HOME (the ledger's default place) and TMPDIR (the dedupe locks): another machine.
        env = ansible_env(client, home=tmp_path / name / 'ansible-home', HOME=tmp_path / name / 'home',
                          TMPDIR=tmp_path / name / 'tmp')
        del env['UPSUN_SUPPORT_LEDGER_DIR']
        (tmp_path / name / 'tmp').mkdir(parents=True)
        return env

    first, second = controller('ci-runner-1'), controller('ci-runner-2')
    one = adhoc_result(run_adhoc(TICKET, FAILURE, first).stdout)
    two = adhoc_result(run_adhoc(TICKET, FAILURE, second).stdout)
    assert one['changed'] is True and two['changed'] is True
    oldest, newest = sorted([one['ticket']['ticket_id'], two['ticket']['ticket_id']])

    client.catch_up()
    run = run_adhoc(TICKET, FAILURE, second)
    result = adhoc_result(run.stdout)

    assert result['changed'] is False and result['ticket']['ticket_id'] == oldest
    assert client.ticket(newest)['status'] == 'solved' and client.ticket(oldest)['status'] == 'new'
    assert 'Solved Upsun ticket {0} as a duplicate of ticket {1}'.format(newest, oldest) in one_line(run.stderr)
    assert len(posts(client)) == 2
    assert (tmp_path / 'ci-runner-1' / 'home' / '.ansible' / 'upsun_support_ledger' / 'ledger.jsonl').is_file()
    # The other controller agrees, once its listing shows the solve.
    client.catch_up()
    assert adhoc_result(run_adhoc(TICKET, FAILURE, first).stdout)['ticket']['ticket_id'] == oldest
    assert len(posts(client)) == 2


# --- the role ---------------------------------------------------------------------------------------------------------


def deploy_playbook(tmp_path, fail):
    play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False,
             'vars': {'deploy_failure_ticket_environment': 'prod'},
             'tasks': [{'name': 'Deploy', 'block': [
                 {'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration failed'}, 'when': fail},
                 {'name': 'Solve the tickets of earlier failures', 'ansible.builtin.include_role': {
                     'name': 'upsun.support.deploy_failure_ticket', 'tasks_from': 'recovered'}},
             ], 'rescue': [{'name': 'File a ticket', 'ansible.builtin.include_role': {
                 'name': 'upsun.support.deploy_failure_ticket'}}]}]}]
    return write(tmp_path / 'deploy.yml', json.dumps(play, indent=2))


def test_the_role_files_once_and_its_recovery_solves_the_ticket_before_the_index_shows_it(sandbox_factory, tmp_path):
    client = lagging(sandbox_factory)
    inventory = write(tmp_path / 'inventory.ini', '[web]\nweb1\n\n[web:vars]\nansible_connection=local\n')
    env = ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home')

    for dummy in range(2):
        failed = run_playbook(deploy_playbook(tmp_path, True), inventory, env)
        assert failed.returncode == 2, failed.stdout + failed.stderr
    assert len(posts(client)) == 1 and statuses(client) == ['new']

    good = run_playbook(deploy_playbook(tmp_path, False), inventory, env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert statuses(client) == ['solved']


# --- the callback -----------------------------------------------------------------------------------------------------

def test_the_callback_files_once_and_a_green_run_solves_the_ticket_before_the_index_shows_it(sandbox_factory, tmp_path):
    client = lagging(sandbox_factory)
    playbook = write(tmp_path / 'nightly.yml', PLAYBOOK)
    env = ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', ANSIBLE_CALLBACKS_ENABLED=CALLBACK,
                      UPSUN_TICKET_ON_FAILURE_RESOLVE_ON_SUCCESS='true', UPSUN_TICKET_ON_FAILURE_SPOOL_DIR=tmp_path / 'spool')

    def run(fail):
        return run_playbook(playbook, 'localhost,', env, args=['-c', 'local', '-e', 'fail_it={0}'.format(fail)])

    first, second = run(True), run(True)
    assert first.returncode == 2 and second.returncode == 2
    [ticket] = client.tickets()
    assert len(posts(client)) == 1
    assert 'Upsun ticket {0} (status new) already tracks this failure'.format(ticket['ticket_id']) in second.stdout + second.stderr
    assert not (tmp_path / 'spool').exists()

    good = run(False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert statuses(client) == ['solved']
    assert 'solved Upsun ticket {0}'.format(ticket['ticket_id']) in good.stdout + good.stderr
