# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Redaction: the corpus of real-looking CI log lines, each rule, user patterns, and what is never redacted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest
import yaml

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import (
    RULE_NAMES,
    RedactionError,
    Redactor,
    environment_secrets,
    looks_secret,
)

CORPUS = yaml.safe_load((Path(__file__).resolve().parents[3] / 'data' / 'secret_corpus.yml').read_text())
API_TOKEN = 'apitoken-SECRET-7c1e4b2a9f'


def corpus_line(entry):
    return entry['line'].replace('{api_token}', API_TOKEN)


def test_the_corpus_is_as_big_as_promised():
    assert len(CORPUS['secret_lines']) >= 40
    assert len(CORPUS['harmless_lines']) >= 10


@pytest.mark.parametrize('entry', CORPUS['secret_lines'], ids=lambda entry: entry['line'][:40])
def test_no_secret_of_the_corpus_survives_and_the_text_around_it_does(entry):
    redactor = Redactor(secrets=[API_TOKEN], environ={})

    redacted = redactor(corpus_line(entry))

    for secret in entry['secrets']:
        assert secret.replace('{api_token}', API_TOKEN) not in redacted
    for kept in entry['keep']:
        assert kept in redacted
    assert '[REDACTED]' in redacted
    assert redactor(redacted) == redacted, 'redacting twice changes nothing more'


@pytest.mark.parametrize('line', CORPUS['harmless_lines'])
def test_harmless_lines_come_through_unchanged(line):
    assert Redactor(secrets=[API_TOKEN], environ={})(line) == line


def test_a_whole_log_is_redacted_at_once():
    log = '\n'.join([corpus_line(entry) for entry in CORPUS['secret_lines']] + CORPUS['harmless_lines'])

    redacted = Redactor(secrets=[API_TOKEN], environ={})(log)

    for entry in CORPUS['secret_lines']:
        for secret in entry['secrets']:
            assert secret.replace('{api_token}', API_TOKEN) not in redacted
    for line in CORPUS['harmless_lines']:
        assert line in redacted


@pytest.mark.parametrize('name', ['password', 'DB_PASSWORD', 'PGPASSWORD', 'passwd', 'pwd', 'secret', 'client_secret',
                                  'AWS_SECRET_ACCESS_KEY', 'api_key', 'apiKey', 'X-Api-Key', 'access_key', 'private_key',
                                  'token', 'GITHUB_TOKEN', 'x-auth-token', 'authToken', 'credentials', 'auth', 'cookie',
                                  'session_id', 'passphrase'])
def test_secret_looking_names(name):
    assert looks_secret(name)


@pytest.mark.parametrize('name', ['user', 'username', 'host', 'token_url', 'TOKEN_URL', 'password_file', 'api_key_path',
                                  'auth_url', 'SSH_AUTH_SOCK', 'tokenizer', 'author', 'passenger', 'keyboard', 'path',
                                  'password_policy', 'ANSIBLE_VAULT_PASSWORD_FILE'])
def test_names_that_only_name_something_about_a_secret(name):
    assert not looks_secret(name)


def test_the_values_of_secret_looking_environment_variables_are_masked_anywhere():
    environ = dict(CI_JOB_TOKEN='ShortLivedJobToken-64abc', DEPLOY_KEY_PASSPHRASE='correct horse battery',
                   HOME='/home/ci', FEATURE_TOKEN_ENABLED='true', SHORT_PASSWORD='abc')
    assert environment_secrets(environ) == {'ShortLivedJobToken-64abc', 'correct horse battery'}

    redacted = Redactor(environ=environ)('echoed ShortLivedJobToken-64abc then correct horse battery in /home/ci')

    assert redacted == 'echoed [REDACTED] then [REDACTED] in /home/ci'


def test_environment_secrets_can_be_switched_off_but_not_the_credentials():
    environ = dict(CI_JOB_TOKEN='ShortLivedJobToken-64abc')
    redactor = Redactor(disable=['environment_secrets'], secrets=[API_TOKEN], environ=environ)

    assert redactor('ShortLivedJobToken-64abc and ' + API_TOKEN) == 'ShortLivedJobToken-64abc and [REDACTED]'
    with pytest.raises(RedactionError, match='credentials rule cannot be switched off'):
        Redactor(disable=['credentials'])


@pytest.mark.parametrize('rule, line, secret', [
    ('private_key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretbody\n-----END RSA PRIVATE KEY-----', 'MIIEsecretbody'),
    ('authorization_header', 'Authorization: Negotiate abcdefghijkl', 'abcdefghijkl'),
    ('cookie_header', 'Cookie: sid=abcdef123456', 'abcdef123456'),
    ('url_credentials', 'https://bob:hunter2hunter2@example.com/', 'hunter2hunter2'),
    ('secret_flag', 'cmd --password hunter2hunter2', 'hunter2hunter2'),
    ('token_format', 'saw AKIAIOSFODNN7EXAMPLE here', 'AKIAIOSFODNN7EXAMPLE'),
])
def test_each_rule_can_be_switched_off_by_name(rule, line, secret):
    assert rule in RULE_NAMES
    assert secret not in Redactor(environ={})(line)
    assert secret in Redactor(disable=[rule], environ={})(line)


def test_an_unknown_rule_name_is_refused_naming_the_rules():
    with pytest.raises(RedactionError) as caught:
        Redactor(disable=['passwords'])
    assert "'passwords'" in str(caught.value) and 'secret_assignment' in str(caught.value)


def test_a_user_pattern_masks_its_secret_group_or_the_whole_match():
    redactor = Redactor(patterns=[r'X-Shop-Key:\s*(?P<secret>\S+)', r'order-\d{6}', r'pin (\d+)'], environ={})

    assert redactor('X-Shop-Key: k3y-123 sent') == 'X-Shop-Key: [REDACTED] sent'
    assert redactor('for order-123456 only') == 'for [REDACTED] only'
    assert redactor('pin 4321 entered') == 'pin [REDACTED] entered'


@pytest.mark.parametrize('pattern, words', [('(unclosed', ['(unclosed', 'not a valid regular expression']),
                                            ('', ['non-empty string']), (42, ['non-empty string'])])
def test_a_bad_user_pattern_is_named(pattern, words):
    with pytest.raises(RedactionError) as caught:
        Redactor(patterns=[pattern])
    for word in words:
        assert word in str(caught.value)


def test_the_replacement_can_be_chosen_and_quotes_stay():
    assert Redactor(replacement='***', environ={})('export API_KEY="abcdef0123"') == 'export API_KEY="***"'


def test_a_private_key_cut_by_a_log_tail_is_still_hidden():
    # A tail that starts inside the key, and one that stops inside it.
    assert 'tailbody' not in Redactor(environ={})('tailbody1234\n-----END PRIVATE KEY-----\nnext line')
    unfinished = Redactor(environ={})('log line\n-----BEGIN EC PRIVATE KEY-----\nheadbody5678')
    assert 'headbody' not in unfinished and unfinished.startswith('log line\n')


def test_data_structures_are_redacted_inside_and_none_stays_none():
    redactor = Redactor(environ={})
    assert redactor(None) is None
    assert redactor.redact_data({'msg': ['password=hunter2x', {'k': 'token: abcdef'}], 'rc': 1}) == {
        'msg': ['password=[REDACTED]', {'k': 'token: [REDACTED]'}], 'rc': 1}
