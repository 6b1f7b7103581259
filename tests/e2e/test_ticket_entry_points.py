# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module filed through every entry point, against the sandbox.

Ad hoc ``ansible``, ``ansible-playbook`` (credentials from ``module_defaults`` on the action group, or from the
environment), ansible-runner's command line and its Python API. Each run files one ticket with every option, and
the test checks that the ticket the sandbox stored matches the options, and that the ``ticket`` the module returned
is the stored one, field for field (without the attachments, which the API's Ticket does not carry).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

import pytest

from helpers import adhoc_result, ansible_env, files_under, run_adhoc, run_playbook, run_runner_cli, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ansible_runner = pytest.importorskip('ansible_runner')

MODULE = 'upsun.support.ticket'
TASK = 'File the ticket'
REQUESTER = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
COLLABORATOR = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
LOG = b'migrate: relation "orders" already exists\n\x00\xff binary tail\n'
NOTES = u'Rolled back by hand at 03:12 \u2014 caf\u00e9 closed.'
DATA = b'{"release": 42}'

# Every option of a new ticket; attachments[0].path is set per test (a file under tmp_path).
OPTIONS = {
    'subject': 'Deploy of release 42 failed on web1',
    'description': u'Step "migrate" exited 3.\nSee deploy.log \u2014 it has the stack trace.',
    'priority': 'urgent',
    'category': 'incident_outage',
    'requester_id': REQUESTER,
    'subscription_id': '123456',
    'organization_id': '01HZXJ5N5V2K8Q7M3T9W4Y6R1P',
    'affected_url': 'https://shop.example.com/checkout',
    'collaborator_ids': [COLLABORATOR],
    'attachments': [
        {'path': None},
        {'filename': 'notes.txt', 'content': NOTES},
        {'filename': 'release.json', 'data': base64.b64encode(DATA).decode('ascii')},
    ],
}
ATTACHMENTS = [('deploy.log', LOG), ('notes.txt', NOTES.encode('utf-8')), ('release.json', DATA)]


def options(tmp_path):
    """OPTIONS with the log file written under tmp_path."""
    log = tmp_path / 'deploy.log'
    log.write_bytes(LOG)
    result = json.loads(json.dumps(OPTIONS))
    result['attachments'][0]['path'] = str(log)
    return result


def playbook_text(module_options, module_defaults=None, result_path=None):
    """One play on localhost that files the ticket, registers it and, with result_path, writes the result there."""
    tasks = [{'name': TASK, MODULE: module_options, 'register': 'filed'}]
    if result_path is not None:
        tasks.append({'name': 'Write the result out', 'ansible.builtin.copy': {
            'content': '{{ filed | to_json }}', 'dest': str(result_path), 'mode': '0600'}})
    play = {'name': 'File a ticket', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}
    if module_defaults:
        play['module_defaults'] = {'group/upsun.support.upsun': module_defaults}
    return json.dumps([play], indent=2)


# What the module appends to every description it files.
MODULE_FOOTER = '\n\n--\nFiled by Ansible: the upsun.support.ticket module.'


def assert_filed_as_asked(sandbox_client, returned, expected=None):
    """One ticket stored, matching the options (the description ending with the footer), and returned exactly as stored."""
    [stored] = sandbox_client.tickets()
    expected = OPTIONS if expected is None else expected
    for name, value in expected.items():
        if name == 'description':
            assert stored[name] == value + MODULE_FOOTER, name
        elif name != 'attachments':
            assert stored[name] == value, name
    assert stored['status'] == 'new'
    if 'attachments' in expected:
        assert [(item['filename'], item['content']) for item in sandbox_client.attachments(stored['ticket_id'])] == ATTACHMENTS
    without_attachments = dict((name, value) for name, value in stored.items() if name != 'attachments')
    assert returned == without_attachments
    return stored


def assert_no_token(sandbox_client, *outputs):
    for output in outputs:
        assert sandbox_client.api_token not in output


def test_adhoc_with_json_args_files_the_ticket(sandbox, tmp_path):
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    run = run_adhoc(MODULE, options(tmp_path), env)
    assert run.returncode == 0, run.stdout + run.stderr
    result = adhoc_result(run.stdout)
    assert result['changed'] is True
    stored = assert_filed_as_asked(sandbox, result['ticket'])
    assert result['msg'] == 'Filed Upsun ticket {0} (priority urgent)'.format(stored['ticket_id'])
    assert_no_token(sandbox, run.stdout, run.stderr)


def test_adhoc_with_key_value_args_as_in_the_readme(sandbox, tmp_path):
    env = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    run = run_adhoc(MODULE, "subject='Deploy failed' description='See the CI log' priority=high category=bug_report", env)
    assert run.returncode == 0, run.stdout + run.stderr
    expected = dict(subject='Deploy failed', description='See the CI log', priority='high', category='bug_report')
    assert_filed_as_asked(sandbox, adhoc_result(run.stdout)['ticket'], expected)


def test_playbook_with_credentials_from_module_defaults(sandbox, tmp_path):
    """The environment has no UPSUN_* variable: the token and URLs come from module_defaults on the action group."""
    result_path = tmp_path / 'result.json'
    credentials = dict(api_token=sandbox.api_token, api_url=sandbox.url, auth_url=sandbox.url)
    playbook = write(tmp_path / 'file.yml', playbook_text(options(tmp_path), credentials, result_path))
    env = ansible_env(home=tmp_path / 'ansible-home')
    # (Only the test's own ticket ledger, which helpers.ansible_env keeps out of the user's home.)
    assert not [name for name in env if name.startswith('UPSUN_') and name != 'UPSUN_SUPPORT_LEDGER_DIR']

    run = run_playbook(playbook, 'localhost,', env, args=['-c', 'local'])
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(result_path.read_text())
    assert result['changed'] is True
    assert_filed_as_asked(sandbox, result['ticket'])
    assert_no_token(sandbox, run.stdout, run.stderr, result_path.read_text())


def test_playbook_with_credentials_from_the_environment(sandbox, tmp_path):
    result_path = tmp_path / 'result.json'
    playbook = write(tmp_path / 'file.yml', playbook_text(options(tmp_path), result_path=result_path))
    run = run_playbook(playbook, 'localhost,', ansible_env(sandbox, home=tmp_path / 'ansible-home'), args=['-c', 'local'])
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(result_path.read_text())
    assert result['changed'] is True
    assert_filed_as_asked(sandbox, result['ticket'])
    assert_no_token(sandbox, run.stdout, run.stderr)


def task_result(events):
    """The result of TASK in ansible-runner's events."""
    results = [event['event_data']['res'] for event in events
               if event.get('event') == 'runner_on_ok' and event['event_data'].get('task') == TASK]
    assert len(results) == 1, [event.get('event') for event in events]
    return results[0]


def test_ansible_runner_command_line(sandbox, tmp_path):
    """ansible-runner run <private_data_dir> -p file.yml, the credentials in env/envvars; the result from its events."""
    data_dir = tmp_path / 'runner'
    write(data_dir / 'project' / 'file.yml', playbook_text(options(tmp_path)))
    write(data_dir / 'inventory' / 'hosts', 'localhost ansible_connection=local\n')
    write(data_dir / 'env' / 'envvars', json.dumps(sandbox.env()))

    run = run_runner_cli(data_dir, 'file.yml', ansible_env(home=tmp_path / 'ansible-home'))
    assert run.returncode == 0, run.stdout + run.stderr
    events = [json.loads(path.read_text()) for path in files_under(data_dir / 'artifacts') if path.parent.name == 'job_events']
    result = task_result(events)
    assert result['changed'] is True
    assert_filed_as_asked(sandbox, result['ticket'])
    assert_no_token(sandbox, run.stdout)


def test_ansible_runner_python_api(sandbox, tmp_path, monkeypatch):
    """ansible_runner.run(envvars=...) with the credentials in envvars and suppress_env_files, as in the README."""
    for name in list(os.environ):
        if name.startswith(('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')):
            monkeypatch.delenv(name)
    data_dir = tmp_path / 'runner'
    write(data_dir / 'project' / 'file.yml', playbook_text(options(tmp_path)))
    write(data_dir / 'inventory' / 'hosts', 'localhost ansible_connection=local\n')
    base = ansible_env(sandbox, home=tmp_path / 'ansible-home')
    envvars = dict((name, value) for name, value in base.items() if name.startswith(('ANSIBLE_', 'UPSUN_')) or name == 'PATH')

    runner = ansible_runner.run(private_data_dir=str(data_dir), playbook='file.yml', envvars=envvars, quiet=True,
                                suppress_env_files=True)
    assert (runner.status, runner.rc) == ('successful', 0), runner.stdout.read()
    result = task_result(list(runner.events))
    assert result['changed'] is True
    assert_filed_as_asked(sandbox, result['ticket'])
    assert not (data_dir / 'env' / 'envvars').exists()
