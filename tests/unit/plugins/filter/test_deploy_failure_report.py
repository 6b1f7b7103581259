# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filters of the deploy_failure_ticket role (deploy_failure_report.py): the report, the log attachments, the
ticket's options, the keys and redact_secrets, each redacting with the run's redactor (deploy_failure_arguments:
test_deploy_failure_arguments.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.filter import deploy_failure_report as filters


def test_the_role_keys_name_the_project_play_and_environment(tmp_path):
    keys = filters.deploy_failure_keys('shop', str(tmp_path), [str(tmp_path / 'hosts')], 'Deploy', 'prod', ['Migrate'])
    assert keys == dict(project='project=shop', dedupe_key='deploy_failure_ticket|project=shop|Deploy|prod|Migrate',
                        recovery_key='deploy_failure_ticket|project=shop|Deploy|prod')
    plain = filters.deploy_failure_keys('', str(tmp_path), str(tmp_path / 'hosts'), 'Deploy', 'prod')
    assert plain['project'] == 'where={0};inventory={1}'.format(tmp_path, tmp_path / 'hosts')
