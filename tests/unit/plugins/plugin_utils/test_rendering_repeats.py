# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The repeat comment of a failure report: what it says, redacted, cut, and only with dedupe."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import Failure, FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import (
    MAX_REPEAT_CHARS,
    render_repeat_comment,
    ticket_request,
)

SECRET = 'hunter2hunter2'


def report(error='migration 42 failed', source='role'):
    failures = [Failure('web1', task='Migrate', action='command', error=error),
                Failure('web2', task='Migrate', action='command', error=error),
                Failure('db1', kind='unreachable', task='Check', action='ping', error='host unreachable')]
    logs = dict(files=[dict(filename='web1-deploy.log', path='/var/log/deploy.log', host='web1', size=10)], notes=[])
    return FailureReport(source, failures, plays=['Deploy the shop'], environment='production', logs=logs,
                         timestamp='2026-12-07T10:02:00Z', project='acme/shop')


def test_the_repeat_comment_says_when_where_and_what_failed_again():
    text = render_repeat_comment(report())
    assert text.startswith('This failure happened again at 2026-12-07T10:02:00Z (UTC); the '
                           'upsun.support.deploy_failure_ticket role added this comment')
    for line in ('Play: Deploy the shop', 'Environment: production', 'Failed tasks: Migrate, Check',
                 'Failed hosts (2): web1, web2', 'Unreachable hosts (1): db1', 'migration 42 failed',
                 '- web1-deploy.log: /var/log/deploy.log on web1'):
        assert line in text


def test_the_request_carries_it_redacted_and_cut_with_dedupe_only():
    redact = Redactor(secrets=[SECRET])
    request, dummy = ticket_request(report('password=' + SECRET + ' ' + 'x ' * 20000), redact)
    assert SECRET not in request['repeat_comment'] and 'password=' in request['repeat_comment']
    assert len(request['repeat_comment']) <= MAX_REPEAT_CHARS
    assert 'more characters cut' in request['repeat_comment']
    assert 'repeat_comment' not in ticket_request(report(), redact, dedupe=False)[0]
    assert 'repeat_comment' not in ticket_request(report(), redact, repeat_comment=False)[0]
    # Each run says when it failed: two runs give two comments, each with its own repeat reference.
    assert render_repeat_comment(report()) != render_repeat_comment(FailureReport('role', [], timestamp='2026-12-07T10:03:00Z'))
