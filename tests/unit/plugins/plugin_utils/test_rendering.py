# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rendering: the subject, the description and the ticket options of a failure report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import Failure, FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import (
    MAX_LISTED_GROUPS,
    MAX_SUBJECT_CHARS,
    default_dedupe_key,
    default_recovery_key,
    render_description,
    render_subject,
    ticket_request,
)

REDACT = Redactor(environ={})


def report(source='callback', hosts=('web1',), tasks=('Deploy',), **kwargs):
    failures = [Failure(host, task=task, action='command', error='{0} broke'.format(task)) for task in tasks for host in hosts]
    kwargs.setdefault('plays', ['Deploy shop'])
    kwargs.setdefault('playbooks', ['/ci/site.yml'] if source == 'callback' else [])
    return FailureReport(source, failures, **kwargs)


def test_the_default_subjects():
    assert render_subject(report())[0] == 'Ansible run of site.yml failed on 1 host(s): Deploy'
    assert render_subject(report('role', hosts=['a', 'b'], tasks=['X', 'Y', 'Z', 'W'], environment='prod'))[0] == (
        'Deploy failed in prod: X, Y, Z and 1 more on 2 host(s) (Deploy shop)')
    assert render_subject(report('role', environment='default'))[0] == 'Deploy failed: Deploy on 1 host(s) (Deploy shop)'


def test_a_subject_template_takes_the_documented_fields():
    subject, error = render_subject(report(), '[CI] {playbooks} / {plays}: {failure_count} failure(s) on {hosts} ({task})')
    assert (subject, error) == ('[CI] site.yml / Deploy shop: 1 failure(s) on web1 (Deploy)', None)


@pytest.mark.parametrize('template', ['{playbook.__class__}', '{nope}', '{0}', '{playbook', '{tasks!r:>{width}}'])
def test_a_bad_subject_template_says_why_and_the_default_is_used(template):
    subject, error = render_subject(report(), template)
    assert subject == 'Ansible run of site.yml failed on 1 host(s): Deploy'
    assert 'subject template' in error and 'Using the default' in error and '{playbook}' in error


def test_the_subject_is_one_short_line():
    ticket, dummy = ticket_request(report(hosts=['host{0}'.format(n) for n in range(400)]), REDACT,
                                   subject_template='{hosts}\n{hosts} ' * 20)
    assert len(ticket['subject']) <= MAX_SUBJECT_CHARS and '\n' not in ticket['subject']


def test_the_subject_is_cut_after_it_is_redacted():
    # Cut first, the URL would lose its "@host" and the start of the password would be sent.
    play = 'x' * 220 + ' https://deploy:glpat-xR7kP2mQ9vL4nT8wZ3yB@gitlab.example.com/shop/app.git'
    ticket, dummy = ticket_request(report(plays=[play]), REDACT, subject_template='{plays}')
    assert 'glpat' not in ticket['subject'] and 'xR7kP' not in ticket['subject']
    assert ticket['subject'].startswith('x' * 220) and len(ticket['subject']) <= MAX_SUBJECT_CHARS


def test_the_description_lists_each_distinct_failure_with_its_hosts():
    failures = [Failure('web1', task='Migrate', action='command', error='rc: 3'),
                Failure('web2', task='Migrate', action='command', error='rc: 3'),
                Failure('db1', kind='unreachable', task='Ping', action='ping', error='ssh refused')]
    text = render_description(FailureReport('role', failures, plays=['Deploy'], environment='prod', play_hosts_count=5,
                                            context={'Release': '42', 'Commit': ''}, ansible_version='2.19.4'))
    assert text.startswith('A deploy failed and Ansible filed this ticket (upsun.support.deploy_failure_ticket role).')
    for line in ('Play: Deploy', 'Environment: prod', 'Release: 42', 'Failed hosts (2 of 5 in the play): web1, web2',
                 'Unreachable hosts (1): db1', 'ansible-core: 2.19.4',
                 '1. Task "Migrate" (command) failed on 2 hosts:\n   web1, web2\n   Error:\n      rc: 3',
                 '2. Task "Ping" (ping): 1 host unreachable:\n   db1\n   Error:\n      ssh refused'):
        assert line in text
    assert 'Commit' not in text, 'empty context is left out'


def test_many_distinct_failures_are_listed_up_to_a_limit():
    failures = [Failure('host{0}'.format(n), task='T{0}'.format(n), error='e') for n in range(MAX_LISTED_GROUPS + 5)]
    text = render_description(FailureReport('callback', failures))
    assert text.count('. Task "T') == MAX_LISTED_GROUPS
    assert '... and 5 more distinct failures.' in text


def test_the_default_dedupe_key_depends_on_project_playbook_or_deploy_and_tasks_only():
    key = default_dedupe_key(report(tasks=['Deploy', 'Check'], project='project=shop'))
    assert key == default_dedupe_key(report(hosts=['other'], tasks=['Check', 'Deploy'], playbooks=['/elsewhere/site.yml'],
                                            project='project=shop'))
    assert key != default_dedupe_key(report(tasks=['Deploy'], project='project=shop'))
    # The same playbook and tasks in another project: another failure.
    assert key != default_dedupe_key(report(tasks=['Deploy', 'Check'], project='project=blog'))
    assert default_dedupe_key(report(tasks=['Check', 'Deploy'], project='p')) == 'ticket_on_failure|p|site.yml|Check|Deploy'
    assert default_dedupe_key(report('role', environment='prod', project='p')) == 'deploy_failure_ticket|p|Deploy shop|prod|Deploy'


def test_without_a_project_the_keys_name_where_the_run_comes_from():
    assert default_dedupe_key(report()) == 'ticket_on_failure|where=unknown;inventory=none|site.yml|Deploy'
    assert default_recovery_key(report('role', environment='prod')) == (
        'deploy_failure_ticket|where=unknown;inventory=none|Deploy shop|prod')


def test_the_ticket_request_is_redacted_last_whatever_its_text_came_from():
    request, warnings = ticket_request(
        report(), REDACT, options={'priority': 'high', 'category': '', 'collaborator_ids': []},
        description='my template with password=hunter2hunter2', subject='Deploy of token=abcdefabcdef failed',
        attachments=[{'filename': 'a.log', 'content': 'Authorization: Bearer abcdefghijkl'}], max_attachment_size=2048)
    # With dedupe, the comment for a repeat too (its text: test_rendering_repeats.py).
    assert request.pop('repeat_comment').startswith('This failure happened again at ')
    assert request == {
        'subject': 'Deploy of token=[REDACTED] failed',
        'description': 'my template with password=[REDACTED]',
        'filed_by': 'callback',
        'dedupe_key': 'ticket_on_failure|where=unknown;inventory=none|site.yml|Deploy',
        'recovery_key': 'ticket_on_failure|where=unknown;inventory=none|site.yml',
        'priority': 'high',
        'attachments': [{'filename': 'a.log', 'content': 'Authorization: Bearer [REDACTED]'}],
        'max_attachment_size': 2048,
    }
    assert warnings == []


def test_without_dedupe_the_request_has_no_dedupe_key_but_still_a_recovery_key():
    request, dummy = ticket_request(report('role'), REDACT, dedupe=False, recovery_key='deploy_failure_ticket|Deploy shop|prod')
    assert 'dedupe_key' not in request and request['filed_by'] == 'role'
    assert request['recovery_key'] == 'deploy_failure_ticket|Deploy shop|prod'


def test_the_callback_recovery_key_names_the_project_and_playbooks_whatever_failed():
    assert default_recovery_key(report(tasks=['A'], project='p')) == default_recovery_key(
        report(tasks=['B'], playbooks=['/x/site.yml'], project='p'))
    assert default_recovery_key(report(playbooks=['/x/other.yml'], project='p')) != default_recovery_key(report(project='p'))
    assert default_recovery_key(report(project='q')) != default_recovery_key(report(project='p'))
