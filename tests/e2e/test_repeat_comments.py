# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A repeat says so on its ticket: the role, the callback and the ticket module's repeat_comment, end to end.

The failing deploy is that of test_secret_corpus_paths (three hosts, the secret corpus and a vaulted password in the
failing task's output and log). A rerun of the same failure adds one comment to the unsolved ticket, with no secret in
it nor in its attachments and the useful lines kept; it can be turned off; it costs one request; a comment that cannot
be sent is spooled and flushed once; refused comment endpoints are one warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time

import pytest

from helpers import adhoc_result, ansible_env, files_under, one_line, run_adhoc, run_playbook  # pylint: disable=import-error
from test_secret_corpus_paths import ERROR_LINE, HOSTS, Deploy  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

REPEAT_START = 'This failure happened again at '
OFF = {'role': ['-e', 'deploy_failure_ticket_repeat_comment=false'], 'callback': []}


def run(deploy, sandbox_client, kind, off=False, **env):
    """One run of the failing deploy with the role or the callback; ``off`` turns the repeat comment off."""
    if kind == 'callback':
        env['callback'] = True
        if off:
            env['UPSUN_TICKET_ON_FAILURE_REPEAT_COMMENT'] = 'false'
    result = deploy.run(sandbox_client, args=OFF[kind] if off else [], **env)
    assert result.returncode == 2, result.stdout + result.stderr
    return result


def repeats(sandbox_client, ticket_id):
    """The comments of the ticket after its description."""
    return sandbox_client.comments(ticket_id)[1:]


def flush(sandbox_client, deploy):
    env = deploy.env(sandbox_client)
    env['UPSUN_CLI_TOKEN'] = sandbox_client.api_token
    return run_playbook('upsun.support.flush_spool', 'localhost,', env, cwd=deploy.root, args=['-c', 'local'])


@pytest.mark.parametrize('kind', ['role', 'callback'])
def test_a_repeat_adds_one_clean_comment_with_the_new_logs_and_one_request(sandbox, tmp_path, kind):
    deploy = Deploy(tmp_path, sandbox)
    run(deploy, sandbox, kind)
    [ticket] = sandbox.tickets()
    sandbox.clear_journal()

    again = run(deploy, sandbox, kind)

    assert len(sandbox.tickets()) == 1
    [comment] = repeats(sandbox, ticket['ticket_id'])
    body = comment['body']
    assert body.startswith(REPEAT_START)
    assert 'Repeat reference: upsunrepeat' in body
    # No secret of the corpus, nor the token or the vaulted password; every useful line and the error kept.
    deploy.assert_clean(body)
    for host in HOSTS:
        assert host in body
    assert 'Run the deploy' in body
    if kind == 'role':
        assert [item['filename'] for item in comment['files']] == [host + '-deploy.log' for host in HOSTS]
        for item in comment['files']:
            content = base64.b64decode(item['data']).decode('utf-8')
            deploy.assert_clean(content, complete=False)
            assert 'release note: pre[REDACTED]post' in content
    else:
        assert comment['files'] == []
    said = 'comment {0} on it says it failed again'.format(comment['comment_id'])
    assert said in one_line(again.stdout)
    with_comment = len(sandbox.journal())

    # Turned off: no comment, and one request less.
    sandbox.clear_journal()
    off = run(deploy, sandbox, kind, off=True)
    assert len(repeats(sandbox, ticket['ticket_id'])) == 1
    assert sandbox.journal('POST', '/comments') == []
    assert 'says it failed again' not in one_line(off.stdout)
    assert with_comment == len(sandbox.journal()) + 1


def test_the_role_result_says_the_comment_was_added(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox)
    run(deploy, sandbox, 'role')
    again = run(deploy, sandbox, 'role', off=False)
    [ticket] = sandbox.tickets()
    [comment] = repeats(sandbox, ticket['ticket_id'])
    # The role's outcome line names the ticket as existing and the comment added.
    assert 'Upsun ticket {0} already covers this failure'.format(ticket['ticket_id']) in one_line(again.stdout)
    assert 'comment {0} on it says it failed again'.format(comment['comment_id']) in one_line(again.stdout)
    assert comment['author_id'] and comment['public'] is True


@pytest.mark.parametrize('kind', ['role', 'callback'])
def test_a_comment_that_cannot_be_sent_is_spooled_and_flushed_once(sandbox, tmp_path, kind):
    deploy = Deploy(tmp_path, sandbox)
    run(deploy, sandbox, kind)
    [ticket] = sandbox.tickets()
    sandbox.fault('/comments', method='POST', status=500, count=1)

    failed = run(deploy, sandbox, kind)

    assert repeats(sandbox, ticket['ticket_id']) == []
    assert 'the comment saying it failed again could not be added' in one_line(failed.stdout + failed.stderr)
    [path] = files_under(deploy.root / 'home' / '.ansible' / 'upsun_support_spool')
    record = json.loads(path.read_text())
    assert record['ticket']['repeat_comment'].startswith(REPEAT_START)
    deploy.assert_clean(json.dumps(record), complete=False)

    first = flush(sandbox, deploy)
    second = flush(sandbox, deploy)

    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    [comment] = repeats(sandbox, ticket['ticket_id'])
    assert comment['body'].startswith(REPEAT_START) and ERROR_LINE in comment['body']
    assert 'with the repeat comment of its record ({0})'.format(ticket['ticket_id']) in one_line(first.stdout)
    assert len(sandbox.tickets()) == 1


def test_a_comment_whose_answer_was_lost_is_found_by_the_flush_and_not_added_again(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox)
    run(deploy, sandbox, 'role')
    [ticket] = sandbox.tickets()
    # The API adds the comment 8 s later and never answers; the run's read times out after 2 s, and its look at the
    # conversation finds nothing yet: it cannot know, and spools the request.
    sandbox.fault('/comments', method='POST', action='create_later', create_after=8, count=1)

    lost = run(deploy, sandbox, 'role', UPSUN_CLI_DEFAULT_TIMEOUT='2')
    assert files_under(deploy.root / 'home' / '.ansible' / 'upsun_support_spool'), lost.stdout
    assert repeats(sandbox, ticket['ticket_id']) == []
    time.sleep(8)
    [comment] = repeats(sandbox, ticket['ticket_id'])
    sandbox.clear_journal()

    first = flush(sandbox, deploy)
    second = flush(sandbox, deploy)

    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert repeats(sandbox, ticket['ticket_id']) == [comment]
    assert sandbox.journal('POST', '/comments') == []
    assert files_under(deploy.root / 'home' / '.ansible' / 'upsun_support_spool') == []


@pytest.mark.parametrize('kind', ['role', 'callback'])
@pytest.mark.parametrize('mode', ['refuse-404', 'refuse-403'])
def test_refused_comment_endpoints_are_one_warning_and_the_existing_ticket(sandbox_factory, tmp_path, kind, mode):
    sandbox_client = sandbox_factory('--comments', mode)
    deploy = Deploy(tmp_path, sandbox_client)
    run(deploy, sandbox_client, kind)
    [ticket] = sandbox_client.tickets()

    again = run(deploy, sandbox_client, kind)

    output = one_line(again.stdout + again.stderr)
    assert output.count('the comment saying it failed again could not be added') == 1
    assert 'The Upsun API refused POST /comments (HTTP {0}'.format(mode[-3:]) in output
    assert 'Upsun ticket {0}'.format(ticket['ticket_id']) in output
    assert 'already' in output
    assert files_under(deploy.root / 'home' / '.ansible' / 'upsun_support_spool') == []
    assert len(sandbox_client.tickets()) == 1


# --- the module -------------------------------------------------------------------------------------------------------


def module_args(**extra):
    return dict(dict(subject='Deploy failed', description='It broke.', dedupe_key='deploy web'), **extra)


def test_module_adhoc_repeat_comment_once_masks_the_token_and_check_mode_sends_nothing(sandbox, tmp_path):
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    body = 'Failed again at 10:02 on web1; token {0} in the log'.format(sandbox.api_token)
    filed = adhoc_result(run_adhoc('upsun.support.ticket', module_args(
        repeat_comment=body, description='It broke; token {0} in the log.'.format(sandbox.api_token)), env).stdout)
    ticket_id = filed['ticket']['ticket_id']
    assert filed['changed'] is True and 'comment' not in filed
    # The token in use, from the environment, is masked in the ticket as in the comment.
    assert sandbox.ticket(ticket_id)['description'].startswith('It broke; token [REDACTED] in the log.')
    assert repeats(sandbox, ticket_id) == []

    sandbox.clear_journal()
    checked = adhoc_result(run_adhoc('upsun.support.ticket', module_args(repeat_comment=body), env, args=['--check']).stdout)
    assert checked['changed'] is True and checked['comment'] == {}
    assert checked['payload']['ticket_id'] == ticket_id
    assert checked['payload']['body'].startswith('Failed again at 10:02 on web1; token ')
    assert '\n\nRepeat reference: upsunrepeat' in checked['payload']['body']
    assert sandbox.api_token not in json.dumps(checked)
    assert 'would add a comment' in checked['msg']
    assert [entry['method'] for entry in sandbox.journal()] == ['POST', 'GET']  # the token, the dedupe search

    commented = adhoc_result(run_adhoc('upsun.support.ticket', module_args(repeat_comment=body), env).stdout)
    again = adhoc_result(run_adhoc('upsun.support.ticket', module_args(repeat_comment=body), env).stdout)

    [stored] = repeats(sandbox, ticket_id)
    assert stored['body'].startswith('Failed again at 10:02 on web1; token [REDACTED] in the log\n\nRepeat reference: ')
    assert commented['changed'] is True and commented['comment']['comment_id'] == stored['comment_id']
    assert 'added comment {0}'.format(stored['comment_id']) in commented['msg']
    # The same text again (a retry): found on the ticket, not added twice.
    assert again['changed'] is False and again['comment']['comment_id'] == stored['comment_id']
    assert sandbox.api_token not in json.dumps(sandbox.journal())


def test_module_in_a_playbook_with_attachments_and_bad_input(sandbox, tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_text('step 3 failed\n')
    playbook = tmp_path / 'repeat.yml'
    tasks = [
        {'upsun.support.ticket': module_args(repeat_comment='First time: not sent.')},
        {'upsun.support.ticket': module_args(repeat_comment='It failed again.', attachments=[{'path': str(log)}])},
        {'upsun.support.ticket': module_args(repeat_comment='   '), 'ignore_errors': True},
        {'upsun.support.ticket': dict(subject='x', description='y', repeat_comment='No key.'), 'ignore_errors': True},
    ]
    for index, task in enumerate(tasks):
        task['register'] = 'r{0}'.format(index)
    result_path = tmp_path / 'results.json'
    tasks.append({'ansible.builtin.copy': {'content': '{{ {"r0": r0, "r1": r1, "r2": r2, "r3": r3} | to_json }}',
                                           'dest': str(result_path), 'mode': '0600'}})
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]))

    done = run_playbook(playbook, 'localhost,', ansible_env(sandbox, home=tmp_path / 'ansible-home'), args=['-c', 'local'])

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(result_path.read_text())
    ticket_id = results['r0']['ticket']['ticket_id']
    [comment] = repeats(sandbox, ticket_id)
    assert comment['body'].startswith('It failed again.')
    assert [(item['filename'], base64.b64decode(item['data'])) for item in comment['files']] == [('deploy.log', b'step 3 failed\n')]
    assert results['r1']['comment']['comment_id'] == comment['comment_id']
    assert results['r2']['failed'] is True and 'repeat_comment' in results['r2']['msg']
    assert results['r3']['failed'] is True and results['r3']['msg'].startswith('repeat_comment needs dedupe_key')
    assert [entry['body']['body'] for entry in sandbox.journal('POST', '/comments')] == [comment['body']]
