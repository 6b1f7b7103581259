# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket_on_failure callback: what its ticket says, and what it never shows (secrets, no_log results)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.vars.manager import VariableManager

from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference
from ansible_collections.upsun.support.tests.unit.plugins.callback.playbook_run import (
    PLAY, TASKS, Result, accept_tickets, displayed, fail, filed_ticket, warnings,
)


def test_no_log_results_stay_hidden(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    censored = {'failed': True, 'censored': "the output has been hidden due to the fact that 'no_log: true' was specified"}
    callback.v2_runner_on_failed(Result('web1', TASKS['Deploy'], censored))
    # A no_log task whose result would still carry the secret: the task's flag is enough.
    callback.v2_runner_on_failed(Result('web2', TASKS['Read secret'], {'failed': True, 'msg': 'password=hunter2'}))
    body = filed_ticket(callback, api, web1=dict(failures=1), web2=dict(failures=1))
    assert body['description'].count('hidden by no_log') == 2
    assert 'hunter2' not in body['description'] and "'no_log: true'" not in body['description']


def test_the_subject_template_takes_the_documented_fields(make_callback, api):
    accept_tickets(api)
    callback = make_callback(subject='[CI] {playbooks} / {plays}: {failure_count} failure(s) on {hosts} ({task})')
    fail(callback, 'web1', 'Deploy', msg='x')
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert body['subject'] == '[CI] site.yml / Deploy web: 1 failure(s) on web1 (Deploy)'
    assert warnings(callback) == []


@pytest.mark.parametrize('template', ['{playbook.__class__}', '{nope}', '{0}', '{playbook'])
def test_a_bad_subject_template_warns_and_uses_the_default(make_callback, api, template):
    accept_tickets(api)
    callback = make_callback(subject=template)
    fail(callback, 'web1', 'Deploy', msg='x')
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert body['subject'] == 'Ansible run of site.yml failed on 1 host(s): Deploy'
    [warning, filed] = warnings(callback) + displayed(callback)
    assert 'subject template' in warning and 'Using the default' in warning


def test_a_set_dedupe_key_is_used_as_is(make_callback, api):
    accept_tickets(api)
    callback = make_callback(dedupe_key='nightly-deploy')
    fail(callback, 'web1', 'Deploy', msg='x')
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert 'Dedupe reference: {0}\n'.format(dedupe_reference('nightly-deploy')) in body['description']
    assert api.requests('GET', '/tickets')[0].query['search'] == [dedupe_reference('nightly-deploy')]


def test_the_ci_job_is_linked_when_known(make_callback, api, monkeypatch):
    accept_tickets(api)
    monkeypatch.setenv('CI_JOB_URL', 'https://gitlab.example/acme/shop/-/jobs/77')
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert 'CI job: https://gitlab.example/acme/shop/-/jobs/77' in body['description']


def test_secrets_are_masked_in_every_warning(make_callback, tokens):
    callback = make_callback(access_token=tokens.access)
    callback._warn('the server echoed {0} and {1}'.format(tokens.api, tokens.access))
    assert warnings(callback) == ['upsun.support.ticket_on_failure: the server echoed [REDACTED] and [REDACTED]']


def _play_with_secrets():
    """A play with a vault-encrypted variable and a token given through module_defaults, as the README shows."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    secret = VaultSecret(b'unit-test-vault-password')
    try:  # ansible-core 2.19+ decrypts with the vault secrets of a context the CLI sets up
        from ansible.parsing.vault import VaultSecretsContext
        try:
            VaultSecretsContext.initialize(VaultSecretsContext(secrets=[('default', secret)]))
        except Exception:  # pylint: disable=broad-except
            pass
    except ImportError:
        pass
    loader = DataLoader()
    loader.set_vault_secrets([('default', secret)])
    ciphertext = VaultLib([('default', secret)]).encrypt('Vaulted-DB-Passw0rd-77').decode()
    variables = loader.load('db_password: !vault |\n' + ''.join('  ' + line + '\n' for line in ciphertext.splitlines()))
    variables['plain_token'] = 'ModuleDefaultsToken-4242'
    manager = VariableManager(loader=loader, inventory=InventoryManager(loader=loader))
    play = Play.load(dict(PLAY, vars=variables), variable_manager=manager, loader=loader)
    # Set after loading: resolving the group needs the collection loader of a real run. A playbook's templates are
    # trusted (ansible-core 2.19+ renders only those).
    try:
        from ansible.template import trust_as_template
    except ImportError:
        trust_as_template = str
    play.module_defaults = [{'group/upsun.support.upsun': {'api_token': trust_as_template('{{ plain_token }}')}}]
    return play, dict((task.name, task) for block in play.compile() for task in block.block if task.name)


def test_vaulted_values_and_module_defaults_credentials_are_masked_whatever_surrounds_them(make_callback, api):
    accept_tickets(api)
    callback = make_callback()
    play, tasks = _play_with_secrets()
    callback.v2_playbook_on_play_start(play)
    message = 'connect failed: dsn=mysql://app@db/shop?pwVaulted-DB-Passw0rd-77x; header X-Tok:ModuleDefaultsToken-4242;'
    callback.v2_runner_on_failed(Result('web1', tasks['Deploy'], {'failed': True, 'msg': message}))
    body = filed_ticket(callback, api, web1=dict(failures=1))
    assert 'Vaulted-DB-Passw0rd' not in body['description'] and 'ModuleDefaultsToken' not in body['description']
    assert 'connect failed: dsn=mysql://app@db/shop?pw[REDACTED]x; header X-Tok:[REDACTED];' in body['description']
    assert warnings(callback) == []
