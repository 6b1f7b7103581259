# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A ticket's conversation: adding a comment and reading every comment, oldest first.

The endpoints are the Upsun Console's (``POST /comments``, ``GET /comments/{ticket_id}``), which the OpenAPI
document leaves out: the API may refuse them (404, 403, 405), and then ``CommentsRefusedError`` says so, so that
a caller fails with a clear message (adding) or warns once and carries on without comments (reading).
Shared by the ``ticket_comment`` module, ``ticket_info`` and whatever else comments on a ticket.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, InputError, ResponseLostError
from ansible_collections.upsun.support.plugins.module_utils.filing import mask_attachments
from ansible_collections.upsun.support.plugins.module_utils.masking import mask_known
from ansible_collections.upsun.support.plugins.module_utils.payload import add_attachments, check_not_blank
from ansible_collections.upsun.support.plugins.module_utils.tickets import _page_number, get_ticket

# The longest body sent, in bytes of UTF-8: Zendesk keeps at most 64 KB of a comment.
MAX_BODY_BYTES = 65536
# The answers of an API that does not offer the comment endpoints to this client.
REFUSED_STATUSES = (403, 404, 405)


class CommentsRefusedError(ApiError):
    """The API refuses the comment endpoints (they are the Console's, not promised to API clients)."""


class PreparedComment:
    """The body of ``POST /comments`` and what may be shown of it (attachment data as sizes)."""

    def __init__(self, payload, summary):
        self.payload = payload
        self.summary = summary


def prepare_comment(params, secrets=()):
    """Check ``body`` and ``attachments`` (with ``max_attachment_size``) in ``params`` and build the request body.

    ``secrets`` (the credentials in use) are masked in the body and the attachments, as in a ticket. The
    ``ticket_id`` is set by ``add_comment``. Raises ``InputError`` naming the bad option, before any request.
    """
    body = params.get('body')
    if body is None:
        raise InputError('body is required: the text of the comment.')
    check_not_blank('body', body)
    secrets = [str(secret) for secret in secrets if secret]
    body = mask_known(body, secrets)
    size = len(body.encode('utf-8'))
    if size > MAX_BODY_BYTES:
        raise InputError('body is {0} bytes of UTF-8, above the {1} bytes a comment may hold; shorten it, or send the '
                         'long part as an attachment.'.format(size, MAX_BODY_BYTES))
    payload = dict(body=body)
    summary = dict(body=body)
    add_attachments(params, payload, summary)
    mask_attachments(payload, summary, secrets)
    return PreparedComment(payload, summary)


def add_comment(client, ticket_id, payload, ticket_known=False):
    """``POST /comments`` on ticket ``ticket_id``; return the comment as the API answers it.

    On a 404 the ticket is looked up (unless ``ticket_known``): a ticket that is not found is an ``InputError``,
    else the endpoint is refused. A lost answer says the comment may have been added.
    """
    body = dict(payload, ticket_id=ticket_id)
    try:
        dummy, comment = _request(client, 'POST', '/comments', body=body)
    except ResponseLostError as exc:
        raise ResponseLostError(
            '{0} The comment may have been added to ticket {1}: read its conversation (upsun.support.ticket_info with '
            'comments: true) before running again.'.format(exc.msg, ticket_id), status=exc.status, url=exc.url,
            request_sent=exc.request_sent)
    except CommentsRefusedError as exc:
        if exc.status == 404 and not ticket_known:
            get_ticket(client, ticket_id)
        raise
    if not isinstance(comment, dict):
        raise ApiError('The Upsun API answered POST /comments without a comment object.', url=client.api_url + '/comments')
    return comment


def list_comments(client, ticket_id):
    """Every comment of ticket ``ticket_id``, oldest first (the description first), as the API gives them.

    Follows the pages of ``GET /comments/{ticket_id}`` until the API's ``count`` is read, a page brings nothing
    new, or there is no ``next`` link; a ``next`` link that does not move forward and ``client.page_limit`` stop
    it with a warning. The comments are put in order by ``created_at`` then ``comment_id``, whatever order the
    pages use (the Console's reads newest first).
    """
    path = '/comments/{0}'.format(ticket_id)
    comments = []
    seen = set()
    page = 1
    for pages_read in range(1, client.page_limit + 1):
        dummy, body = _request(client, 'GET', path, params=dict(page=page))
        body = body if isinstance(body, dict) else {}
        listed = body.get('comments')
        new = [item for item in (listed if isinstance(listed, list) else [])
               if isinstance(item, dict) and _identity(item) not in seen]
        seen.update(_identity(item) for item in new)
        comments.extend(new)
        count = body.get('count')
        if not new or (isinstance(count, int) and len(comments) >= count):
            break
        href = _next_href(body)
        if not href:
            break
        next_page = _page_number(href)
        if next_page is None or next_page <= page:
            client.warn('GET {0}: the next link of page {1} does not move forward; stopped there, with {2} comments.'.format(
                path, page, len(comments)))
            break
        if pages_read == client.page_limit:
            client.warn('GET {0}: stopped after {1} pages (page_limit), with {2} comments; raise page_limit to read '
                        'them all.'.format(path, pages_read, len(comments)))
            break
        page = next_page
    return sorted(comments, key=_age)


def conversation(client, ticket):
    """The comments of ``ticket`` oldest first, each with ``by_requester``: whether the ticket's requester wrote it."""
    requester = str(ticket.get('requester_id') or '').lower()
    return [dict(comment, by_requester=bool(requester) and str(comment.get('author_id') or '').lower() == requester)
            for comment in list_comments(client, ticket['ticket_id'])]


def _request(client, method, path, params=None, body=None):
    try:
        return client.request(method, path, params=params, body=body)
    except ApiError as exc:
        if exc.status not in REFUSED_STATUSES:
            raise
        raise CommentsRefusedError(
            'The Upsun API refused {0} {1} (HTTP {2}: {3}): it does not offer the comment endpoints to this API '
            'token. They are the endpoints of the Upsun Console, which the API does not promise to other clients; '
            'the documented ticket endpoints still work.'.format(method, path, exc.status, exc.api_error or 'no detail'),
            status=exc.status, url=exc.url, api_error=exc.api_error)


def _next_href(body):
    """The ``next`` link of a page, or None (also for links of another shape: the answer is not trusted)."""
    links = body.get('_links')
    link = links.get('next') if isinstance(links, dict) else None
    href = link.get('href') if isinstance(link, dict) else None
    return href if isinstance(href, str) else None


def _identity(comment):
    return comment.get('comment_id') if comment.get('comment_id') is not None else id(comment)


def _age(comment):
    number = comment.get('comment_id')
    return (str(comment.get('created_at') or ''), number if isinstance(number, int) and not isinstance(number, bool) else 0)
