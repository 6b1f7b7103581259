# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX / Automation Platform credential type (extensions/awx/credential_types/upsun_api_token.yml).

- Its structure is what the controller accepts for a custom credential type (and what awx.awx.credential_type
  takes): name, description, kind cloud, inputs.fields with unique ids and labels, inputs.required, env injectors.
- The API token field is secret and required; the URL fields are not secret.
- Every injected variable is the one the collection documents for the option of the same name, and its fallback
  is that option's default.
- Rendered as the controller renders env injectors (Jinja's immutable sandbox, only the inputs that are set), the
  variables it injects are all the collection needs: a module run with only them in its environment files a ticket
  against the sandbox, and the token never shows in the run's output.
"""

import json
import os
import re
import subprocess
import sys

import jinja2
import jinja2.meta
import jinja2.sandbox
import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CREDENTIAL_TYPE = os.path.join(REPO, 'extensions', 'awx', 'credential_types', 'upsun_api_token.yml')
BIN = os.path.dirname(sys.executable)
# What the controller accepts for a field (AWX's custom credential type inputs schema).
FIELD_KEYS = frozenset(('id', 'label', 'type', 'help_text', 'secret', 'multiline', 'default', 'choices', 'format',
                        'ask_at_runtime'))


@pytest.fixture(scope='module')
def credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope='module')
def callback_options():
    """The callback's documented options: they name their environment variables and defaults."""
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_'))
    env['ANSIBLE_COLLECTIONS_PATH'] = os.path.join(REPO, 'collections')
    output = subprocess.check_output([os.path.join(BIN, 'ansible-doc'), '--json', '-t', 'callback',
                                      'upsun.support.ticket_on_failure'], env=env)
    return json.loads(output)['upsun.support.ticket_on_failure']['doc']['options']


def fields_by_id(credential_type):
    return dict((field['id'], field) for field in credential_type['inputs']['fields'])


def render_env(credential_type, inputs):
    """The environment the controller gives a job for a credential with these inputs.

    As AWX does: only the inputs that are set (non-empty) are in the template namespace; the rest are undefined
    and render as empty strings.
    """
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment()
    namespace = dict((name, value) for name, value in inputs.items() if value)
    return dict((name, environment.from_string(template).render(**namespace))
                for name, template in credential_type['injectors']['env'].items())


def test_top_level_keys_are_the_credential_type_arguments(credential_type):
    assert sorted(credential_type) == ['description', 'injectors', 'inputs', 'kind', 'name']
    assert credential_type['kind'] == 'cloud', 'custom credential types must be of kind cloud or net; cloud fits'
    assert credential_type['name'].strip() and credential_type['description'].strip()
    assert sorted(credential_type['inputs']) == ['fields', 'required']
    assert sorted(credential_type['injectors']) == ['env'], 'only environment injectors are expected'


def test_fields_are_well_formed(credential_type):
    fields = credential_type['inputs']['fields']
    ids = [field['id'] for field in fields]
    labels = [field['label'] for field in fields]
    assert len(set(ids)) == len(ids) and len(set(labels)) == len(labels), 'field ids and labels must be unique'
    for field in fields:
        assert set(field) <= FIELD_KEYS, '{0}: unknown keys {1}'.format(field['id'], sorted(set(field) - FIELD_KEYS))
        assert re.match(r'^[a-z][a-z0-9_]*$', field['id']), field['id']
        assert field.get('type', 'string') == 'string', field['id']
        assert field['label'].strip() and field.get('help_text', '').strip(), '{0} needs a label and help_text'.format(
            field['id'])
    assert set(credential_type['inputs']['required']) <= set(ids)


def test_the_api_token_is_a_required_secret(credential_type):
    fields = fields_by_id(credential_type)
    assert fields['api_token'].get('secret') is True, 'the token must be stored encrypted and shown as $encrypted$'
    assert 'default' not in fields['api_token']
    assert credential_type['inputs']['required'] == ['api_token']
    assert [field_id for field_id, field in fields.items() if field.get('secret')] == ['api_token'], (
        'only the token is a secret: the URLs are shown so that users can check them')


def test_injectors_use_only_defined_fields(credential_type):
    defined = set(fields_by_id(credential_type))
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment()
    for name, template in credential_type['injectors']['env'].items():
        used = jinja2.meta.find_undeclared_variables(environment.parse(template))
        assert used and used <= defined, '{0} uses {1}, fields are {2}'.format(name, sorted(used), sorted(defined))


def test_injected_variables_are_the_ones_the_collection_reads(credential_type, callback_options):
    """Each field injects the documented variable of the option with the same name; UPSUN_CLI_TOKEN carries the token."""
    injected = credential_type['injectors']['env']
    assert injected['UPSUN_CLI_TOKEN'].replace(' ', '') == '{{api_token}}'
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment()
    for name, template in injected.items():
        [field_id] = jinja2.meta.find_undeclared_variables(environment.parse(template))
        documented = [entry['name'] for entry in callback_options[field_id].get('env') or []]
        assert name in documented, '{0} is not a variable the collection reads for {1} ({2})'.format(
            name, field_id, documented)


def test_fields_left_empty_inject_the_collections_defaults(credential_type, callback_options):
    """An empty URL would make every module fail: an unset URL field must inject the option's default."""
    env = render_env(credential_type, {'api_token': 'a-token', 'api_url': '', 'auth_url': None})
    assert env == {
        'UPSUN_CLI_TOKEN': 'a-token',
        'UPSUN_CLI_API_URL': callback_options['api_url']['default'],
        'UPSUN_CLI_AUTH_URL': callback_options['auth_url']['default'],
    }
    fields = fields_by_id(credential_type)
    assert fields['api_url']['default'] == callback_options['api_url']['default']
    assert fields['auth_url']['default'] == callback_options['auth_url']['default']


def test_a_job_with_only_the_injected_environment_files_a_ticket(credential_type, sandbox, tmp_path):
    env = render_env(credential_type, {'api_token': sandbox.api_token, 'api_url': sandbox.url,
                                       'auth_url': sandbox.url})
    assert env['UPSUN_CLI_TOKEN'] == sandbox.api_token and env['UPSUN_CLI_API_URL'] == sandbox.url

    # Nothing Upsun-related but what the credential injects.
    job_env = dict((name, value) for name, value in os.environ.items()
                   if not name.startswith(('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')))
    job_env.update(env)
    job_env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, 'collections'), ANSIBLE_HOME=str(tmp_path / 'home'),
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_NOCOLOR='1')
    result = subprocess.run(
        [os.path.join(BIN, 'ansible'), 'localhost', '-vvvv', '-m', 'upsun.support.ticket', '-a',
         'subject="Filed with the AWX credential type" description="Only the injected variables are set." '
         'priority=low'],
        env=job_env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    assert 'localhost | CHANGED' in result.stdout, result.stdout
    assert sandbox.api_token not in result.stdout, 'the token shows in the output of a -vvvv run'
    [ticket] = sandbox.tickets()
    assert ticket['subject'] == 'Filed with the AWX credential type' and ticket['priority'] == 'low'


GUIDE = os.path.join(REPO, 'docs', 'docsite', 'rst', 'automation_platform.rst')
# Stand-ins for the awx.awx modules the guide's playbook calls: they record the arguments they get.
STUB_MODULE = '''#!/usr/bin/python
import json
import os
import sys

from ansible.module_utils.basic import _load_params


def main():
    params = _load_params()
    with open(os.environ['AWX_STUB_LOG'], 'a') as handle:
        handle.write(json.dumps({'module': os.path.basename(__file__), 'args': params}) + '\\n')
    print(json.dumps({'changed': True}))
    sys.exit(0)


main()
'''


def guide_code_blocks(language):
    """The contents of the guide's ``.. code-block:: <language>`` directives, dedented."""
    with open(GUIDE) as handle:
        lines = handle.read().splitlines()
    blocks = []
    for number, line in enumerate(lines):
        if line.strip() != '.. code-block:: {0}'.format(language):
            continue
        body = []
        for following in lines[number + 1:]:
            if following.strip() and not following.startswith('  '):
                break
            body.append(following[2:])
        blocks.append('\n'.join(body).strip('\n') + '\n')
    return blocks


def test_the_guides_awx_playbook_sends_the_shipped_credential_type_unchanged(credential_type, tmp_path):
    """The guide's playbook, run against stand-ins of the awx.awx modules, gives them the file's contents as they are.

    In particular the injectors' Jinja must reach the controller untemplated (Ansible must not render
    ``{{ api_token }}`` itself), and the credential must get the token.
    """
    [playbook] = [block for block in guide_code_blocks('yaml') if 'awx.awx.credential_type:' in block]
    (tmp_path / 'playbook.yml').write_text(playbook)
    stub = tmp_path / 'stub' / 'ansible_collections' / 'awx' / 'awx'
    (stub / 'plugins' / 'modules').mkdir(parents=True)
    (stub / 'galaxy.yml').write_text('namespace: awx\nname: awx\nversion: 99.0.0\n')
    for name in ('credential_type', 'credential', 'job_template'):
        (stub / 'plugins' / 'modules' / '{0}.py'.format(name)).write_text(STUB_MODULE)
    log = tmp_path / 'calls.jsonl'

    env = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_'))
    env.update(ANSIBLE_COLLECTIONS_PATH='{0}:{1}'.format(tmp_path / 'stub', os.path.join(REPO, 'collections')),
               ANSIBLE_HOME=str(tmp_path / 'home'), ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_NOCOLOR='1', AWX_STUB_LOG=str(log))
    result = subprocess.run(
        [os.path.join(BIN, 'ansible-playbook'), 'playbook.yml', '-e', 'upsun_credential_type_file=' + CREDENTIAL_TYPE,
         '-e', 'vault_upsun_api_token=a-vaulted-token'],
        env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    calls = dict((call['module'], call['args']) for call in map(json.loads, log.read_text().splitlines()))
    assert sorted(calls) == ['credential.py', 'credential_type.py', 'job_template.py']
    sent = calls['credential_type.py']
    assert sent['state'] == 'present'
    for key in ('name', 'description', 'kind', 'inputs', 'injectors'):
        assert sent[key] == credential_type[key], key
    assert calls['credential.py']['credential_type'] == credential_type['name']
    assert calls['credential.py']['inputs'] == {'api_token': 'a-vaulted-token'}
    assert 'Upsun support' in calls['job_template.py']['credentials']
