# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy_failure_filing filter: the role's one step, with the run's one redactor; the thin wrappers agree with it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.upsun.support.plugins.filter import deploy_failure_report as filters

SECRET = 'Zq7-only-in-a-no-log-result'
TASK = {'name': 'Migrate', 'action': 'ansible.builtin.command', 'uuid': 'u1'}


class Context:
    """The Jinja context of the task: its variables in ``parent``."""

    parent = {}


def hostvars():
    return {'web1': {'ansible_failed_task': TASK, 'ansible_failed_result': {'msg': 'migration failed', 'rc': 1},
                     # A no_log task's result: its values are known to be secret.
                     'vault_read': {'_ansible_no_log': True, 'stdout': SECRET}},
            'web2': {}}


def filing(**kwargs):
    kwargs.setdefault('ticket', {'options': {'priority': 'high'}})
    return filters.deploy_failure_filing_filter(Context(), hostvars(), ['web1', 'web2'], play='Deploy', environment='prod',
                                                project='shop', **kwargs)


def test_a_value_secret_in_a_failed_hosts_variables_is_masked_in_the_whole_ticket():
    result = filing(context={'Release': 'v1 ' + SECRET})

    assert SECRET not in str(result['request']) and 'Release: v1 [REDACTED]' in result['request']['description']


def test_the_keys_are_those_of_deploy_failure_keys():
    keys = filters.deploy_failure_keys('shop', play='Deploy', environment='prod', tasks=['Migrate'])

    request = filing()['request']

    assert request['dedupe_key'] == keys['dedupe_key'] and request['recovery_key'] == keys['recovery_key']


def test_the_report_filter_is_the_same_report_with_messages_and_task_uuids():
    report = filters.deploy_failure_report(Context(), hostvars(), ['web1', 'web2'], play='Deploy', environment='prod',
                                           project=filing()['report']['project'])
    result = filing()

    for data in (report, result['report']):
        data.pop('timestamp')
    assert report.pop('messages') == result['messages'] and report.pop('task_uuids') == result['task_uuids']
    assert report == result['report']


def test_your_own_text_goes_into_the_request_redacted():
    request = filing()['request']

    own = filters.deploy_failure_ticket(Context(), {}, request=request, subject='Shop failed ' + 'password=hunter2hunter2',
                                        description='')

    assert own['subject'] == 'Shop failed password=[REDACTED]' and own['description'] == request['description']


@pytest.mark.parametrize('name, value', [('logs', ['not', 'a', 'dict']), ('ticket', 'high'),
                                         ('logs', {'register': 'read', 'marker': 'm', 'tail_bytes': 'lots'}),
                                         ('logs', {'unknown': 1})])
def test_wrong_settings_are_named_in_a_filter_error(name, value):
    with pytest.raises(AnsibleFilterError, match=name if name == 'ticket' else 'logs|deploy_failure_filing'):
        filing(**{name: value})
    with pytest.raises(AnsibleFilterError, match='request'):
        filters.deploy_failure_ticket(Context(), {}, request='not a ticket')
