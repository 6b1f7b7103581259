# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filing from the controller: the API session of the callback, and the spool when it cannot file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils import client as client_module
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.settings import resolve_connection
from ansible_collections.upsun.support.plugins.plugin_utils.controller_filing import (
    ApiSession, error_text, flush_command, spool_unfiled)
from ansible_collections.upsun.support.plugins.plugin_utils.spool import DEFAULT_SPOOL_DIR

TICKET = dict(subject='Ansible run of site.yml failed', description='Task "Deploy" failed', dedupe_key='k', filed_by='callback')


def settings_for(url, token):
    return lambda: resolve_connection({'api_url': url, 'auth_url': url, 'api_token': token}, environ={})


def test_a_session_gives_a_client_and_a_ledger_and_closes_the_client_even_when_its_work_fails(api, tokens, private_ledger):
    session = ApiSession(settings_for(api.url, tokens.api), warn=None, ledger_dir=str(private_ledger))
    with mock.patch.object(client_module.Client, 'close', autospec=True) as close:
        with pytest.raises(RuntimeError):
            with session:
                assert session.ledger.api_url == session.client.api_url
                raise RuntimeError('the filing failed')
    close.assert_called_once_with(session.client)
    assert session.public() == {'api_url': api.url, 'auth_url': api.url}


def test_without_requests_the_settings_are_not_even_resolved(monkeypatch):
    monkeypatch.setattr(client_module, 'HAS_REQUESTS', False)
    resolve = mock.Mock()
    session = ApiSession(resolve, warn=None, ledger_dir=None)
    with pytest.raises(UpsunError, match='requests.*on the controller'):
        with session:
            pass
    resolve.assert_not_called()
    assert session.public() == {}


def test_settings_that_cannot_be_used_fail_before_any_client_and_are_still_public(api):
    session = ApiSession(settings_for(api.url, None), warn=None, ledger_dir=None)
    with pytest.raises(InputError, match='No Upsun credentials'):
        with session:
            pass
    assert session.client is None and session.public() == {'api_url': api.url, 'auth_url': api.url}
    assert api.calls == []


def test_an_error_is_told_by_its_message_or_its_type():
    assert error_text(InputError('bad retries')) == 'bad retries'
    assert error_text(ValueError('boom')) == 'ValueError: boom'


@pytest.mark.parametrize('directory, command', [
    (DEFAULT_SPOOL_DIR, 'ansible-playbook upsun.support.flush_spool'),
    ('/ci/spool', 'ansible-playbook upsun.support.flush_spool -e upsun_support_spool_dir=/ci/spool'),
])
def test_the_flush_command_names_a_spool_directory_that_is_not_the_default(directory, command):
    assert flush_command(directory) == command


def test_an_unfiled_ticket_is_spooled_redacted_and_the_warning_says_where(tmp_path):
    warnings = []
    directory = str(tmp_path / 'spool')

    spool_unfiled(directory, dict(TICKET, description='token=tok-123'), 'HTTP 503', True, {'api_url': 'https://api.example'},
                  lambda text: text.replace('tok-123', '[REDACTED]'), warnings.append)

    [path] = [os.path.join(directory, name) for name in os.listdir(directory)]
    record = json.loads(open(path).read())
    assert record['ticket']['description'] == 'token=[REDACTED]' and record['may_exist'] is True
    assert record['source'] == 'callback' and record['connection'] == {'api_url': 'https://api.example'}
    [warning] = warnings
    assert warning.startswith('could not file the Upsun ticket for this failed run (it may have been filed: the flush checks '
                              'first): HTTP 503 It was written to ' + path)
    assert 'upsun_support_spool_dir={0}'.format(directory) in warning


def test_a_ticket_that_cannot_be_spooled_either_is_given_whole_in_the_warning(tmp_path):
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text('')
    warnings = []

    spool_unfiled(str(blocker), TICKET, 'HTTP 503', False, {}, lambda text: text, warnings.append)

    [warning] = warnings
    assert 'nor spool it' in warning and TICKET['subject'] in warning and TICKET['description'] in warning
