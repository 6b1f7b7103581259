# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The spool module stub (modules/spool.py): run as a module, it checks its options, then says it runs only through
its action plugin (which tests/unit/plugins/action/test_spool.py tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.modules import spool as spool_module

TICKET = {'subject': 'Deploy failed', 'description': 'The deploy hook exited 1.'}


def test_run_as_a_module_it_fails_saying_it_runs_on_the_controller(run_module):
    result = run_module(spool_module, dict(ticket=TICKET))
    assert result['failed'] is True
    assert result['msg'] == ('upsun.support.spool runs on the controller, through its action plugin; it cannot run as '
                             'a module.')


def test_its_options_are_checked_first(run_module):
    result = run_module(spool_module, dict(state='spooled'))
    assert result['failed'] is True
    assert result['msg'] == 'state is spooled but all of the following are missing: ticket'


def test_it_supports_check_mode_like_its_action(run_module):
    result = run_module(spool_module, dict(state='flushed'), check_mode=True)
    assert 'cannot run as a module' in result['msg']
