# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Redaction, the engine: the corpus of real-looking CI log lines, known values masked as the modules mask them, each
rule switched off by name, user patterns, what is never redacted, and bounded work on hostile input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from ansible_collections.upsun.support.plugins.module_utils.masking import mask_known
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RULE_NAMES, RedactionError, Redactor

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


def test_environment_secrets_can_be_switched_off_but_not_the_credentials():
    environ = dict(CI_JOB_TOKEN='ShortLivedJobToken-64abc')
    redactor = Redactor(disable=['environment_secrets'], secrets=[API_TOKEN], environ=environ)

    assert redactor('ShortLivedJobToken-64abc and ' + API_TOKEN) == 'ShortLivedJobToken-64abc and [REDACTED]'
    with pytest.raises(RedactionError, match='credentials rule cannot be switched off'):
        Redactor(disable=['credentials'])


KNOWN = 'p@ss w0rd/"quoted"+more'


def test_known_values_are_masked_in_their_encodings_as_the_modules_mask_them():
    encoded = base64.b64encode(b'user:' + KNOWN.encode()).decode()
    text = 'json {0} percent {1} base64 {2} end'.format(json.dumps(KNOWN)[1:-1], quote(KNOWN, safe=''), encoded)

    redacted = Redactor(secrets=[KNOWN], environ={})(text)

    assert redacted == mask_known(text, [KNOWN]) == 'json [REDACTED] percent [REDACTED] base64 [REDACTED] end'


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
