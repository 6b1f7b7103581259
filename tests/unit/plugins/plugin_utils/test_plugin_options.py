# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.module_utils.settings import resolve_connection
from ansible_collections.upsun.support.plugins.plugin_utils import plugin_options
from ansible_collections.upsun.support.plugins.plugin_utils.plugin_options import IGNORED, options_one_by_one, origin_text


@pytest.mark.parametrize('origin, text', [
    (None, None),
    ('default', None),
    ('Direct', None),
    ('env: UPSUN_SUPPORT_RETRIES', 'env: UPSUN_SUPPORT_RETRIES'),
    ('/etc/ansible/ansible.cfg', 'retries in the [upsun_support] section of /etc/ansible/ansible.cfg'),
    (IGNORED, IGNORED),
])
def test_origin_text(origin, text):
    assert origin_text('retries', origin) == text


class FakeConfig:
    """The two calls of Ansible's configuration manager that options_one_by_one makes; ``retries`` cannot be read."""

    @staticmethod
    def get_configuration_definitions(plugin_type, name):
        assert (plugin_type, name) == ('callback', 'upsun.support.ticket_on_failure')
        return {'retries': {'default': 3}, 'api_token': {'default': None}, 'priority': {'default': 'normal'}}

    @staticmethod
    def get_config_value_and_origin(name, **sources):
        if name == 'priority':
            return 'high', 'env: UPSUN_TICKET_ON_FAILURE_PRIORITY'
        raise ValueError('invalid value {0!r}'.format(sources['variables'][name]))


def test_one_bad_setting_is_its_default_and_a_warning_without_a_secret_value(monkeypatch):
    monkeypatch.setattr(plugin_options.C, 'config', FakeConfig())
    warnings = []
    variables = {'retries': 'many', 'api_token': 'tok-SECRET-value'}

    options, origins = options_one_by_one('callback', 'upsun.support.ticket_on_failure', warnings.append, ('api_token',),
                                          keys=None, variables=variables, direct=None)

    assert options == {'retries': 3, 'api_token': None, 'priority': 'high'}
    assert origins['priority'] == 'env: UPSUN_TICKET_ON_FAILURE_PRIORITY'
    assert origins['retries'] == origins['api_token'] == IGNORED
    assert any("ignored the retries setting: invalid value 'many'; using its default (3)" in warning for warning in warnings)
    assert not any('tok-SECRET-value' in warning for warning in warnings)


def test_an_ignored_setting_is_not_read_again_from_the_environment():
    environ = {'UPSUN_CLI_TOKEN': 'tok', 'UPSUN_SUPPORT_RETRIES': 'many'}

    settings = resolve_connection({'retries': 3}, {'retries': origin_text('retries', IGNORED)}, environ=environ)

    assert settings.values['retries'] == 3
