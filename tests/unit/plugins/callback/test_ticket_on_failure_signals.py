# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback in a run stopped by SIGTERM or SIGINT: what it spools, and when nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal

from ansible.inventory.host import Host

from ansible_collections.upsun.support.tests.unit.plugins.callback.playbook_run import (
    TASKS, Result, accept_tickets, fail, posted, spool_files, spooled, stats_for, warnings,
)


def test_a_signal_after_a_failure_spools_once_and_nothing_is_sent(make_callback, api, spool_dir, tokens, capfd):
    # Not at the signal, nor at the end of the run should it still come.
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='disk full, token {0}'.format(tokens.api))
    callback.v2_runner_on_start(Host('web2'), TASKS['Check'])
    callback.v2_runner_on_start(Host('web3'), TASKS['Check'])
    callback.v2_runner_on_ok(Result('web3', TASKS['Check'], {}))

    callback._on_signal(signal.SIGTERM)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))

    path, text, record = spooled(spool_dir)
    assert tokens.api not in text and api.requests() == []
    assert record['ticket']['subject'] == ('Ansible run of site.yml interrupted by SIGTERM after failing on 1 host(s): '
                                           'Deploy; hung at Check on web2')
    assert record['may_exist'] is False and 'stopped by SIGTERM' in record['error']
    assert path in capfd.readouterr().err and warnings(callback) == []


def test_a_signal_that_spools_nothing_leaves_the_end_of_run_filing_alone(make_callback, api, spool_dir):
    # A healthy run stopped in a short task: should the run still reach its end and fail, its ticket is filed then.
    accept_tickets(api)
    callback = make_callback()
    callback.v2_runner_on_start(Host('web1'), TASKS['Check'])
    callback._on_signal(signal.SIGINT)
    assert spool_files(spool_dir) == []

    fail(callback, 'web1', 'Deploy', msg='x')
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))
    assert len(posted(api)) == 1


def test_a_signal_while_the_ticket_is_filed_spools_that_ticket_as_may_exist(make_callback, api, spool_dir):
    # The API is slow: the create is being sent when the CI job reaches its timeout.
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    accept_tickets(api)
    api.on('POST', '/tickets', lambda call: callback._on_signal(signal.SIGTERM) or (200, dict(call.json(), ticket_id=1)))

    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))

    record = spooled(spool_dir)[2]
    assert record['may_exist'] is True and 'while its ticket was being filed' in record['error']
    # The ticket that was being filed, with its own dedupe key: the flush finds it, if it was filed.
    assert record['ticket']['subject'] == posted(api)[0]['subject']
    assert record['ticket']['dedupe_key'].startswith('ticket_on_failure|')
    assert record['ticket']['dedupe_key'].endswith('|site.yml|Deploy')


def test_a_signal_after_the_ticket_was_filed_spools_nothing(make_callback, api, spool_dir):
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    accept_tickets(api)
    callback.v2_playbook_on_stats(stats_for(web1=dict(failures=1)))

    callback._on_signal(signal.SIGTERM)

    assert len(posted(api)) == 1 and spool_files(spool_dir) == []


def test_the_callback_hooks_both_signals_unless_told_not_to(make_callback):
    callback = make_callback()
    assert signal.getsignal(signal.SIGTERM) == signal.getsignal(signal.SIGINT)
    assert getattr(signal.getsignal(signal.SIGTERM), '__self__', None) is callback._signal_hook

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    make_callback(spool_on_interrupt=False)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_bad_hung_task_seconds_is_a_warning_and_the_default_is_used(make_callback):
    callback = make_callback(hung_task_seconds=float('inf'))
    assert callback._hung_after == 60.0
    assert any('hung_task_seconds must be a number of seconds from 0 to 604800' in warning for warning in warnings(callback))


def test_a_hung_run_stopped_without_failure_says_it_was_stopped_where_it_hung(make_callback, api, spool_dir):
    callback = make_callback(hung_task_seconds=0)
    callback.v2_runner_on_start(Host('web1'), TASKS['Deploy'])

    callback._on_signal(signal.SIGTERM)

    record = spooled(spool_dir)[2]
    description = record['ticket']['description']
    assert record['ticket']['subject'] == 'Ansible run of site.yml interrupted by SIGTERM; hung at Deploy on web1'
    assert description.startswith('The run was stopped by SIGTERM')
    assert 'The run hung at task "Deploy" (command) on 1 host(s)' in description
    assert 'No task had failed yet.' in description
    assert 'ended with 0 unhandled failure(s)' not in description
    assert api.requests() == []
