# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role's one controller step: the report, the logs and the ticket from the facts of a rescue, each text redacted once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.identity import failure_keys, project_identity
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import MAX_SUBJECT_CHARS
from ansible_collections.upsun.support.plugins.plugin_utils.role_filing import (
    Deploy, LogReads, deploy_failure_filing, with_own_text)

REDACT = Redactor(environ={})
MARKER = '==marker=='
TASK = {'name': 'Migrate', 'action': 'ansible.builtin.command', 'uuid': 'u1'}
PROJECT = project_identity('shop')


def counting(calls):
    def redact(text):
        calls.append(text)
        return REDACT(text)
    return redact


def facts_of(**hosts):
    """Each host failed ``TASK`` with the error given, and its log reader read ``deploy.log``."""
    return dict((host, {
        'ansible_failed_task': TASK, 'ansible_failed_result': {'msg': error, 'rc': 1},
        'log_read': {'rc': 0, 'stdout': '{0} ok 40 /srv/deploy.log\nstep 3 failed, password=hunter2hunter2\n'.format(MARKER)},
    }) for host, error in hosts.items())


def filing(facts, redact=REDACT, **kwargs):
    deploy = Deploy(play='Deploy shop', environment='production', play_hosts_count=3, project=PROJECT)
    kwargs.setdefault('ticket', dict(options={'priority': 'high'}))
    return deploy_failure_filing(facts, sorted(facts), redact, deploy, log_reads=LogReads('log_read', MARKER), **kwargs)


def test_each_error_and_each_log_is_redacted_once_and_attached_as_redacted():
    calls = []
    facts = facts_of(web1='disk full, token=abcdefabcdef', web2='disk full, token=abcdefabcdef')

    result = filing(facts, counting(calls))

    assert calls.count('disk full, token=abcdefabcdef') == 1
    assert calls.count('step 3 failed, password=hunter2hunter2\n') == 1
    # The attachments are the ones log_attachments redacted: not redacted a second time when the ticket is written.
    attachments = result['request']['attachments']
    assert [item['filename'] for item in attachments] == ['web1-deploy.log', 'web2-deploy.log']
    assert all('hunter2' not in item['content'] and '[REDACTED]' in item['content'] for item in attachments)
    assert not any(item['content'] in calls for item in attachments) and len(calls) == len(set(calls))
    assert 'abcdefabcdef' not in result['request']['description'] and 'abcdefabcdef' not in str(result['report'])


def test_the_report_is_the_one_the_ticket_describes():
    result = filing(facts_of(web1='disk full'), argument_errors=['deploy_failure_ticket_priority: bad; used its default'])

    report, request = result['report'], result['request']
    assert report['failed_hosts'] == result['failed_hosts'] == ['web1']
    assert report['logs']['files'][0]['filename'] == 'web1-deploy.log' and report['logs']['notes'] == []
    assert report['argument_errors'] == ['deploy_failure_ticket_priority: bad; used its default']
    assert report['project'] == PROJECT and report['timestamp'] in request['description']
    assert 'Task "Migrate" (ansible.builtin.command) failed on 1 host' in request['description']
    assert request['priority'] == 'high' and request['filed_by'] == 'role' and request['max_attachment_size'] == 4194304
    assert result['task_uuids'] == {'web1': 'u1'}
    assert result['messages'] == {'web1': 'disk full\nrc: 1\n\nupsun.support.deploy_failure_ticket: some of its arguments '
                                          'are wrong, their defaults were used: deploy_failure_ticket_priority: bad; '
                                          'used its default'}


def test_the_keys_are_those_of_the_project_play_and_environment_the_recovered_entry_point_solves_by():
    request = filing(facts_of(web1='disk full'))['request']

    dedupe, recovery = failure_keys('role', PROJECT, ['Deploy shop', 'production'], ['Migrate'])
    assert request['dedupe_key'] == dedupe and request['recovery_key'] == recovery
    assert recovery == 'deploy_failure_ticket|project=shop|Deploy shop|production'
    assert 'dedupe_key' not in filing(facts_of(web1='x'), ticket=dict(dedupe=False))['request']
    assert filing(facts_of(web1='x'), ticket=dict(dedupe_key='mine'))['request']['dedupe_key'] == 'mine'


def test_a_host_already_reported_and_a_deploy_without_failures_file_nothing():
    facts = facts_of(web1='disk full')

    result = filing(facts, handled={'web1': 'u1'})

    assert result['request'] is None and result['failed_hosts'] == [] and result['messages'] == {}
    assert result['report']['logs'] == {'files': [], 'notes': []}
    assert filing(facts, ticket=None)['request'] is None


def test_without_logs_nothing_is_attached():
    facts = facts_of(web1='disk full')
    deploy = Deploy(play='Deploy shop', project=PROJECT)

    result = deploy_failure_filing(facts, ['web1'], REDACT, deploy, ticket={})

    assert 'attachments' not in result['request'] and result['report']['logs'] == {'files': [], 'notes': []}


def test_your_own_subject_and_description_are_redacted_and_the_subject_kept_on_one_cut_line():
    request = filing(facts_of(web1='disk full'))['request']

    own = with_own_text(request, REDACT, subject='Deploy\nfailed password=hunter2hunter2 ' + 'x' * 400,
                        description='See token=abcdefabcdef')

    assert own['subject'].startswith('Deploy failed password=[REDACTED] xxx') and len(own['subject']) == MAX_SUBJECT_CHARS
    assert own['description'] == 'See token=[REDACTED]'
    assert own['attachments'] == request['attachments'] and own['dedupe_key'] == request['dedupe_key']
    assert with_own_text(request, REDACT, subject='', description=None) == request
