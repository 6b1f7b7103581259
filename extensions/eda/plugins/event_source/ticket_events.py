# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-Driven Ansible source: one event for each Upsun support ticket created or changed, and each new public comment."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import contextlib
import datetime
import json
import os
import sys
import tempfile

DOCUMENTATION = r'''
name: ticket_events
short_description: Events for the Upsun support tickets that are created or change, and for support's answers
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
  - "Each event is a mapping: C(ticket), the ticket exactly as the API returns it; C(change), V(created), V(updated)
    or V(commented);
    C(previous), the values the source last saw of the fields that differ now (for example
    C({status: open, updated: ...})), C(null) for V(created), and an empty mapping for a ticket the source had not
    seen before (one that came to match O(status), O(priority) or O(type), or was beyond the first listing);
    C(filed_by), what the footer of the description says when this collection filed the ticket (C(source):
    V(module), V(role) or V(callback); C(dedupe_reference); C(recovery_reference)), or C(null);
    C(text_base64), the free text of the event base64-encoded: C(subject), the ticket's subject, and C(body), the
    comment's body for a V(commented) event."
  - "Print free text from C(text_base64), decoded with C(b64decode), never from C(ticket.subject) or
    C(comment.body): ansible-core renders the templates it finds in the event data ansible-rulebook passes to a
    playbook, so a subject or comment holding C({{ lookup('pipe', ...) }}) would run a command where the playbook
    runs. The value a filter returns is not rendered again, so the decoded text is printed as written (the
    C(upsun.support.notify_ticket_event) playbook does this)."
  - "With O(comments) (the default), each new public comment of a watched ticket is an event too, once: C(change) is
    V(commented), C(comment) is the comment as C(GET /comments/{ticket_id}) gives it (C(comment_id), C(created_at),
    C(body), C(author_id), C(public), C(attachments)) plus C(by_requester), whether the ticket's requester wrote it
    (V(false) for support's answers), C(ticket) is the ticket as last seen and C(previous) is C(null). A comment that
    moves the ticket's C(updated) makes an V(updated) event too. Private comments, the ticket's description and the
    comments made before the source started are not events."
  - "Cost of O(comments): a ticket's conversation is read (C(GET /comments/{ticket_id}), one request per 50 comments)
    only when a poll finds the ticket's C(updated) moved or the ticket new, never at the first poll; a read made in
    the very second of that C(updated) is made once more at the next poll, since a comment later in that second would
    not move it. A comment that the listings show late (by C(updated)) is read late, not missed; a read that fails is
    a warning and is tried again at the next poll."
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
      - It keeps the ids of the comments emitted and the tickets whose conversation is still to be read, so that a
        comment made while the source was stopped is emitted after the restart, once.
      - At start, a state file that exists is read, and the first poll emits what changed since, once. A file that is
        not such a state file, or was written for other O(status), O(priority), O(type), O(requester_id) or O(search)
        values, stops the source at once with a message naming it.
      - Without it, a restart starts watching afresh and the changes made while the source was stopped are not events.
    type: path
  comments:
    description:
      - Put a V(commented) event on the queue for each new public comment of a watched ticket (support's answers
        among them), reading the conversation of each ticket whose C(updated) moved.
      - "C(GET /comments/{ticket_id}) is the endpoint the Upsun Console uses; Upsun's OpenAPI document leaves it out.
        When the API refuses it (C(404), C(403), C(405)), the source logs one warning and goes on with the other
        events, without comments until it is restarted."
      - V(false) sends no request for comments. What the source emitted is kept in O(state_file) either way, so that
        turning comments off and on again repeats no comment; the comments made while they were off are not events.
    type: bool
    default: true
    version_added: 2.0.0
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
    - name: Support answered (a public comment of someone else than the requester)
      condition: event.change == "commented" and event.comment.by_requester == false
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
from ansible_collections.upsun.support.plugins.module_utils.client import HAS_REQUESTS, client_from_settings  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, AuthenticationError, UpsunError  # noqa: E402
from ansible_collections.upsun.support.plugins.module_utils.tickets import search_tickets  # noqa: E402
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_arguments import (  # noqa: E402
    LOGGER,
    SOURCE_NAME,
    argument_error,
    parse_arguments,
)
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_comments import CommentWatch  # noqa: E402
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_watch import TIME_FORMAT, TicketWatch  # noqa: E402

# Answers at the first poll that waiting will not fix: the configuration is wrong.
FATAL_STATUSES = frozenset((400, 401, 403, 404, 405, 410, 422))


class TicketSource:
    """One running source: polls the API with its client and feeds the watches of tickets and comments."""

    def __init__(self, options, warn=None):
        self.options = options
        self.watch = TicketWatch(options.include_existing, options.lookback)
        # kept (and saved) when comments are off, so that turning them on again repeats no comment
        self.conversations = CommentWatch(enabled=options.comments)
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
            raise argument_error('state_file {0} cannot be read: {1}'.format(path, getattr(exc, 'strerror', None) or exc))
        try:
            if not isinstance(state, dict):
                raise ValueError('it is not a state file of this source')
            if state.get('watched') != self._watched():
                raise ValueError('it was written for other filters ({0}); use another file for these'.format(
                    json.dumps(state.get('watched'), sort_keys=True)))
            self.watch.restore(state)
            self.conversations.restore(state.get('comments'))
        except ValueError as exc:
            raise argument_error('state_file {0}: {1}.'.format(path, exc))

    def save(self):
        """Write the watch's state to the state file atomically, mode 0600; a failure is a warning."""
        path = self.options.state_file
        if path is None or self.watch.known is None:
            return
        state = dict(self.watch.state(), watched=self._watched(), comments=self.conversations.state())
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
        first = self.watch.known is None
        try:
            tickets = await asyncio.to_thread(self.fetch)
        except UpsunError as exc:
            if first and _is_fatal(exc):
                raise UpsunError('{0}: the first poll failed: {1}'.format(SOURCE_NAME, exc.msg),
                                 status=exc.status, url=exc.url)
            LOGGER.warning('%s: the poll failed: %s Trying again in %g s.', SOURCE_NAME, exc.msg, self.options.interval)
            return []
        events = self.watch.observe(tickets, asked)
        self.conversations.note(events, tickets, asked, first)
        if first:
            # the conversations as they are at the start are not news
            return events
        return events + await asyncio.to_thread(
            self.conversations.read, self.client, self.watch.known, self.watch.started, self.options.interval)

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
