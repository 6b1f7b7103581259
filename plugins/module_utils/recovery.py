# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Recovery: solving the unsolved tickets that carry a reference, once what failed works again.

As with PagerDuty's dedup keys: a failure files a ticket with a reference in its
footer, and the recovery of the same deploy (or playbook) solves the tickets that
carry it. Shared by the ``ticket`` module (``status: solved`` with a key), the
role's ``recovered`` entry point (through the module) and the callback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.module_utils.constants import UNSOLVED_STATUSES
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError
from ansible_collections.upsun.support.plugins.module_utils.tickets import find_by_reference, update_ticket


def unsolved_carrying(client, reference, ledger=None):
    """The unsolved tickets whose footer carries ``reference``, newest first: one search, and the ``ledger``'s."""
    found = find_by_reference(client, reference)
    if ledger is not None:
        found = ledger.merge(reference, found)
    return [ticket for ticket in found if ticket.get('status') in UNSOLVED_STATUSES]


def solve_carrying(client, reference, check_mode=False, ledger=None):
    """Solve every unsolved ticket carrying ``reference``; return ``[(before, after)]``, one PATCH per ticket.

    In check mode nothing is sent after the search; ``after`` is the ticket as it would be. With a ``ledger``,
    the tickets this controller filed are solved too before the listings show them; one the API no longer
    knows (404) is dropped from the ledger and left out.
    """
    results = []
    for ticket in unsolved_carrying(client, reference, ledger):
        if check_mode:
            after = dict(ticket, status='solved')
        else:
            try:
                after = update_ticket(client, ticket['ticket_id'], {'status': 'solved'}) or dict(ticket, status='solved')
            except ApiError as exc:
                if exc.status != 404 or ledger is None:
                    raise
                ledger.forget_ticket(ticket['ticket_id'])
                continue
            if ledger is not None:
                ledger.record_ticket(after, [reference])
        results.append((ticket, after))
    return results
