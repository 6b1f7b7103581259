# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ticket operations on top of the client: create, find, read, update, dedupe."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.module_utils.constants import UNSOLVED_STATUSES
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    InputError,
    ResponseLostError,
    TicketMayExistError,
)

# Server errors after which a POST may still have created the ticket.
AMBIGUOUS_CREATE_STATUSES = (500, 502, 504)


def create_ticket(client, payload):
    """``POST /tickets``; a lost answer becomes ``TicketMayExistError``."""
    url = client.api_url + '/tickets'
    try:
        dummy, ticket = client.request('POST', '/tickets', body=payload)
    except ResponseLostError as exc:
        # Only the create itself is ambiguous, not a failed token exchange before it.
        if exc.url != url:
            raise
        raise _may_exist(exc.msg, exc.url)
    except ApiError as exc:
        if exc.url != url or exc.status not in AMBIGUOUS_CREATE_STATUSES:
            raise
        raise _may_exist(exc.msg, exc.url, exc.status, exc.api_error)
    if not isinstance(ticket, dict) or 'ticket_id' not in ticket:
        raise ApiError('The Upsun API answered POST /tickets without a ticket object.', url=url)
    return ticket


def _may_exist(what, url, status=None, api_error=None):
    return TicketMayExistError(
        'The ticket may have been created, but its answer was lost: {0} Nothing more was sent, to avoid filing a '
        'duplicate. Look for it with upsun.support.ticket_info (search on the subject) or in the Upsun console before '
        'running again; set dedupe_key to let the module check by itself.'.format(what),
        status=status, url=url, api_error=api_error)


def search_tickets(client, filters=None, search=None, limit=None):
    """Return ``(tickets, count)`` for ``filters`` (API names without ``filter[]``) and ``search``.

    Follows every page, or stops once ``limit`` tickets are collected. ``count``
    is the API's own count of matching tickets.
    """
    params = dict(('filter[{0}]'.format(name), _query_value(value)) for name, value in (filters or {}).items()
                  if value is not None)
    if search:
        params['search'] = search
    tickets = []
    count = 0
    page = 1
    while True:
        params['page'] = page
        dummy, body = client.request('GET', '/tickets', params=params)
        body = body or {}
        page_tickets = body.get('tickets') or []
        count = body.get('count', count)
        tickets.extend(page_tickets)
        if limit is not None and len(tickets) >= limit:
            return tickets[:limit], count
        if not page_tickets or not (body.get('_links') or {}).get('next'):
            return tickets, count
        page += 1


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


def create_deduped(client, payload, reference, warn):
    """File ``payload`` unless an unsolved ticket carries ``reference``; return ``(created, ticket)``.

    Reuses an unsolved ticket, follows up on the newest solved one, and after
    a lost answer searches again before sending once more, so one failure
    files exactly one ticket. ``warn`` receives what the user should know.
    """
    earlier = find_by_reference(client, reference)
    duplicate = open_duplicate(earlier)
    if duplicate is not None:
        return False, duplicate
    if earlier and payload.get('followup_tid') is None:
        payload['followup_tid'] = str(earlier[0]['ticket_id'])
    try:
        return True, create_ticket(client, payload)
    except TicketMayExistError as exc:
        ticket = open_duplicate(find_by_reference(client, reference))
        if ticket is not None:
            warn('The answer to POST /tickets was lost; ticket {0} carries the dedupe_key, so it was filed.'.format(
                ticket['ticket_id']))
            return True, ticket
        warn('The answer to POST /tickets was lost and no ticket carries the dedupe_key: filing it again. ({0})'.format(exc.msg))
        return True, create_ticket(client, payload)
