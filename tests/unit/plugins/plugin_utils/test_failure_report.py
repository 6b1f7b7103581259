# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failure report: error texts, no_log, the facts of a rescue, and the report's groups."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import (
    HIDDEN,
    Failure,
    FailureReport,
    MAX_VALUE_CHARS,
    MAX_WORD_CHARS,
    RunFailures,
    bounded,
    ci_job_url,
    error_text,
    failures_from_hostvars,
    is_hidden,
)
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor

REDACT = Redactor(environ={})


def test_the_error_is_msg_rc_and_the_end_of_stderr():
    stderr = '\n'.join('line {0}'.format(number) for number in range(100))
    text = error_text({'msg': 'non-zero return code', 'rc': 3, 'stderr': stderr, 'stdout': 'ignored'})
    assert text.startswith('non-zero return code\nrc: 3\nstderr:\n[80 earlier lines left out]\nline 80\n')
    assert text.endswith('line 99') and 'ignored' not in text


def test_stdout_is_shown_only_when_nothing_else_says_what_went_wrong():
    assert error_text({'rc': 2, 'stdout': 'it said no'}) == 'rc: 2\nstdout:\nit said no'
    assert error_text({}) == 'no error message'
    assert error_text({'msg': {'nested': 'structure'}}) == '{"nested": "structure"}'
    assert error_text({'msg': ['first', 'second']}) == 'first\nsecond'
    assert error_text('a plain string') == 'a plain string'
    assert error_text({'unreachable': True}) == 'host unreachable'


def test_loop_items_give_their_own_errors_and_censored_items_stay_hidden():
    data = {'failed': True, 'msg': 'One or more items failed', 'results': [
        {'item': 'a', 'failed': False},
        {'item': 'b', '_ansible_item_label': 'b', 'failed': True, 'msg': 'b broke'},
        {'failed': True, 'censored': 'hidden', '_ansible_no_log': True},
    ] + [{'item': str(number), 'failed': True, 'msg': 'x'} for number in range(4)]}
    assert error_text(data) == ('One or more items failed\nitem b: b broke\nitem : hidden by no_log\nitem 0: x\n'
                                '... and 3 more failed items')


@pytest.mark.parametrize('no_log, result, hidden', [
    (True, {'msg': 'x'}, True),
    ('{{ hide }}', {'msg': 'x'}, True),
    ('false', {'msg': 'x'}, False),
    (None, {'censored': 'the output has been hidden'}, True),
    (None, {'_ansible_no_log': True}, True),
    (None, {'results': [{'censored': 'x'}]}, True),
    (None, {'msg': 'x'}, False),
])
def test_no_log_is_read_from_the_task_and_the_result(no_log, result, hidden):
    assert is_hidden(no_log, result) is hidden


def test_an_error_is_redacted_before_it_is_cut():
    # Cut first, the key would be split and its second half would not look like a secret any more.
    failure = Failure.from_result('web1', {'msg': 'x' * 70 + ' password=hunter2hunter2 ' + 'y' * 50}, REDACT, max_chars=100)
    assert 'hunter2' not in failure.error and failure.error.startswith('x' * 55)
    assert failure.error.endswith('more characters cut]')


def test_a_loop_item_label_is_redacted_before_it_is_cut():
    # Cut first, the URL would lose its "@host" and the start of the token would reach the ticket.
    label = 'https://deploy-bot:glpat-xR7kP2mQ9vL4nT8wZ3yB@gitlab.example.com/shop/app.git/' + 'x' * 100
    data = {'msg': 'One or more items failed', 'results': [{'item': label, 'failed': True, 'msg': 'clone failed'}]}
    for text in (error_text(data, REDACT), Failure.from_result('web1', data, REDACT).error):
        assert 'glpat' not in text and 'xR7kP2' not in text
        assert 'item https://deploy-bot:' in text and 'clone failed' in text


def test_a_stream_is_redacted_before_its_tail_is_taken():
    key = '-----BEGIN RSA PRIVATE KEY-----\n' + 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n' * 30
    text = error_text({'msg': 'failed', 'stderr': key + '-----END RSA PRIVATE KEY-----\nerror: bad key'}, REDACT)
    assert 'MIIEowIBAAKCAQEA' not in text and text.endswith('error: bad key')


def test_huge_values_are_bounded_before_they_are_redacted_and_no_word_is_split():
    short = 'deploy step failed: disk full'
    assert bounded(short) == short
    lines = '\n'.join('line {0} of the log'.format(number) for number in range(5000))
    kept = bounded(lines)
    assert len(kept) <= MAX_VALUE_CHARS + 100
    assert kept.startswith('line 0 of the log\n') and kept.endswith('\nline 4999 of the log')
    assert all(line.startswith(('line ', '[... ')) and line.endswith((' of the log', 'left out ...]'))
               for line in kept.splitlines())
    words = 'token=' + ' '.join('w{0}'.format(number) for number in range(20000))
    # Every word kept is a whole word of the text; only the note of what was left out is added.
    added = [word for word in bounded(words).split() if word not in set(words.split())]
    assert added[:1] + added[2:] == ['[...', 'characters', 'left', 'out', '...]'] and added[1].isdigit()
    assert bounded('x' * 1000000) == '\n[... 1000000 characters left out ...]\n'
    assert bounded('error: ' + 'a' * (MAX_WORD_CHARS + 1) + ' end') == (
        'error: [... {0} characters without a space left out ...] end'.format(MAX_WORD_CHARS + 1))


def test_a_megabyte_of_adversarial_text_is_reported_in_bounded_time():
    message = 'Deploy failed: ' + 'eyJ-' * 262144 + '\nthe last line'
    started = time.time()
    failure = Failure.from_result('web1', {'msg': message, 'stderr': message, 'stdout': message,
                                           'results': [{'failed': True, 'item': message, 'msg': message}]}, REDACT,
                                  max_chars=0)
    assert time.time() - started < 5
    assert failure.error.startswith('Deploy failed:') and 'the last line' in failure.error
    assert len(failure.error) < 5 * MAX_VALUE_CHARS


def test_the_run_redacts_identical_errors_once():
    calls = []

    def redact(text):
        calls.append(text)
        return REDACT(text)
    hostvars = hostvars_for(**dict(('web{0}'.format(number), ({'name': 'Deploy', 'uuid': 'u'}, {'msg': 'disk full'}))
                                   for number in range(50)))
    failures, dummy = failures_from_hostvars(hostvars, sorted(hostvars), redact)
    assert len(failures) == 50 and calls.count('disk full') == 1


def hostvars_for(**hosts):
    return dict((name, {'ansible_failed_task': task, 'ansible_failed_result': result}) if task else (name, {})
                for name, (task, result) in hosts.items())


def test_the_facts_of_a_rescue_give_the_failed_hosts_in_order():
    task = {'name': 'Migrate', 'action': 'ansible.builtin.command', 'uuid': 'u1'}
    secret_task = {'name': 'Read', 'action': 'ansible.builtin.slurp', 'uuid': 'u2', 'no_log': True}
    hostvars = hostvars_for(web2=(task, {'msg': 'migration failed', 'rc': 1}), ok=(None, None),
                            web1=(secret_task, {'msg': 'token=abcdefabcdef'}), gone=(task, {'unreachable': True, 'msg': 'ssh'}))

    failures, messages = failures_from_hostvars(hostvars, ['web2', 'ok', 'web1', 'gone', 'unknown'], REDACT, play='Deploy')

    assert [(f.host, f.kind, f.task, f.error) for f in failures] == [
        ('web2', 'failed', 'Migrate', 'migration failed\nrc: 1'),
        ('web1', 'failed', 'Read', HIDDEN),
        ('gone', 'unreachable', 'Migrate', 'ssh')]
    assert messages == {'web2': 'migration failed\nrc: 1', 'web1': HIDDEN, 'gone': 'ssh'}


def test_a_host_already_reported_is_left_out_and_the_host_fails_again_with_its_whole_message_redacted():
    task = {'name': 'Migrate', 'action': 'command', 'uuid': 'u1'}
    long_error = 'step failed; ' * 400 + 'password=hunter2hunter2'
    hostvars = hostvars_for(web1=(task, {'msg': long_error}), web2=(task, {'msg': 'again'}))

    failures, messages = failures_from_hostvars(hostvars, ['web1', 'web2'], REDACT, handled={'web2': 'u1'})

    assert [failure.host for failure in failures] == ['web1']
    assert len(failures[0].error) < 4100 and 'hunter2' not in failures[0].error
    assert messages == {'web1': 'step failed; ' * 400 + 'password=[REDACTED]'}


def test_a_host_failed_by_the_unreachable_check_is_reported_unreachable_with_the_check_as_action():
    check = {'name': 'Reach the host at the end of the deploy', 'action': 'ansible.builtin.fail', 'uuid': 'u2',
             'vars': {'__deploy_failure_ticket_unreachable': 'ansible.builtin.ping'}}
    failed = {'name': 'Migrate', 'action': 'command', 'uuid': 'u1', 'vars': {}}
    hostvars = hostvars_for(db1=(check, {'failed': True, 'msg': 'ssh: connect to host db1 port 22: Connection refused'}),
                            web1=(failed, {'failed': True, 'msg': 'migration failed'}))

    failures, dummy = failures_from_hostvars(hostvars, ['db1', 'web1'], REDACT)

    assert [(failure.host, failure.kind, failure.action) for failure in failures] == [
        ('db1', 'unreachable', 'ansible.builtin.ping'), ('web1', 'failed', 'command')]
    assert 'Connection refused' in failures[0].error


def test_the_report_groups_hosts_that_failed_the_same_way():
    failures = [Failure('web1', task='A', action='x', error='e1'), Failure('web2', task='A', action='x', error='e1'),
                Failure('web3', task='A', action='x', error='e2', delegate_to='db'), Failure('web1', task='B', error='e1')]
    report = FailureReport('callback', failures)

    assert [(group['task'], group['error'], group['hosts']) for group in report.groups()] == [
        ('A', 'e1', ['web1', 'web2']), ('A', 'e2', ['web3 (delegated to db)']), ('B', 'e1', ['web1'])]
    assert report.hosts() == ['web1', 'web2', 'web3'] and report.tasks() == ['A', 'B']
    again = FailureReport.from_dict(report.as_dict())
    assert again.groups() == report.groups() and again.source == 'callback'


def test_unhandled_failures_leave_out_the_ones_the_role_reported():
    run = RunFailures(lambda: REDACT)
    reported = type('Task', (), dict(vars={'__deploy_failure_ticket_reported': True}, action='fail', name='Fail again',
                                     get_name=lambda self: 'Fail again'))()
    other = type('Task', (), dict(vars={}, action='command', name='Other', get_name=lambda self: 'Other'))()
    run.record('web1', reported, {'msg': 'deploy error'}, 'failed', 'Deploy', False)
    run.record('web2', other, {'msg': 'other error'}, 'failed', 'Deploy', False)

    assert [failure.host for failure in run.unhandled({'web1': 1, 'web2': 1})] == ['web2']


def test_the_ci_job_url_of_known_ci_systems():
    assert ci_job_url({'GITHUB_REPOSITORY': 'acme/shop', 'GITHUB_RUN_ID': '9'}) == 'https://github.com/acme/shop/actions/runs/9'
    assert ci_job_url({'CI_JOB_URL': 'https://gitlab.example/-/jobs/7'}) == 'https://gitlab.example/-/jobs/7'
    assert ci_job_url({}) is None
