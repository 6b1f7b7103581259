# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection settings table, its adapter, and the doc fragment that documents the same table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.upsun.support.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.settings import (
    CONNECTION_NAMES,
    CONNECTION_SETTINGS,
    connection_argument_spec,
    resolve_connection,
)


def resolve(environ=None, **values):
    return resolve_connection(values, environ=environ or {})


def test_unset_values_take_the_defaults():
    settings = resolve()

    assert settings.api_url == 'https://api.upsun.com'
    assert settings.auth_url == 'https://auth.upsun.com'
    assert settings.token_url == 'https://auth.upsun.com/oauth2/token'
    assert settings.timeout == 30.0
    assert settings.validate_certs is True
    assert settings.retries == 3
    assert settings.ca_path is None
    assert settings.page_concurrency == 4
    assert settings.max_response_size == 10 * 1024 * 1024
    assert settings.origins['api_url'] == 'default'


def test_the_environment_fills_what_the_caller_left_unset(tokens):
    environ = dict(UPSUN_CLI_TOKEN=tokens.api, UPSUN_CLI_API_URL='http://127.0.0.1:9/', UPSUN_CLI_AUTH_URL='http://127.0.0.1:8',
                   UPSUN_CLI_DEFAULT_TIMEOUT='7.5', UPSUN_SUPPORT_RETRIES='1', UPSUN_SUPPORT_CA_PATH='~/ca.pem',
                   UPSUN_SUPPORT_ACCESS_TOKEN=tokens.access)

    settings = resolve(environ, api_url=None, timeout=None)

    assert settings.api_token == tokens.api
    assert settings.access_token == tokens.access
    assert settings.api_url == 'http://127.0.0.1:9'
    assert settings.token_url == 'http://127.0.0.1:8/oauth2/token'
    assert settings.timeout == 7.5
    assert settings.retries == 1
    assert not settings.ca_path.startswith('~')
    assert settings.origins['timeout'] == 'env: UPSUN_CLI_DEFAULT_TIMEOUT'
    assert settings.token_source() == 'the UPSUN_CLI_TOKEN environment variable'


def test_a_given_value_wins_over_the_environment():
    settings = resolve(dict(UPSUN_CLI_API_URL='http://env.example', UPSUN_SUPPORT_RETRIES='9'),
                       api_url='http://given.example', retries=0)

    assert settings.api_url == 'http://given.example'
    assert settings.retries == 0
    assert settings.origins['api_url'] == 'option'


def test_upsun_cli_token_wins_over_the_platformsh_one(tokens):
    settings = resolve(dict(PLATFORMSH_CLI_TOKEN='older-token', UPSUN_CLI_TOKEN=tokens.api))

    assert settings.api_token == tokens.api
    assert settings.token_source() == 'the UPSUN_CLI_TOKEN environment variable'
    assert resolve(dict(PLATFORMSH_CLI_TOKEN=tokens.api)).token_source() == 'the PLATFORMSH_CLI_TOKEN environment variable'


def test_a_value_left_unset_is_named_by_its_variable_and_a_given_one_is_the_option(tokens):
    # The environment is read here, where the origin is recorded, not guessed afterwards by comparing values.
    settings = resolve(dict(UPSUN_CLI_TOKEN=tokens.api), api_token=None)
    assert settings.token_source() == 'the UPSUN_CLI_TOKEN environment variable'
    settings = resolve(dict(UPSUN_CLI_TOKEN=tokens.api), api_token=tokens.api)
    assert settings.token_source() == 'the api_token option'


def test_a_plugin_origin_is_kept(tokens):
    settings = resolve_connection(dict(api_token=tokens.api), origins=dict(api_token='api_token in /etc/ansible.cfg'),
                                  environ={})
    assert settings.token_source() == 'api_token in /etc/ansible.cfg'


def test_the_token_url_variable_overrides_the_one_made_from_auth_url():
    settings = resolve(dict(UPSUN_CLI_OAUTH2_TOKEN_URL='http://127.0.0.1:7/token'), auth_url='http://127.0.0.1:8')
    assert settings.token_url == 'http://127.0.0.1:7/token'


@pytest.mark.parametrize('value, expected', [('1', False), ('true', False), ('yes', False), ('0', True), ('false', True), ('', True)])
def test_upsun_cli_skip_ssl_turns_validation_off_as_the_cli_does(value, expected):
    settings = resolve({'UPSUN_CLI_SKIP_SSL': value})
    assert settings.validate_certs is expected


def test_an_explicit_validate_certs_wins_over_upsun_cli_skip_ssl():
    assert resolve({'UPSUN_CLI_SKIP_SSL': '1'}, validate_certs=True).validate_certs is True
    assert resolve({}, validate_certs=False).validate_certs is False


def test_a_bad_skip_ssl_value_is_named():
    with pytest.raises(InputError, match='UPSUN_CLI_SKIP_SSL must be true or false.*maybe'):
        resolve({'UPSUN_CLI_SKIP_SSL': 'maybe'})


@pytest.mark.parametrize('variable, name, value', [
    ('UPSUN_CLI_DEFAULT_TIMEOUT', 'timeout', 'soon'),
    ('UPSUN_SUPPORT_RETRIES', 'retries', 'many'),
    ('UPSUN_SUPPORT_RETRIES', 'retries', '1.5'),
    ('UPSUN_SUPPORT_PAGE_CONCURRENCY', 'page_concurrency', 'lots'),
])
def test_a_bad_environment_value_names_the_setting_and_the_variable(variable, name, value):
    with pytest.raises(InputError) as caught:
        resolve({variable: value})
    assert caught.value.msg.startswith(name + ' must be')
    assert variable in caught.value.msg
    assert repr(value) in caught.value.msg


@pytest.mark.parametrize('values, words', [
    (dict(), ['No Upsun credentials', 'api_token', 'UPSUN_CLI_TOKEN', 'access_token']),
    (dict(api_token='t', api_url='api.upsun.com'), ['api_url', 'UPSUN_CLI_API_URL', "'api.upsun.com'"]),
    (dict(api_token='t', auth_url='ftp://auth'), ['auth_url', 'UPSUN_CLI_AUTH_URL']),
    (dict(api_token='t', token_url='/token'), ['token_url', 'UPSUN_CLI_OAUTH2_TOKEN_URL']),
    (dict(api_token='t', timeout=0), ['timeout', 'above 0']),
    (dict(api_token='t', retries=-1), ['retries', 'from 0 to 100']),
    (dict(api_token='t', deadline=0), ['deadline', 'seconds above 0', 'UPSUN_SUPPORT_DEADLINE']),
    (dict(api_token='t', page_limit=0), ['page_limit', 'from 1 to 10000', 'got 0']),
    (dict(api_token='t', page_concurrency=0), ['page_concurrency', 'from 1 to 16', 'UPSUN_SUPPORT_PAGE_CONCURRENCY']),
    (dict(api_token='t', page_concurrency=17), ['page_concurrency', 'from 1 to 16', 'got 17']),
])
def test_validate_names_the_setting_and_its_variable(values, words):
    with pytest.raises(InputError) as caught:
        resolve(**values).validate()
    for word in words:
        assert word in caught.value.msg


# Numbers that Python takes but no clock, loop or buffer can use: each is refused naming the setting and its range.
@pytest.mark.parametrize('name, value, words', [
    ('timeout', float('inf'), ['timeout', 'above 0, at most 3600', 'got inf']),
    ('timeout', float('nan'), ['timeout', 'above 0, at most 3600', 'got nan']),
    ('timeout', 1e308, ['timeout', 'at most 3600']),
    ('timeout', 3600.5, ['timeout', 'at most 3600']),
    ('timeout', -1.0, ['timeout', 'above 0']),
    ('deadline', float('inf'), ['deadline', 'above 0, at most 86400', 'got inf']),
    ('deadline', 1e308, ['deadline', 'at most 86400']),
    ('deadline', 10 ** 400, ['deadline', 'must be a number']),
    ('retries', 10 ** 30, ['retries', 'from 0 to 100']),
    ('retries', 1e308, ['retries', 'from 0 to 100']),
    ('page_limit', 10 ** 30, ['page_limit', 'from 1 to 10000']),
    ('max_response_size', 1023, ['max_response_size', 'from 1024 to 1073741824', 'got 1023']),
    ('max_response_size', 2 ** 31, ['max_response_size', 'from 1024 to 1073741824']),
    ('max_response_size', True, ['max_response_size', 'must be an integer']),
    ('timeout', True, ['timeout', 'must be a number']),
])
def test_numbers_out_of_their_range_are_refused_naming_the_setting(name, value, words):
    with pytest.raises(InputError) as caught:
        resolve(api_token='t', **{name: value}).validate()
    for word in words:
        assert word in caught.value.msg


@pytest.mark.parametrize('variable, value', [
    ('UPSUN_CLI_DEFAULT_TIMEOUT', 'inf'), ('UPSUN_CLI_DEFAULT_TIMEOUT', 'nan'), ('UPSUN_CLI_DEFAULT_TIMEOUT', '1e308'),
    ('UPSUN_SUPPORT_DEADLINE', 'Infinity'), ('UPSUN_SUPPORT_DEADLINE', '1' * 400), ('UPSUN_SUPPORT_RETRIES', '9' * 40),
    ('UPSUN_SUPPORT_MAX_RESPONSE_SIZE', '0'),
])
def test_numbers_out_of_range_from_the_environment_name_the_variable(variable, value):
    with pytest.raises(InputError) as caught:
        resolve({variable: value}, api_token='t').validate()
    assert variable in caught.value.msg


def test_the_largest_numbers_in_range_are_taken():
    settings = resolve(api_token='t', timeout=3600, deadline=86400, retries=100, page_limit=10000,
                       max_response_size=1073741824)
    settings.validate()
    assert settings.client_kwargs()['max_response_size'] == 1073741824


def test_public_settings_hold_no_secret(tokens):
    settings = resolve(dict(UPSUN_SUPPORT_CA_PATH='/etc/ca.pem'), api_token=tokens.api, access_token=tokens.access,
                       api_url='http://127.0.0.1:9')

    # What was set, without the secrets, the defaults and the token URL made from auth_url.
    assert settings.public() == dict(api_url='http://127.0.0.1:9', ca_path='/etc/ca.pem')
    assert tokens.api not in repr(settings.public()) and tokens.access not in repr(settings.public())
    assert sorted(settings.secret_values()) == sorted([tokens.api, tokens.access])
    assert settings.client_kwargs()['api_token'] == tokens.api


def test_the_module_spec_is_made_from_the_table():
    spec = connection_argument_spec(subject=dict(type='str'))

    assert spec['subject'] == dict(type='str')
    for setting in CONNECTION_SETTINGS:
        entry = spec[setting.name]
        assert entry['type'] == setting.type
        assert entry['no_log'] is setting.secret
        assert entry.get('default') == setting.default
        # The environment is read by resolve_connection (the token's family), never by AnsibleModule.
        assert 'fallback' not in entry


# --- the doc fragment documents the same table ------------------------------------------------------------------------

DOCS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
PLUGINS = yaml.safe_load(ModuleDocFragment.PLUGINS)['options']


def test_the_fragment_documents_every_setting_and_nothing_else():
    assert list(DOCS) == list(CONNECTION_NAMES)
    assert list(PLUGINS) == list(CONNECTION_NAMES)


@pytest.mark.parametrize('setting', CONNECTION_SETTINGS, ids=lambda setting: setting.name)
def test_the_fragment_gives_each_setting_its_type_default_and_variables(setting):
    doc = DOCS[setting.name]
    plugin = PLUGINS[setting.name]
    description = ' '.join(doc['description'])

    assert doc['type'] == setting.type
    assert doc.get('default') == setting.default
    # Plugins read the table's variables, in the config system's order (the last one wins there, the first here).
    assert [entry['name'] for entry in plugin.get('env', [])] == list(reversed(setting.env))
    assert plugin['ini'] == [dict(section='upsun_support', key=setting.name)]
    for variable in setting.env or ('UPSUN_CLI_SKIP_SSL',):
        assert 'E({0})'.format(variable) in description
    assert ('This is a secret.' in description) is setting.secret


# --- the Upsun CLI's two families and its config-key spellings (issue 24) ---------------------------------------------


def test_a_platformsh_token_reads_the_platformsh_urls_never_the_upsun_ones(tokens):
    environ = dict(PLATFORMSH_CLI_TOKEN=tokens.api, PLATFORMSH_CLI_API_URL='https://api.platform.sh',
                   PLATFORMSH_CLI_AUTH_URL='https://auth.platform.sh', PLATFORMSH_CLI_DEFAULT_TIMEOUT='12',
                   UPSUN_CLI_API_URL='https://api.upsun.example', UPSUN_CLI_AUTH_URL='https://auth.upsun.example',
                   UPSUN_CLI_DEFAULT_TIMEOUT='99', UPSUN_CLI_SKIP_SSL='1')

    settings = resolve(environ)

    assert (settings.api_url, settings.auth_url) == ('https://api.platform.sh', 'https://auth.platform.sh')
    assert settings.token_url == 'https://auth.platform.sh/oauth2/token'
    assert settings.timeout == 12.0
    assert settings.validate_certs is True
    assert settings.origins['api_url'] == 'env: PLATFORMSH_CLI_API_URL'
    assert settings.family == 'PLATFORMSH_CLI_'


def test_a_platformsh_token_without_platformsh_urls_gets_the_defaults_not_the_upsun_variables(tokens):
    settings = resolve(dict(PLATFORMSH_CLI_TOKEN=tokens.api, UPSUN_CLI_API_URL='https://api.upsun.example'))

    assert settings.api_url == 'https://api.upsun.com'
    assert settings.origins['api_url'] == 'default'


def test_an_upsun_token_never_reads_the_platformsh_urls(tokens):
    settings = resolve(dict(UPSUN_CLI_TOKEN=tokens.api, PLATFORMSH_CLI_TOKEN='older', PLATFORMSH_CLI_API_URL='https://p.example',
                            PLATFORMSH_CLI_OAUTH2_TOKEN_URL='https://p.example/token', PLATFORMSH_CLI_SKIP_SSL='1'))

    assert settings.api_token == tokens.api
    assert (settings.api_url, settings.token_url) == ('https://api.upsun.com', 'https://auth.upsun.com/oauth2/token')
    assert settings.validate_certs is True


def test_a_token_given_as_an_option_reads_the_upsun_family(tokens):
    settings = resolve(dict(PLATFORMSH_CLI_API_URL='https://p.example', UPSUN_CLI_API_URL='https://u.example'),
                       api_token=tokens.api)
    assert settings.api_url == 'https://u.example'


@pytest.mark.parametrize('family', ['UPSUN_CLI_', 'PLATFORMSH_CLI_'])
def test_the_config_key_spellings_are_read_and_the_cli_names_win(tokens, family):
    environ = {family + 'TOKEN': tokens.api, family + 'API_BASE_URL': 'https://base.example',
               family + 'API_AUTH_URL': 'https://auth.example', family + 'API_DEFAULT_TIMEOUT': '7',
               family + 'API_SKIP_SSL': 'yes'}

    settings = resolve(environ)

    assert (settings.api_url, settings.auth_url, settings.timeout) == ('https://base.example', 'https://auth.example', 7.0)
    assert settings.validate_certs is False
    assert settings.origins['api_url'] == 'env: {0}API_BASE_URL'.format(family)
    environ.update({family + 'API_URL': 'https://cli-name.example', family + 'SKIP_SSL': '0'})
    settings = resolve(environ)
    assert settings.api_url == 'https://cli-name.example'
    assert settings.validate_certs is True


def test_a_plugin_value_read_from_the_other_family_is_dropped(tokens):
    # A plugin's configuration reads every listed variable: the token's family decides which one counts.
    settings = resolve_connection(
        dict(api_token=tokens.api, api_url='https://u.example'),
        origins=dict(api_token='env: PLATFORMSH_CLI_TOKEN', api_url='env: UPSUN_CLI_API_URL'),
        environ=dict(PLATFORMSH_CLI_API_URL='https://p.example'))

    assert settings.api_url == 'https://p.example'


def test_a_bad_value_of_the_platformsh_family_names_its_variables(tokens):
    with pytest.raises(InputError) as caught:
        resolve(dict(PLATFORMSH_CLI_TOKEN=tokens.api, PLATFORMSH_CLI_API_URL='api.platform.sh')).validate()
    assert 'from the PLATFORMSH_CLI_API_URL environment variable' in caught.value.msg


# --- tokens trimmed (issue 24) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('padded', ['{0}\n', '{0}\r\n', '  {0}\t', '\n{0}'])
def test_whitespace_around_a_token_is_removed(tokens, padded):
    assert resolve(dict(UPSUN_CLI_TOKEN=padded.format(tokens.api))).api_token == tokens.api
    assert resolve(api_token=padded.format(tokens.api)).api_token == tokens.api
    assert resolve(access_token=padded.format(tokens.access)).access_token == tokens.access


@pytest.mark.parametrize('name, values, environ, where', [
    ('api_token', dict(api_token='abc def'), {}, 'from the api_token option'),
    ('api_token', {}, dict(UPSUN_CLI_TOKEN='abc\ndef\n'), 'from the UPSUN_CLI_TOKEN environment variable'),
    ('api_token', {}, dict(PLATFORMSH_CLI_TOKEN='abc\x00def'), 'from the PLATFORMSH_CLI_TOKEN environment variable'),
    ('access_token', dict(access_token='abc\x1bdef'), {}, 'from the access_token option'),
])
def test_a_token_with_whitespace_or_control_characters_inside_is_refused(name, values, environ, where):
    with pytest.raises(InputError) as caught:
        resolve_connection(values, environ=environ)
    assert caught.value.msg.startswith(name + ' holds whitespace or control characters inside the token')
    assert where in caught.value.msg
    assert 'abc' not in caught.value.msg and 'def' not in caught.value.msg


def test_a_token_of_whitespace_only_is_no_token():
    with pytest.raises(InputError, match='No Upsun credentials'):
        resolve(dict(UPSUN_CLI_TOKEN='\n')).validate()


# --- credentials in URLs (issue 22) -----------------------------------------------------------------------------------


@pytest.mark.parametrize('value', ['ftp://robot:hunter2@host/x', 'robot:hunter2@api.upsun.com'])
def test_a_bad_url_is_shown_without_its_credentials(value):
    with pytest.raises(InputError) as caught:
        resolve(api_token='t', api_url=value).validate()
    assert 'hunter2' not in caught.value.msg and 'robot' not in caught.value.msg
    assert '***@' in caught.value.msg


def test_url_passwords_are_given_for_no_log():
    settings = resolve(api_token='t', api_url='https://robot:hunter2@api.example.com', auth_url='https://a.example.com')
    assert settings.url_passwords() == ['hunter2']
