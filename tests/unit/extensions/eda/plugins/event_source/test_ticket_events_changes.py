# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The events of ticket changes: created, updated, once each, whatever the date filter means and the listings lag."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference, with_footer
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_watch import TicketWatch, parse_time
from ansible_collections.upsun.support.tests.unit.extensions.eda.plugins.event_source.source_helpers import (
    LATER,
    REQUESTER,
    poll,
    seed_days,
    ticket_polls,
    updated_asked,
    warnings_of,
    watching_seeded,
)


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
    seeded, source = watching_seeded(sandbox, make_source, meaning, lag)

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
    watch = TicketWatch()
    first = {'ticket_id': 7, 'status': 'new', 'created': '2030-01-01T00:00:00Z', 'updated': '2030-01-01T00:00:00Z'}
    second = dict(first, status='open', updated='2030-01-01T00:01:00Z')
    watch.observe([first], now=parse_time('2029-12-31T00:00:00Z'))  # pylint: disable=protected-access

    assert [event['previous'] for event in watch.observe([second])] == [{'status': 'new', 'updated': first['updated']}]
    assert watch.observe([first, second]) == []
    assert watch.observe([first]) == []
    assert watch.known[7] == second


def test_the_first_poll_keeps_the_newest_version_it_sees():
    watch = TicketWatch(include_existing=True)
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
