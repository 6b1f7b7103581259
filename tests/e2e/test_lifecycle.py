# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A ticket's life against the sandbox: ticket_info lookups, solve and reopen, collaborators, dedupe.

To keep the tests fast, each one is a single ansible-playbook run of several steps (one module run each) whose
registered results are written to a file, then checked here with the sandbox's journal, split into one group of
requests per module run (each run starts with its own token exchange).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from helpers import adhoc_result, ansible_env, one_line, run_adhoc, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

TICKET = 'upsun.support.ticket'
INFO = 'upsun.support.ticket_info'
UUID_A = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
UUID_B = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
UUID_C = '0b6f3c1e-2a4d-4e8f-9c7b-1d2e3f4a5b6c'
TOKEN_PATH = '/oauth2/token'
CATEGORIES = ['access', 'billing_question', 'complaint', 'compliance_question', 'configuration_change', 'general_question',
              'incident_outage', 'bug_report', 'report_a_gui_bug', 'onboarding', 'close_my_account']


def run_steps(sandbox_client, tmp_path, steps):
    """Run ``steps`` (name, module, options[, extra task keys]) in one play on localhost.

    Returns the registered result of each step by name, and the journal split into the requests of each module run.
    """
    result_path = tmp_path / 'results.json'
    tasks = []
    for step in steps:
        name, module, options = step[:3]
        task = {'name': name, module: options, 'register': name}
        task.update(step[3] if len(step) > 3 else {})
        tasks.append(task)
    everything = '{{ {' + ', '.join("'{0}': {0}".format(step[0]) for step in steps) + '} | to_json }}'
    tasks.append({'name': 'Write the results out', 'ansible.builtin.copy': {
        'content': everything, 'dest': str(result_path), 'mode': '0600'}})
    playbook = write(tmp_path / 'lifecycle.yml', json.dumps(
        [{'name': 'Ticket lifecycle', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], indent=2))
    run = run_playbook(playbook, 'localhost,', ansible_env(sandbox_client, home=tmp_path / 'ansible-home'), args=['-c', 'local'])
    assert run.returncode == 0, run.stdout + run.stderr
    assert sandbox_client.api_token not in run.stdout + run.stderr
    return json.loads(result_path.read_text()), runs_in_journal(sandbox_client)


def runs_in_journal(sandbox_client):
    """The journal as one list of ``(method, path, query)`` per module run (a run starts with its token exchange)."""
    runs = []
    for entry in sandbox_client.journal():
        if entry['path'] == TOKEN_PATH:
            runs.append([])
        runs[-1].append((entry['method'], entry['path'], entry['query']))
    return runs


def by_page(run):
    """The requests of a run with the pages read ahead in page order: they are sent a few at once (page_concurrency),
    so the sandbox may see page 3 before page 2. The first page is always read first, alone."""
    return run[:1] + sorted(run[1:], key=lambda request: int(request[2].get('page', 0)))


def page(number, **filters):
    """The query of GET /tickets for one page."""
    query = dict(('filter[{0}]'.format(name), str(value)) for name, value in filters.items())
    query['page'] = str(number)
    return query


def test_ticket_info_finds_by_id_pages_searches_filters_and_lists_the_catalogs(sandbox, tmp_path):
    seeded = []
    for index in range(12):
        seeded.append(sandbox.add_ticket(
            subject='Deploy {0} failed'.format(index),
            description='payment gateway timeout' if index == 4 else 'disk full',
            priority=('low', 'normal', 'high', 'urgent')[index % 4],
            status='solved' if index % 3 == 0 else 'open'))
    newest_first = [ticket['ticket_id'] for ticket in reversed(seeded)]
    wanted = seeded[6]
    # Both filters matter: 4 tickets are solved and 3 are urgent, 1 is both.
    solved_urgent = [ticket['ticket_id'] for ticket in seeded if ticket['status'] == 'solved' and ticket['priority'] == 'urgent']
    assert len(solved_urgent) == 1
    sandbox.clear_journal()

    results, runs = run_steps(sandbox, tmp_path, [
        ('by_id', INFO, {'ticket_id': wanted['ticket_id']}),
        ('all', INFO, {}),
        ('limited', INFO, {'limit': 7}),
        ('searched', INFO, {'search': 'Gateway Timeout'}, {'check_mode': True}),
        ('filtered', INFO, {'status': 'solved', 'priority': 'urgent'}),
        ('catalogs', INFO, {'fetch': ['categories', 'priorities'], 'subscription_id': '123456', 'category': 'incident_outage'}),
    ])

    assert not [name for name, result in results.items() if result['changed']]
    assert results['by_id']['tickets'] == [dict((k, v) for k, v in wanted.items() if k != 'attachments')]
    assert runs[0][1:] == [('GET', '/tickets', page(1, ticket_id=wanted['ticket_id']))]

    assert [ticket['ticket_id'] for ticket in results['all']['tickets']] == newest_first
    assert results['all']['count'] == 12
    assert runs[1][1] == ('GET', '/tickets', page(1))
    assert by_page(runs[1][1:]) == [('GET', '/tickets', page(1)), ('GET', '/tickets', page(2)), ('GET', '/tickets', page(3))]

    assert [ticket['ticket_id'] for ticket in results['limited']['tickets']] == newest_first[:7]
    assert results['limited']['count'] == 12
    assert runs[2][1:] == [('GET', '/tickets', page(1)), ('GET', '/tickets', page(2))], 'no page read past the limit'

    assert [ticket['ticket_id'] for ticket in results['searched']['tickets']] == [seeded[4]['ticket_id']]
    assert runs[3][1:] == [('GET', '/tickets', dict(page(1), search='Gateway Timeout'))], 'check mode reads the same'

    assert [ticket['ticket_id'] for ticket in results['filtered']['tickets']] == solved_urgent
    assert runs[4][1:] == [('GET', '/tickets', page(1, status='solved', priority='urgent'))]

    catalogs = results['catalogs']
    assert 'tickets' not in catalogs
    assert [item['id'] for item in catalogs['categories']] == CATEGORIES
    assert [item['id'] for item in catalogs['priorities']] == ['low', 'normal', 'high', 'urgent']
    assert runs[5][1:] == [('GET', '/tickets/category', {'subscription_id': '123456'}),
                           ('GET', '/tickets/priority', {'subscription_id': '123456', 'category': 'incident_outage'})]
    assert len(runs) == 6


def patches(run):
    return [request for request in run if request[0] == 'PATCH']


def test_solve_and_reopen_change_once_and_send_nothing_in_check_mode(sandbox, tmp_path):
    ticket_id = sandbox.add_ticket(subject='Deploy failed', status='new')['ticket_id']
    sandbox.clear_journal()
    update = {'ticket_id': ticket_id}
    results, runs = run_steps(sandbox, tmp_path, [
        ('solve_check', TICKET, dict(update, status='solved'), {'check_mode': True}),
        ('solve', TICKET, dict(update, status='solved')),
        ('solve_again', TICKET, dict(update, status='solved')),
        ('reopen_check', TICKET, dict(update, status='open'), {'check_mode': True}),
        ('reopen', TICKET, dict(update, status='open')),
        ('reopen_again', TICKET, dict(update, status='open')),
    ])

    changed = dict((name, result['changed']) for name, result in results.items())
    assert changed == dict(solve_check=True, solve=True, solve_again=False, reopen_check=True, reopen=True, reopen_again=False)
    status = dict((name, result['ticket']['status']) for name, result in results.items())
    assert status == dict(solve_check='solved', solve='solved', solve_again='solved', reopen_check='open', reopen='open',
                          reopen_again='open')
    assert [len(patches(run)) for run in runs] == [0, 1, 0, 0, 1, 0]
    assert [entry['body'] for entry in sandbox.journal(method='PATCH')] == [{'status': 'solved'}, {'status': 'open'}]
    assert sandbox.ticket(ticket_id)['status'] == 'open'


def test_collaborators_are_added_then_replaced(sandbox, tmp_path):
    ticket_id = sandbox.add_ticket(subject='Deploy failed', status='open')['ticket_id']
    sandbox.clear_journal()
    update = {'ticket_id': ticket_id}
    results, runs = run_steps(sandbox, tmp_path, [
        ('add_a', TICKET, dict(update, collaborator_ids=[UUID_A])),
        ('add_a_b', TICKET, dict(update, collaborator_ids=[UUID_A, UUID_B])),
        ('add_b_again', TICKET, dict(update, collaborator_ids=[UUID_B])),
        ('replace_check', TICKET, dict(update, collaborator_ids=[UUID_C], collaborators_replace=True), {'check_mode': True}),
        ('replace', TICKET, dict(update, collaborator_ids=[UUID_C], collaborators_replace=True)),
        ('replace_again', TICKET, dict(update, collaborator_ids=[UUID_C], collaborators_replace=True)),
    ])

    changed = dict((name, result['changed']) for name, result in results.items())
    assert changed == dict(add_a=True, add_a_b=True, add_b_again=False, replace_check=True, replace=True, replace_again=False)
    collaborators = dict((name, result['ticket']['collaborator_ids']) for name, result in results.items())
    assert collaborators == dict(add_a=[UUID_A], add_a_b=[UUID_A, UUID_B], add_b_again=[UUID_A, UUID_B],
                                 replace_check=[UUID_C], replace=[UUID_C], replace_again=[UUID_C])
    assert [len(patches(run)) for run in runs] == [1, 1, 0, 0, 1, 0]
    assert [entry['body'] for entry in sandbox.journal(method='PATCH')] == [
        {'collaborator_ids': [UUID_A], 'collaborators_replace': False},
        {'collaborator_ids': [UUID_B], 'collaborators_replace': False},
        {'collaborator_ids': [UUID_C], 'collaborators_replace': True},
    ]
    assert sandbox.ticket(ticket_id)['collaborator_ids'] == [UUID_C]


def test_dedupe_key_files_once_then_a_follow_up_once_solved(sandbox, tmp_path):
    new = {'subject': 'Nightly deploy failed', 'description': 'disk full on web1', 'priority': 'high'}
    results, dummy = run_steps(sandbox, tmp_path, [
        ('first', TICKET, dict(new, dedupe_key='nightly|production|migrate')),
        ('same_key', TICKET, dict(new, dedupe_key='nightly|production|migrate')),
        ('other_key', TICKET, dict(new, dedupe_key='nightly|staging|migrate')),
        ('solve_first', TICKET, {'ticket_id': '{{ first.ticket.ticket_id }}', 'status': 'solved'}),
        ('after_solved', TICKET, dict(new, dedupe_key='nightly|production|migrate')),
    ])

    first, same, other, after = (results[name] for name in ('first', 'same_key', 'other_key', 'after_solved'))
    assert first['changed'] is True
    assert same['changed'] is False
    assert same['ticket']['ticket_id'] == first['ticket']['ticket_id']
    assert 'already carries this dedupe_key' in same['msg']
    assert other['changed'] is True and other['ticket']['ticket_id'] != first['ticket']['ticket_id']
    assert results['solve_first']['ticket']['status'] == 'solved'
    assert after['changed'] is True
    assert after['ticket']['ticket_id'] not in (first['ticket']['ticket_id'], other['ticket']['ticket_id'])
    assert after['ticket']['followup_tid'] == str(first['ticket']['ticket_id'])
    stored = sandbox.tickets()
    assert [ticket['ticket_id'] for ticket in stored] == [first['ticket']['ticket_id'], other['ticket']['ticket_id'],
                                                          after['ticket']['ticket_id']]
    assert len(sandbox.journal(method='POST', path='/tickets')) == 3


def test_lost_answer_with_dedupe_key_files_exactly_one_ticket(sandbox, tmp_path):
    sandbox.fault('/tickets', 'create_then_drop', method='POST')
    options = {'subject': 'Nightly deploy failed', 'description': 'disk full on web1', 'dedupe_key': 'nightly|production'}
    run = run_adhoc(TICKET, options, ansible_env(sandbox, home=tmp_path / 'ansible-home'))
    assert run.returncode == 0, run.stdout + run.stderr
    [stored] = sandbox.tickets()
    result = adhoc_result(run.stdout)
    assert result['changed'] is True
    assert result['ticket']['ticket_id'] == stored['ticket_id']
    assert len(sandbox.journal(method='POST', path='/tickets')) == 1
    assert ('The answer to POST /tickets was lost; ticket {0} carries the dedupe_key, so it was filed.'.format(stored['ticket_id'])
            in one_line(run.stderr))
