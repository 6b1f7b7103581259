# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The values Ansible treats as secret, found in a run's variables, and the one redactor that masks them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import ChainMap

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.upsun.support.plugins.plugin_utils.known_secrets import (
    MAX_NODES,
    KnownSecrets,
    shared_redactor,
    url_password,
    vault_plaintext,
)

VAULT_SECRET = VaultSecret(b'unit-test-vault-password')


@pytest.fixture(scope='module')
def vaulted():
    """A loader of YAML with ``!vault`` values, as Ansible reads vars files: each core's own vaulted type."""
    try:  # ansible-core 2.19+: decryption reads the run's vault secrets from a context the CLI sets up
        from ansible.parsing.vault import VaultSecretsContext
        try:
            VaultSecretsContext.initialize(VaultSecretsContext(secrets=[('default', VAULT_SECRET)]))
        except Exception:  # pylint: disable=broad-except
            pass  # already set up in this process
    except ImportError:
        pass
    loader = DataLoader()
    loader.set_vault_secrets([('default', VAULT_SECRET)])

    def load(**values):
        lines = []
        for name, value in values.items():
            ciphertext = VaultLib([('default', VAULT_SECRET)]).encrypt(value).decode()
            lines.append('{0}: !vault |\n{1}'.format(name, ''.join('  ' + line + '\n' for line in ciphertext.splitlines())))
        return loader.load(''.join(lines))
    return load


def test_vault_encrypted_values_are_found_wherever_they_sit(vaulted):
    data = vaulted(db_password='Vaulted-DB-pass-1', api='Vaulted-API-token-2')
    assert vault_plaintext(data['db_password']) == 'Vaulted-DB-pass-1'
    assert vault_plaintext('Vaulted-DB-pass-1') is None
    variables = ChainMap({'play': {'nested': [{'deep': data['db_password']}]}}, {'top': (data['api'],), 'plain': 'not secret'})
    assert KnownSecrets().collect(variables).values == {'Vaulted-DB-pass-1', 'Vaulted-API-token-2'}


def test_the_results_of_no_log_tasks_are_secret_the_others_are_not():
    variables = {
        'db_creds': {'_ansible_no_log': True, 'changed': False, 'stdout': 'generated-db-password-77',
                     'stdout_lines': ['generated-db-password-77'], 'rc': 0},
        'version': {'_ansible_no_log': False, 'stdout': 'release-2026-12-01'},
    }
    assert KnownSecrets().collect(variables).values == {'generated-db-password-77'}


def test_short_and_boolean_values_are_not_taken_and_key_lines_are():
    known = KnownSecrets()
    for value in ('yes', '5432', 'true  ', 'False', None, 12345678):
        known.add(value)
    assert known.values == set()
    key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n-----END OPENSSH PRIVATE KEY-----\n'
    known.add(key)
    assert key.strip() in known.values and 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE' in known.values


def test_the_walk_ends_on_cycles_and_huge_variables():
    loop = {'name': 'x'}
    loop['self'] = loop
    assert KnownSecrets().collect([loop, loop]).values == set()
    huge = [{'_ansible_no_log': True, 'value': 'secret-number-{0}'.format(index)} for index in range(MAX_NODES)]
    assert len(KnownSecrets().collect(huge).values) < MAX_NODES // 2


def test_the_collection_credentials_come_from_options_variables_and_urls():
    environ = {'UPSUN_CLI_TOKEN': 'env-upsun-token-1', 'PLATFORMSH_CLI_TOKEN': 'env-psh-token-2',
               'UPSUN_CLI_API_URL': 'https://ci:url-password-3@api.example.com', 'UNRELATED': 'not-a-secret-4'}
    known = KnownSecrets().credentials(dict(api_token='option-token-5', access_token=None,
                                            auth_url='https://user:auth-password-6@auth.example.com'), environ=environ)
    assert known.values == {'env-upsun-token-1', 'env-psh-token-2', 'url-password-3', 'option-token-5', 'auth-password-6'}
    assert url_password('https://api.example.com/path@x') is None and url_password('http://[::1') is None


def test_the_credentials_of_module_defaults_are_templated(vaulted):
    data = vaulted(token='vaulted-module-default-token')
    rendered = {'{{ vault_token }}': data['token'], '{{ url }}': 'https://u:pw-in-default-url@api.example.com'}
    module_defaults = [
        {'group/upsun.support.upsun': {'api_token': '{{ vault_token }}', 'api_url': '{{ url }}', 'timeout': 3}},
        {'ansible.builtin.uri': {'url_password': 'not-ours-at-all'}},
        {'upsun.support.ticket': {'access_token': '{{ broken'}},
    ]

    def template(value):
        if value not in rendered:
            raise ValueError('cannot render ' + value)
        return rendered[value]
    assert KnownSecrets().module_defaults(module_defaults, template).values == {
        'vaulted-module-default-token', 'pw-in-default-url'}


def test_one_redactor_per_settings_masks_a_known_value_whatever_surrounds_it():
    first = shared_redactor(['X-Shop: (?P<secret>\\S+)'], None, '[REDACTED]', secrets={'Kn0wnSecretValue'})
    assert shared_redactor(['X-Shop: (?P<secret>\\S+)'], None, '[REDACTED]', secrets=['Kn0wnSecretValue']) is first
    assert shared_redactor(secrets={'Kn0wnSecretValue'}) is not first
    assert first.redact('prefixKn0wnSecretValuesuffix and X-Shop: abc') == 'prefix[REDACTED]suffix and X-Shop: [REDACTED]'
