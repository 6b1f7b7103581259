# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Support's answers: a ``commented`` event for each new public comment, once, under lag, across restarts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json

import pytest

from ansible_collections.upsun.support.extensions.eda.plugins.event_source import ticket_events
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_comments import CommentWatch
from ansible_collections.upsun.support.tests.unit.extensions.eda.plugins.event_source.source_helpers import (
    LATER,
    poll,
    seed_days,
    stop,
    warnings_of,
    watching_seeded,
)

# A member of Upsun's support staff: not the requester of the sandbox's tickets (its SANDBOX_USER_ID).
SUPPORT = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d'


def old_ticket(sandbox, **fields):
    """A ticket last updated long ago: a comment moves its ``updated`` (the API's times are whole seconds)."""
    return sandbox.add_ticket(created='2026-01-01T00:00:00Z', updated='2026-01-01T00:00:00Z', **fields)


def commented(events):
    return [event for event in events if event['change'] == 'commented']


def bodies(events):
    return [event['comment']['body'] for event in commented(events)]


def comment_reads(sandbox):
    """The ticket ids whose conversation was asked for, in order."""
    return [int(entry['path'].rsplit('/', 1)[1]) for entry in sandbox.journal(method='GET')
            if entry['path'].startswith('/comments/')]


def test_support_answering_is_one_commented_event_with_the_ticket_and_the_comment(sandbox, make_source):
    ticket = old_ticket(sandbox, subject='deploy failed')
    source = make_source()
    poll(source)

    answer = sandbox.add_comment(ticket['ticket_id'], 'Please send the logs.', author_id=SUPPORT)
    events = poll(source)

    assert [event['change'] for event in events] == ['updated', 'commented']
    event = events[1]
    assert event['comment'] == dict(answer, by_requester=False)
    assert set(event['comment']) >= {'comment_id', 'ticket_id', 'created_at', 'body', 'author_id', 'public',
                                     'attachments', 'by_requester'}
    assert event['ticket']['ticket_id'] == ticket['ticket_id']
    assert event['ticket']['updated'] == events[0]['ticket']['updated']
    assert event['previous'] is None and event['filed_by'] is None
    assert poll(source) + poll(source) == []


def test_the_free_text_of_an_event_is_also_given_base64_encoded_to_be_printed_as_written(sandbox, make_source):
    # A playbook that prints ticket.subject or comment.body would render the templates in them.
    subject = "deploy {{ 6 * 7 }} failed, caf\u00e9"
    body = "Run {{ lookup('pipe', 'id') }} please.\nThanks"
    ticket = old_ticket(sandbox, subject=subject)
    source = make_source()
    poll(source)

    sandbox.add_comment(ticket['ticket_id'], body, author_id=SUPPORT)
    updated, commented = poll(source)

    decoded = dict((name, base64.b64decode(value).decode('utf-8')) for name, value in commented['text_base64'].items())
    assert decoded == dict(subject=subject, body=body)
    assert base64.b64decode(updated['text_base64']['subject']).decode('utf-8') == subject
    assert set(updated['text_base64']) == {'subject'}


def test_a_comment_of_the_requester_says_by_requester(sandbox, make_source):
    ticket = old_ticket(sandbox)
    source = make_source()
    poll(source)

    sandbox.add_comment(ticket['ticket_id'], 'It failed again.', author_id=ticket['requester_id'].upper())

    assert [event['comment']['by_requester'] for event in commented(poll(source))] == [True]


def test_private_comments_the_description_and_comments_before_the_start_are_no_events(sandbox, make_source):
    old = old_ticket(sandbox, description='The description.')
    sandbox.add_comment(old['ticket_id'], 'Answered before the source started.', author_id=SUPPORT,
                        created_at='2026-01-02T00:00:00Z')
    sandbox.set_ticket(old['ticket_id'], updated='2026-01-02T00:00:00Z')
    source = make_source()
    assert poll(source) == []

    sandbox.add_comment(old['ticket_id'], 'An internal note.', author_id=SUPPORT, public=False)
    new = sandbox.add_ticket(description='Filed after the start.')
    events = poll(source)

    assert sorted(event['change'] for event in events) == ['created', 'updated']
    assert commented(poll(source)) == []
    sandbox.add_comment(new['ticket_id'], 'Looking into it.', author_id=SUPPORT)
    assert bodies(poll(source)) == ['Looking into it.']


def test_each_comment_is_emitted_once_also_a_second_one_in_the_same_second(sandbox, make_source):
    ticket = old_ticket(sandbox)
    source = make_source()
    poll(source)

    # The ticket's updated set to one second (in the future: every read comes within it) after each comment.
    sandbox.add_comment(ticket['ticket_id'], 'first', author_id=SUPPORT)
    sandbox.set_ticket(ticket['ticket_id'], updated=LATER)
    assert bodies(poll(source)) == ['first']
    sandbox.add_comment(ticket['ticket_id'], 'second', author_id=SUPPORT)
    sandbox.set_ticket(ticket['ticket_id'], updated=LATER)

    events = [poll(source) for dummy in range(3)]

    # The listing shows the same ticket as before: no updated event, but the comment is heard, once.
    assert [bodies(found) for found in events] == [['second'], [], []]
    assert [event['change'] for found in events for event in found] == ['commented']


@pytest.mark.parametrize('lag', [0, 120])
@pytest.mark.parametrize('meaning', ['at-or-after', 'exactly', 'same-day'])
def test_each_answer_is_one_event_whatever_the_date_filter_means_and_the_listings_lag(sandbox, make_source,
                                                                                      meaning, lag):
    seeded, source = watching_seeded(sandbox, make_source, meaning, lag)

    for round_number in range(3):
        ticket_id = seeded[round_number]['ticket_id']
        sandbox.add_comment(ticket_id, 'answer {0}'.format(round_number), author_id=SUPPORT)
        if lag:
            # The listing does not show the ticket's new updated yet: its comments are not read yet either.
            assert poll(source) == []
            sandbox.catch_up()
        events = poll(source)

        assert [(event['ticket']['ticket_id'], event['change']) for event in events] == [
            (ticket_id, 'updated'), (ticket_id, 'commented')]
        assert bodies(events) == ['answer {0}'.format(round_number)]
        assert commented(poll(source) + poll(source)) == []
    assert source.watch.narrowing is (meaning == 'at-or-after')


def test_conversations_are_read_only_for_tickets_whose_updated_moved(sandbox, make_source):
    tickets = [old_ticket(sandbox, subject='ticket {0}'.format(number)) for number in range(4)]
    source = make_source(include_existing=True)
    poll(source)
    assert comment_reads(sandbox) == []

    sandbox.add_comment(tickets[1]['ticket_id'], 'answer', author_id=SUPPORT)
    sandbox.set_ticket(tickets[1]['ticket_id'], updated='2020-01-01T00:00:00Z')
    sandbox.add_comment(tickets[2]['ticket_id'], 'answer', author_id=SUPPORT)
    poll(source)
    poll(source)

    # ticket 1 went back in time (an index lagging behind, to the source): not read; ticket 2 read once, as its
    # read came after the second of its updated (or once more when it came within it).
    reads = comment_reads(sandbox)
    assert set(reads) == {tickets[2]['ticket_id']} and len(reads) in (1, 2)


def test_the_comments_argument_false_reads_no_comment(sandbox, make_source):
    ticket = old_ticket(sandbox)
    source = make_source(comments=False)
    poll(source)

    sandbox.add_comment(ticket['ticket_id'], 'answer', author_id=SUPPORT)

    assert [event['change'] for event in poll(source)] == ['updated']
    assert comment_reads(sandbox) == []


@pytest.mark.parametrize('value', ['maybe', 2, [True]])
def test_a_comments_argument_that_is_not_a_boolean_is_refused_naming_it(value):
    with pytest.raises(InputError) as info:
        ticket_events.parse_arguments({'api_token': 'x', 'comments': value}, environ={})

    assert info.value.msg == 'upsun.support.ticket_events: comments must be true or false, got {0!r}.'.format(value)


@pytest.mark.parametrize('mode', ['refuse-404', 'refuse-403', 'refuse-405'])
def test_refused_comment_endpoints_are_one_warning_and_the_other_events_keep_coming(
        sandbox, make_source, caplog, mode):
    sandbox.set_comments(mode)
    ticket = old_ticket(sandbox)
    source = make_source()
    poll(source)

    changes = []
    for status in ('open', 'pending', 'hold'):
        sandbox.set_ticket(ticket['ticket_id'], status=status)
        changes.append([(event['change'], event['ticket']['status']) for event in poll(source)])

    assert changes == [[('updated', 'open')], [('updated', 'pending')], [('updated', 'hold')]]
    warnings = warnings_of(caplog)
    assert len(warnings) == 1, warnings
    assert 'refused GET /comments/{0} (HTTP {1}'.format(ticket['ticket_id'], mode[-3:]) in warnings[0]
    assert 'goes on without commented events until it is restarted' in warnings[0]
    assert len(comment_reads(sandbox)) == 1


def test_a_failed_read_is_a_warning_and_the_comment_comes_at_the_next_poll(sandbox, make_source, caplog):
    ticket = old_ticket(sandbox)
    source = make_source(interval=5)
    poll(source)
    sandbox.add_comment(ticket['ticket_id'], 'answer', author_id=SUPPORT)
    sandbox.fault('/comments/{0}'.format(ticket['ticket_id']), method='GET', status=503)

    assert [event['change'] for event in poll(source)] == ['updated']
    assert bodies(poll(source)) == ['answer']
    assert commented(poll(source)) == []
    warnings = warnings_of(caplog)
    assert len(warnings) == 1
    assert 'reading the comments of ticket {0} failed'.format(ticket['ticket_id']) in warnings[0]
    assert 'HTTP 503' in warnings[0] and 'Trying again in 5 s' in warnings[0]


@pytest.mark.parametrize('lag', [0, 120])
def test_a_comment_made_while_stopped_is_emitted_after_a_restart_once(sandbox, make_source, tmp_path, lag):
    sandbox.set_listing(lag=lag)
    state_file = str(tmp_path / 'events.json')
    seeded = seed_days(sandbox, 2)
    sandbox.catch_up()
    source = make_source(state_file=state_file)
    poll(source)
    sandbox.add_comment(seeded[0]['ticket_id'], 'before the stop', author_id=SUPPORT)
    sandbox.catch_up()
    assert bodies(poll(source)) == ['before the stop']
    stop(source)

    # While it is stopped: support answers both tickets.
    for ticket in seeded:
        sandbox.add_comment(ticket['ticket_id'], 'while stopped', author_id=SUPPORT)
    restarted = make_source(state_file=state_file)
    events = poll(restarted)
    if lag:
        # the listing shows the tickets' new updated time only now (a read left due before the stop may come first)
        sandbox.catch_up()
        events += poll(restarted)

    assert sorted((event['ticket']['ticket_id'], event['comment']['body']) for event in commented(events)) == [
        (seeded[0]['ticket_id'], 'while stopped'), (seeded[1]['ticket_id'], 'while stopped')]
    assert commented(poll(restarted)) == []
    stop(restarted)
    third = make_source(state_file=state_file)
    assert commented(poll(third) + poll(third)) == []
    stop(third)


def test_a_read_due_when_the_source_stops_is_made_after_the_restart(sandbox, make_source, tmp_path):
    state_file = str(tmp_path / 'events.json')
    ticket = old_ticket(sandbox)
    source = make_source(state_file=state_file)
    poll(source)
    sandbox.add_comment(ticket['ticket_id'], 'answer', author_id=SUPPORT)
    sandbox.fault('/comments/{0}'.format(ticket['ticket_id']), method='GET', status=502)
    assert commented(poll(source)) == []
    stop(source)

    restarted = make_source(state_file=state_file)

    assert bodies(poll(restarted)) == ['answer']


def test_turning_comments_off_and_on_again_repeats_no_comment(sandbox, make_source, tmp_path):
    state_file = tmp_path / 'events.json'
    ticket = old_ticket(sandbox)
    source = make_source(state_file=str(state_file))
    poll(source)
    sandbox.add_comment(ticket['ticket_id'], 'heard', author_id=SUPPORT)
    assert bodies(poll(source)) == ['heard']
    stop(source)
    off = make_source(state_file=str(state_file), comments=False)
    poll(off)
    stop(off)

    sandbox.set_ticket(ticket['ticket_id'], status='open')
    on = make_source(state_file=str(state_file))

    assert commented(poll(on)) == []
    assert json.loads(state_file.read_text())['comments']['emitted'] == [
        [ticket['ticket_id'], sandbox.comments(ticket['ticket_id'])[-1]['comment_id']]]


@pytest.mark.parametrize('comments', [{'due': 'all', 'emitted': []}, {'due': [], 'emitted': [[1]]},
                                      {'due': [True], 'emitted': []}, []])
def test_a_state_file_with_comments_not_of_this_source_stops_it(sandbox, tmp_path, comments):
    state_file = tmp_path / 'events.json'
    state_file.write_text(json.dumps({'format': 1, 'started': '2030-01-01T00:00:00Z', 'tickets': [],
                                      'watched': {'filters': {}, 'search': None}, 'comments': comments}))

    with pytest.raises(InputError) as info:
        ticket_events.TicketSource(ticket_events.parse_arguments(dict(
            api_token='x', api_url=sandbox.url, state_file=str(state_file)), environ={}))

    assert info.value.msg == 'upsun.support.ticket_events: state_file {0}: its comments are not those of this ' \
        'source.'.format(state_file)


class ScriptedClient:
    """A stand-in for the API client that answers GET /comments/{id} with one page of given comments (or body)."""

    page_limit = 5

    def __init__(self, comments, body=None):
        self.body = body if body is not None else {'comments': comments, 'count': len(comments)}

    def request(self, method, path, params=None, body=None):  # pylint: disable=unused-argument
        return 200, self.body

    def warn(self, message):
        raise AssertionError(message)


def test_hostile_comments_are_skipped_not_fatal():
    started = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    ticket = {'ticket_id': 7, 'requester_id': SUPPORT, 'created': '2029-01-01T00:00:00Z',
              'updated': '2030-01-02T00:00:00Z'}
    good = {'comment_id': 11, 'created_at': '2030-01-01T00:00:05Z', 'body': 'ok', 'public': True}
    client = ScriptedClient([
        good,
        {'comment_id': 12, 'created_at': 'yesterday', 'public': True},
        {'comment_id': None, 'created_at': '2030-01-01T00:00:06Z', 'public': True},
        {'comment_id': 13, 'created_at': '2030-01-01T00:00:07Z', 'public': 'yes'},
        {'comment_id': 14, 'created_at': '2029-12-31T23:59:59Z', 'public': True},
        'not a comment',
        {'comment_id': 1, 'created_at': '2029-01-01T00:00:00Z', 'body': 'the description', 'public': True},
    ])
    watch = CommentWatch()
    watch.note([{'ticket': ticket, 'change': 'updated', 'previous': {'updated': '2030-01-01T00:00:00Z'}}], [], started)

    events = watch.read(client, {7: ticket}, started, 60)

    assert [event['comment'] for event in events] == [dict(good, by_requester=False)]
    assert watch.read(client, {7: ticket}, started, 60) == []


def test_a_read_within_the_second_of_the_tickets_updated_is_made_again_at_the_next_poll():
    started = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    # not yet over when the read is made: a comment may still come in that second
    within = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
    known = {1: {'ticket_id': 1, 'created': '2026-01-01T00:00:00Z', 'updated': within},
             2: {'ticket_id': 2, 'created': '2026-01-01T00:00:00Z', 'updated': '2026-01-02T00:00:00Z'}}
    watch = CommentWatch()
    watch.due.update([1, 2, 3])

    assert watch.read(ScriptedClient([]), known, started, 60) == []
    # the ticket the watch no longer knows (3) is dropped too
    assert watch.due == {1}


@pytest.mark.parametrize('body', [
    {'comments': 5}, {'comments': {'a': 1}}, 'not an object', [],
    {'comments': [{'comment_id': 1, 'created_at': '2026-01-01T00:00:00Z'},
                  {'comment_id': 2, 'created_at': '2030-01-01T00:00:09Z', 'public': True}], 'count': 9,
     '_links': {'next': {'href': 5}}},
    {'comments': [{'comment_id': 1, 'created_at': '2026-01-01T00:00:00Z'}], 'count': 9, '_links': 'next'},
    {'comments': [{'comment_id': 1, 'created_at': '2026-01-01T00:00:00Z'}], 'count': 9, '_links': {'next': []}},
], ids=['number', 'mapping', 'text', 'list', 'href-number', 'links-text', 'next-list'])
def test_a_conversation_of_another_shape_is_no_crash(body):
    started = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    ticket = {'ticket_id': 7, 'created': '2026-01-01T00:00:00Z', 'updated': '2030-01-01T00:00:09Z'}
    watch = CommentWatch()
    watch.due.add(7)

    events = watch.read(ScriptedClient(None, body=body), {7: ticket}, started, 60)

    assert [event['comment']['comment_id'] for event in events] == ([2] if 'href' in str(body) else [])
