# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the ``upsun.support.ticket_events`` source knows of the tickets it watches, and the events they make."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime

from ansible_collections.upsun.support.plugins.module_utils.footer import parse_footer
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_arguments import (
    DEFAULT_LOOKBACK,
    LOGGER,
    SOURCE_NAME,
)

TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
STATE_FORMAT = 1
PROBE_CANDIDATES = 20


def parse_time(value):
    """A ``datetime`` (UTC) for one of the API's times, or None when there is none or it cannot be read."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def make_event(ticket, change, previous, comment=None):
    """One event of the source: the ticket, the kind of change, the earlier values, who filed it (and the comment).

    ``text_base64`` carries the free text (the subject, a comment's body) base64-encoded: ansible-core renders
    templates found in the event data a rulebook hands to a playbook, so a playbook that prints the plain text runs
    any ``{{ ... }}`` someone wrote in a ticket; decoded with ``b64decode``, it is printed as written.
    """
    text = dict(subject=_base64(ticket.get('subject')))
    event = dict(ticket=ticket, change=change, previous=previous, filed_by=parse_footer(ticket.get('description')))
    if comment is not None:
        event['comment'] = comment
        text['body'] = _base64(comment.get('body'))
    event['text_base64'] = text
    return event


def _base64(value):
    return base64.b64encode(str(value if value is not None else '').encode('utf-8')).decode('ascii')


class TicketWatch:
    """What the source knows of the tickets it watches, and the events their changes make.

    The API's times are whole seconds, its listings may show a change minutes
    late, and what ``filter[updated]`` means is not documented. So a change is
    told apart from a ticket seen before by comparing the whole ticket with the
    last version seen, never by its time alone; a version older than the one
    seen is the index lagging, not news; and polls narrow with
    ``filter[updated]`` only once a full listing has shown that it keeps the
    tickets updated at or after the time given, and then from ``lookback``
    seconds before the newest time seen.
    """

    def __init__(self, include_existing=False, lookback=DEFAULT_LOOKBACK):
        self.include_existing = include_existing
        self.lookback = datetime.timedelta(seconds=lookback)
        # ticket_id -> the ticket as last seen; None until the first poll that succeeded
        self.known = None
        # the second the source started watching (set at its first poll that succeeded)
        self.started = None
        self.newest_update = None
        # whether filter[updated] means "at or after": None until a full listing has shown it either way
        self.narrowing = None

    def query(self, filters):
        """The filters of the next poll: ``filters`` narrowed to what may have changed, once narrowing is proven."""
        query = dict(filters)
        if self.narrowing and self.newest_update is not None:
            query['updated'] = (self.newest_update - self.lookback).strftime(TIME_FORMAT)
        return query

    def probe(self, tickets):
        """A time whose ``filter[updated]`` listing tells "at or after" from "exactly" and "same day", or None."""
        if self.narrowing is not None:
            return None
        times = sorted(set(_updated_times(tickets).values()), reverse=True)
        # the second newest time nearly always does; a few more at most, so that a poll stays cheap
        for candidate in times[:PROBE_CANDIDATES]:
            meanings = _meanings(tickets, candidate)
            if meanings['at-or-after'] not in (meanings['exactly'], meanings['same-day']):
                return candidate
        return None

    def judge(self, tickets, asked, answer):
        """Decide from the full listing ``tickets`` and the listing ``answer`` for ``filter[updated]=asked``."""
        meanings = _meanings(tickets, asked)
        found = set(_updated_times(answer))
        if found == meanings['at-or-after']:
            self.narrowing = True
            LOGGER.info('%s: filter[updated] keeps the tickets updated at or after the time given: each poll now '
                        'asks from %g s before the newest change seen.', SOURCE_NAME, self.lookback.total_seconds())
        elif found in (meanings['exactly'], meanings['same-day']):
            self.narrowing = False
            LOGGER.warning('%s: filter[updated] does not keep the tickets updated at or after the time given: '
                           'each poll reads the whole listing.', SOURCE_NAME)
        # else the index changed between the two listings: check again at the next poll

    def observe(self, tickets, now=None):
        """Take in the tickets of one poll asked for at ``now``; return the events they make, oldest change first."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if self.known is None:
            return self._first(tickets, now.replace(microsecond=0))
        events = []
        for ticket in self._ordered(tickets):
            event = self._event(ticket, self.known.get(ticket['ticket_id']))
            if event is not None:
                events.append(event)
        return events

    def _event(self, ticket, earlier):
        """The event ``ticket`` makes, if any, against ``earlier`` (the version last seen, or None); remember it."""
        updated = parse_time(ticket.get('updated'))
        if earlier is not None and _is_older(updated, parse_time(earlier.get('updated'))):
            # the index lags behind a version already seen
            return None
        self._remember(ticket)
        before_start = updated is not None and updated < self.started
        if earlier is None:
            if before_start:
                # it was there when the source started; the index showed it late
                return make_event(ticket, 'created', None) if self.include_existing else None
            created = parse_time(ticket.get('created'))
            if created is not None and created >= self.started:
                return make_event(ticket, 'created', None)
            return make_event(ticket, 'updated', {})
        previous = dict((name, earlier.get(name)) for name in sorted(set(earlier) | set(ticket))
                        if earlier.get(name) != ticket.get(name))
        if not previous or before_start:
            return None
        return make_event(ticket, 'updated', previous)

    def _first(self, tickets, started):
        self.known = {}
        self.started = started
        # oldest first: where the listings show two versions of a ticket, the newer one stays
        for ticket in self._ordered(tickets):
            self._remember(ticket)
        if not self.include_existing:
            return []
        return [make_event(ticket, 'created', None) for ticket in self._ordered(self.known.values())]

    def _remember(self, ticket):
        self.known[ticket['ticket_id']] = ticket
        updated = parse_time(ticket.get('updated'))
        if updated is not None and (self.newest_update is None or updated > self.newest_update):
            self.newest_update = updated

    def state(self):
        """What a restart needs (no token in it): when the watch started and the tickets as last seen."""
        return dict(format=STATE_FORMAT, started=self.started.strftime(TIME_FORMAT),
                    tickets=[self.known[ident] for ident in sorted(self.known, key=str)])

    def restore(self, state):
        """Resume from ``state()`` of an earlier run; raise ValueError when it is not one."""
        started = parse_time(state.get('started'))
        tickets = state.get('tickets')
        if state.get('format') != STATE_FORMAT or started is None or not isinstance(tickets, list) or not all(
                isinstance(ticket, dict) and ticket.get('ticket_id') is not None for ticket in tickets):
            raise ValueError('it is not a state file of this source (format {0})'.format(STATE_FORMAT))
        self.known = {}
        self.started = started
        for ticket in tickets:
            self._remember(ticket)

    @staticmethod
    def _ordered(tickets):
        """The tickets with an id, oldest update first (the API lists the newest ticket first)."""
        found = [ticket for ticket in tickets if isinstance(ticket, dict) and ticket.get('ticket_id') is not None]
        oldest = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        return sorted(found, key=lambda ticket: (parse_time(ticket.get('updated')) or oldest, str(ticket['ticket_id'])))


def _is_older(updated, seen):
    return updated is not None and seen is not None and updated < seen


def _updated_times(tickets):
    """ticket_id -> updated time, for the tickets that have both."""
    times = {}
    for ticket in tickets:
        if isinstance(ticket, dict) and ticket.get('ticket_id') is not None:
            updated = parse_time(ticket.get('updated'))
            if updated is not None:
                times[ticket['ticket_id']] = updated
    return times


def _meanings(tickets, asked):
    """The ids ``filter[updated]=asked`` would keep among ``tickets`` under each meaning it may have."""
    times = _updated_times(tickets)
    return {
        'at-or-after': set(ident for ident, updated in times.items() if updated >= asked),
        'exactly': set(ident for ident, updated in times.items() if updated == asked),
        'same-day': set(ident for ident, updated in times.items() if updated.date() == asked.date()),
    }
