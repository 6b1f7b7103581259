# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A repeat said on its ticket: the comment added to the unsolved ticket that already covers a failure.

When filing with a ``dedupe_key`` finds an unsolved ticket carrying it, and the request has a ``repeat_comment``,
that body goes to the ticket as one comment, with the request's attachments. It is added once: the body ends with
a repeat reference (a digest of the body, which says when it failed again); the ledger records each attempt before
its ``POST /comments``, and an attempt the ledger already knows (a retry, a flush of the spooled request), or whose
answer was lost, first looks for the reference in the ticket's conversation. A first attempt costs one request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.upsun.support.plugins.module_utils.comments import (
    MAX_BODY_BYTES,
    CommentsRefusedError,
    add_comment,
    list_comments,
)
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    InputError,
    ResponseLostError,
    TransportError,
    may_have_acted,
)
from ansible_collections.upsun.support.plugins.module_utils.payload import check_not_blank

REPEAT_PREFIX = 'upsunrepeat'
_REFERENCE_LINE = '\n\nRepeat reference: {0}'
# What the reference line adds to a body.
REFERENCE_ROOM = len(_REFERENCE_LINE.format(REPEAT_PREFIX + '0' * 20))


class RepeatOutcome:
    """What became of a repeat comment: the ``comment`` (as the API answered it, or found in the conversation),
    whether it was ``added`` by this run, and why it was not sent (``refused``, the API's refusal)."""

    def __init__(self, comment=None, added=False, refused=None):
        self.comment = comment or {}
        self.added = added
        self.refused = refused

    def said(self):
        """What a line about the existing ticket adds: the comment saying it failed again, if there is one."""
        if self.comment.get('comment_id') is None:
            return ''
        return '; comment {0} on it says it failed again'.format(self.comment['comment_id'])


def repeat_reference(body):
    """The word that ends a repeat comment: a digest of its ``body``, the same for every attempt to send it."""
    return REPEAT_PREFIX + hashlib.sha256(body.encode('utf-8')).hexdigest()[:20]


def check_repeat_comment(params):
    """Check ``repeat_comment`` in ``params`` before any request; raise ``InputError`` naming it."""
    body = params.get('repeat_comment')
    if body is None:
        return
    if not params.get('dedupe_key'):
        raise InputError('repeat_comment needs dedupe_key: it is added to the unsolved ticket that carries the key, '
                         'when there is one. Set dedupe_key, or leave repeat_comment out.')
    check_not_blank('repeat_comment', body)
    size = len(body.encode('utf-8'))
    if size > MAX_BODY_BYTES - REFERENCE_ROOM:
        raise InputError('repeat_comment is {0} bytes of UTF-8, above the {1} bytes a comment may hold with its repeat '
                         'reference; shorten it.'.format(size, MAX_BODY_BYTES - REFERENCE_ROOM))


def repeat_payload(body, prepared):
    """``(payload, summary)`` of ``POST /comments`` for the repeat ``body`` (already masked), with the ticket's attachments."""
    text = body.rstrip() + _REFERENCE_LINE.format(repeat_reference(body))
    payload, summary = dict(body=text), dict(body=text)
    if prepared.payload.get('attachments'):
        payload['attachments'] = prepared.payload['attachments']
        summary['attachments'] = prepared.summary['attachments']
    return payload, summary


def comment_on_repeat(client, ticket, body, prepared, warn, ledger=None):
    """Add the repeat comment ``body`` to ``ticket``, once; return a ``RepeatOutcome``.

    The API refusing the comment endpoints (404, 403, 405) is one warning, and the outcome says so; any other error
    is raised (the caller spools the request, which carries the body: the flush adds it).
    """
    payload, dummy = repeat_payload(body, prepared)
    reference = repeat_reference(body)
    ticket_id = ticket['ticket_id']
    try:
        if ledger is not None and ledger.comment_attempted(reference):
            found = _find(client, ticket_id, reference)
            if found is not None:
                return RepeatOutcome(found)
        if ledger is not None:
            ledger.record_comment_attempt(reference)
        try:
            return RepeatOutcome(add_comment(client, ticket_id, payload, ticket_known=True), added=True)
        except (ApiError, ResponseLostError) as exc:
            if not _may_be_added(exc):
                raise
            found = _find(client, ticket_id, reference)
            if found is None:
                raise
            return RepeatOutcome(found, added=True)
    except CommentsRefusedError as exc:
        warn('Upsun ticket {0} already covers this failure, but the comment saying it failed again could not be '
             'added: {1}'.format(ticket_id, exc.msg))
        return RepeatOutcome(refused=exc.msg)
    except (ApiError, TransportError) as exc:
        raise type(exc)('Upsun ticket {0} already covers this failure, but the comment saying it failed again could not '
                        'be added: {1}'.format(ticket_id, exc.msg), status=exc.status, url=exc.url, api_error=exc.api_error)


def _may_be_added(error):
    # The one rule of a POST that may have acted (errors.may_have_acted), as for a create.
    return error.request_sent and may_have_acted(error.status)


def _find(client, ticket_id, reference):
    """The comment of ticket ``ticket_id`` that carries ``reference``, or None."""
    for comment in list_comments(client, ticket_id):
        if reference in str(comment.get('body') or ''):
            return comment
    return None
