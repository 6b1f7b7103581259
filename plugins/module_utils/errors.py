# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's exception hierarchy.

Every failure the collection expects (bad input, an API answer, a network
problem) is an ``UpsunError``; ``main()`` of each module turns it into
``fail_json`` output with ``to_result()``. Anything else is a bug and is left
to show as one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.module_utils.masking import mask_userinfo

# Server errors after which a request that reached the server may still have been carried out.
AMBIGUOUS_STATUSES = frozenset((500, 502, 504))


def may_have_acted(status):
    """Whether the server may have carried out a request that reached it, by the ``status`` of its answer.

    ``None``: no usable answer came back (lost). The one rule for a POST, which
    may create a ticket: the client repeats one only when it cannot have, and a
    create that may have is reported as a ticket that may exist. A refusal
    (``4xx``, ``429``, ``503``, a redirect) did not; a success, a lost answer,
    and a server error that does not say it refused (AMBIGUOUS_STATUSES) may
    have.
    """
    return status is None or 200 <= status < 300 or status in AMBIGUOUS_STATUSES


class UpsunError(Exception):
    """Base class: a failure with a message meant for the user.

    ``status``, ``url`` and ``api_error`` are added to the module result when
    known. No secret may be passed in any of them: callers build messages from
    option names, URLs and the API's own error text only; the credentials of
    any URL in them are masked here.

    ``request_sent`` says whether the request the caller made (not the token
    exchange the client made for it) reached the server: by default, when an
    answer came back (``status``).
    """

    def __init__(self, msg, status=None, url=None, api_error=None, request_sent=None):
        msg = mask_userinfo(msg)
        super(UpsunError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.request_sent = self._sent_by_default() if request_sent is None else request_sent
        self.url = mask_userinfo(url)
        self.api_error = mask_userinfo(api_error)

    def to_result(self):
        """Return the keyword arguments for ``module.fail_json()``."""
        result = {'msg': self.msg}
        if self.status is not None:
            result['status'] = self.status
        if self.url is not None:
            result['url'] = self.url
        if self.api_error is not None:
            result['api_error'] = self.api_error
        return result

    def _sent_by_default(self):
        return self.status is not None


class InputError(UpsunError):
    """An option value the API would refuse, found before any request."""


class ApiError(UpsunError):
    """The API answered with an error status."""


class AuthenticationError(ApiError):
    """No valid access token could be had or used."""


class TransportError(UpsunError):
    """The API could not be reached, or did not answer in time."""


class DeadlineError(TransportError):
    """The operation's deadline passed before a request could be made (or retried)."""


class DedupeLockError(UpsunError):
    """The lock of a dedupe_key could not be had: held by another run, or its directory is not safe."""


class TicketMayExistError(UpsunError):
    """A create request was sent but its answer was lost.

    The ticket may or may not exist; posting again blindly could file a
    duplicate, so the module stops and says how to check. ``reference`` is
    the dedupe reference the ticket carries when it was filed with a
    ``dedupe_key`` (``None`` without one): a later run, a spool flush or a
    person can search for it before filing again. The result says
    ``may_exist``, so that the role and the callback spool it marked so, and,
    with a reference, ``dedupe_reference``.
    """

    def __init__(self, msg, status=None, url=None, api_error=None, reference=None):
        super(TicketMayExistError, self).__init__(msg, status=status, url=url, api_error=api_error)
        self.reference = reference

    def to_result(self):
        result = super(TicketMayExistError, self).to_result()
        result['may_exist'] = True
        if self.reference is not None:
            result['dedupe_reference'] = self.reference
        return result


class ResponseLostError(TransportError):
    """The request was sent but no answer came back (read timeout, reset).

    For a create this is ambiguous: see ``TicketMayExistError``.
    """

    def _sent_by_default(self):
        return True
