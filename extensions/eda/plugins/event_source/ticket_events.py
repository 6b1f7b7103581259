# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-Driven Ansible source: one event for each Upsun support ticket created or changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import datetime
import logging
import math
import os
import sys

DOCUMENTATION = r'''
name: ticket_events
short_description: Events for the Upsun support tickets that are created or change
version_added: 1.0.0
description:
  - An event source of ansible-rulebook, used in a rulebook as C(upsun.support.ticket_events).
  - Polls C(GET /tickets) every O(interval) seconds and puts one event on the queue for each ticket created or changed
    since the source started watching. Once the source knows the tickets, each poll asks only for the tickets updated
    at or after the newest C(updated) time it has seen (C(filter[updated])).
  - "Each event is a mapping: C(ticket), the ticket exactly as the API returns it; C(change), V(created) or V(updated);
    C(previous), the values the source last saw of the fields that differ now (for example
    C({status: open, updated: ...})), C(null) for V(created), and an empty mapping for a ticket the source had not
    seen before (one that came to match O(status), O(priority) or O(type), or was beyond the first listing);
    C(filed_by), what the footer of the description says when this collection filed the ticket (C(source):
    V(module), V(role) or V(callback); C(dedupe_reference); C(recovery_reference)), or C(null)."
  - The tickets that exist when the source starts are not events, unless O(include_existing) is set. A change is put
    on the queue once, also when several polls see tickets with the same C(updated) second.
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
    type: bool
    default: false
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
      - If not set, the E(UPSUN_CLI_API_URL) environment variable is used.
    type: str
    default: https://api.upsun.com
  auth_url:
    description:
      - Base URL of the Upsun auth server.
      - If not set, the E(UPSUN_CLI_AUTH_URL) environment variable is used.
    type: str
    default: https://auth.upsun.com
  token_url:
    description:
      - The OAuth2 token endpoint. Defaults to C({auth_url}/oauth2/token).
      - If not set, the E(UPSUN_CLI_OAUTH2_TOKEN_URL) environment variable is used.
    type: str
  timeout:
    description:
      - Seconds to wait for a connection and for each answer.
      - If not set, the E(UPSUN_CLI_DEFAULT_TIMEOUT) environment variable is used.
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
# The source's own arguments; the connection arguments are the settings table's names.
FILTER_CHOICES = dict(status=STATUSES, priority=PRIORITIES, type=TYPES)
FILTER_NAMES = ('status', 'priority', 'type', 'requester_id')
OWN_NAMES = ('interval', 'include_existing') + FILTER_NAMES + ('search',)
ARGUMENT_NAMES = OWN_NAMES + CONNECTION_NAMES
# ansible-rulebook adds arguments of its own (eda_feedback_queue) to every source's.
RULEBOOK_PREFIX = 'eda_'
# Answers at the first poll that waiting will not fix: the configuration is wrong.
FATAL_STATUSES = frozenset((400, 401, 403, 404, 405, 410, 422))
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


class Options:
    """The checked arguments of one source: connection settings, interval, filters."""

    def __init__(self, settings, interval, include_existing, filters, search):
        self.settings = settings
        self.interval = interval
        self.include_existing = include_existing
        self.filters = filters
        self.search = search


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
        interval=_interval(args.get('interval')),
        include_existing=_flag('include_existing', args.get('include_existing')),
        filters=_filters(args),
        search=_text('search', args.get('search')),
    )


def _interval(value):
    if value is None:
        return DEFAULT_INTERVAL
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        seconds = float(value)
    except (TypeError, ValueError):
        raise _argument_error('interval must be a number of seconds, got {0!r}.'.format(value))
    if not math.isfinite(seconds) or seconds <= 0:
        raise _argument_error('interval must be a number of seconds above 0, got {0!r}.'.format(value))
    return seconds


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

    The API's times are whole seconds and ``filter[updated]`` keeps the
    tickets updated at or after a time, so each poll asks from the newest
    ``updated`` seen and gets that second's tickets again: a change is told
    apart from a ticket seen before by comparing the whole ticket with the
    last version seen, never by its time alone.
    """

    def __init__(self, include_existing=False):
        self.include_existing = include_existing
        # ticket_id -> the ticket as last seen; None until the first poll that succeeded
        self.known = None
        # the second the source started watching (set at its first poll that succeeded)
        self.started = None
        self.newest_update = None

    def query(self, filters):
        """The filters of the next poll: ``filters`` narrowed to what may have changed."""
        query = dict(filters)
        if self.newest_update is not None:
            query['updated'] = self.newest_update.strftime(TIME_FORMAT)
        return query

    def observe(self, tickets, now=None):
        """Take in the tickets of one poll asked for at ``now``; return the events they make, oldest change first."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if self.known is None:
            return self._first(tickets, now.replace(microsecond=0))
        events = []
        for ticket in self._ordered(tickets):
            earlier = self.known.get(ticket['ticket_id'])
            if earlier is None:
                created = _parse_time(ticket.get('created'))
                if created is not None and created >= self.started:
                    events.append(make_event(ticket, 'created', None))
                else:
                    events.append(make_event(ticket, 'updated', {}))
            else:
                previous = dict((name, earlier.get(name)) for name in sorted(set(earlier) | set(ticket))
                                if earlier.get(name) != ticket.get(name))
                if previous:
                    events.append(make_event(ticket, 'updated', previous))
            self._remember(ticket)
        return events

    def _first(self, tickets, started):
        self.known = {}
        self.started = started
        events = []
        for ticket in self._ordered(tickets):
            if self.include_existing:
                events.append(make_event(ticket, 'created', None))
            self._remember(ticket)
        return events

    def _remember(self, ticket):
        self.known[ticket['ticket_id']] = ticket
        updated = _parse_time(ticket.get('updated'))
        if updated is not None and (self.newest_update is None or updated > self.newest_update):
            self.newest_update = updated

    @staticmethod
    def _ordered(tickets):
        """The tickets with an id, oldest update first (the API lists the newest ticket first)."""
        found = [ticket for ticket in tickets if isinstance(ticket, dict) and ticket.get('ticket_id') is not None]
        oldest = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        return sorted(found, key=lambda ticket: (_parse_time(ticket.get('updated')) or oldest, str(ticket['ticket_id'])))


class TicketSource:
    """One running source: polls the API with its client and feeds the watch."""

    def __init__(self, options, warn=None):
        self.options = options
        self.watch = TicketWatch(options.include_existing)
        self.client = client_from_settings(options.settings, warn=warn or LOGGER.warning)

    def fetch(self):
        """The tickets of one poll (blocking: run it in a thread)."""
        # deadline bounds each poll, not the source's whole life
        self.client.restart_deadline()
        tickets, dummy = search_tickets(self.client, self.watch.query(self.options.filters), self.options.search)
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
