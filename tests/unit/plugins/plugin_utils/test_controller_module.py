# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The action plugins of ticket and ticket_comment (plugin_utils/controller_module.py): where the module's code runs, and that a run in
the controller's worker gives what the module's own process prints, for the same arguments and environment: the same
refusals, the same masking, the same result. The wire is shown end to end (tests/e2e/test_where_modules_run.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import types
from unittest import mock

import pytest

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.upsun.support.plugins.module_utils import client as transport
from ansible_collections.upsun.support.plugins.modules import ticket, ticket_comment
from ansible_collections.upsun.support.plugins.plugin_utils.controller_module import (
    ControllerModule, ModuleAction, ModuleFailed, plain, process_environment, run_in_worker)

TOKEN = 'apitoken-SECRET-7c1e4b2a9f'
NEW = dict(subject='Deploy failed', description='The deploy hook exited 1.', priority='high')
MODULES = dict(ticket=ticket, ticket_comment=ticket_comment)


def in_worker(name, args, check_mode=False, diff=False):
    """What the action plugin returns for a local task, as JSON gives it back (tuples become lists)."""
    return json.loads(json.dumps(run_in_worker('upsun.support.' + name, MODULES[name], args, check_mode, diff)))


def in_process(run_module_output, name, args, check_mode=False, diff=False):
    """What the module's own process prints for the same task (asked for its invocation, as ansible-core >= 2.21 asks
    only when INJECT_INVOCATION is on; older ones always add it)."""
    internal = dict(_ansible_module_name='upsun.support.' + name)
    if 'inject_invocation' in PASS_VARS:
        internal['_ansible_inject_invocation'] = True
    return run_module_output(MODULES[name], dict(args, **internal), check_mode, diff)


# Refused before any request: the worker must refuse them with the module's own words.
REFUSED = [
    ('ticket', dict(NEW, bogus='1')),
    ('ticket', dict(NEW, priority='High')),
    ('ticket', dict(NEW, ticket_id='forty-two')),
    ('ticket', dict(NEW, max_attachment_size='lots')),
    ('ticket', dict(NEW, collaborator_ids='not-a-uuid', ticket_id=42)),
    ('ticket', dict(NEW, status='solved')),
    ('ticket', dict(NEW, timeout='soon')),
    ('ticket', dict(subject='   ', description='x')),
    ('ticket_comment', dict(body='Still failing.')),
    ('ticket_comment', dict(body='Still failing.', ticket_id=1, dedupe_key='deploy-42')),
    ('ticket_comment', dict(body='', ticket_id=1)),
]


@pytest.mark.parametrize('name, args', REFUSED)
def test_refusals_are_the_modules_own(run_module_output, http_calls, name, args):
    args = dict(args, api_token=TOKEN, api_url='http://127.0.0.1:9', auth_url='http://127.0.0.1:9')
    here = in_worker(name, args)
    assert here['failed'] is True
    assert here == in_process(run_module_output, name, args)
    assert TOKEN not in json.dumps(here)
    assert http_calls == []


def test_an_unknown_option_is_named_with_the_module(run_module_output):
    here = in_worker('ticket', dict(NEW, bogus='1', api_token=TOKEN))
    assert here['msg'].startswith('Unsupported parameters for (upsun.support.ticket) module: bogus.')


@pytest.mark.parametrize('check_mode, diff', [(True, False), (True, True)])
def test_check_mode_gives_the_modules_result_with_every_credential_masked(run_module_output, http_calls, monkeypatch,
                                                                          check_mode, diff):
    env_token = 'envtoken-SECRET-3b9d0c1e7a'
    monkeypatch.setenv('UPSUN_CLI_TOKEN', env_token)
    # The description quotes both tokens: the given one (a no_log option) and the one read from the environment.
    args = dict(NEW, description='curl -H "token: {0}" ; export T={1}'.format(TOKEN, env_token), access_token=TOKEN)
    here = in_worker('ticket', args, check_mode, diff)
    assert here == in_process(run_module_output, 'ticket', args, check_mode, diff)
    text = json.dumps(here)
    assert TOKEN not in text and env_token not in text
    assert here['changed'] is True and 'Would file' in here['msg']
    assert here['invocation']['module_args']['access_token'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert ('diff' in here) is diff
    assert http_calls == []


def test_warnings_are_returned_as_the_module_returns_them(run_module, run_module_output, monkeypatch):
    # An invalid UPSUN_SUPPORT_MAY_EXIST_HOLD is warned about and the default used, in both places. (In this test
    # process, ansible-core sends a module's warnings to the display, not to its output: run_module records them.)
    monkeypatch.setenv('UPSUN_SUPPORT_MAY_EXIST_HOLD', 'forever')
    args = dict(NEW, api_token=TOKEN)
    here = in_worker('ticket', args, check_mode=True)
    warnings = run_module(ticket, args, check_mode=True)['warnings']
    assert warnings and here.pop('warnings') == warnings
    printed = in_process(run_module_output, 'ticket', args, check_mode=True)
    # ansible-core 2.16 prints them here too; later ones send them to the display in this test process.
    assert printed.pop('warnings', warnings) == warnings
    assert here == printed


@pytest.mark.parametrize('setting, wanted', [(True, True), (False, False), (AnsibleError('not defined'), True)])
def test_the_invocation_is_added_where_the_module_would_add_it(monkeypatch, setting, wanted):
    # ansible-core 2.21 adds it only when INJECT_INVOCATION is on; older ones have no such setting and always add it.
    real = C.config.get_config_value

    def get_config_value(name, *args, **kwargs):
        if name != 'INJECT_INVOCATION':
            return real(name, *args, **kwargs)
        if isinstance(setting, Exception):
            raise setting
        return setting
    monkeypatch.setattr(C.config, 'get_config_value', get_config_value)
    result = action(check_mode=True, args=dict(NEW, api_token=TOKEN)).run(task_vars={})
    assert result['changed'] is True and ('invocation' in result) is wanted
    if wanted:
        assert result['invocation']['module_args']['api_token'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def test_a_no_log_value_learnt_during_the_run_is_masked_in_the_result():
    module = ControllerModule('upsun.support.ticket', ticket.ARGUMENT_SPEC, dict(NEW))
    module.no_log_values.add('learnt-SECRET-1f2e')
    module.warn('the token learnt-SECRET-1f2e was refused')
    result = module.result(dict(msg='with learnt-SECRET-1f2e', ticket=dict(description='learnt-SECRET-1f2e')))
    assert 'learnt-SECRET-1f2e' not in json.dumps(result)
    with pytest.raises(ModuleFailed) as failed:
        module.fail_json(msg='refused learnt-SECRET-1f2e', status=401)
    assert failed.value.result['failed'] is True and failed.value.result['status'] == 401
    assert 'learnt-SECRET-1f2e' not in json.dumps(failed.value.result)


class Vaulted:
    """Stands in for a vaulted value: its text is the decrypted value."""

    def __str__(self):
        return 'decrypted-token'


class Tagged(str):
    """Stands in for ansible-core's tagged text."""


def test_arguments_reach_the_module_code_as_plain_values():
    args = {'api_token': Vaulted(), 'subject': Tagged('Deploy'), 1: ('a', b'b\xff'), 'n': True, 'size': 3, 'f': 1.5,
            'none': None, 'nested': {'k': {Tagged('x')}}}
    converted = plain(args)
    assert converted == {'api_token': 'decrypted-token', 'subject': 'Deploy', '1': ['a', 'b\udcff'], 'n': True,
                         'size': 3, 'f': 1.5, 'none': None, 'nested': {'k': ['x']}}
    assert not isinstance(converted['subject'], Tagged) and not isinstance(converted['nested']['k'][0], Tagged)
    assert converted['n'] is True


def test_the_task_environment_is_set_while_the_module_runs_then_restored(monkeypatch):
    monkeypatch.setenv('KEPT', 'before')
    monkeypatch.delenv('ADDED', raising=False)
    with pytest.raises(RuntimeError):
        with process_environment({'ADDED': 42, 'KEPT': 'during'}):
            assert os.environ['ADDED'] == '42' and os.environ['KEPT'] == 'during'
            os.environ['LEAKED'] = 'x'
            raise RuntimeError('the module failed')
    assert os.environ['KEPT'] == 'before'
    assert 'ADDED' not in os.environ and 'LEAKED' not in os.environ


def action(transport_name='local', become=False, async_val=0, check_mode=False, environment=None, args=None):
    task = Task()
    task.args = dict(args or {})
    task.check_mode = check_mode
    task.async_val = async_val
    task.environment = environment
    task.action = 'upsun.support.ticket'
    play_context = PlayContext()
    play_context.become = become
    connection = mock.MagicMock()
    connection.transport = transport_name
    connection.has_native_async = False
    connection._shell.env_prefix = lambda **env: ''
    templar = types.SimpleNamespace(template=lambda value: value)
    plugin = type('ActionModule', (ModuleAction,), dict(MODULE='ticket'))(
        task=task, connection=connection, play_context=play_context, loader=None, templar=templar, shared_loader_obj=None)
    return plugin


@pytest.mark.parametrize('where, expected', [
    (dict(), True),
    (dict(transport_name='ssh'), False),
    (dict(transport_name='ansible.netcommon.httpapi'), False),
    (dict(become=True), False),
    (dict(async_val=60), False),
])
def test_the_code_runs_in_the_worker_only_where_the_module_would_run_here_as_this_user(where, expected):
    assert action(**where)._runs_on_controller() is expected


def test_without_requests_here_the_module_runs_where_it_may_have_it(monkeypatch):
    monkeypatch.setattr(transport, 'HAS_REQUESTS', False)
    assert action()._runs_on_controller() is False


def test_elsewhere_the_module_runs_as_any_module(monkeypatch):
    plugin = action(transport_name='ssh', args=dict(NEW))
    with mock.patch.object(ModuleAction, '_execute_module', autospec=True, return_value=dict(changed=True)) as execute:
        with mock.patch('ansible_collections.upsun.support.plugins.plugin_utils.controller_module.run_in_worker') as here:
            with mock.patch('ansible_collections.upsun.support.plugins.plugin_utils.controller_module.importlib') as imports:
                result = plugin.run(task_vars={})
    assert result['changed'] is True
    assert execute.call_count == 1 and here.call_count == 0
    # The worker of a task on another host does not import the module's code.
    assert imports.import_module.call_count == 0


def test_here_the_task_environment_and_check_mode_reach_the_module_code(monkeypatch, http_calls):
    monkeypatch.delenv('UPSUN_CLI_TOKEN', raising=False)
    plugin = action(check_mode=True, environment=[{'UPSUN_CLI_TOKEN': TOKEN}], args=dict(NEW))
    with mock.patch.object(ModuleAction, '_execute_module', autospec=True) as execute:
        result = plugin.run(task_vars={})
    assert execute.call_count == 0
    assert result['changed'] is True and 'Would file' in result['msg'], result
    assert 'UPSUN_CLI_TOKEN' not in os.environ
    assert http_calls == []
    # Without the environment, no token at all: the module's own refusal, naming the option and the variable.
    result = action(check_mode=True, args=dict(NEW)).run(task_vars={})
    assert result['failed'] is True and 'api_token' in result['msg'], result
