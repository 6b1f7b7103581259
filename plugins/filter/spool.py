# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``spool_entry`` filter: one spool file's text, checked, for the ``upsun.support.flush_spool`` playbook."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from collections.abc import Mapping

from ansible.module_utils.common.text.converters import to_text

# The spool format this collection writes (plugins/module_utils/spool.py).
SPOOL_FORMAT = 1
# The upsun.support.ticket options a spooled ticket may carry; anything else (a connection option above all)
# is dropped, never sent.
TICKET_OPTIONS = (
    'subject', 'description', 'priority', 'category', 'requester_id', 'subscription_id', 'organization_id',
    'affected_url', 'followup_tid', 'collaborator_ids', 'attachments', 'max_attachment_size', 'dedupe_key',
)


def spool_entry(text, path=None):
    """Parse one spool file: ``path``, ``valid``, ``error`` (why it is not valid), ``ticket``, ``created``,
    ``source`` and ``spool_error`` (why it was spooled)."""
    entry = dict(path=path, valid=False, error=None, ticket={}, created=None, source=None, spool_error=None)
    try:
        record = json.loads(to_text(text, errors='surrogate_or_strict'))
    except (ValueError, TypeError) as exc:
        entry['error'] = 'not JSON: {0}'.format(exc)
        return entry
    if not isinstance(record, Mapping):
        entry['error'] = 'not a JSON object'
        return entry
    if record.get('format') != SPOOL_FORMAT:
        entry['error'] = 'unknown spool format {0!r} (this collection reads format {1})'.format(
            record.get('format'), SPOOL_FORMAT)
        return entry
    ticket = record.get('ticket')
    if not isinstance(ticket, Mapping) or not ticket.get('subject') or not ticket.get('description'):
        entry['error'] = 'no ticket with a subject and a description in it'
        return entry
    entry.update(
        valid=True,
        ticket=dict((name, value) for name, value in ticket.items() if name in TICKET_OPTIONS and value is not None),
        created=record.get('created'),
        source=record.get('source'),
        spool_error=record.get('error'),
    )
    return entry


class FilterModule(object):
    """Filters for the spool of tickets that could not be filed."""

    def filters(self):
        return {'spool_entry': spool_entry}
