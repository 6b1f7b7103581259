# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's retries and its deadline: when an attempt is made again, how long to wait, when to give up.

Retries are our own loop, not urllib3's ``Retry``, so that they obey the
deadline, which bounds the whole operation of a client: no attempt starts
after it, each one is cut to what is left of it, and a retry whose wait would
end after it is not made. A ``429`` pauses every thread of the client, not only
the one it answered, for as long as its ``Retry-After`` asks. A POST (which may
create a ticket) is only sent again when the server cannot have carried it out
(``errors.may_have_acted``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from urllib.parse import urlsplit

from ansible_collections.upsun.support.plugins.module_utils.errors import (
    DeadlineError,
    ResponseLostError,
    TransportError,
    may_have_acted,
)

try:
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
except ImportError:
    pass  # The client says requests is missing before any request.

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# Statuses whose Retry-After header is honoured (as urllib3 does).
RETRY_AFTER_STATUSES = frozenset((429, 503))
# Waits between attempts: 0 s before the first retry, then BACKOFF_FACTOR * 2 ** (n - 1) s.
BACKOFF_FACTOR = 1.0
MAX_BACKOFF = 120.0
# Honour Retry-After, but never wait longer than this between two attempts.
MAX_RETRY_AFTER = 60.0
DEFAULT_DEADLINE = 120.0
# The rate-limit status: its wait pauses every request of the client.
RATE_LIMITED = 429


class RetryLoop:
    """Client mixin: each request sent, retried as the policy and the deadline allow.

    Uses the client's ``_attempt`` (one HTTP attempt: a response or a
    ``Failure``), ``_lock``, ``timeout``, ``trusted`` and ``warn``.
    """

    def _init_retries(self, retries, deadline):
        self.retries = retries
        self.deadline = float(deadline)
        self._deadline_at = time.monotonic() + self.deadline
        # The clock of token renewals.
        self.clock = time.monotonic
        # Every request waits until then (monotonic clock): set by a 429 for all threads.
        self._paused_until = 0.0
        # How many 429 answers this client got: a listing reading pages at once then reads one at a time.
        self.rate_limited = 0

    def restart_deadline(self):
        """Start the deadline clock again, for a client that serves one operation after another (the event source)."""
        self._deadline_at = time.monotonic() + self.deadline

    def remaining(self):
        """Seconds left before the deadline (0 once it has passed)."""
        return max(self._deadline_at - time.monotonic(), 0.0)

    def sleep(self, seconds):
        """Wait ``seconds`` (never past the deadline), on the client's clock."""
        seconds = min(seconds, self.remaining())
        if seconds > 0:
            time.sleep(seconds)

    def _pause(self, seconds):
        """Make every request of this client (any thread) wait ``seconds`` from now before its next attempt."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _wait_out_pause(self):
        """Wait until the pause a 429 asked for (of any thread) is over, never past the deadline."""
        with self._lock:
            left = self._paused_until - time.monotonic()
        if left > 0:
            self.sleep(left)

    def _on_retry(self, method, url, status, failure, attempt, wait):
        if status is not None:
            why = 'answered HTTP {0}'.format(status)
        else:
            why = 'failed ({0})'.format(failure.name())
        self.warn('Upsun API: {0} {1} {2}; retry {3} of {4} in {5:g} s.'.format(
            method, urlsplit(url).path, why, attempt, self.retries, wait))

    def _backoff(self, retry):
        """The wait before retry number ``retry`` (1, 2, ...): 0 s, then 2 s, 4 s, ..."""
        if retry <= 1:
            return 0.0
        return min(BACKOFF_FACTOR * 2 ** (retry - 1), MAX_BACKOFF)

    def _send(self, method, url, of_token=False, **kwargs):
        """Send one request, retried as the policy and the deadline allow; the response, or our error.

        The response carries ``upsun_retries`` (how many retries were made)
        and ``upsun_no_retry`` (why no further retry was made, if the
        deadline stopped them). ``of_token``: the client's token exchange, not
        the caller's request (see ``errors.UpsunError``).
        """
        retries_made = 0
        while True:
            remaining = self.remaining()
            if remaining <= 0:
                raise DeadlineError(
                    'Gave up on {0} {1}: the deadline of {2:g} s for the whole operation has passed (the deadline '
                    'setting, UPSUN_SUPPORT_DEADLINE){3}.'.format(
                        method, url, self.deadline, ' after {0} retries'.format(retries_made) if retries_made else ''),
                    url=url)
            self._wait_out_pause()
            remaining = self.remaining()
            if remaining <= 0:
                continue
            budget = min(self.timeout, remaining)
            outcome = self._attempt(method, url, budget, kwargs)
            status = None if isinstance(outcome, Failure) else outcome.status_code
            retryable, wait = self._judge(method, outcome, status, retries_made + 1)
            no_retry = self._deadline_stops(retryable and retries_made < self.retries, wait)
            if not retryable or retries_made >= self.retries or no_retry:
                if status is None:
                    raise self._failure_error(method, url, outcome, budget, retries_made, no_retry, not of_token)
                outcome.upsun_retries = retries_made
                outcome.upsun_no_retry = no_retry
                return outcome
            retries_made += 1
            self._on_retry(method, url, status, outcome if status is None else None, retries_made, wait)
            if status == RATE_LIMITED:
                # The rate limit is the token's, not this request's: the other threads hold back too.
                self._pause(wait)
            self.sleep(wait)

    def _judge(self, method, outcome, status, retry):
        """``(whether the attempt may be made again, the wait before retry number retry)``."""
        if status is None:
            retryable = outcome.kind in ('connect', 'proxy') or (outcome.kind == 'lost' and may_repeat(method))
            return retryable, self._backoff(retry)
        if status == RATE_LIMITED:
            with self._lock:
                self.rate_limited += 1
        retryable = status in RETRY_STATUSES and may_repeat(method, status)
        wait = None
        if retryable and status in RETRY_AFTER_STATUSES:
            wait = _retry_after(outcome)
        return retryable, self._backoff(retry) if wait is None else wait

    def _deadline_stops(self, would_retry, wait):
        """Why the deadline stops a retry that would be made after ``wait`` seconds, or None."""
        if not would_retry or wait < self.remaining():
            return None
        if wait > 0:
            return 'no retry: waiting {0:g} s would pass the deadline of {1:g} s'.format(wait, self.deadline)
        return 'no retry: the deadline of {0:g} s has passed'.format(self.deadline)

    def _gave_up(self, method, response):
        """How the retries of an error answer ended (for its message), or None when it is not retried."""
        if response.status_code not in RETRY_STATUSES or not may_repeat(method, response.status_code):
            return None
        no_retry = getattr(response, 'upsun_no_retry', None)
        return 'Gave up after {0} retries{1}.'.format(
            getattr(response, 'upsun_retries', self.retries), ' ({0})'.format(no_retry) if no_retry else '')

    def _failure_error(self, method, url, failure, budget, retries_made, no_retry, request_sent=True):
        reason = failure_reason(failure.exc)
        gave_up = ''
        if retries_made or no_retry:
            gave_up = ' Gave up after {0} retries{1}.'.format(retries_made, ' ({0})'.format(no_retry) if no_retry else '')
        if failure.kind == 'tls':
            return TransportError(
                'TLS verification failed for {0}: {1}. Set ca_path to the CA bundle that signs the server certificate '
                '(or validate_certs=false for a test server only). Trusted: {2}.'.format(url, reason, self.trusted),
                url=url)
        if failure.kind == 'proxy':
            return TransportError('The proxy refused {0} {1}: {2}.{3} Check the HTTPS_PROXY/HTTP_PROXY/NO_PROXY '
                                  'environment.'.format(method, url, reason, gave_up), url=url)
        if failure.kind == 'too_large':
            return ResponseLostError(
                '{0} {1} was sent and answered HTTP {2} with {3}, more than max_response_size ({4} bytes; '
                'UPSUN_SUPPORT_MAX_RESPONSE_SIZE): it was not read further. Check api_url/auth_url; raise '
                'max_response_size only if the service really answers that much.'.format(
                    method, url, failure.exc.status,
                    'a body of {0} bytes'.format(failure.exc.declared) if failure.exc.declared else 'a longer body',
                    failure.exc.limit), url=url, request_sent=request_sent)
        if failure.kind == 'connect':
            return TransportError(
                'Could not connect to {0} after {1} retries{2}: {3}. Check api_url/auth_url (UPSUN_CLI_API_URL, '
                'UPSUN_CLI_AUTH_URL), the network and any proxy settings.'.format(
                    url, retries_made, ' ({0})'.format(no_retry) if no_retry else '', reason), url=url)
        if failure.timed_out:
            return ResponseLostError(
                '{0} {1} was sent but no answer came back within {2:g} s (timeout bounds each attempt, from '
                'connecting to the last byte of the answer): {3}.{4}'.format(
                    method, url, budget, 'the answer was still incomplete' if failure.expired else reason, gave_up),
                url=url, request_sent=request_sent)
        return ResponseLostError('{0} {1} was sent but no answer came back: {2}.{3}'.format(
            method, url, reason, gave_up), url=url, request_sent=request_sent)


def may_repeat(method, status=None):
    """Whether a request may be sent again: after ``status``, or (None) after a failure before any answer."""
    if method.upper() != 'POST':
        return True
    return not may_have_acted(status)


def _retry_after(response):
    """The seconds a Retry-After header asks for (capped), or None without a usable one."""
    value = (response.headers.get('Retry-After') or '').strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # pylint: disable=import-outside-toplevel  # only for the rare date form
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class TooLarge(Exception):
    """An answer longer than ``max_response_size``: ``declared`` when its Content-Length said so before any byte."""

    def __init__(self, status, limit, declared=None):
        super(TooLarge, self).__init__(status, limit, declared)
        self.status = status
        self.limit = limit
        self.declared = declared


class Failure:
    """How one attempt failed: ``kind`` is tls, proxy, connect (nothing was sent), lost (sent, no full answer) or
    too_large (an answer longer than max_response_size, not retried: it would come back as long)."""

    def __init__(self, exc, expired):
        self.exc = exc
        self.expired = expired
        if isinstance(exc, TooLarge):
            self.kind = 'too_large'
        elif expired:
            self.kind = 'lost'
        elif isinstance(exc, requests.exceptions.SSLError):
            self.kind = 'tls'
        elif isinstance(exc, requests.exceptions.ProxyError):
            self.kind = 'proxy'
        elif _is_connect_failure(exc):
            self.kind = 'connect'
        else:
            self.kind = 'lost'
        self.timed_out = expired or isinstance(exc, requests.exceptions.Timeout)

    def name(self):
        if self.expired:
            return 'no complete answer in time'
        reason = self.exc.args[0] if self.exc.args else self.exc
        if isinstance(reason, MaxRetryError) and reason.reason is not None:
            reason = reason.reason
        return type(reason).__name__ if isinstance(reason, BaseException) else type(self.exc).__name__


def _is_connect_failure(exc):
    """True when ``exc`` proves the request never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def failure_reason(exc):
    """A short, secret-free description of a requests exception."""
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    args = getattr(reason, 'args', ())
    # urllib3's ProtocolError("Connection broken: ...", ConnectionResetError(...)): the words, not the tuple.
    if isinstance(reason, Exception) and len(args) == 2 and isinstance(args[1], BaseException):
        return '{0} ({1})'.format(str(args[0]).rstrip(':. '), args[1])
    return str(reason)
