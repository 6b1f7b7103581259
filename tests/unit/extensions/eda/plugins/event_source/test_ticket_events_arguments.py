# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The arguments of the upsun.support.ticket_events event source, its documentation and the EDA credential type."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.upsun.support.extensions.eda.plugins.event_source import ticket_events
from ansible_collections.upsun.support.plugins.module_utils.constants import PRIORITIES, STATUSES, TYPES
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_SETTINGS
from ansible_collections.upsun.support.plugins.plugin_utils import ticket_events_arguments as arguments
from ansible_collections.upsun.support.tests.unit.extensions.eda.plugins.event_source.source_helpers import (
    QueueStandIn,
    REQUESTER,
    run_main,
    source_args,
    ticket_polls,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))
CREDENTIAL_TYPE = os.path.join(REPO, 'extensions', 'eda', 'credential_types', 'upsun_api_token.yml')


# --- arguments --------------------------------------------------------------------------------------------------------


def test_defaults_are_the_modules_and_an_interval_of_60_seconds():
    options = ticket_events.parse_arguments({'api_token': 'x'}, environ={})

    assert options.interval == 60
    assert options.include_existing is False
    assert options.filters == {}
    assert options.search is None
    for setting in CONNECTION_SETTINGS:
        if setting.default is not None:
            assert options.settings.values[setting.name] == setting.default, setting.name
    assert options.settings.token_url == 'https://auth.upsun.com/oauth2/token'
    assert options.settings.validate_certs is True


@pytest.mark.parametrize('setting', [setting for setting in CONNECTION_SETTINGS if setting.env],
                         ids=lambda setting: setting.name)
def test_each_connection_setting_comes_from_the_modules_environment_variables(setting, tmp_path):
    values = {'api_token': 'tok', 'access_token': 'acc', 'api_url': 'https://api.example.com',
              'auth_url': 'https://auth.example.com', 'token_url': 'https://auth.example.com/token',
              'timeout': '12.5', 'ca_path': str(tmp_path), 'retries': '7',
              'deadline': '45.5', 'page_limit': '9', 'page_concurrency': '2', 'max_response_size': '65536'}
    # The last variable of the token (PLATFORMSH_CLI_TOKEN), the first of the others (of the UPSUN_CLI_TOKEN's family).
    variable = setting.env[-1] if setting.name == 'api_token' else setting.env[0]
    environ = {variable: values[setting.name]}
    if setting.name != 'api_token':
        environ['UPSUN_CLI_TOKEN'] = 'tok'

    options = ticket_events.parse_arguments({}, environ=environ)

    got = options.settings.values[setting.name]
    assert str(got) == values[setting.name] or got == float(values[setting.name])
    assert options.settings.origins[setting.name] == 'env: ' + variable


def test_the_upsun_cli_skip_ssl_variable_turns_certificate_checks_off():
    options = ticket_events.parse_arguments({'api_token': 'x'}, environ={'UPSUN_CLI_SKIP_SSL': '1'})

    assert options.settings.validate_certs is False


def test_an_argument_wins_over_the_environment():
    options = ticket_events.parse_arguments({'api_token': 'x', 'api_url': 'https://one.example.com'},
                                            environ={'UPSUN_CLI_API_URL': 'https://two.example.com'})

    assert options.settings.api_url == 'https://one.example.com'


def test_own_arguments_are_read():
    options = ticket_events.parse_arguments(
        {'api_token': 'x', 'interval': '2.5', 'include_existing': 'yes', 'status': 'pending', 'priority': 'urgent',
         'type': 'incident', 'requester_id': REQUESTER, 'search': 'release 42', 'eda_feedback_queue': object()},
        environ={})

    assert options.interval == 2.5
    assert options.include_existing is True
    assert options.filters == {'status': 'pending', 'priority': 'urgent', 'type': 'incident', 'requester_id': REQUESTER}
    assert options.search == 'release 42'
    assert options.lookback == arguments.DEFAULT_LOOKBACK == 900
    assert options.state_file is None


def test_lookback_and_state_file_are_read(tmp_path):
    options = ticket_events.parse_arguments(
        {'api_token': 'x', 'lookback': '0', 'state_file': str(tmp_path / 'events.json')}, environ={})

    assert options.lookback == 0
    assert options.state_file == str(tmp_path / 'events.json')


@pytest.mark.parametrize('args, names', [
    ({'intervall': 5}, ['intervall']),
    ({'interval': 0}, ['interval', 'above 0']),
    ({'interval': -1}, ['interval', 'above 0']),
    ({'interval': 'soon'}, ['interval', "'soon'"]),
    ({'interval': True}, ['interval']),
    ({'interval': float('inf')}, ['interval']),
    ({'interval': float('nan')}, ['interval']),
    ({'include_existing': 'maybe'}, ['include_existing', 'true or false']),
    ({'status': 'waiting'}, ['status', 'pending', "'waiting'"]),
    ({'priority': 'critical'}, ['priority', 'urgent']),
    ({'type': 'bug'}, ['type', 'incident']),
    ({'requester_id': 'me'}, ['requester_id', 'UUID']),
    ({'search': 42}, ['search', 'string']),
    ({'api_url': 'api.upsun.com'}, ['api_url', 'argument of upsun.support.ticket_events']),
    ({'timeout': 0}, ['timeout', 'above 0']),
    ({'timeout': float('inf')}, ['timeout', 'at most 3600', 'argument of upsun.support.ticket_events']),
    ({'deadline': 1e308}, ['deadline', 'at most 86400']),
    ({'max_response_size': 100}, ['max_response_size', 'from 1024 to 1073741824']),
    ({'requester_id': 'urn:uuid:{' + REQUESTER + '}'}, ['requester_id', 'UUID']),
    ({'retries': 'many'}, ['retries', 'integer']),
    ({'validate_certs': 'sometimes'}, ['validate_certs']),
    ({'lookback': -1}, ['lookback', 'from 0 to 2592000, got -1.']),
    ({'lookback': 1e300}, ['lookback', 'from 0 to 2592000, got 1e+300.']),
    ({'lookback': float('nan')}, ['lookback', 'from 0 to 2592000']),
    ({'lookback': 'long'}, ['lookback', "'long'"]),
    ({'lookback': float('inf')}, ['lookback']),
    ({'lookback': True}, ['lookback']),
    ({'state_file': 42}, ['state_file', 'string']),
    ({'state_file': ''}, ['state_file', 'path of a file']),
    ({'state_file': '/nonexistent-dir-9c1/events.json'}, ['state_file', '/nonexistent-dir-9c1', 'must exist']),
    ({'state_file': '/'}, ['state_file', 'is a directory']),
], ids=str)
def test_a_bad_argument_is_refused_naming_it(args, names):
    arguments = {'api_token': 'x'}
    arguments.update(args)

    with pytest.raises(InputError) as info:
        ticket_events.parse_arguments(arguments, environ={})

    assert info.value.msg.startswith('upsun.support.ticket_events: ')
    for name in names:
        assert name in info.value.msg


def test_a_requester_id_filter_is_sent_in_the_form_the_api_takes():
    options = ticket_events.parse_arguments({'api_token': 'x', 'requester_id': '{' + REQUESTER.upper() + '}'}, environ={})

    assert options.filters == {'requester_id': REQUESTER}


def test_an_infinite_number_from_the_environment_is_refused_naming_the_variable():
    with pytest.raises(InputError) as info:
        ticket_events.parse_arguments({}, environ={'UPSUN_CLI_TOKEN': 'x', 'UPSUN_SUPPORT_DEADLINE': 'inf'})

    assert 'deadline' in info.value.msg and 'UPSUN_SUPPORT_DEADLINE' in info.value.msg and 'at most 86400' in info.value.msg


def test_missing_credentials_are_refused_saying_where_to_set_them():
    with pytest.raises(InputError) as info:
        ticket_events.parse_arguments({}, environ={})

    assert 'api_token' in info.value.msg and 'UPSUN_CLI_TOKEN' in info.value.msg


def test_a_bad_environment_value_is_refused_naming_the_variable():
    with pytest.raises(InputError) as info:
        ticket_events.parse_arguments({}, environ={'UPSUN_CLI_TOKEN': 'x', 'UPSUN_CLI_DEFAULT_TIMEOUT': 'slow'})

    assert 'timeout' in info.value.msg and 'UPSUN_CLI_DEFAULT_TIMEOUT' in info.value.msg


def test_a_bad_argument_stops_main_before_any_request(sandbox):
    queue = QueueStandIn()

    with pytest.raises(InputError) as info:
        run_main(queue, source_args(sandbox, interval=0))

    assert 'interval' in info.value.msg
    assert sandbox.journal() == []
    assert queue.events == []


def test_a_refused_api_token_stops_main_at_the_first_poll(sandbox):
    with pytest.raises(UpsunError) as info:
        run_main(QueueStandIn(), source_args(sandbox, api_token='not-the-token-SECRET', interval=0.1))

    assert 'refused the API token from the api_token argument of upsun.support.ticket_events' in info.value.msg
    assert 'not-the-token-SECRET' not in info.value.msg
    assert ticket_polls(sandbox) == []


def test_a_wrong_api_url_stops_main_at_the_first_poll(sandbox):
    with pytest.raises(UpsunError) as info:
        run_main(QueueStandIn(), source_args(sandbox, api_url=sandbox.url + '/nowhere', interval=0.1))

    assert 'the first poll failed' in info.value.msg and 'HTTP 404' in info.value.msg


# --- documentation ----------------------------------------------------------------------------------------------------

DOCS = yaml.safe_load(ticket_events.DOCUMENTATION)
OPTIONS = DOCS['options']


def test_the_documentation_lists_every_argument_and_nothing_else():
    assert set(OPTIONS) == set(arguments.ARGUMENT_NAMES)
    assert DOCS['name'] == 'ticket_events'


@pytest.mark.parametrize('setting', CONNECTION_SETTINGS, ids=lambda setting: setting.name)
def test_the_documentation_gives_each_connection_argument_its_type_default_and_variables(setting):
    doc = OPTIONS[setting.name]
    description = ' '.join(doc['description'])

    assert doc['type'] == setting.type
    assert doc.get('default') == setting.default
    for variable in setting.env or ('UPSUN_CLI_SKIP_SSL',):
        assert 'E({0})'.format(variable) in description
    assert ('This is a secret.' in description) is setting.secret


def test_the_documentation_of_the_own_arguments_matches_the_code():
    assert OPTIONS['interval']['default'] == arguments.DEFAULT_INTERVAL
    assert OPTIONS['include_existing']['default'] is False
    assert OPTIONS['lookback']['default'] == arguments.DEFAULT_LOOKBACK
    assert OPTIONS['state_file']['type'] == 'path'
    assert OPTIONS['status']['choices'] == list(STATUSES)
    assert OPTIONS['priority']['choices'] == list(PRIORITIES)
    assert OPTIONS['type']['choices'] == list(TYPES)


def test_the_examples_are_rulebooks_using_documented_arguments_only():
    rulebooks = yaml.safe_load(ticket_events.EXAMPLES)

    used = [source['upsun.support.ticket_events'] for rulebook in rulebooks for source in rulebook['sources']]
    assert used
    for args in used:
        assert set(args) <= set(OPTIONS)
        ticket_events.parse_arguments(dict(args, api_token='x'), environ={})


# --- the EDA credential type ------------------------------------------------------------------------------------------


def test_the_credential_type_injects_the_token_where_the_source_reads_it():
    from jinja2 import Environment

    with open(CREDENTIAL_TYPE) as handle:
        credential_type = yaml.safe_load(handle)
    fields = dict((field['id'], field) for field in credential_type['inputs']['fields'])
    assert fields['api_token']['secret'] is True
    assert credential_type['inputs']['required'] == ['api_token']
    env = credential_type['injectors']['env']
    assert set(credential_type['injectors']) == {'env'}

    inputs = {'api_token': 'from-the-credential'}
    environ = dict((name, Environment().from_string(template).render(inputs)) for name, template in env.items())
    options = ticket_events.parse_arguments({}, environ=environ)

    assert options.settings.api_token == 'from-the-credential'
    assert options.settings.origins['api_token'] == 'env: UPSUN_CLI_TOKEN'
    # Empty URL fields give Upsun's URLs, which the modules (run by run_playbook) accept too.
    assert environ['UPSUN_CLI_API_URL'] == 'https://api.upsun.com'
    assert environ['UPSUN_CLI_AUTH_URL'] == 'https://auth.upsun.com'
    for name in env:
        assert any(name in setting.env for setting in CONNECTION_SETTINGS), name
