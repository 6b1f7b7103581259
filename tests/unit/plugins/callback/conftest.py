# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the ticket_on_failure callback's tests: a callback fed a play, the spool, a check run.

The callback watches SIGTERM and SIGINT from its first playbook event: each test gives the handlers back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal
import types
from unittest import mock

import pytest

from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.upsun.support.plugins.callback import ticket_on_failure as plugin
from ansible_collections.upsun.support.tests.unit.plugins.callback.playbook_run import THE_PLAY, defaults


@pytest.fixture(autouse=True)
def signal_handlers_restored():
    saved = dict((signum, signal.getsignal(signum)) for signum in (signal.SIGTERM, signal.SIGINT))
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture
def spool_dir(tmp_path):
    return str(tmp_path / 'spool')


@pytest.fixture
def make_callback(api, tokens, spool_dir, private_ledger):
    """Factory: a callback with the documented defaults, pointed at the fake API, plus ``options``."""
    def make(**options):
        display = mock.Mock(verbosity=0)
        callback = plugin.CallbackModule(display=display)
        settings = defaults()
        settings.update(api_url=api.url, auth_url=api.url, api_token=tokens.api, retries=1, timeout=5.0, spool_dir=spool_dir,
                        ledger_dir=str(private_ledger))
        settings.update(options)
        callback._plugin_options = settings
        callback._origins = dict((name, 'env: UPSUN_CLI_TOKEN' if name == 'api_token' else 'default') for name in settings)
        callback.v2_playbook_on_start(types.SimpleNamespace(_file_name='/ci/checkout/site.yml'))
        callback.v2_playbook_on_play_start(THE_PLAY)
        return callback
    return make


@pytest.fixture
def check_run(monkeypatch):
    """The run is ``ansible-playbook --check`` (what the callback reads of the command line)."""
    monkeypatch.setattr(plugin.context, 'CLIARGS', ImmutableDict(check=True, inventory=('/ci/checkout/hosts',)))
