# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failure report: its groups, and its plain data read back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.failure import Failure
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import FailureReport


def test_the_report_groups_hosts_that_failed_the_same_way():
    failures = [Failure('web1', task='A', action='x', error='e1'), Failure('web2', task='A', action='x', error='e1'),
                Failure('web3', task='A', action='x', error='e2', delegate_to='db'), Failure('web1', task='B', error='e1')]
    report = FailureReport('callback', failures)

    assert [(group['task'], group['error'], group['hosts']) for group in report.groups()] == [
        ('A', 'e1', ['web1', 'web2']), ('A', 'e2', ['web3 (delegated to db)']), ('B', 'e1', ['web1'])]
    assert report.hosts() == ['web1', 'web2', 'web3'] and report.tasks() == ['A', 'B']
    again = FailureReport.from_dict(report.as_dict())
    assert again.groups() == report.groups() and again.source == 'callback'
