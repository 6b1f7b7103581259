# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filters of the deploy_failure_ticket role (deploy_failure_report.py): the report, the log attachments, the
ticket's options, the keys and redact_secrets, each redacting with the run's redactor (deploy_failure_arguments:
test_deploy_failure_arguments.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import types

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.upsun.support.plugins.filter import deploy_failure_report as filters

MARKER = '@@upsun-log-7f3a@@'
SECRET = 'hunter2-is-my-password'


def context(**variables):
    """What Jinja passes a ``pass_context`` filter: the task's variables are its ``parent``."""
    return types.SimpleNamespace(parent=variables)


def failed(task='Migrate', uuid='u1', error='exit 1', **result):
    return {'ansible_failed_task': {'name': task, 'uuid': uuid, 'action': 'command'},
            'ansible_failed_result': dict(result, msg=error, rc=1)}


HOSTVARS = {'web1': failed(error='password={0} refused'.format(SECRET)), 'web2': {}, 'db1': failed(task='Backup', uuid='u2')}


# --- deploy_failure_report --------------------------------------------------------------------------------------------


def test_the_report_names_each_failed_host_its_task_and_redacted_error():
    report = filters.deploy_failure_report(context(), HOSTVARS, ['web1', 'web2', 'db1', 'gone'], play='Deploy',
                                           environment='prod', redaction={'patterns': [SECRET]})

    assert report['source'] == 'role' and report['plays'] == ['Deploy'] and report['environment'] == 'prod'
    assert report['failed_hosts'] == ['web1', 'db1']
    assert [(failure['host'], failure['task']) for failure in report['failures']] == [('web1', 'Migrate'), ('db1', 'Backup')]
    assert report['task_uuids'] == {'web1': 'u1', 'db1': 'u2'}
    assert report['messages']['web1'] == 'password=[REDACTED] refused\nrc: 1'
    assert SECRET not in repr(report)


def test_a_failure_already_handled_is_left_out():
    report = filters.deploy_failure_report(context(), HOSTVARS, ['web1', 'db1'], handled={'web1': 'u1'})
    assert report['failed_hosts'] == ['db1']


def test_wrong_arguments_are_added_redacted_to_each_message():
    report = filters.deploy_failure_report(context(), HOSTVARS, ['db1'], argument_errors=['priority {0} is wrong'.format(SECRET)],
                                           redaction={'patterns': [SECRET]})

    assert report['argument_errors'] == ['priority [REDACTED] is wrong']
    assert report['messages']['db1'] == ('exit 1\nrc: 1\n\nupsun.support.deploy_failure_ticket: some of its arguments are wrong, '
                                         'their defaults were used: priority [REDACTED] is wrong')


def test_the_credentials_and_the_results_of_no_log_tasks_are_redacted_without_a_pattern(monkeypatch):
    monkeypatch.setenv('UPSUN_CLI_TOKEN', 'token-' + SECRET)
    hostvars = {'web1': failed(error='curl -H "token: token-{0}"; db {1}'.format(SECRET, 'db-' + SECRET))}
    variables = dict(db_password={'_ansible_no_log': True, 'stdout': 'db-' + SECRET})

    report = filters.deploy_failure_report(context(**variables), hostvars, ['web1'])

    assert report['messages']['web1'] == 'curl -H "token: [REDACTED]"; db [REDACTED]\nrc: 1'


def test_the_secrets_of_the_failed_hosts_own_variables_are_redacted():
    hostvars = {'web1': dict(failed(error='db login {0} refused'.format(SECRET)),
                             db_login={'_ansible_no_log': True, 'stdout': SECRET})}
    report = filters.deploy_failure_report(context(), hostvars, ['web1'])
    assert report['messages']['web1'] == 'db login [REDACTED] refused\nrc: 1'


@pytest.mark.parametrize('redaction', ['patterns', ['x']])
def test_redaction_settings_that_are_not_a_dict_are_refused(redaction):
    with pytest.raises(AnsibleFilterError, match='redaction must be a dict with patterns, disable and replacement'):
        filters.deploy_failure_report(context(), HOSTVARS, ['web1'], redaction=redaction)


def test_a_bad_redaction_pattern_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        filters.deploy_failure_report(context(), HOSTVARS, ['web1'], redaction={'patterns': ['(unclosed']})


# --- deploy_failure_logs ----------------------------------------------------------------------------------------------


def test_the_logs_read_on_the_hosts_become_redacted_attachments():
    stdout = '{0} ok 30 /var/log/deploy.log\nDB password={1}'.format(MARKER, SECRET)
    hostvars = {'web1': {'log_read': {'rc': 0, 'stdout': stdout}}, 'web2': {'log_read': {'skipped': True}}}

    logs = filters.deploy_failure_logs(context(), hostvars, ['web1', 'web2', 'gone'], 'log_read', MARKER,
                                       redaction={'patterns': [SECRET]})

    assert logs['attachments'] == [dict(filename='web1-deploy.log', content='DB password=[REDACTED]')]
    assert logs['notes'] == [] and logs['files'][0]['path'] == '/var/log/deploy.log'


def test_the_log_caps_are_taken_as_numbers_from_templates():
    stdout = '{0} ok 5000 /a.log\n{1}'.format(MARKER, 'x' * 10 + '\n' + 'y' * 10)
    logs = filters.deploy_failure_logs(context(), {'web1': {'r': {'rc': 0, 'stdout': stdout}}}, ['web1'], 'r', MARKER,
                                       tail_bytes='1024', max_total_bytes='4096')
    assert logs['files'][0]['truncated'] is True


# --- deploy_failure_ticket --------------------------------------------------------------------------------------------


def test_the_ticket_options_of_a_report_are_redacted_and_keyed():
    report = filters.deploy_failure_report(context(), HOSTVARS, ['web1'], play='Deploy', environment='prod')

    request = filters.deploy_failure_ticket(context(), report, redaction={'patterns': [SECRET]}, options={'priority': 'high'})

    assert request['subject'] == 'Deploy failed in prod: Migrate on 1 host(s) (Deploy)'
    assert request['filed_by'] == 'role' and request['priority'] == 'high'
    assert request['dedupe_key'].endswith('|Deploy|prod|Migrate') and request['recovery_key'].endswith('|Deploy|prod')
    assert 'Failed hosts (1): web1' in request['description'] and SECRET not in repr(request)


def test_given_subject_and_keys_win_and_dedupe_can_be_turned_off():
    report = filters.deploy_failure_report(context(), HOSTVARS, ['web1'])

    request = filters.deploy_failure_ticket(context(), report, subject='Shop deploy broke', dedupe=False, recovery_key='shop')

    assert request['subject'] == 'Shop deploy broke'
    assert 'dedupe_key' not in request and request['recovery_key'] == 'shop'


def test_a_report_that_is_not_one_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        filters.deploy_failure_ticket(context(), {'failures': 'not a list of failures', 'unexpected': 1})


# --- deploy_failure_keys ----------------------------------------------------------------------------------------------


def test_the_role_keys_name_the_project_play_and_environment(tmp_path):
    keys = filters.deploy_failure_keys('shop', str(tmp_path), [str(tmp_path / 'hosts')], 'Deploy', 'prod', ['Migrate'])
    assert keys == dict(project='project=shop', dedupe_key='deploy_failure_ticket|project=shop|Deploy|prod|Migrate',
                        recovery_key='deploy_failure_ticket|project=shop|Deploy|prod')
    plain = filters.deploy_failure_keys('', str(tmp_path), str(tmp_path / 'hosts'), 'Deploy', 'prod')
    assert plain['project'] == 'where={0};inventory={1}'.format(tmp_path, tmp_path / 'hosts')


# --- redact_secrets ---------------------------------------------------------------------------------------------------


def test_redact_secrets_applies_the_rules_patterns_and_replacement():
    text = 'password=hunter2 and order 12345 and keep this'
    assert filters.redact_secrets(context(), text, patterns=[r'order \d+'], replacement='***') == \
        'password=*** and *** and keep this'


def test_redact_secrets_masks_the_known_secrets_of_the_task():
    variables = dict(registered={'_ansible_no_log': True, 'stdout': SECRET})
    assert filters.redact_secrets(context(**variables), 'token ' + SECRET) == 'token [REDACTED]'


def test_the_filter_module_lists_every_filter():
    assert sorted(filters.FilterModule().filters()) == sorted([
        'deploy_failure_report', 'deploy_failure_logs', 'deploy_failure_ticket', 'deploy_failure_keys',
        'deploy_failure_arguments', 'deploy_failure_filing', 'redact_secrets'])
