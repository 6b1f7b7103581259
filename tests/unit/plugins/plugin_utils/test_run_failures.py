# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failures of a run that the callback reports: the unhandled ones, not those the role reported."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.run_failures import RunFailures

REDACT = Redactor(environ={})


def test_unhandled_failures_leave_out_the_ones_the_role_reported():
    run = RunFailures(lambda: REDACT)
    reported = type('Task', (), dict(vars={'__deploy_failure_ticket_reported': True}, action='fail', name='Fail again',
                                     get_name=lambda self: 'Fail again'))()
    other = type('Task', (), dict(vars={}, action='command', name='Other', get_name=lambda self: 'Other'))()
    run.record('web1', reported, {'msg': 'deploy error'}, 'failed', 'Deploy', False)
    run.record('web2', other, {'msg': 'other error'}, 'failed', 'Deploy', False)

    assert [failure.host for failure in run.unhandled({'web1': 1, 'web2': 1})] == ['web2']
