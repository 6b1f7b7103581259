# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The offline sandbox (tests/sandbox) for the event source's tests.

A fresh sandbox child process for each test that asks for one. Function scope on purpose: ansible-test runs each
test in a fork of its own and never tears down broader fixtures there, so a sandbox of module scope would be
started again by every test and left running. Its API token is a recognisable secret that no output may contain.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging
import os
import sys

import pytest
import requests

SANDBOX_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), *(['..'] * 5 + ['sandbox']))
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

# The sandbox fixtures (sandbox_factory, used below).
from upsun_sandbox.pytest_plugin import sandbox_factory  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import

SANDBOX_API_TOKEN = 'eda-source-SECRET-api-token-4f7c2a'


def _warm_up(client):
    """One validated request: the sandbox's first one waits for openapi-core to load (about a second)."""
    session = requests.Session()
    session.trust_env = False
    token = session.post(client.url + '/oauth2/token', auth=('platform-api-user', ''), timeout=30,
                         data={'grant_type': 'api_token', 'api_token': client.api_token}).json()['access_token']
    session.get(client.url + '/tickets', headers={'Authorization': 'Bearer ' + token}, timeout=30).raise_for_status()
    session.close()


@pytest.fixture
def sandbox_api_token():
    """The API token the sandbox accepts: a secret that no output may show."""
    return SANDBOX_API_TOKEN


@pytest.fixture
def sandbox(sandbox_factory):  # pylint: disable=redefined-outer-name
    """A fresh sandbox that accepts SANDBOX_API_TOKEN, its first request made, its journal empty: its ``SandboxClient``."""
    client = sandbox_factory(api_tokens=[SANDBOX_API_TOKEN])
    _warm_up(client)
    client.clear_journal()
    return client


@pytest.fixture
def make_source(sandbox):  # pylint: disable=redefined-outer-name
    """Factory: a ``TicketSource`` on the sandbox; closed after the test."""
    # imported here: the collection's code is found once pytest has set the paths up
    from ansible_collections.upsun.support.extensions.eda.plugins.event_source import ticket_events
    from ansible_collections.upsun.support.tests.unit.extensions.eda.plugins.event_source.source_helpers import source_args

    sources = []

    def make(**args):
        source = ticket_events.TicketSource(ticket_events.parse_arguments(source_args(sandbox, **args)))
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.client.close()


@pytest.fixture(autouse=True)
def no_secret_in_output(caplog, sandbox_api_token):  # pylint: disable=redefined-outer-name
    """No log record of any test shows the API token or an Authorization header."""
    caplog.set_level(logging.DEBUG)
    yield
    assert sandbox_api_token not in caplog.text
    assert 'Bearer' not in caplog.text
