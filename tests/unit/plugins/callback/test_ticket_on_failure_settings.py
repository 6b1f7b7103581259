# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback: its settings, its documentation, and what it costs a run to load."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.callback import ticket_on_failure as plugin
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import DEFAULT_SUBJECTS
from ansible_collections.upsun.support.plugins.plugin_utils.spool import DEFAULT_SPOOL_DIR
from ansible_collections.upsun.support.tests.unit.plugins.callback.playbook_run import DOC, defaults, warnings


def test_every_setting_has_an_environment_variable_and_an_ini_key():
    for name, spec in DOC['options'].items():
        section = 'upsun_support' if name in CONNECTION_NAMES else 'callback_upsun_support_ticket_on_failure'
        assert spec.get('env') or name == 'validate_certs', name
        assert spec.get('ini') == [{'section': section, 'key': name}], name
    # The config manager takes the last variable set: UPSUN_CLI_TOKEN wins over PLATFORMSH_CLI_TOKEN, as in the modules.
    assert [entry['name'] for entry in DOC['options']['api_token']['env']] == ['PLATFORMSH_CLI_TOKEN', 'UPSUN_CLI_TOKEN']
    assert DOC['options']['subject']['default'] == DEFAULT_SUBJECTS['callback']
    assert plugin.CallbackModule.CALLBACK_NEEDS_ENABLED is True
    assert plugin.CallbackModule.CALLBACK_TYPE == 'notification'


def test_a_bad_setting_falls_back_to_its_default_with_a_warning(tokens):
    definitions = dict((name, dict(spec)) for name, spec in DOC['options'].items())
    values = dict(defaults(), api_token=tokens.api)

    def value_and_origin(name, **kwargs):
        if name in ('retries', 'api_token'):
            raise ValueError('Invalid value for {0}: {1}'.format(name, tokens.api if name == 'api_token' else 'abc'))
        return values[name], 'default'

    config = mock.Mock()
    # ansible-core 2.19+ asks for options and origins, 2.16 for the options only.
    config.get_plugin_options_and_origins.side_effect = ValueError('one setting is bad')
    config.get_plugin_options.side_effect = ValueError('one setting is bad')
    config.get_configuration_definitions.return_value = definitions
    config.get_config_value_and_origin.side_effect = value_and_origin
    callback = plugin.CallbackModule(display=mock.Mock(verbosity=0))
    callback._load_name = plugin.NAME
    with mock.patch.object(plugin.C, 'config', config):
        callback.set_options()
    assert callback.get_option('retries') == 3
    assert callback.get_option('api_token') is None
    assert callback.get_option('priority') is None
    assert warnings(callback) == [
        "upsun.support.ticket_on_failure: ignored the api_token setting; using its default (None).",
        "upsun.support.ticket_on_failure: ignored the retries setting: Invalid value for retries: abc; using its default (3).",
    ]


def test_settings_that_load_fine_are_taken_as_they_are():
    config = mock.Mock()
    config.get_plugin_options_and_origins.return_value = ({'retries': 1}, {'retries': 'env: UPSUN_SUPPORT_RETRIES'})
    config.get_plugin_options.return_value = {'retries': 1}
    callback = plugin.CallbackModule(display=mock.Mock(verbosity=0))
    callback._load_name = plugin.NAME
    with mock.patch.object(plugin.C, 'config', config):
        callback.set_options()
    assert callback.get_option('retries') == 1
    assert warnings(callback) == []


@pytest.mark.parametrize('origin, source', [
    ('env: PLATFORMSH_CLI_TOKEN', 'the PLATFORMSH_CLI_TOKEN environment variable'),
    ('/ci/ansible.cfg', 'api_token in the [upsun_support] section of /ci/ansible.cfg'),
    ('default', 'the api_token option'),
])
def test_the_token_source_is_named_never_shown(make_callback, origin, source):
    callback = make_callback()
    callback._origins['api_token'] = origin
    assert callback._connection_settings().token_source() == source


def test_the_spool_directory_defaults_to_the_shared_one():
    assert DOC['options']['spool_dir']['default'] == DEFAULT_SPOOL_DIR


def test_loading_the_callback_does_not_import_requests():
    # Most runs never call the API: the HTTP client (and requests) is imported when a ticket is filed or solved.
    code = ('import sys; import ansible_collections.upsun.support.plugins.callback.ticket_on_failure; '
            'print(sorted(name for name in ("requests", "urllib3") if name in sys.modules))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.stdout.strip() == '[]'


def test_the_callback_keeps_to_hooks_settings_and_output():
    # Describing failures, redacting, rendering, spooling and the API session live in plugin_utils: the callback stays
    # hooks recording the run, and the report built once at its end.
    source = open(plugin.__file__).read()
    code = source[source.index("'''\n\nimport ") + 4:]
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith('#')]
    assert len(lines) <= 211, len(lines)
