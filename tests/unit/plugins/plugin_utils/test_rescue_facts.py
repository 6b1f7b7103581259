# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failures of a deploy, from the facts of a rescue."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rescue_facts import failures_from_hostvars
from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import HIDDEN

REDACT = Redactor(environ={})


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
