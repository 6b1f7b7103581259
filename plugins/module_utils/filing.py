# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filing one ticket from ``upsun.support.ticket`` options: shared by the module and the callback.

``prepare_create`` checks the options, ends the description with the footer
and builds the body of ``POST /tickets``, with the credentials in use masked
wherever they appear in it; ``file_prepared`` sends it, with dedupe when the
options carry a ``dedupe_key``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference, with_footer
from ansible_collections.upsun.support.plugins.module_utils.ledger import references_of
from ansible_collections.upsun.support.plugins.module_utils.masking import mask_known
from ansible_collections.upsun.support.plugins.module_utils.payload import build_create_payload, check_not_blank
from ansible_collections.upsun.support.plugins.module_utils.tickets import create_deduped, create_ticket


class PreparedTicket:
    """The body of ``POST /tickets``, what may be shown of it (attachment data as sizes), and its dedupe reference."""

    def __init__(self, payload, summary, reference, repeat_comment=None):
        self.payload = payload
        self.summary = summary
        self.reference = reference
        # The comment for an unsolved ticket that already carries the reference (masked), and what became of it.
        self.repeat_comment = repeat_comment
        self.repeat = None


def prepare_create(params, secrets=()):
    """Check the ticket options in ``params`` and build the request; raise ``InputError`` naming a bad option.

    ``secrets`` (the credentials in use) are masked in the subject, the
    description and the attachments: a token that leaked into a log is never
    sent to support.
    """
    for name in ('subject', 'description'):
        if params.get(name) is None:
            raise InputError('{0} is required to file a ticket (or give ticket_id to update an existing one).'.format(name))
    # Checked here, before the footer makes a blank description look filled.
    check_not_blank('description', params['description'])
    key = params.get('dedupe_key')
    if key is not None and not str(key).strip():
        raise InputError('dedupe_key must not be empty or blank: give a string that names the failure, or leave '
                         'dedupe_key out to file without dedupe.')
    reference = dedupe_reference(key) if key else None
    recovery_key = params.get('recovery_key')
    if recovery_key is not None and not str(recovery_key).strip():
        raise InputError('recovery_key must not be empty or blank: give a string that names the deploy or playbook, or '
                         'leave recovery_key out.')
    params = dict(params)
    secrets = [str(secret) for secret in secrets if secret]
    for name in ('subject', 'description'):
        params[name] = mask_known(params[name], secrets)
    params['description'] = with_footer(params['description'], source=params.get('filed_by') or 'module', dedupe=reference,
                                        recovery=recovery_reference(recovery_key) if recovery_key else None)
    payload, summary = build_create_payload(params)
    mask_attachments(payload, summary, secrets)
    repeat_comment = params.get('repeat_comment')
    return PreparedTicket(payload, summary, reference,
                          mask_known(repeat_comment, secrets) if repeat_comment and reference else None)


def mask_attachments(payload, summary, secrets):
    """Mask ``secrets`` in the attachments of a request body, in place; ``summary`` gets their new sizes."""
    for item, shown in zip(payload.get('attachments') or [], summary.get('attachments') or []):
        raw = base64.b64decode(item['data'])
        masked = mask_known(raw.decode('latin-1'), secrets).encode('latin-1') if secrets else raw
        if masked != raw:
            item['data'] = base64.b64encode(masked).decode('ascii')
            shown['size'] = len(masked)


def file_prepared(client, prepared, warn, ledger=None):
    """Send ``prepared``; return ``(created, ticket)``: not created when an unsolved ticket carries its reference.

    Then its ``repeat_comment``, if any, is added to that ticket (``repeats.comment_on_repeat``), and
    ``prepared.repeat`` says what became of it.

    ``ledger`` (a ``ledger.Ledger``) records what is filed, for dedupe and recovery before the listings show it.
    """
    if prepared.reference:
        created, ticket = create_deduped(client, prepared.payload, prepared.reference, warn, ledger)
        if 'followup_tid' in prepared.payload:
            prepared.summary['followup_tid'] = prepared.payload['followup_tid']
        if not created and prepared.repeat_comment:
            # repeats.py imports comments.py, which imports this module (its masking): imported here, not at the top.
            from ansible_collections.upsun.support.plugins.module_utils.repeats import comment_on_repeat
            prepared.repeat = comment_on_repeat(client, ticket, prepared.repeat_comment, prepared, warn, ledger)
        return created, ticket
    ticket = create_ticket(client, prepared.payload)
    if ledger is not None:
        ledger.record_ticket(ticket, references_of(prepared.payload['description']))
    return True, ticket
