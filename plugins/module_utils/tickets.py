# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ticket operations on top of the client: create, find (paging with limits, pages read a few at once), read, update, dedupe."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import parse_qs, urlsplit

from ansible_collections.upsun.support.plugins.module_utils.constants import UNSOLVED_STATUSES
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    InputError,
    TicketMayExistError,
    UpsunError,
    may_have_acted,
)
from ansible_collections.upsun.support.plugins.module_utils.ledger import references_of

# After an ambiguous create, the reference is searched for again for this many seconds at most (the server may
# still be at work), waiting 1 s, 2 s, 4 s, then 8 s between two searches.
AMBIGUOUS_CREATE_WINDOW = 30.0
AMBIGUOUS_FIRST_WAIT = 1.0
AMBIGUOUS_MAX_WAIT = 8.0


def create_may_exist(error):
    """Whether ``error``, raised while filing a ticket, leaves a ticket that may exist.

    The one rule for every way a create can be lost: the create's own request
    reached the API (``request_sent``, as the client reports it: not the token
    exchange before it, nor a request that was never sent) and, by its answer,
    ``may_have_acted``: no usable answer came back (a timeout after sending, a
    reset, a cut body, an answer above max_response_size), a success that
    cannot be read (a ``2xx`` that is not JSON, or not a ticket), or a server
    error that does not say it refused.
    """
    return isinstance(error, UpsunError) and error.request_sent and may_have_acted(error.status)


def create_ticket(client, payload, reference=None):
    """``POST /tickets``; a create that may have happened becomes ``TicketMayExistError`` (carrying ``reference``)."""
    url = client.api_url + '/tickets'
    try:
        status, ticket = client.request('POST', '/tickets', body=payload)
        if not isinstance(ticket, dict) or 'ticket_id' not in ticket:
            raise ApiError('The Upsun API answered POST {0} with HTTP {1} but without a ticket object.'.format(url, status),
                           status=status, url=url)
    except UpsunError as exc:
        if not create_may_exist(exc):
            raise
        raise _may_exist(exc.msg, exc.url, exc.status, exc.api_error, reference=reference)
    return ticket


def _may_exist(what, url, status=None, api_error=None, reference=None):
    return TicketMayExistError(
        'The ticket may have been created, but its answer was lost: {0} Nothing more was sent, to avoid filing a '
        'duplicate. Look for it with upsun.support.ticket_info (search on the subject) or in the Upsun console before '
        'running again; set dedupe_key to let the module check by itself.'.format(what),
        status=status, url=url, api_error=api_error, reference=reference)


def search_tickets(client, filters=None, search=None, limit=None):
    """Return ``(tickets, count)`` for ``filters`` (API names without ``filter[]``) and ``search``.

    ``count`` is the API's own count of matching tickets (None if it gives
    none). Pages are read until ``limit`` tickets are collected, or the API's
    count is reached, or a page brings nothing new, or there is no ``next``
    link; a ``next`` link that does not move forward and ``client.page_limit``
    also stop it, with a warning: paging never loops, whatever the API says.

    Once the first page has given the count and a ``next`` link to page 2, the
    pages still needed are read ahead, ``client.page_concurrency`` at once
    (``paging.PagesAhead``), and then taken in the order of the ``next`` links,
    as they would be one by one: the result, the limits and the warnings are
    the same. No more than ``client.page_limit`` requests are made in all.
    """
    params = dict(('filter[{0}]'.format(name), _query_value(value)) for name, value in (filters or {}).items()
                  if value is not None)
    if search:
        params['search'] = search

    def read(number):
        dummy, body = client.request('GET', '/tickets', params=dict(params, page=number))
        return body if isinstance(body, dict) else {}

    rate_limited = getattr(client, 'rate_limited', 0)
    concurrency = getattr(client, 'page_concurrency', 1) or 1
    listing = _Listing(client, limit)
    page = 1
    read_here = 0
    ahead = None
    try:
        while True:
            body = ahead.take(page) if ahead is not None else None
            if body is None:
                if ahead is not None:
                    # The next links left the pages read ahead: from here on, one page after the other.
                    ahead.stop()
                body = read(page)
                read_here += 1
            next_page = listing.add(page, body)
            if next_page is None:
                return listing.result()
            requests_made = read_here + (ahead.started if ahead is not None else 0)
            if requests_made >= client.page_limit and not (ahead is not None and ahead.pending(next_page)):
                client.warn('GET /tickets: stopped after {0} pages (page_limit); {1} were read. Narrow the search, or raise '
                            'page_limit.'.format(requests_made, listing.how_many()))
                return listing.result()
            if ahead is None and concurrency > 1 and listing.count is not None and next_page == page + 1:
                last = min(listing.pages_wanted(), page + client.page_limit - requests_made)
                if last > next_page:
                    # Imported here, as locks below: a module run compiles what it imports, and few need it.
                    from ansible_collections.upsun.support.plugins.module_utils import paging  # pylint: disable=import-outside-toplevel
                    ahead = paging.PagesAhead(read, range(next_page, last + 1), concurrency,
                                              slow=lambda: getattr(client, 'rate_limited', 0) > rate_limited,
                                              finish=getattr(client, 'close_thread_session', None))
            page = next_page
    finally:
        if ahead is not None:
            ahead.close()


class _Listing:
    """The tickets of a listing so far, page after page, and when to stop (``add`` gives the next page, or None)."""

    def __init__(self, client, limit):
        self.client = client
        self.limit = limit
        self.tickets = []
        self.seen = set()
        self.count = None
        self.page_size = 0

    def add(self, page, body):
        """Take the tickets of ``page`` (its answer ``body``); the number of the page to read next, or None to stop."""
        page_tickets = [item for item in body.get('tickets') or [] if isinstance(item, dict)]
        if isinstance(body.get('count'), int) and not isinstance(body.get('count'), bool):
            self.count = body['count']
        new = [item for item in page_tickets if _identity(item) not in self.seen]
        self.seen.update(_identity(item) for item in new)
        self.tickets.extend(new)
        self.page_size = len(page_tickets)
        if self.limit is not None and len(self.tickets) >= self.limit:
            return None
        if (self.count is not None and len(self.tickets) >= self.count) or not page_tickets:
            return None
        if not new:
            self.client.warn('GET /tickets: page {0} brought nothing new (the same tickets again); stopped there, with {1}.'.format(
                page, self.how_many()))
            return None
        href = ((body.get('_links') or {}).get('next') or {}).get('href')
        next_page = _page_number(href) if href else None
        if href and (next_page is None or next_page <= page):
            self.client.warn('GET /tickets: the next link of page {0} does not move forward ({1}); stopped there, with {2}.'.format(
                page, 'it names no page' if next_page is None else 'it names page {0}'.format(next_page), self.how_many()))
            return None
        return next_page

    def pages_wanted(self):
        """How many pages hold what is wanted: pages are numbered from 1 and all as long as the first one (the last may be
        shorter)."""
        wanted = self.count if self.limit is None else min(self.count, self.limit)
        return (wanted + self.page_size - 1) // self.page_size

    def how_many(self):
        return _how_many(self.tickets, self.count)

    def result(self):
        """``(tickets, count)``, no more than the limit."""
        return (self.tickets if self.limit is None else self.tickets[:self.limit]), self.count


def _identity(ticket):
    return ticket.get('ticket_id') if ticket.get('ticket_id') is not None else id(ticket)


def _how_many(tickets, count):
    if count is None:
        return '{0} of the matching tickets'.format(len(tickets))
    return '{0} of the {1} matching tickets'.format(len(tickets), count)


def _page_number(href):
    """The ``page`` of a ``next`` link, or None when it names none."""
    values = parse_qs(urlsplit(href).query).get('page') or []
    try:
        return int(values[-1])
    except (IndexError, ValueError):
        return None


def list_tickets(client, filters=None, search=None, limit=None):
    """The tickets of ``search_tickets`` without the count."""
    return search_tickets(client, filters, search, limit)[0]


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value


def get_ticket(client, ticket_id):
    """One ticket by id; the API has no ``GET /tickets/{id}``, so this uses the documented filter."""
    for ticket in list_tickets(client, filters={'ticket_id': ticket_id}, limit=1):
        if str(ticket.get('ticket_id')) == str(ticket_id):
            return ticket
    raise InputError('Ticket {0} was not found, or the user behind the token may not see it.'.format(ticket_id))


def update_ticket(client, ticket_id, body):
    """``PATCH /tickets/{id}``: the updated ticket, or ``None`` when the API answers ``204`` (not updated)."""
    status, ticket = client.request('PATCH', '/tickets/{0}'.format(ticket_id), body=body)
    if status == 204:
        return None
    return ticket


def find_by_reference(client, reference):
    """Tickets whose description carries ``reference``, newest first."""
    found = [ticket for ticket in list_tickets(client, search=reference)
             if reference in (ticket.get('description') or '')]
    return sorted(found, key=lambda ticket: ticket.get('ticket_id') or 0, reverse=True)


def open_duplicate(tickets):
    """The newest ticket of ``tickets`` still being worked on, if any."""
    for ticket in tickets:
        if ticket.get('status') in UNSOLVED_STATUSES:
            return ticket
    return None


def create_deduped(client, payload, reference, warn, ledger=None):
    """File ``payload`` unless an unsolved ticket carries ``reference``; return ``(created, ticket)``.

    Runs on this host with the same reference take turns (``locks.dedupe_lock``),
    so parallel runs file one ticket. Reuses an unsolved ticket, follows up
    on the newest solved one. After an ambiguous create (lost answer, or a
    server error after sending) nothing is posted again: the reference is
    searched for again with a back-off, for AMBIGUOUS_CREATE_WINDOW seconds at
    most (never past the client's deadline), because the server may still be
    at work; if it is still not found, ``TicketMayExistError`` carries the
    reference. ``warn`` receives what the user should know.

    With a ``ledger`` (``ledger.Ledger``), what this controller filed counts
    before the lagging listings show it, a create whose answer was lost holds
    new posts back (``ledger.may_exist_wait``), and of several unsolved tickets
    carrying the reference the oldest is kept and the others solved.
    """
    from ansible_collections.upsun.support.plugins.module_utils.locks import dedupe_lock  # pylint: disable=import-outside-toplevel
    with dedupe_lock(reference, client):
        earlier = find_by_reference(client, reference)
        held = ledger.lost_create(reference, earlier) if ledger is not None else None
        if ledger is not None:
            earlier = ledger.merge(reference, earlier)
        duplicate = keep_oldest(client, earlier, reference, warn, ledger)
        if duplicate is not None:
            return False, duplicate
        if held is not None:
            raise _held_back(held, reference, ledger)
        if earlier and payload.get('followup_tid') is None:
            payload['followup_tid'] = str(earlier[0]['ticket_id'])
        if ledger is not None:
            ledger.record_posting(reference, references_of(payload.get('description')),
                                  max([ticket.get('ticket_id') or 0 for ticket in earlier] or [0]))
        try:
            ticket = create_ticket(client, payload, reference)
        except TicketMayExistError as exc:
            ticket = _search_after_ambiguous_create(client, reference, exc)
            warn('The answer to POST /tickets was lost; ticket {0} carries the dedupe_key, so it was filed.'.format(
                ticket['ticket_id']))
        except UpsunError:
            if ledger is not None:
                ledger.forget_lost(reference)
            raise
        if ledger is not None:
            ledger.record_ticket(ticket, references_of(payload.get('description')), found_lost=reference)
        return True, ticket


def keep_oldest(client, tickets, reference, warn, ledger=None):
    """The oldest unsolved ticket of ``tickets`` (all carrying ``reference``), the others solved as its duplicates.

    Two controllers whose listings lagged may each have filed one; the next run
    keeps the first and solves the rest (the API's PATCH takes only a status,
    so ``warn`` says which ticket they duplicate). A ticket another one of them
    follows up on was solved, whatever a lagging listing still shows.
    """
    followed = set(str(ticket.get('followup_tid')) for ticket in tickets if ticket.get('followup_tid'))
    unsolved = sorted((ticket for ticket in tickets
                       if ticket.get('status') in UNSOLVED_STATUSES and str(ticket.get('ticket_id')) not in followed),
                      key=lambda ticket: ticket.get('ticket_id') or 0)
    if not unsolved:
        return None
    survivor = unsolved[0]
    for duplicate in unsolved[1:]:
        try:
            solved = update_ticket(client, duplicate['ticket_id'], {'status': 'solved'}) or dict(duplicate, status='solved')
        except UpsunError as exc:
            # Gone (404): no duplicate any more. Else the survivor stands all the same; the next run tries again.
            if exc.status != 404:
                warn('Could not solve Upsun ticket {0}, a duplicate of ticket {1}: {2}'.format(
                    duplicate['ticket_id'], survivor['ticket_id'], exc.msg))
            elif ledger is not None:
                ledger.forget_ticket(duplicate['ticket_id'])
            continue
        if ledger is not None:
            ledger.record_ticket(solved, [reference])
        warn('Solved Upsun ticket {0} as a duplicate of ticket {1}: both carry the dedupe reference {2} (filed by runs '
             'that could not see each other\'s ticket yet); {1} is kept.'.format(
                 duplicate['ticket_id'], survivor['ticket_id'], reference))
    return survivor


def _held_back(held, reference, ledger):
    return TicketMayExistError(
        'A run on this controller lost the answer to its POST /tickets for this dedupe_key {0:g} s ago: the ticket may '
        'exist while the listings do not show it yet. Nothing was sent, to avoid filing a duplicate; runs with this '
        'dedupe_key post again once the ticket shows or {1:g} s after that create. Look for it with '
        'upsun.support.ticket_info (search: {2}) or in the Upsun console; the ledger is {3}.'.format(
            round(ledger.age(held)), ledger.hold, reference, ledger.path),
        reference=reference)


def _search_after_ambiguous_create(client, reference, lost):
    """The unsolved ticket carrying ``reference``, searched for with a back-off; else ``TicketMayExistError``."""
    started = client.remaining()
    # The window ends when this much of the deadline is left.
    window_end = started - min(AMBIGUOUS_CREATE_WINDOW, started)
    wait = AMBIGUOUS_FIRST_WAIT
    searches = 0
    why = None
    while True:
        try:
            searches += 1
            ticket = open_duplicate(find_by_reference(client, reference))
        except UpsunError as exc:
            ticket, why = None, 'the search for it failed: {0}'.format(exc.msg.rstrip('.'))
        if ticket is not None:
            return ticket
        if why is not None or client.remaining() - wait <= window_end:
            break
        client.sleep(wait)
        wait = min(wait * 2, AMBIGUOUS_MAX_WAIT)
    if why is None:
        why = 'no ticket carried its dedupe reference {0} in {1} searches over {2:g} s'.format(
            reference, searches, round(started - client.remaining(), 1))
    raise TicketMayExistError(
        'The ticket may have been created, but its answer was lost: {0} Then {1}; nothing more was sent, to avoid '
        'filing a duplicate. Look for it with upsun.support.ticket_info (search: {2}) or in the Upsun console before '
        'running again: a run with the same dedupe_key finds it if it was filed.'.format(lost.msg, why, reference),
        status=lost.status, url=lost.url, api_error=lost.api_error, reference=reference)
