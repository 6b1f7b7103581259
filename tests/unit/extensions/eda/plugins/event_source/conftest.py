# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The offline sandbox (tests/sandbox) for the event source's tests.

One sandbox child process serves every test of the directory (starting one
and its first request costs about a second), reset before each test: no tickets, tokens, journal
entries or faults are left from the test before. Its API token is a
recognisable secret that no output may contain.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest
import requests

SANDBOX_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), *(['..'] * 5 + ['sandbox']))
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

from upsun_sandbox.process import SandboxProcess  # noqa: E402 pylint: disable=wrong-import-position

SANDBOX_API_TOKEN = 'eda-source-SECRET-api-token-4f7c2a'


def _warm_up(client):
    """One validated request: the sandbox's first one waits for openapi-core to load (about a second)."""
    session = requests.Session()
    session.trust_env = False
    token = session.post(client.url + '/oauth2/token', auth=('platform-api-user', ''), timeout=30,
                         data={'grant_type': 'api_token', 'api_token': client.api_token}).json()['access_token']
    session.get(client.url + '/tickets', headers={'Authorization': 'Bearer ' + token}, timeout=30).raise_for_status()
    session.close()


@pytest.fixture(scope='module')
def _sandbox_process(tmp_path_factory):
    process = SandboxProcess(api_tokens=[SANDBOX_API_TOKEN], log_path=tmp_path_factory.mktemp('sandbox') / 'sandbox.log')
    client = process.start()
    _warm_up(client)
    yield client
    process.stop()


@pytest.fixture
def sandbox_api_token():
    """The API token the sandbox accepts: a secret that no output may show."""
    return SANDBOX_API_TOKEN


@pytest.fixture
def sandbox(_sandbox_process):
    """The directory's sandbox, reset: its ``SandboxClient``."""
    _sandbox_process.reset()
    return _sandbox_process
