# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-Driven Ansible source: one event for each Upsun support ticket created or changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import contextlib
import datetime
import json
import logging
import math
import os
import sys
import tempfile

DOCUMENTATION = r'''
name: ticket_events
short_description: Events for the Upsun support tickets that are created or change
version_added: 1.0.0
description:
  - An event source of ansible-rulebook, used in a rulebook as C(upsun.support.ticket_events).
  - Polls C(GET /tickets) every O(interval) seconds and puts one event on the queue for each ticket created or changed
    since the source started watching, once, whatever the API's listings lag behind and whatever its date filter
    means.
  - "The API's listings come from a search index that shows a change only after a while (up to minutes), and the API
    does not say what C(filter[updated]) means. The source reads the whole listing (with its filters) until it has
    checked, against that listing, that C(filter[updated]) keeps the tickets updated at or after the time given; from
    then on each poll asks only for the tickets updated at or after the newest C(updated) time it has seen minus
    O(lookback) seconds, so that a change the index shows late is still found. If C(filter[updated]) turns out to mean
    something else (the same second, the same day), every poll reads the whole listing."
  - A ticket is an event when the source has not seen it before or when it differs from the version last seen; a
    version older (by C(updated)) than the one already seen, as a lagging index may show, is not an event.
  - "Each event is a mapping: C(ticket), the ticket exactly as the API returns it; C(change), V(created) or V(updated);
    C(previous), the values the source last saw of the fields that differ now (for example
    C({status: open, updated: ...})), C(null) for V(created), and an empty mapping for a ticket the source had not
    seen before (one that came to match O(status), O(priority) or O(type), or was beyond the first listing);
    C(filed_by), what the footer of the description says when this collection filed the ticket (C(source):
    V(module), V(role) or V(callback); C(dedupe_reference); C(recovery_reference)), or C(null)."
  - The tickets that exist when the source starts are not events, unless O(include_existing) is set; nor is a change
    made before it started (by the ticket's C(updated) time) that the index shows late. A change is put on the queue
    once, also when several polls see tickets with the same C(updated) second.
  - With O(state_file), what the source has seen survives a restart, so that the changes made while it was stopped are
    events at its first poll, and what it emitted before is not emitted again.
  - A bad argument stops the rulebook at once with a message naming it, before any request, and so does an answer at
    the first poll that waiting cannot fix (the API token refused, C(403), C(404)).
  - A failed poll (a server error, C(429), an unreachable or stalled API) is logged as a warning and tried again at
    the next interval; the source keeps running. Within one poll, the requests are retried as O(retries) says,
    honouring C(Retry-After). An expired access token is exchanged again once, silently.
  - The connection arguments are those of the modules, with the same environment variables and defaults. Keep the
    API token in the environment (E(UPSUN_CLI_TOKEN)), for example with the EDA credential type of the collection
    (C(extensions/eda/credential_types/upsun_api_token.yml)), rather than in the rulebook. The tokens never appear in
    the source's messages.
author:
  - upsun.support maintainers (@upsun)
requirements:
  - ansible-rulebook, and in its Python ansible-core (for the collection's shared code) and requests >= 2.25.
options:
  interval:
    description:
      - Seconds between two polls, more than 0.
    type: float
    default: 60
  include_existing:
    description:
      - Also put each ticket that exists when the source starts on the queue once, as V(created).
      - Not on a restart from a O(state_file) that holds what the source saw before.
    type: bool
    default: false
  lookback:
    description:
      - "Seconds before the newest C(updated) time seen that each narrowed poll asks from (C(filter[updated])), from
        V(0) to V(2592000) (30 days): how late the API's index may show a change and the change still be an event.
        Raise it if the API's listings lag by more."
    type: float
    default: 900
  state_file:
    description:
      - A file where the source keeps what it has seen (the tickets as last seen, and when it started watching) after
        each poll, written atomically with mode C(0600); its directory must exist. It holds no token.
      - At start, a state file that exists is read, and the first poll emits what changed since, once. A file that is
        not such a state file, or was written for other O(status), O(priority), O(type), O(requester_id) or O(search)
        values, stops the source at once with a message naming it.
      - Without it, a restart starts watching afresh and the changes made while the source was stopped are not events.
    type: path
  status:
    description:
      - Only watch tickets with this status (the API's C(filter[status])). A ticket that comes to this status is an
        V(updated) event with an empty C(previous); to see what it changed from, leave this unset and test
        C(event.ticket.status) in the rule's condition.
    type: str
    choices: [closed, deleted, hold, new, open, pending, solved]
  priority:
    description:
      - Only watch tickets with this priority.
    type: str
    choices: [low, normal, high, urgent]
  type:
    description:
      - Only watch tickets of this type.
    type: str
    choices: [problem, task, incident, question]
  requester_id:
    description:
      - Only watch tickets requested by this user (UUID).
    type: str
  search:
    description:
      - Only watch tickets whose subject or description contains this text.
    type: str
  api_token:
    description:
      - An Upsun API token. This is a secret.
      - If not set, the E(UPSUN_CLI_TOKEN) environment variable is used, then E(PLATFORMSH_CLI_TOKEN).
      - The other variables of the Upsun CLI are read from the family of the token's (E(UPSUN_CLI_*) or
        E(PLATFORMSH_CLI_*)), as for the modules.
      - One of O(api_token) or O(access_token) is required.
    type: str
  access_token:
    description:
      - An access token already obtained from the Upsun auth server. This is a secret.
      - If not set, the E(UPSUN_SUPPORT_ACCESS_TOKEN) environment variable is used.
    type: str
  api_url:
    description:
      - Base URL of the Upsun API.
      - If not set, the E(UPSUN_CLI_API_URL) (or E(UPSUN_CLI_API_BASE_URL)) environment variable is used;
        with a token from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_API_URL) (or E(PLATFORMSH_CLI_API_BASE_URL)).
    type: str
    default: https://api.upsun.com
  auth_url:
    description:
      - Base URL of the Upsun auth server.
      - If not set, the E(UPSUN_CLI_AUTH_URL) (or E(UPSUN_CLI_API_AUTH_URL)) environment variable is used;
        with a token from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_AUTH_URL) (or E(PLATFORMSH_CLI_API_AUTH_URL)).
    type: str
    default: https://auth.upsun.com
  token_url:
    description:
      - The OAuth2 token endpoint. Defaults to C({auth_url}/oauth2/token).
      - If not set, the E(UPSUN_CLI_OAUTH2_TOKEN_URL) environment variable is used; with a token from
        E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_OAUTH2_TOKEN_URL).
    type: str
  timeout:
    description:
      - Seconds to wait for a connection and for each answer.
      - If not set, the E(UPSUN_CLI_DEFAULT_TIMEOUT) (or E(UPSUN_CLI_API_DEFAULT_TIMEOUT)) environment variable is
        used; with a token from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_DEFAULT_TIMEOUT) (or
        E(PLATFORMSH_CLI_API_DEFAULT_TIMEOUT)).
    type: float
    default: 30
  validate_certs:
    description:
      - Whether to check TLS certificates.
      - If not set, it is V(true) unless the E(UPSUN_CLI_SKIP_SSL) environment variable is set to a true value.
    type: bool
  ca_path:
    description:
      - A PEM file of CA certificates to check the servers' certificates against.
      - If not set, the E(UPSUN_SUPPORT_CA_PATH) environment variable is used.
    type: path
  retries:
    description:
      - How many times a request of one poll is retried after a connection failure, a C(429) or a server error.
      - If not set, the E(UPSUN_SUPPORT_RETRIES) environment variable is used.
    type: int
    default: 3
  deadline:
    description:
      - Seconds one poll may take at most, every attempt and wait included; a poll that reaches it fails (a warning)
        and the next one starts afresh.
      - If not set, the E(UPSUN_SUPPORT_DEADLINE) environment variable is used.
    type: float
    default: 120
  page_limit:
    description:
      - The most pages of C(GET /tickets) one poll reads (a warning says when it stops there).
      - If not set, the E(UPSUN_SUPPORT_PAGE_LIMIT) environment variable is used.
    type: int
    default: 100
  page_concurrency:
    description:
      - How many pages of C(GET /tickets) one poll reads at once, once the first page has given the API's count, from
        V(1) (one after the other) to V(16). The tickets keep the API's order; a C(429) pauses them all.
      - If not set, the E(UPSUN_SUPPORT_PAGE_CONCURRENCY) environment variable is used.
    type: int
    default: 4
  max_response_size:
    description:
      - The most bytes of one answer that are read, from V(1024) to V(1073741824); a longer answer fails that poll (a
        warning) as soon as it passes this size.
      - If not set, the E(UPSUN_SUPPORT_MAX_RESPONSE_SIZE) environment variable is used.
    type: int
    default: 10485760
seealso:
  - module: upsun.support.ticket_info
    description: The same filters, for one lookup from a playbook.
'''

EXAMPLES = r'''
- name: React to Upsun support
  hosts: localhost
  sources:
    # The API token comes from UPSUN_CLI_TOKEN (the EDA credential type of the collection sets it).
    - upsun.support.ticket_events:
        interval: 120
        # what changes while the rulebook is stopped is emitted when it starts again
        state_file: ~/upsun-ticket-events.json
  rules:
    - name: Support is waiting on us
      # "!= null", not "is defined": a path through a null value counts as defined in a condition
      condition: >-
        event.change == "updated" and event.ticket.status == "pending"
        and event.previous.status != null
      action:
        run_playbook:
          name: upsun.support.notify_ticket_event

- name: Only urgent tickets, including those open now
  hosts: localhost
  sources:
    - upsun.support.ticket_events:
        priority: urgent
        include_existing: true
  rules:
    - name: Print them
      condition: event.ticket.ticket_id != null
      action:
        print_event:
          pretty: true
'''


def _make_collection_importable():
    """Put the collections root that holds this file on ``sys.path``.

    ansible-rulebook runs this file by its path (``runpy.run_path``), outside
    Ansible's collection loader, so ``ansible_collections`` is importable only
    from a directory on ``sys.path``. The collection is found there as a
    namespace package, this copy first.
    """
    parts = os.path.abspath(__file__).split(os.sep)
    # .../ansible_collections/<namespace>/<name>/extensions/eda/plugins/event_source/ticket_events.py
    if len(parts) > 8 and parts[-8] == 'ansible_collections':
        root = os.sep.join(parts[:-8]) or os.sep
        if root not in sys.path:
            sys.path.insert(0, root)


_make_collection_importable()

# pylint: disable=wrong-import-position
from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402

from ansible_collections.upsun.support.plugins.module_utils.client import HAS_REQUESTS, client_from_settings  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.constants import PRIORITIES, STATUSES, TYPES  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.errors import (  # noqa: E402
    ApiError,
    AuthenticationError,
    InputError,
    UpsunError,
)
from ansible_collections.upsun.support.plugins.module_utils.footer import parse_footer  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.payload import check_uuid  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, resolve_connection  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.tickets import search_tickets  # noqa: E402

SOURCE_NAME = 'upsun.support.ticket_events'
LOGGER = logging.getLogger(SOURCE_NAME)

DEFAULT_INTERVAL = 60.0
# Longer than the "few minutes" Zendesk's search index may take to show a change.
DEFAULT_LOOKBACK = 900.0
# 30 days: more says the API is broken, not lagging (and keeps the times within what datetime can hold).
MAX_LOOKBACK = 2592000.0
# The source's own arguments; the connection arguments are the settings table's names.
FILTER_CHOICES = dict(status=STATUSES, priority=PRIORITIES, type=TYPES)
FILTER_NAMES = ('status', 'priority', 'type', 'requester_id')
OWN_NAMES = ('interval', 'include_existing', 'lookback', 'state_file') + FILTER_NAMES + ('search',)
ARGUMENT_NAMES = OWN_NAMES + CONNECTION_NAMES
# ansible-rulebook adds arguments of its own (eda_feedback_queue) to every source's.
RULEBOOK_PREFIX = 'eda_'
# Answers at the first poll that waiting will not fix: the configuration is wrong.
FATAL_STATUSES = frozenset((400, 401, 403, 404, 405, 410, 422))
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
STATE_FORMAT = 1
PROBE_CANDIDATES = 20


class Options:
    """The checked arguments of one source: connection settings, interval, filters, look-back, state file."""

    def __init__(self, settings, interval, include_existing, filters, search, lookback=DEFAULT_LOOKBACK,
                 state_file=None):
        self.settings = settings
        self.interval = interval
        self.include_existing = include_existing
        self.filters = filters
        self.search = search
        self.lookback = lookback
        self.state_file = state_file


def _argument_error(message):
    return InputError('{0}: {1}'.format(SOURCE_NAME, message))


def parse_arguments(args, environ=None):
    """Check the rulebook's arguments; raise ``InputError`` naming the first bad one."""
    if not isinstance(args, dict):
        raise _argument_error('the arguments must be a mapping, got {0}.'.format(type(args).__name__))
    unknown = sorted(str(name) for name in args if name not in ARGUMENT_NAMES and not str(name).startswith(RULEBOOK_PREFIX))
    if unknown:
        raise _argument_error('unknown argument {0}; the arguments are {1}.'.format(
            ', '.join(unknown), ', '.join(sorted(ARGUMENT_NAMES))))
    values = dict((name, args.get(name)) for name in CONNECTION_NAMES)
    origins = dict((name, 'the {0} argument of {1}'.format(name, SOURCE_NAME))
                   for name in CONNECTION_NAMES if args.get(name) is not None)
    try:
        settings = resolve_connection(values, origins, environ)
        settings.validate()
    except InputError as exc:
        raise _argument_error(exc.msg)
    return Options(
        settings=settings,
        interval=_seconds('interval', args.get('interval'), DEFAULT_INTERVAL),
        include_existing=_flag('include_existing', args.get('include_existing')),
        filters=_filters(args),
        search=_text('search', args.get('search')),
        lookback=_seconds('lookback', args.get('lookback'), DEFAULT_LOOKBACK, highest=MAX_LOOKBACK),
        state_file=_state_file(args.get('state_file')),
    )


def _seconds(name, value, default, highest=None):
    """A number of seconds above 0, or with ``highest`` from 0 to ``highest``."""
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        seconds = float(value)
    except (TypeError, ValueError):
        raise _argument_error('{0} must be a number of seconds, got {1!r}.'.format(name, value))
    if highest is None and not (math.isfinite(seconds) and seconds > 0):
        raise _argument_error('{0} must be a number of seconds above 0, got {1!r}.'.format(name, value))
    if highest is not None and not 0 <= seconds <= highest:
        raise _argument_error('{0} must be a number of seconds from 0 to {1:.0f}, got {2!r}.'.format(name, highest, value))
    return seconds


def _state_file(value):
    path = _text('state_file', value)
    if path is None:
        return None
    if not path:
        raise _argument_error('state_file must be the path of a file, got an empty string.')
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    if os.path.isdir(path):
        raise _argument_error('state_file must be the path of a file, {0} is a directory.'.format(path))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
        raise _argument_error('state_file {0}: its directory {1} must exist and be writable.'.format(path, directory))
    return path


def _flag(name, value):
    if value is None:
        return False
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise _argument_error('{0} must be true or false, got {1!r}.'.format(name, value))


def _text(name, value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise _argument_error('{0} must be a string, got {1!r}.'.format(name, value))
    return value


def _filters(args):
    filters = {}
    for name in FILTER_NAMES:
        value = _text(name, args.get(name))
        if value is None:
            continue
        if name in FILTER_CHOICES and value not in FILTER_CHOICES[name]:
            raise _argument_error('{0} must be one of {1}, got {2!r}.'.format(
                name, ', '.join(FILTER_CHOICES[name]), value))
        if name == 'requester_id':
            try:
                value = check_uuid(name, value)
            except InputError as exc:
                raise _argument_error(exc.msg)
        filters[name] = value
    return filters


def _parse_time(value):
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


def make_event(ticket, change, previous):
    return dict(ticket=ticket, change=change, previous=previous, filed_by=parse_footer(ticket.get('description')))


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
        updated = _parse_time(ticket.get('updated'))
        if earlier is not None and _is_older(updated, _parse_time(earlier.get('updated'))):
            # the index lags behind a version already seen
            return None
        self._remember(ticket)
        before_start = updated is not None and updated < self.started
        if earlier is None:
            if before_start:
                # it was there when the source started; the index showed it late
                return make_event(ticket, 'created', None) if self.include_existing else None
            created = _parse_time(ticket.get('created'))
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
        updated = _parse_time(ticket.get('updated'))
        if updated is not None and (self.newest_update is None or updated > self.newest_update):
            self.newest_update = updated

    def state(self):
        """What a restart needs (no token in it): when the watch started and the tickets as last seen."""
        return dict(format=STATE_FORMAT, started=self.started.strftime(TIME_FORMAT),
                    tickets=[self.known[ident] for ident in sorted(self.known, key=str)])

    def restore(self, state):
        """Resume from ``state()`` of an earlier run; raise ValueError when it is not one."""
        started = _parse_time(state.get('started'))
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
        return sorted(found, key=lambda ticket: (_parse_time(ticket.get('updated')) or oldest, str(ticket['ticket_id'])))


def _is_older(updated, seen):
    return updated is not None and seen is not None and updated < seen


def _updated_times(tickets):
    """ticket_id -> updated time, for the tickets that have both."""
    times = {}
    for ticket in tickets:
        if isinstance(ticket, dict) and ticket.get('ticket_id') is not None:
            updated = _parse_time(ticket.get('updated'))
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


class TicketSource:
    """One running source: polls the API with its client and feeds the watch."""

    def __init__(self, options, warn=None):
        self.options = options
        self.watch = TicketWatch(options.include_existing, options.lookback)
        if options.state_file is not None:
            self._restore(options.state_file)
        self.client = client_from_settings(options.settings, warn=warn or LOGGER.warning)

    def _watched(self):
        """What the state file must have been written for."""
        return dict(filters=self.options.filters, search=self.options.search)

    def _restore(self, path):
        try:
            with open(path, encoding='utf-8') as handle:
                state = json.load(handle)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise _argument_error('state_file {0} cannot be read: {1}'.format(path, getattr(exc, 'strerror', None) or exc))
        try:
            if not isinstance(state, dict):
                raise ValueError('it is not a state file of this source')
            if state.get('watched') != self._watched():
                raise ValueError('it was written for other filters ({0}); use another file for these'.format(
                    json.dumps(state.get('watched'), sort_keys=True)))
            self.watch.restore(state)
        except ValueError as exc:
            raise _argument_error('state_file {0}: {1}.'.format(path, exc))

    def save(self):
        """Write the watch's state to the state file atomically, mode 0600; a failure is a warning."""
        path = self.options.state_file
        if path is None or self.watch.known is None:
            return
        state = dict(self.watch.state(), watched=self._watched())
        try:
            handle, temporary = tempfile.mkstemp(prefix='.{0}.'.format(os.path.basename(path)), dir=os.path.dirname(path))
            try:
                with os.fdopen(handle, 'w', encoding='utf-8') as stream:
                    json.dump(state, stream, sort_keys=True)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            LOGGER.warning('%s: cannot write the state_file %s: %s', SOURCE_NAME, path, exc.strerror or exc)

    def fetch(self):
        """The tickets of one poll (blocking: run it in a thread)."""
        # deadline bounds each poll, not the source's whole life
        self.client.restart_deadline()
        tickets = self._list(self.watch.query(self.options.filters))
        asked = self.watch.probe(tickets)
        if asked is not None:
            answer = self._list(dict(self.options.filters, updated=asked.strftime(TIME_FORMAT)))
            self.watch.judge(tickets, asked, answer)
            tickets = tickets + answer
        return tickets

    def _list(self, filters):
        tickets, dummy = search_tickets(self.client, filters, self.options.search)
        return tickets

    async def poll(self):
        """One poll: the events it makes, or none after a failure that the next poll may not have."""
        asked = datetime.datetime.now(datetime.timezone.utc)
        try:
            tickets = await asyncio.to_thread(self.fetch)
        except UpsunError as exc:
            if self.watch.known is None and _is_fatal(exc):
                raise UpsunError('{0}: the first poll failed: {1}'.format(SOURCE_NAME, exc.msg),
                                 status=exc.status, url=exc.url)
            LOGGER.warning('%s: the poll failed: %s Trying again in %g s.', SOURCE_NAME, exc.msg, self.options.interval)
            return []
        return self.watch.observe(tickets, asked)

    async def run(self, queue):
        try:
            while True:
                for event in await self.poll():
                    await queue.put(event)
                # Saved once the events are on the queue: a crash in between repeats them rather than losing them.
                await asyncio.to_thread(self.save)
                await asyncio.sleep(self.options.interval)
        finally:
            self.client.close()


def _is_fatal(exc):
    return isinstance(exc, AuthenticationError) or isinstance(exc, ApiError) and exc.status in FATAL_STATUSES


async def main(queue, args):
    """ansible-rulebook's entry point: put the ticket events on ``queue`` until the rulebook stops."""
    if not HAS_REQUESTS:
        raise UpsunError('{0} needs the Python library requests in the Python that runs ansible-rulebook: '
                         'pip install requests (a decision environment built with ansible-builder from this '
                         'collection has it).'.format(SOURCE_NAME))
    await TicketSource(parse_arguments(args)).run(queue)
