# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Comments end to end: ticket_comment ad hoc and in a playbook, ticket_info with comments, and refused endpoints.

Every run goes against the sandbox, whose journal shows what was sent (and, in check mode, that nothing was).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from helpers import adhoc_result, ansible_env, one_line, run_adhoc, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox import SANDBOX_USER_ID  # pylint: disable=import-error
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

AGENT = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
LOG = b'migrate: relation "orders" already exists\n\x00\xff binary tail\n'


def play(tasks, result_path):
    """One play on localhost running ``tasks`` (each registers ``r<index>``), then writing every result to a file."""
    named = []
    for index, task in enumerate(tasks):
        named.append(dict(task, register='r{0}'.format(index)))
    results = ', '.join('"r{0}": r{0}'.format(index) for index in range(len(tasks)))
    named.append({'name': 'Write the results out', 'ansible.builtin.copy': {
        'content': '{{ {' + results + '} | to_json }}', 'dest': str(result_path), 'mode': '0600'}})
    return json.dumps([{'name': 'Comments', 'hosts': 'localhost', 'gather_facts': False, 'tasks': named}], indent=2)


def run_tasks(sandbox_client, tmp_path, tasks):
    """Run ``tasks`` in a playbook against the sandbox; return (the run, {r0: result, ...})."""
    result_path = tmp_path / 'results.json'
    playbook = write(tmp_path / 'comments.yml', play(tasks, result_path))
    run = run_playbook(playbook, 'localhost,', ansible_env(sandbox_client, home=tmp_path / 'ansible-home'),
                       args=['-c', 'local'])
    assert run.returncode == 0, run.stdout + run.stderr
    return run, json.loads(result_path.read_text())


def comment_task(check_mode=False, **options):
    task = {'upsun.support.ticket_comment': options, 'ignore_errors': True}
    if check_mode:
        task['check_mode'] = True
    return task


def public_view(stored):
    """A comment as the control API shows it, without its files: what the API answers."""
    return dict((name, value) for name, value in stored.items() if name != 'files')


def test_adhoc_comment_by_ticket_id_masks_the_token(sandbox, tmp_path):
    ticket_id = sandbox.add_ticket(subject='Deploy failed')['ticket_id']
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')

    run = run_adhoc('upsun.support.ticket_comment',
                    "ticket_id={0} body='Failed again; token {1} was in the log'".format(ticket_id, sandbox.api_token), env)

    assert run.returncode == 0, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    description, stored = sandbox.comments(ticket_id)
    assert stored['body'] == 'Failed again; token [REDACTED] was in the log'
    assert result['changed'] is True
    assert result['ticket_id'] == ticket_id
    assert result['comment'] == public_view(stored)
    assert result['msg'] == 'Added comment {0} to Upsun ticket {1}'.format(stored['comment_id'], ticket_id)
    assert sandbox.api_token not in run.stdout + run.stderr
    assert sandbox.api_token not in json.dumps(sandbox.journal())


def test_playbook_comments_by_id_and_by_key_with_attachments_and_check_mode(sandbox, tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_bytes(LOG)
    tasks = [
        {'upsun.support.ticket': {'subject': 'Deploy failed', 'description': 'It broke.', 'dedupe_key': 'deploy web'}},
        comment_task(ticket_id='{{ r0.ticket.ticket_id }}', body='By id, with files.',
                     attachments=[{'path': str(log)}, {'content': 'notes', 'filename': 'notes.txt'}]),
        comment_task(dedupe_key='deploy web', body='By key.'),
        comment_task(check_mode=True, ticket_id='{{ r0.ticket.ticket_id }}', body='Check mode by id.',
                     attachments=[{'path': str(log)}]),
        comment_task(check_mode=True, dedupe_key='deploy web', body='Check mode by key.'),
        comment_task(dedupe_key='no such failure', body='Nowhere to go.'),
    ]

    dummy, results = run_tasks(sandbox, tmp_path, tasks)

    ticket_id = results['r0']['ticket']['ticket_id']
    conversation = sandbox.comments(ticket_id)
    assert [item['body'] for item in conversation[1:]] == ['By id, with files.', 'By key.']
    assert [(item['filename'], base64.b64decode(item['data'])) for item in conversation[1]['files']] == [
        ('deploy.log', LOG), ('notes.txt', b'notes')]
    assert results['r1']['comment'] == public_view(conversation[1])
    assert sorted(results['r1']['comment']['attachments']) == ['deploy.log', 'notes.txt']
    assert (results['r2']['ticket_id'], results['r2']['comment']) == (ticket_id, public_view(conversation[2]))
    # Check mode: what would be sent, and nothing was: only the two real comments were posted.
    assert results['r3']['changed'] is True and results['r3']['comment'] == {}
    assert results['r3']['payload'] == {'ticket_id': ticket_id, 'body': 'Check mode by id.',
                                        'attachments': [{'filename': 'deploy.log', 'size': len(LOG)}]}
    assert results['r4']['payload'] == {'ticket_id': ticket_id, 'body': 'Check mode by key.'}
    assert [entry['body']['body'] for entry in sandbox.journal('POST', '/comments')] == ['By id, with files.', 'By key.']
    # No unsolved ticket carries the key: nothing sent, not a failure.
    assert (results['r5']['changed'], results['r5']['ticket_id'], results['r5'].get('failed', False)) == (False, None, False)


def test_check_mode_by_ticket_id_sends_no_request_at_all(sandbox, tmp_path):
    ticket_id = sandbox.add_ticket()['ticket_id']

    run = run_adhoc('upsun.support.ticket_comment', {'ticket_id': ticket_id, 'body': 'Only a rehearsal.'},
                    ansible_env(sandbox, home=tmp_path / 'ansible-home'), args=['--check'])

    assert run.returncode == 0, run.stdout + run.stderr
    assert adhoc_result(run.stdout)['payload'] == {'ticket_id': ticket_id, 'body': 'Only a rehearsal.'}
    assert sandbox.journal() == []
    assert len(sandbox.comments(ticket_id)) == 1


def test_bad_input_fails_naming_the_option_before_any_request(sandbox, tmp_path):
    ticket_id = sandbox.add_ticket()['ticket_id']
    tasks = [
        comment_task(ticket_id=ticket_id, body='   '),
        comment_task(ticket_id=ticket_id, body="{{ 'x' * 70000 }}"),
        comment_task(ticket_id='abc', body='x'),
        comment_task(ticket_id=True, body='x'),
        comment_task(ticket_id=0, body='x'),
        comment_task(ticket_id=1.5, body='x'),
        comment_task(ticket_id=[ticket_id], body='x'),
        comment_task(ticket_id=ticket_id, dedupe_key='k', body='x'),
        comment_task(body='x'),
        comment_task(dedupe_key=' ', body='x'),
        comment_task(ticket_id=ticket_id, body='x', attachments='deploy.log'),
        comment_task(ticket_id=ticket_id, body='x', attachments=[{'path': '/proc/self/environ'}]),
    ]

    run, results = run_tasks(sandbox, tmp_path, tasks)

    messages = [results['r{0}'.format(index)].get('msg') for index in range(len(tasks))]
    assert all(results['r{0}'.format(index)]['failed'] for index in range(len(tasks))), messages
    assert messages[0] == 'body must not be blank.'
    assert messages[1].startswith('body is 70000 bytes of UTF-8, above the 65536 bytes')
    assert messages[2] == "ticket_id must be a positive ticket number such as 1234, got the str 'abc'."
    assert messages[3] == 'ticket_id must be a positive ticket number such as 1234, got the bool True.'
    assert messages[4] == 'ticket_id must be a positive ticket number, got 0.'
    assert messages[5] == 'ticket_id must be a positive ticket number such as 1234, got the float 1.5.'
    assert messages[6].startswith('ticket_id must be a positive ticket number such as 1234, got the list')
    assert messages[7] == 'parameters are mutually exclusive: ticket_id|dedupe_key'
    assert messages[8] == 'one of the following is required: ticket_id, dedupe_key'
    assert messages[9] == 'dedupe_key must not be blank.'
    assert messages[10].startswith('attachments must be a list of dicts')
    assert 'under /proc' in messages[11]
    assert 'Traceback' not in run.stdout + run.stderr
    assert sandbox.journal() == []


def test_ticket_info_returns_every_page_of_the_conversation_oldest_first(sandbox, tmp_path):
    ticket_id = sandbox.add_ticket(subject='Long one', description='It broke.', requester_id=SANDBOX_USER_ID)['ticket_id']
    for number in range(1, 61):
        sandbox.add_comment(ticket_id, 'comment {0}'.format(number), author_id=AGENT if number % 2 else SANDBOX_USER_ID)
    other = sandbox.add_ticket(subject='Short one', requester_id=AGENT)['ticket_id']

    run = run_adhoc('upsun.support.ticket_info', {'comments': True}, ansible_env(sandbox, home=tmp_path / 'ansible-home'))

    assert run.returncode == 0, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    by_id = dict((ticket['ticket_id'], ticket) for ticket in result['tickets'])
    comments = by_id[ticket_id]['comments']
    assert [item['body'] for item in comments] == ['It broke.'] + ['comment {0}'.format(number) for number in range(1, 61)]
    assert [item['by_requester'] for item in comments[:4]] == [True, False, True, False]
    stored = sandbox.comments(ticket_id)
    assert [dict(item, by_requester=(item['author_id'] == SANDBOX_USER_ID)) for item in map(public_view, stored)] == comments
    # The sandbox's own description comment is by the submitter, who is not this ticket's requester.
    assert [item['by_requester'] for item in by_id[other]['comments']] == [False]
    pages = sorted(entry['query'].get('page') for entry in sandbox.journal('GET', '/comments/{0}'.format(ticket_id)))
    assert pages == ['1', '2']


@pytest.mark.parametrize('mode, status', [('refuse-404', 404), ('refuse-403', 403), ('refuse-405', 405)])
def test_refused_comment_endpoints_fail_the_module_clearly_and_ticket_info_warns_once(sandbox_factory, tmp_path, mode, status):
    sandbox_client = sandbox_factory('--comments', mode)
    first = sandbox_client.add_ticket(subject='One')['ticket_id']
    sandbox_client.add_ticket(subject='Two')
    tasks = [
        comment_task(ticket_id=first, body='Again.'),
        {'upsun.support.ticket_info': {'comments': True}},
        {'upsun.support.ticket': {'ticket_id': first, 'status': 'solved'}},
    ]

    run, results = run_tasks(sandbox_client, tmp_path, tasks)

    refused = results['r0']
    assert refused['failed'] is True and refused['status'] == status
    assert refused['msg'].startswith('The Upsun API refused POST /comments (HTTP {0}'.format(status))
    assert 'No comment was added to ticket {0}: add it in the Upsun console'.format(first) in refused['msg']
    info = results['r1']
    assert 'failed' not in info or info['failed'] is False
    assert [ticket['subject'] for ticket in info['tickets']] == ['Two', 'One']
    assert not [ticket for ticket in info['tickets'] if 'comments' in ticket]
    output = one_line(run.stdout + run.stderr)
    assert output.count('The tickets are returned without their comments') == 1
    assert 'refused GET /comments/' in output
    # The documented endpoints still work.
    assert results['r2']['changed'] is True and sandbox_client.ticket(first)['status'] == 'solved'
