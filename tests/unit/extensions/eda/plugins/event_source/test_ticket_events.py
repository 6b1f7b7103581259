# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The upsun.support.ticket_events event source, polling the offline sandbox, with a stand-in for its queue.

Most tests drive the source one poll at a time (``TicketSource.poll``), so that
the sandbox can be changed between two polls without any sleep; the tests of
``main`` run it as ansible-rulebook does, as a task putting events on a queue.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import logging
import os
import time

import pytest
import yaml

from ansible_collections.upsun.support.extensions.eda.plugins.event_source import ticket_events
from ansible_collections.upsun.support.plugins.module_utils.constants import PRIORITIES, STATUSES, TYPES
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference, with_footer
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_SETTINGS

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 6)))
CREDENTIAL_TYPE = os.path.join(REPO, 'extensions', 'eda', 'credential_types', 'upsun_api_token.yml')
LATER = '2030-01-01T00:00:00Z'
REQUESTER = '3c90c3cc-0d44-4b50-8888-8dd25736052a'


class QueueStandIn:
    """What ansible-rulebook's queue receives: the events, in order."""

    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


def source_args(sandbox, **args):
    """The source's arguments pointing at ``sandbox``, without retries unless a test asks for them."""
    arguments = dict(api_token=sandbox.api_token, api_url=sandbox.url, auth_url=sandbox.url, retries=0, timeout=5)
    arguments.update(args)
    return dict((name, value) for name, value in arguments.items() if value is not None)


@pytest.fixture
def make_source(sandbox):
    """Factory: a ``TicketSource`` on the sandbox; closed after the test."""
    sources = []

    def make(**args):
        source = ticket_events.TicketSource(ticket_events.parse_arguments(source_args(sandbox, **args)))
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.client.close()


def poll(source):
    return asyncio.run(source.poll())


def run_main(queue, args, timeout=20):
    """``main`` as ansible-rulebook runs it; a source that never stops fails the test after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(ticket_events.main(queue, args), timeout))


def ticket_polls(sandbox):
    return sandbox.journal(method='GET', path='/tickets')


@pytest.fixture(autouse=True)
def no_secret_in_output(caplog, sandbox_api_token):
    """No log record of any test shows the API token or an Authorization header."""
    caplog.set_level(logging.DEBUG)
    yield
    assert sandbox_api_token not in caplog.text
    assert 'Bearer' not in caplog.text


def warnings_of(caplog):
    return [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and record.name == ticket_events.SOURCE_NAME]


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
    assert options.lookback == ticket_events.DEFAULT_LOOKBACK == 900
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
    assert set(OPTIONS) == set(ticket_events.ARGUMENT_NAMES)
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
    assert OPTIONS['interval']['default'] == ticket_events.DEFAULT_INTERVAL
    assert OPTIONS['include_existing']['default'] is False
    assert OPTIONS['lookback']['default'] == ticket_events.DEFAULT_LOOKBACK
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


# --- events -----------------------------------------------------------------------------------------------------------


def test_tickets_that_exist_at_start_are_not_events(sandbox, make_source):
    sandbox.add_ticket(subject='old one')
    sandbox.add_ticket(subject='old two')
    source = make_source()

    assert poll(source) == []
    new = sandbox.add_ticket(subject='new one')
    events = poll(source)

    assert [(event['ticket']['ticket_id'], event['change']) for event in events] == [(new['ticket_id'], 'created')]
    assert events[0]['previous'] is None
    assert events[0]['ticket']['subject'] == 'new one'


def test_include_existing_puts_each_existing_ticket_on_the_queue_once(sandbox, make_source):
    # more than the sandbox's 5 tickets a page
    existing = [sandbox.add_ticket(subject='ticket {0}'.format(number))['ticket_id'] for number in range(7)]
    source = make_source(include_existing=True)

    events = poll(source)

    assert sorted(event['ticket']['ticket_id'] for event in events) == existing
    assert set(event['change'] for event in events) == {'created'}
    assert set(str(event['previous']) for event in events) == {'None'}
    assert poll(source) == []


def test_a_change_is_an_updated_event_with_the_earlier_values(sandbox, make_source):
    ticket = sandbox.add_ticket(subject='deploy failed')
    source = make_source()
    poll(source)

    sandbox.set_ticket(ticket['ticket_id'], status='pending', updated=LATER)
    events = poll(source)

    assert len(events) == 1
    assert events[0]['change'] == 'updated'
    assert events[0]['ticket']['status'] == 'pending'
    assert events[0]['ticket']['updated'] == LATER
    assert events[0]['previous'] == {'status': 'new', 'updated': ticket['updated']}


def test_a_change_is_never_put_on_the_queue_twice(sandbox, make_source):
    ticket = sandbox.add_ticket()
    source = make_source()
    poll(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open')

    events = [poll(source) for dummy in range(4)]

    assert [len(found) for found in events] == [1, 0, 0, 0]


def seed_days(sandbox, count=3):
    """``count`` tickets last updated on different days in the past: a listing that can tell the date filters apart."""
    times = ['2026-03-0{0}T10:00:00Z'.format(day) for day in range(1, count + 1)]
    return [sandbox.add_ticket(subject='seeded {0}'.format(when), created=when, updated=when) for when in times]


def updated_asked(sandbox):
    """The filter[updated] of each GET /tickets page 1, None where there was none."""
    found = []
    for entry in ticket_polls(sandbox):
        query = dict((name, value[0] if isinstance(value, list) else value) for name, value in entry['query'].items())
        if query.get('page', '1') == '1':
            found.append(query.get('filter[updated]'))
    return found


def test_polls_narrow_from_lookback_before_the_newest_seen_once_a_full_listing_shows_the_filter_means_at_or_after(
        sandbox, make_source, caplog):
    seeded = seed_days(sandbox)
    source = make_source(lookback=60)

    poll(source)
    assert source.watch.narrowing is True
    sandbox.set_ticket(seeded[0]['ticket_id'], status='open', updated=LATER)
    assert len(poll(source)) == 1
    poll(source)

    # The full listing, the check of the filter with the second newest time, then narrowed polls.
    assert updated_asked(sandbox) == [None, '2026-03-02T10:00:00Z', '2026-03-03T09:59:00Z', '2029-12-31T23:59:00Z']
    assert 'keeps the tickets updated at or after' in caplog.text


@pytest.mark.parametrize('meaning', ['exactly', 'same-day'])
def test_a_filter_that_does_not_mean_at_or_after_is_never_used_to_narrow(sandbox, make_source, caplog, meaning):
    sandbox.set_listing(date_filter=meaning)
    seed_days(sandbox)
    source = make_source()

    poll(source)
    poll(source)
    poll(source)

    assert source.watch.narrowing is False
    assert updated_asked(sandbox) == [None, '2026-03-02T10:00:00Z', None, None]
    assert warnings_of(caplog) == ['upsun.support.ticket_events: filter[updated] does not keep the tickets updated at '
                                   'or after the time given: each poll reads the whole listing.']


def test_without_tickets_that_tell_the_meanings_apart_every_poll_reads_the_whole_listing(sandbox, make_source):
    ticket = sandbox.add_ticket()
    source = make_source()
    poll(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)
    poll(source)

    assert source.watch.narrowing is None
    assert updated_asked(sandbox) == [None, None]


@pytest.mark.parametrize('lag', [0, 120])
@pytest.mark.parametrize('meaning', ['at-or-after', 'exactly', 'same-day'])
def test_each_change_is_one_event_whatever_the_date_filter_means_and_the_listings_lag(sandbox, make_source,
                                                                                      meaning, lag):
    sandbox.set_listing(date_filter=meaning, lag=lag)
    seeded = seed_days(sandbox)
    sandbox.catch_up()
    source = make_source()
    assert poll(source) == []

    for round_number in range(3):
        sandbox.set_ticket(seeded[round_number]['ticket_id'], status='pending')
        created = sandbox.add_ticket(subject='new in round {0}'.format(round_number))
        if lag:
            # Not in the listings yet: no event, and nothing forgotten either.
            assert poll(source) == []
            sandbox.catch_up()
        events = poll(source)

        assert sorted((event['ticket']['ticket_id'], event['change'], event['previous'] and event['previous'].get(
            'status')) for event in events) == [(seeded[round_number]['ticket_id'], 'updated', 'new'),
                                                (created['ticket_id'], 'created', None)]
        assert poll(source) == []
    assert source.watch.narrowing is (meaning == 'at-or-after')


def test_a_change_the_index_shows_after_newer_ones_is_found_within_the_lookback(sandbox, make_source):
    seeded = seed_days(sandbox)
    source = make_source(lookback=600)
    poll(source)
    assert source.watch.narrowing is True

    # The index shows the change of 00:00 only after the change of 00:05 (Zendesk's index is not first in, first out).
    sandbox.set_listing(lag=120)
    sandbox.set_ticket(seeded[0]['ticket_id'], status='open', updated='2030-01-01T00:00:00Z')
    sandbox.set_listing(lag=0)
    sandbox.set_ticket(seeded[1]['ticket_id'], status='open', updated='2030-01-01T00:05:00Z')
    assert [event['ticket']['ticket_id'] for event in poll(source)] == [seeded[1]['ticket_id']]
    sandbox.catch_up()

    assert [event['ticket']['ticket_id'] for event in poll(source)] == [seeded[0]['ticket_id']]
    assert updated_asked(sandbox)[-1] == '2029-12-31T23:55:00Z'
    assert poll(source) == []


def test_a_lagging_listing_showing_an_older_version_is_no_event():
    """Two listings of one poll (or two polls) may come from index copies at different points: older is not news."""
    watch = ticket_events.TicketWatch()
    first = {'ticket_id': 7, 'status': 'new', 'created': '2030-01-01T00:00:00Z', 'updated': '2030-01-01T00:00:00Z'}
    second = dict(first, status='open', updated='2030-01-01T00:01:00Z')
    watch.observe([first], now=ticket_events._parse_time('2029-12-31T00:00:00Z'))  # pylint: disable=protected-access

    assert [event['previous'] for event in watch.observe([second])] == [{'status': 'new', 'updated': first['updated']}]
    assert watch.observe([first, second]) == []
    assert watch.observe([first]) == []
    assert watch.known[7] == second


def test_the_first_poll_keeps_the_newest_version_it_sees():
    watch = ticket_events.TicketWatch(include_existing=True)
    older = {'ticket_id': 7, 'status': 'new', 'updated': '2030-01-01T00:00:00Z'}
    newer = dict(older, status='open', updated='2030-01-01T00:01:00Z')

    events = watch.observe([newer, older])

    assert [event['ticket'] for event in events] == [newer]
    assert watch.observe([older, newer]) == []


def test_a_change_made_before_the_start_that_the_index_shows_late_is_no_event(sandbox, make_source):
    sandbox.set_listing(lag=120)
    seeded = seed_days(sandbox)
    sandbox.catch_up()
    sandbox.set_ticket(seeded[0]['ticket_id'], status='open')
    late = sandbox.add_ticket(subject='filed just before the start')
    # The source starts a second later than the changes.
    time.sleep(1.1)
    source = make_source()
    poll(source)
    sandbox.catch_up()

    assert poll(source) == []
    assert source.watch.known[late['ticket_id']]['subject'] == 'filed just before the start'
    sandbox.set_ticket(late['ticket_id'], status='pending')
    sandbox.catch_up()
    assert [(event['ticket']['ticket_id'], event['previous']) for event in poll(source)] == [
        (late['ticket_id'], {'status': 'new', 'updated': late['updated']})]


def test_changes_in_the_same_second_are_each_reported_once(sandbox, make_source):
    first = sandbox.add_ticket(subject='first')
    second = sandbox.add_ticket(subject='second')
    source = make_source()
    poll(source)

    sandbox.set_ticket(first['ticket_id'], status='open', updated=LATER)
    assert [event['ticket']['ticket_id'] for event in poll(source)] == [first['ticket_id']]

    # Later in the same second: the next poll gets both tickets back (at or after LATER).
    sandbox.set_ticket(second['ticket_id'], status='pending', updated=LATER)
    events = poll(source)
    assert [event['ticket']['ticket_id'] for event in events] == [second['ticket_id']]

    # The first ticket changes again within that second: only what changed is in previous.
    sandbox.set_ticket(first['ticket_id'], status='hold', updated=LATER)
    events = poll(source)
    assert [(event['ticket']['ticket_id'], event['previous']) for event in events] == [
        (first['ticket_id'], {'status': 'open'})]

    assert poll(source) == []


def test_an_update_of_updated_alone_is_an_event(sandbox, make_source):
    """Support answering (a comment) changes only the time: that is news too."""
    ticket = sandbox.add_ticket()
    source = make_source()
    poll(source)

    sandbox.set_ticket(ticket['ticket_id'], updated=LATER)
    events = poll(source)

    assert [event['previous'] for event in events] == [{'updated': ticket['updated']}]


def test_events_come_oldest_change_first(sandbox, make_source):
    first = sandbox.add_ticket()
    second = sandbox.add_ticket()
    source = make_source()
    poll(source)

    sandbox.set_ticket(second['ticket_id'], status='open', updated='2030-01-01T00:00:01Z')
    sandbox.set_ticket(first['ticket_id'], status='open', updated='2030-01-01T00:00:02Z')

    assert [event['ticket']['ticket_id'] for event in poll(source)] == [second['ticket_id'], first['ticket_id']]


def test_filed_by_is_what_the_footer_says(sandbox, make_source):
    source = make_source()
    poll(source)
    ours = sandbox.add_ticket(description=with_footer(
        'The deploy failed.', source='role', dedupe=dedupe_reference('key'), recovery=recovery_reference('deploy')))
    theirs = sandbox.add_ticket(description='Written by hand in the console.')

    events = dict((event['ticket']['ticket_id'], event) for event in poll(source))

    assert events[ours['ticket_id']]['filed_by'] == {
        'source': 'role', 'dedupe_reference': dedupe_reference('key'), 'recovery_reference': recovery_reference('deploy')}
    assert events[theirs['ticket_id']]['filed_by'] is None


def test_the_filters_narrow_every_poll(sandbox, make_source):
    source = make_source(status='pending', priority='high', type='incident', requester_id=REQUESTER, search='deploy')
    poll(source)
    poll(source)

    for entry in ticket_polls(sandbox):
        query = dict((name, value[0] if isinstance(value, list) else value) for name, value in entry['query'].items())
        assert query['filter[status]'] == 'pending'
        assert query['filter[priority]'] == 'high'
        assert query['filter[type]'] == 'incident'
        assert query['filter[requester_id]'] == REQUESTER
        assert query['search'] == 'deploy'


def test_a_ticket_that_comes_to_match_a_filter_is_updated_with_unknown_earlier_values(sandbox, make_source):
    old = sandbox.add_ticket(created='2026-01-01T00:00:00Z', updated='2026-01-01T00:00:00Z')
    source = make_source(status='pending')
    poll(source)

    sandbox.set_ticket(old['ticket_id'], status='pending')
    new = sandbox.add_ticket(status='pending')
    events = dict((event['ticket']['ticket_id'], event) for event in poll(source))

    assert (events[old['ticket_id']]['change'], events[old['ticket_id']]['previous']) == ('updated', {})
    assert (events[new['ticket_id']]['change'], events[new['ticket_id']]['previous']) == ('created', None)


# --- state file -------------------------------------------------------------------------------------------------------


def stop(source):
    """What ``run`` does after each poll, then the end of the source."""
    source.save()
    source.client.close()


@pytest.mark.parametrize('lag', [0, 120])
def test_a_restart_with_a_state_file_emits_what_changed_while_stopped_once(sandbox, make_source, tmp_path, lag):
    sandbox.set_listing(lag=lag)
    state_file = tmp_path / 'events.json'
    seeded = seed_days(sandbox)
    sandbox.catch_up()
    source = make_source(state_file=str(state_file))
    poll(source)
    sandbox.set_ticket(seeded[0]['ticket_id'], status='open')
    sandbox.catch_up()
    assert len(poll(source)) == 1
    stop(source)

    # While it is stopped: a change, a new ticket.
    sandbox.set_ticket(seeded[1]['ticket_id'], status='pending')
    created = sandbox.add_ticket(subject='filed while the source was stopped')
    restarted = make_source(state_file=str(state_file))
    if lag:
        assert poll(restarted) == []
        sandbox.catch_up()
    events = poll(restarted)

    assert [(event['ticket']['ticket_id'], event['change'], event['previous']) for event in events] == [
        (seeded[1]['ticket_id'], 'updated', {'status': 'new', 'updated': seeded[1]['updated']}),
        (created['ticket_id'], 'created', None)]
    assert poll(restarted) == []
    stop(restarted)
    # A third start: nothing again.
    third = make_source(state_file=str(state_file))
    assert poll(third) == []
    stop(third)


def test_the_state_file_is_private_holds_no_token_and_is_replaced_atomically(
        sandbox, make_source, tmp_path, sandbox_api_token):
    (tmp_path / 'state').mkdir()
    state_file = tmp_path / 'state' / 'events.json'
    sandbox.add_ticket(subject='one')
    source = make_source(state_file=str(state_file))
    poll(source)
    stop(source)
    first_inode = state_file.stat().st_ino
    source = make_source(state_file=str(state_file))
    poll(source)
    stop(source)

    assert oct(state_file.stat().st_mode & 0o777) == '0o600'
    assert state_file.stat().st_ino != first_inode
    text = state_file.read_text()
    assert sandbox_api_token not in text and 'access_token' not in text
    state = json.loads(text)
    assert sorted(state) == ['format', 'started', 'tickets', 'watched']
    assert [ticket['subject'] for ticket in state['tickets']] == ['one']
    assert os.listdir(str(tmp_path / 'state')) == ['events.json']


def test_without_a_state_file_the_source_has_written_nothing_and_starts_afresh(sandbox, make_source, tmp_path):
    ticket = sandbox.add_ticket()
    source = make_source()
    poll(source)
    stop(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open')

    assert poll(make_source()) == []


@pytest.mark.parametrize('content, message', [
    ('not json', 'cannot be read'),
    ('[]', 'it is not a state file of this source'),
    ('{"format": 1, "started": "2030-01-01T00:00:00Z", "tickets": [], "watched": {"filters": {"status": "open"}, '
     '"search": null}}', 'it was written for other filters ({"filters": {"status": "open"}, "search": null})'),
    ('{"format": 99, "started": "2030-01-01T00:00:00Z", "tickets": [], "watched": {"filters": {}, "search": null}}',
     'it is not a state file of this source (format 1)'),
    ('{"format": 1, "started": "never", "tickets": [], "watched": {"filters": {}, "search": null}}',
     'it is not a state file of this source'),
    ('{"format": 1, "started": "2030-01-01T00:00:00Z", "tickets": [{"subject": "no id"}], '
     '"watched": {"filters": {}, "search": null}}', 'it is not a state file of this source'),
])
def test_a_state_file_that_is_not_one_of_this_source_stops_main_before_any_request(sandbox, tmp_path, content,
                                                                                   message):
    state_file = tmp_path / 'events.json'
    state_file.write_text(content)

    with pytest.raises(InputError) as info:
        run_main(QueueStandIn(), source_args(sandbox, state_file=str(state_file)))

    assert info.value.msg.startswith('upsun.support.ticket_events: state_file {0}'.format(state_file))
    assert message in info.value.msg
    assert sandbox.journal() == []
    assert state_file.read_text() == content


def test_a_state_file_that_cannot_be_written_is_a_warning(sandbox, make_source, tmp_path, caplog):
    directory = tmp_path / 'state'
    directory.mkdir()
    source = make_source(state_file=str(directory / 'events.json'))
    poll(source)
    directory.rmdir()
    source.save()

    assert len(warnings_of(caplog)) == 1
    assert 'cannot write the state_file {0}'.format(directory / 'events.json') in warnings_of(caplog)[0]


# --- faults -----------------------------------------------------------------------------------------------------------


def change_after_fault(sandbox, source, caplog, **fault):
    """Queue ``fault`` for the next poll, change a ticket, and return (events of that poll, of the next)."""
    ticket = sandbox.add_ticket()
    poll(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)
    sandbox.fault('/tickets', method='GET', **fault)
    caplog.clear()
    failed = poll(source)
    # The sandbox answers one request at a time: let it finish a delayed one first.
    time.sleep(fault.get('delay') or 0)
    return failed, poll(source)


def test_a_server_error_is_a_warning_and_the_next_poll_catches_up(sandbox, make_source, caplog):
    failed, recovered = change_after_fault(sandbox, make_source(interval=7), caplog, status=503)

    assert failed == []
    assert [event['previous']['status'] for event in recovered] == ['new']
    warnings = warnings_of(caplog)
    assert len(warnings) == 1
    assert 'the poll failed' in warnings[0] and 'HTTP 503' in warnings[0] and 'Trying again in 7 s' in warnings[0]


def test_a_429_is_retried_after_retry_after_then_a_warning(sandbox, make_source, caplog, retry_sleeps):
    failed, recovered = change_after_fault(sandbox, make_source(retries=1), caplog, status=429, retry_after=3, count=2)

    assert failed == []
    assert len(recovered) == 1
    assert 3 in retry_sleeps
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any('answered HTTP 429; retry 1 of 1' in message for message in messages)
    assert any('the poll failed' in message and 'HTTP 429' in message for message in messages)


def test_a_dropped_connection_is_a_warning(sandbox, make_source, caplog):
    failed, recovered = change_after_fault(sandbox, make_source(), caplog, action='drop')

    assert failed == []
    assert len(recovered) == 1
    assert len(warnings_of(caplog)) == 1


def test_a_stalled_answer_is_a_warning(sandbox, make_source, caplog):
    failed, recovered = change_after_fault(sandbox, make_source(timeout=0.3), caplog, action='delay', delay=1)

    assert failed == []
    assert len(recovered) == 1
    assert 'no answer came back' in warnings_of(caplog)[0]


def test_an_unreachable_api_is_a_warning_even_at_the_first_poll(make_source, caplog, closed_port_url):
    source = make_source(api_url=closed_port_url, auth_url=closed_port_url)

    assert poll(source) == []
    assert poll(source) == []

    warnings = warnings_of(caplog)
    assert len(warnings) == 2 and 'Could not connect' in warnings[0]
    assert source.watch.known is None


def test_the_tickets_of_the_first_poll_that_succeeds_are_the_existing_ones(sandbox, make_source, caplog):
    sandbox.add_ticket()
    sandbox.fault('/tickets', method='GET', status=502)
    source = make_source()

    assert poll(source) == []
    assert poll(source) == []
    created = sandbox.add_ticket()
    assert [event['ticket']['ticket_id'] for event in poll(source)] == [created['ticket_id']]
    assert len(warnings_of(caplog)) == 1


def test_an_expired_access_token_is_exchanged_again_once(sandbox, make_source, caplog):
    ticket = sandbox.add_ticket()
    source = make_source()
    poll(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)
    sandbox.expire_tokens()
    sandbox.clear_journal()

    events = poll(source)

    assert len(events) == 1
    assert [(entry['method'], entry['path'], entry['status']) for entry in sandbox.journal()] == [
        ('GET', '/tickets', 401), ('POST', '/oauth2/token', 200), ('GET', '/tickets', 200)]
    assert warnings_of(caplog) == []


def test_a_refused_token_exchange_after_the_start_is_a_warning(sandbox, make_source, caplog):
    source = make_source()
    poll(source)
    sandbox.expire_tokens()
    sandbox.fault('/oauth2/token', status=401, body={'error': 'invalid_client'})

    assert poll(source) == []
    assert poll(source) == []
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and 'refused' in warnings[0]


def test_the_deadline_bounds_each_poll_not_the_life_of_the_source(sandbox, make_source, caplog, retry_sleeps):
    ticket = sandbox.add_ticket()
    source = make_source(deadline=5)
    poll(source)
    # The client's clock counts the recorded waits as spent: a minute passes.
    retry_sleeps.append(60)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)

    assert len(poll(source)) == 1
    assert warnings_of(caplog) == []


# --- main, as ansible-rulebook runs it --------------------------------------------------------------------------------


async def _wait_for(condition, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise AssertionError('timed out waiting')
        await asyncio.sleep(0.05)


def test_main_puts_each_change_on_the_queue_once_and_keeps_polling(sandbox):
    ticket = sandbox.add_ticket()
    queue = QueueStandIn()

    async def scenario():
        task = asyncio.create_task(ticket_events.main(queue, source_args(sandbox, interval=0.1)))
        await _wait_for(lambda: len(ticket_polls(sandbox)) >= 1)
        await asyncio.to_thread(sandbox.set_ticket, ticket['ticket_id'], status='pending')
        await _wait_for(lambda: queue.events)
        polls = len(ticket_polls(sandbox))
        await _wait_for(lambda: len(ticket_polls(sandbox)) >= polls + 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())

    assert [(event['change'], event['ticket']['status']) for event in queue.events] == [('updated', 'pending')]
    assert set(queue.events[0]) == {'ticket', 'change', 'previous', 'filed_by'}
