# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Redaction: the corpus of real-looking CI log lines, known values in their encodings, each rule, user patterns, what
is never redacted, and bounded work on hostile input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RULE_NAMES, RedactionError, Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.secret_names import environment_secrets, looks_secret

CORPUS = yaml.safe_load((Path(__file__).resolve().parents[3] / 'data' / 'secret_corpus.yml').read_text())
API_TOKEN = 'apitoken-SECRET-7c1e4b2a9f'


def corpus_line(entry):
    return entry['line'].replace('{api_token}', API_TOKEN)


def test_the_corpus_is_as_big_as_promised():
    assert len(CORPUS['secret_lines']) >= 60
    assert len(set(entry['ecosystem'] for entry in CORPUS['secret_lines'])) >= 15
    assert len(CORPUS['harmless_lines']) >= 30
    assert all(entry['secrets'] and entry['keep'] for entry in CORPUS['secret_lines'])


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


@pytest.mark.parametrize('entry', CORPUS['secret_lines'], ids=lambda entry: entry['line'][:40])
def test_no_secret_of_the_corpus_survives_inside_data(entry):
    redacted = Redactor(secrets=[API_TOKEN], environ={}).redact_data({'msg': corpus_line(entry), 'results': [{'stdout': corpus_line(entry)}]})

    text = json.dumps(redacted)
    for secret in entry['secrets']:
        assert json.dumps(secret.replace('{api_token}', API_TOKEN))[1:-1] not in text
    for kept in entry['keep']:
        assert kept in redacted['msg'] and kept in redacted['results'][0]['stdout']


# The environment of a CI job: its working directory must not be taken for a secret.
CI_ENVIRON = dict(PWD='/home/ci/builds/acme/shop', OLDPWD='/home/ci', HOME='/home/ci', CI_JOB_TOKEN='ShortLivedJobToken-64abc')


@pytest.mark.parametrize('line', CORPUS['harmless_lines'])
def test_harmless_lines_come_through_unchanged(line):
    redactor = Redactor(secrets=[API_TOKEN], environ=CI_ENVIRON)

    assert redactor(line) == line
    assert redactor.redact_data({'lines': [line]}) == {'lines': [line]}


def test_a_whole_log_is_redacted_at_once():
    log = '\n'.join([corpus_line(entry) for entry in CORPUS['secret_lines']] + CORPUS['harmless_lines'])

    redacted = Redactor(secrets=[API_TOKEN], environ={})(log)

    for entry in CORPUS['secret_lines']:
        for secret in entry['secrets']:
            assert secret.replace('{api_token}', API_TOKEN) not in redacted
    for line in CORPUS['harmless_lines']:
        assert line in redacted


@pytest.mark.parametrize('count', [2, 3, 5, 7])
def test_the_corpus_mixed_in_other_orders_keeps_its_text(count):
    # As the end-to-end tests mix it: every count-th line together, so that each line has other neighbours.
    lines = [corpus_line(entry) for entry in CORPUS['secret_lines']] + CORPUS['harmless_lines']
    redacted = '\n'.join(Redactor(secrets=[API_TOKEN], environ={})('\n'.join(lines[index::count])) for index in range(count))

    for entry in CORPUS['secret_lines']:
        assert not [secret for secret in entry['secrets'] if secret.replace('{api_token}', API_TOKEN) in redacted]
        assert [kept for kept in entry['keep'] if kept not in redacted] == []
    assert [line for line in CORPUS['harmless_lines'] if line not in redacted] == []


def test_a_netrc_password_line_needs_its_login_line_just_before():
    text = 'docker login -u ci registry.example.com\nPassword for \'https://git.example.com\': x\npassword reset failed'
    assert Redactor(environ={})(text) == text.replace(': x', ': [REDACTED]')
    assert Redactor(environ={})('machine h\n  login u\n  password NetrcPass1') == 'machine h\n  login u\n  password [REDACTED]'


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


def test_environment_secrets_can_be_switched_off_but_not_the_credentials():
    environ = dict(CI_JOB_TOKEN='ShortLivedJobToken-64abc')
    redactor = Redactor(disable=['environment_secrets'], secrets=[API_TOKEN], environ=environ)

    assert redactor('ShortLivedJobToken-64abc and ' + API_TOKEN) == 'ShortLivedJobToken-64abc and [REDACTED]'
    with pytest.raises(RedactionError, match='credentials rule cannot be switched off'):
        Redactor(disable=['credentials'])


def test_the_working_directory_is_not_a_secret():
    # It used to be: support got "[REDACTED]/release/manifest.json".
    assert environment_secrets(CI_ENVIRON) == {'ShortLivedJobToken-64abc'}
    line = 'cannot read /home/ci/builds/acme/shop/release/manifest.json (cwd /home/ci/builds/acme/shop)'

    assert Redactor(environ=CI_ENVIRON)(line) == line


KNOWN = 'p@ss w0rd/"quoted"+more'


@pytest.mark.parametrize('form', [
    KNOWN, json.dumps(KNOWN)[1:-1], json.dumps(json.dumps(KNOWN)[1:-1])[1:-1], quote(KNOWN, safe=''), quote(KNOWN),
    quote_plus(KNOWN), quote(KNOWN, safe='').lower(),
], ids=['plain', 'json', 'json-in-json', 'percent', 'percent-keeping-slash', 'plus', 'lower-percent'])
def test_a_known_secret_is_masked_in_its_encodings_whatever_surrounds_it(form):
    redactor = Redactor(secrets=[KNOWN], environ={})

    redacted = redactor('prefix{0}suffix and again:{0}'.format(form))

    assert redacted == 'prefix[REDACTED]suffix and again:[REDACTED]'


@pytest.mark.parametrize('form', [base64.b64encode(KNOWN.encode()).decode(), base64.urlsafe_b64encode(KNOWN.encode()).decode()],
                         ids=['base64', 'base64url'])
def test_a_known_secret_is_masked_in_base64_with_the_whole_base64_word(form):
    assert Redactor(secrets=[KNOWN], environ={})('cached {0} in .env.b64'.format(form)) == 'cached [REDACTED] in .env.b64'


@pytest.mark.parametrize('user', ['a', 'ab', 'abc', 'deploy', 'x-access-token', 'ci@example.com'])
def test_base64_of_user_and_known_password_is_masked_whoever_the_user(user):
    encoded = base64.b64encode('{0}:{1}'.format(user, KNOWN).encode()).decode()

    redacted = Redactor(secrets=[KNOWN], environ={})('cached {0} (from .docker/config.json)'.format(encoded))

    assert redacted == 'cached [REDACTED] (from .docker/config.json)'


def test_short_known_values_are_not_looked_for_in_base64():
    # A 4-character value has no base64 core long enough not to turn up by chance.
    text = base64.b64encode(b'nothing to see here, hold on').decode()
    assert Redactor(secrets=['hold'], environ={})(text) == text


def test_known_secrets_are_masked_longest_first_and_many_at_once():
    secrets = ['secret-value-{0:04d}'.format(index) for index in range(500)] + ['secret-value-0001-longer']
    redactor = Redactor(secrets=secrets, environ={})

    assert redactor('a secret-value-0001-longer b secret-value-0499 c') == 'a [REDACTED] b [REDACTED] c'


@pytest.mark.parametrize('rule, line, secret', [
    ('private_key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretbody\n-----END RSA PRIVATE KEY-----', 'MIIEsecretbody'),
    ('authorization_header', 'Authorization: Negotiate abcdefghijkl', 'abcdefghijkl'),
    ('cookie_header', 'Cookie: sid=abcdef123456', 'abcdef123456'),
    ('url_credentials', 'https://bob:hunter2hunter2@example.com/', 'hunter2hunter2'),
    ('secret_flag', 'cmd --password hunter2hunter2', 'hunter2hunter2'),
    ('token_format', 'saw AKIAIOSFODNN7EXAMPLE here', 'AKIAIOSFODNN7EXAMPLE'),
    ('credential_files', 'machine h login u password NetrcPass99', 'NetrcPass99'),
    ('secret_json', '{"password": "JsonPass99"}', 'JsonPass99'),
    ('secret_assignment', 'DB_PASS=AssignPass99', 'AssignPass99'),
    ('user_password_flag', 'curl -u bob:CurlPass99 https://x', 'CurlPass99'),
])
def test_each_rule_can_be_switched_off_by_name(rule, line, secret):
    assert rule in RULE_NAMES
    assert secret not in Redactor(environ={})(line)
    assert secret in Redactor(disable=[rule], environ={})(line)


def test_an_unknown_rule_name_is_refused_naming_the_rules():
    with pytest.raises(RedactionError) as caught:
        Redactor(disable=['passwords'])
    assert "'passwords'" in str(caught.value) and 'secret_assignment' in str(caught.value)
    assert 'credential_files' in str(caught.value)


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


def test_a_cut_key_keeps_the_log_lines_around_it():
    body = ['web1 | ' + 'A' * 63 + str(index) for index in range(3)]
    text = '\n'.join(['web1 | TASK [install deploy key] done'] + body + ['web1 | -----END PRIVATE KEY-----', 'web1 | ok'])

    redacted = Redactor(environ={})(text)

    assert 'AAAA' not in redacted
    assert redacted.startswith('web1 | TASK [install deploy key] done\n') and redacted.endswith('-----END PRIVATE KEY-----\nweb1 | ok')
    begun = Redactor(environ={})('-----BEGIN RSA PRIVATE KEY-----\n' + 'B' * 64 + '\n' + 'C' * 64 + '\nTASK [next] ok')
    assert 'BBBB' not in begun and 'CCCC' not in begun and begun.endswith('\nTASK [next] ok')


@pytest.mark.parametrize('payload', [b'{"sub":"ci"}', b'not json at all, a plain payload', b'\x00\x01binary'])
def test_a_jwt_is_masked_whatever_its_payload_but_not_dotted_words(payload):
    def part(data):
        return base64.urlsafe_b64encode(data).decode().rstrip('=')
    token = '.'.join([part(b'{"alg":"ES256","typ":"JWT"}'), part(payload), part(b'signature-bytes-1234')])

    assert Redactor(environ={})('token ' + token + ' rejected') == 'token [REDACTED] rejected'
    dotted = 'eyewear-shop-frontend.example.com.internal and examples.of.words'
    assert Redactor(environ={})(dotted) == dotted


def test_data_structures_are_redacted_inside_and_none_stays_none():
    redactor = Redactor(environ={})
    assert redactor(None) is None
    assert redactor.redact_data({'msg': ['password=hunter2x', {'k': 'token: abcdef'}], 'rc': 1}) == {
        'msg': ['password=[REDACTED]', {'k': 'token: [REDACTED]'}], 'rc': 1}


# -- bounded work -------------------------------------------------------------------------------------------------------

MEGABYTE = 1 << 20


def fill(unit, size=MEGABYTE):
    return (unit * (size // len(unit) + 1))[:size]


# Inputs that make a backtracking pattern work for minutes; each one also holds the words that send a line to the rules.
HOSTILE = {
    'jwt-like runs': 'eyJ-', 'jwt-like parts': 'eyJhbGciOi.', 'base64 run': 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldY',
    'assignments': 'a=', 'secret assignments': 'password=', 'json keys': '"x":', 'secret json keys': '"password":',
    'backslashes': '\\', 'escaped quotes': '\\"', 'escaped secret keys': '\\\\\\"password\\\\\\":',
    'begin fragments': '-----BEGIN ', 'begin markers': '-----BEGIN PRIVATE KEY-----',
    'end markers': '-----END PRIVATE KEY-----\n', 'key lines': 'A' * 64 + '\n', 'urls': 'https://a:',
    'encoded urls': 'https%3A%2F%2F', 'mysql flags': 'mysql -p', 'login flags': 'docker login -p ', 'tokens': 'ghp_',
    'gitlab tokens': 'glpat-', 'spaced names': 'password        ', 'colons': 'token: ', 'xml': '<password>',
    'netrc': 'login a password ', 'pgpass': 'h:5432:d:u:', 'quotes': '"', 'php arrays': "'password' => ",
    'prompts': 'password for ', 'flags': '--password ', 'putty': 'Private-Lines: 9999\n',
    'mixed': 'password=x token: "secret":"y" eyJ-abc https://u:p@h -----END PRIVATE KEY----- mysql -pX ghp_ ',
}
# Generous: well under a second on an idle machine, with room for a loaded one (CPU time, not wall time).
HOSTILE_BOUND = 1.0


def cpu_seconds(redactor, text):
    started = time.process_time()
    redactor(text)
    return time.process_time() - started


@pytest.mark.parametrize('name', sorted(HOSTILE))
def test_a_megabyte_of_hostile_text_takes_well_under_a_second(name):
    redactor = Redactor(secrets=[API_TOKEN], environ={})

    assert cpu_seconds(redactor, fill(HOSTILE[name])) < HOSTILE_BOUND


@pytest.mark.parametrize('name', ['jwt-like runs', 'secret assignments', 'secret json keys', 'end markers', 'mixed'])
def test_redaction_time_grows_linearly(name):
    redactor = Redactor(secrets=[API_TOKEN], environ={})
    small = min(cpu_seconds(redactor, fill(HOSTILE[name], MEGABYTE // 4)) for dummy in range(3))
    large = min(cpu_seconds(redactor, fill(HOSTILE[name])) for dummy in range(2))

    # Linear work makes the ratio 4; quadratic work, 16. The margin is for timer noise on small figures.
    assert large < 8 * small + 0.05


def test_many_known_secrets_cost_one_pass():
    secrets = ['known-secret-{0:05d}-value'.format(index) for index in range(2000)]
    redactor = Redactor(secrets=secrets, environ={})
    text = fill('deploy step ok; known-secret-00042-value; ')

    started = time.process_time()
    redacted = redactor(text)
    assert time.process_time() - started < HOSTILE_BOUND
    assert 'known-secret-00042-value' not in redacted
