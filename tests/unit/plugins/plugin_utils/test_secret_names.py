# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Names that look secret, and the values of the environment variables they name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.secret_names import environment_secrets, looks_secret

# The environment of a CI job: its working directory must not be taken for a secret.
CI_ENVIRON = dict(PWD='/home/ci/builds/acme/shop', OLDPWD='/home/ci', HOME='/home/ci', CI_JOB_TOKEN='ShortLivedJobToken-64abc')


@pytest.mark.parametrize('name', ['password', 'DB_PASSWORD', 'PGPASSWORD', 'passwd', 'DB_PWD', 'DB_PASS', 'SMTP_PW', 'secret',
                                  'client_secret', 'AccountKey', 'sig', 'keyStorePassword', 'SharedAccessKey',
                                  'AWS_SECRET_ACCESS_KEY', 'api_key', 'apiKey', 'X-Api-Key', 'access_key', 'private_key',
                                  'token', 'GITHUB_TOKEN', 'x-auth-token', 'authToken', 'credentials', 'auth', 'cookie',
                                  'session_id', 'passphrase'])
def test_secret_looking_names(name):
    assert looks_secret(name)


@pytest.mark.parametrize('name', ['user', 'username', 'host', 'token_url', 'TOKEN_URL', 'password_file', 'api_key_path',
                                  'auth_url', 'SSH_AUTH_SOCK', 'tokenizer', 'author', 'passenger', 'keyboard', 'path',
                                  'password_policy', 'ANSIBLE_VAULT_PASSWORD_FILE', 'PWD', 'OLDPWD', 'pwd', 'no-password',
                                  'ask-vault-pass', 'password-stdin', 'bypass', 'compass'])
def test_names_that_only_name_something_about_a_secret(name):
    assert not looks_secret(name)


def test_the_values_of_secret_looking_environment_variables_are_masked_anywhere():
    environ = dict(CI_JOB_TOKEN='ShortLivedJobToken-64abc', DEPLOY_KEY_PASSPHRASE='correct horse battery',
                   HOME='/home/ci', FEATURE_TOKEN_ENABLED='true', SHORT_PASSWORD='abc')
    assert environment_secrets(environ) == {'ShortLivedJobToken-64abc', 'correct horse battery'}

    redacted = Redactor(environ=environ)('echoed ShortLivedJobToken-64abc then correct horse battery in /home/ci')

    assert redacted == 'echoed [REDACTED] then [REDACTED] in /home/ci'


def test_the_working_directory_is_not_a_secret():
    # It used to be: support got "[REDACTED]/release/manifest.json".
    assert environment_secrets(CI_ENVIRON) == {'ShortLivedJobToken-64abc'}
    line = 'cannot read /home/ci/builds/acme/shop/release/manifest.json (cwd /home/ci/builds/acme/shop)'

    assert Redactor(environ=CI_ENVIRON)(line) == line
