# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the Upsun API: transport, token exchange, retries, deadlines.

One ``requests.Session`` per thread of a run (the first one serves the
token exchange and the API calls, over shared connections; the threads that
read pages at once each get their own, as a session is not safe to share
between threads), with one access token for all of them, exchanged once.
Time is bounded twice:

* ``timeout`` bounds each HTTP attempt from connecting to the last byte of
  the answer: a watchdog shuts the attempt's socket down when it runs out, so
  an answer that trickles in cannot stretch it (requests' own timeout only
  bounds each socket read);
* ``deadline`` bounds the whole operation of a client, every attempt and
  every wait: no attempt starts after it, each one is cut to what is left of
  it, and a retry whose wait would end after it is not made.

Retries are our own loop, not urllib3's ``Retry``, so that they obey the
deadline. A ``429`` pauses every thread of the client, not only the one it
answered, for as long as its ``Retry-After`` asks. A POST (which may create a ticket) is only retried when nothing can
have been created (no connection, ``429``, ``503``); a lost answer (timeout
after sending, a reset after the headers or in the body) is raised as
``ResponseLostError`` so the caller can say the ticket may exist.

Answers are read as a stream, ``max_response_size`` bytes at most: a longer
one (announced or not, chunked or not) fails as soon as it passes the cap,
so an endless answer costs neither memory nor more than a moment.

The environment is read once per client, not by requests on every request
(the sessions do not trust it): the proxies of each host, by requests' own
rules (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``), and the trust store
(see ``trust_store``). So ``~/.netrc`` is never read: requests would put its
login in place of the Bearer token.

An access token is exchanged again shortly before it expires (as the Upsun
SDKs do), not only after a ``401``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import email.utils
import heapq
import itertools
import json
import math
import os
import platform
import socket
import ssl
import threading
import time
import traceback
import warnings
from urllib.parse import urljoin, urlsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import _load_params, missing_required_lib

from ansible_collections.upsun.support.plugins.module_utils.constants import COLLECTION_NAME, COLLECTION_VERSION, OAUTH_CLIENT_ID, TOKEN_PATH
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    DeadlineError,
    InputError,
    ResponseLostError,
    TransportError,
    UpsunError,
    mask_userinfo,
)
from ansible_collections.upsun.support.plugins.module_utils.settings import (
    CA_BUNDLE_ENV,
    CONNECTION_NAMES,
    SSL_CERT_DIR_ENV,
    SSL_CERT_FILE_ENV,
    resolve_connection,
)

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, InsecureRequestWarning, MaxRetryError, NewConnectionError
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    # Lets the classes below be defined; they are never used without requests.
    HTTPAdapter = HTTPConnectionPool = HTTPSConnectionPool = HTTPConnection = HTTPSConnection = object
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

# GET and PATCH (which sets absolute values) are safe to repeat.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# A POST answered with these was refused before anything was created.
CREATE_SAFE_RETRY_STATUSES = frozenset((429, 503))
# Statuses whose Retry-After header is honoured (as urllib3 does).
RETRY_AFTER_STATUSES = frozenset((429, 503))
# Waits between attempts: 0 s before the first retry, then BACKOFF_FACTOR * 2 ** (n - 1) s.
BACKOFF_FACTOR = 1.0
MAX_BACKOFF = 120.0
# Honour Retry-After, but never wait longer than this between two attempts.
MAX_RETRY_AFTER = 60.0
DEFAULT_DEADLINE = 120.0
DEFAULT_PAGE_LIMIT = 100
DEFAULT_PAGE_CONCURRENCY = 4
DEFAULT_MAX_RESPONSE_SIZE = 10485760
# Bytes read from the socket at a time: small enough that a compressed answer cannot pass the cap by much in one step.
READ_CHUNK_SIZE = 16384
# The rate-limit status: its wait pauses every request of the client.
RATE_LIMITED = 429
# Longest API error text carried into a result.
MAX_API_ERROR_LENGTH = 2000
# An access token is exchanged again this long before it expires (at most half its lifetime), as the SDKs do.
TOKEN_RENEWAL_MARGIN = 60.0

# The attempt running in this thread, for the connection pools below.
_CURRENT = threading.local()


class _Watchdog:
    """One thread that ends the attempts whose time ran out, for every attempt of the process.

    A thread per attempt would cost more than a request to a near API: its
    start waits for the GIL, which the threads reading pages ahead hold.
    """

    def __init__(self):
        self._pid = None
        self._cond = None
        self._heap = []
        self._order = itertools.count()
        self._start_lock = threading.Lock()

    def _start(self):
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # First use, or a forked child (a worker of the controller): the parent's thread is not here, and its
            # condition may have been held at the fork.
            self._cond = threading.Condition()
            self._heap = []
            thread = threading.Thread(target=self._run, args=(self._cond, self._heap), name='upsun-support-watchdog')
            thread.daemon = True
            thread.start()
            self._pid = os.getpid()

    def watch(self, attempt, seconds):
        """Call ``attempt.expire()`` in ``seconds``, unless it is done by then."""
        if self._pid != os.getpid():
            self._start()
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), attempt))
            if self._heap[0][2] is attempt:
                self._cond.notify()

    @staticmethod
    def _run(cond, heap):
        while True:
            with cond:
                while True:
                    while heap and heap[0][2].done:
                        heapq.heappop(heap)
                    wait = heap[0][0] - time.monotonic() if heap else None
                    if wait is not None and wait <= 0:
                        attempt = heapq.heappop(heap)[2]
                        break
                    cond.wait(wait)
            attempt.expire()


_WATCHDOG = _Watchdog()


class _Attempt:
    """The time bound of one HTTP attempt: when it runs out, the sockets it used are shut down.

    A blocked read then returns at once, however slowly the answer was
    arriving. Leaving the ``with`` block ends the watch (a connection kept
    alive for the next attempt is never touched afterwards).
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.expired = False
        self.done = False
        self._lock = threading.Lock()
        self._connections = []

    def __enter__(self):
        _CURRENT.attempt = self
        _WATCHDOG.watch(self, self.seconds)
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self.done = True
        _CURRENT.attempt = None

    def watch(self, connection):
        with self._lock:
            self._connections.append(connection)
            expired = self.expired and not self.done
        if expired:
            _shut(connection)

    def expire(self):
        with self._lock:
            if self.done:
                return
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection):
    sock = getattr(connection, 'sock', None) or getattr(connection, 'upsun_sock', None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass


class _WatchedConnection:
    """Connection mixin that remembers its socket: http.client forgets it (``sock = None``) as soon as an answer says
    ``Connection: close``, while that answer, which only the close would end, is still being read from it."""

    def connect(self):
        super(_WatchedConnection, self).connect()
        self.upsun_sock = self.sock


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool:
    """Connection pool mixin: each request's connection is handed to the attempt running in this thread."""

    def _make_request(self, conn, *args, **kwargs):
        attempt = getattr(_CURRENT, 'attempt', None)
        if attempt is not None:
            attempt.watch(conn)
        return super(_WatchedPool, self)._make_request(conn, *args, **kwargs)


class _WatchedHTTPConnectionPool(_WatchedPool, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watch_pools(manager):
    """Make a urllib3 pool manager (direct or proxy) use the watched pools; other managers (SOCKS) are left alone."""
    classes = getattr(manager, 'pool_classes_by_scheme', None) or {}
    if classes.get('http') is HTTPConnectionPool and classes.get('https') is HTTPSConnectionPool:
        manager.pool_classes_by_scheme = {'http': _WatchedHTTPConnectionPool, 'https': _WatchedHTTPSConnectionPool}
    return manager


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, without retries of its own, on watched connection pools.

    With ``ssl_context``, certificates are checked against that context's
    trust store only (this session's, not the process's: nothing global is
    changed, unlike ``truststore.inject_into_ssl()``).
    """

    def __init__(self, ssl_context=None):
        # Set first: requests' __init__ makes the pool manager.
        self._ssl_context = ssl_context
        super(_WatchedAdapter, self).__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        if self._ssl_context is not None:
            kwargs['ssl_context'] = self._ssl_context
        super(_WatchedAdapter, self).init_poolmanager(*args, **kwargs)
        _watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        if self._ssl_context is not None:
            proxy_kwargs['ssl_context'] = self._ssl_context
        return _watch_pools(super(_WatchedAdapter, self).proxy_manager_for(proxy, **proxy_kwargs))

    def cert_verify(self, conn, url, verify, cert):
        super(_WatchedAdapter, self).cert_verify(conn, url, verify, cert)
        if self._ssl_context is not None and verify is True:
            # requests would add its own bundle (certifi) to the context: the context alone decides.
            conn.ca_certs = None
            conn.ca_cert_dir = None


def trust_store(validate_certs, ca_path, environ=None):
    """How certificates are checked: ``(verify, ssl_context, what is trusted)``, in this order of precedence.

    ``validate_certs`` false; ``ca_path``; ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` (as requests reads them); ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` (as OpenSSL and the Upsun CLI read them); the operating
    system's store where the ``truststore`` package is importable (as pip
    does); else requests' own bundle (certifi).
    """
    environ = os.environ if environ is None else environ
    if not validate_certs:
        return False, None, 'nothing'
    if ca_path:
        return ca_path, None, 'the CA bundle of ca_path ({0})'.format(ca_path)
    for name in CA_BUNDLE_ENV:
        if environ.get(name):
            return environ[name], None, 'the CA bundle of {0} ({1})'.format(name, environ[name])
    cafile, capath = environ.get(SSL_CERT_FILE_ENV) or None, environ.get(SSL_CERT_DIR_ENV) or None
    if cafile or capath:
        names = ' and '.join('{0} ({1})'.format(name, value) for name, value in (
            (SSL_CERT_FILE_ENV, cafile), (SSL_CERT_DIR_ENV, capath)) if value)
        try:
            context = ssl.create_default_context(cafile=cafile, capath=capath)
        except (OSError, ValueError) as exc:
            raise InputError('Cannot load the CA certificates of {0}: {1}. Set it to a PEM file (SSL_CERT_FILE) or a '
                             'hashed directory (SSL_CERT_DIR) of CA certificates, or unset it.'.format(names, exc))
        return True, context, 'the CA certificates of {0}'.format(names)
    context = _system_context()
    if context is not None:
        return True, context, "the operating system's trust store (truststore)"
    return True, None, "requests' CA bundle (certifi)"


def _system_context():
    """An SSL context on the operating system's trust store, or None when truststore is not importable."""
    try:
        import truststore  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def user_agent():
    return 'ansible-collection-{0}/{1} (ansible-core {2}; python {3}; requests {4})'.format(
        COLLECTION_NAME, COLLECTION_VERSION, ANSIBLE_VERSION, platform.python_version(),
        getattr(requests, '__version__', 'unknown') if HAS_REQUESTS else 'missing')


def api_error_text(response):
    """The API's own error message from a response, without anything else of the body."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or '').strip()
        return text[:MAX_API_ERROR_LENGTH] or None
    if not isinstance(body, dict):
        return json.dumps(body)[:MAX_API_ERROR_LENGTH]
    parts = []
    for key in ('error', 'title', 'error_description', 'detail', 'message'):
        value = body.get(key)
        if value and isinstance(value, dict):
            value = '; '.join('{0}: {1}'.format(field, message) for field, message in value.items())
        if value and isinstance(value, (str, int, float)) and str(value) not in parts:
            parts.append(str(value))
    text = ': '.join(parts) if parts else json.dumps(body)
    return text[:MAX_API_ERROR_LENGTH]


def field_messages(response):
    """The API's messages by field, when its ``detail`` is an object of field -> message, else an empty list."""
    try:
        body = response.json()
    except ValueError:
        return []
    detail = body.get('detail') if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        return []
    return [(str(field), message if isinstance(message, str) else json.dumps(message)) for field, message in detail.items()]


def option_of_field(field):
    """The option that sets an API field: ``attachments[0].filename`` -> ``attachments``, ``filter[type]`` -> ``type``."""
    if field.startswith('filter[') and ']' in field:
        return field[len('filter['):field.index(']')]
    for mark in ('[', '.'):
        field = field.split(mark, 1)[0]
    return field


def _field_advice(response):
    """What to do about a refusal whose detail names the fields: each option, with the API's message, or None."""
    messages = field_messages(response)
    if not messages:
        return None
    parts = []
    for field, message in messages:
        option = option_of_field(field)
        where = 'the {0} option'.format(option) + ('' if option == field else ' ({0})'.format(field))
        parts.append('{0}: {1}'.format(where, message))
    advice = 'The API refused {0}. Fix {1} and run again.'.format('; '.join(parts), 'it' if len(parts) == 1 else 'them')
    return advice[:MAX_API_ERROR_LENGTH]


def _renewal_time(sent, response):
    """When an access token answered to a request sent at ``sent`` is to be exchanged again; None if not said."""
    try:
        lifetime = float(response.json().get('expires_in'))
    except (ValueError, TypeError, AttributeError):
        return None
    if lifetime <= 0 or not math.isfinite(lifetime):
        return None
    return sent + lifetime - min(TOKEN_RENEWAL_MARGIN, lifetime / 2)


def _is_connect_failure(exc):
    """True when ``exc`` proves the request never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _may_repeat(method, status=None):
    """Whether a request may be sent again: after ``status``, or (None) after a failure before any answer."""
    if method.upper() != 'POST':
        return True
    return status in CREATE_SAFE_RETRY_STATUSES


def _retry_after(response):
    """The seconds a Retry-After header asks for (capped), or None without a usable one."""
    value = (response.headers.get('Retry-After') or '').strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _short_body(response):
    """Why the body is shorter than its Content-Length says (the connection ended early), or None."""
    length = response.headers.get('Content-Length')
    if not length or response.headers.get('Content-Encoding') not in (None, '', 'identity'):
        return None
    try:
        expected = int(length)
    except ValueError:
        return None
    received = len(response.content)
    if received < expected:
        return 'the connection ended after {0} of the {1} bytes of the answer'.format(received, expected)
    return None


class _TooLarge(Exception):
    """An answer longer than ``max_response_size``: ``declared`` when its Content-Length said so before any byte."""

    def __init__(self, status, limit, declared=None):
        super(_TooLarge, self).__init__(status, limit, declared)
        self.status = status
        self.limit = limit
        self.declared = declared


def _read_capped(response, limit):
    """Read a streamed response's body into it, ``limit`` bytes at most; raise ``_TooLarge`` past that."""
    if response.headers.get('Content-Encoding') in (None, '', 'identity'):
        try:
            declared = int(response.headers.get('Content-Length') or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise _TooLarge(response.status_code, limit, declared)
    chunks = []
    total = 0
    for chunk in response.iter_content(READ_CHUNK_SIZE):
        total += len(chunk)
        if total > limit:
            raise _TooLarge(response.status_code, limit)
        chunks.append(chunk)
    # What requests itself would hold after reading the whole body at once.
    response._content = b''.join(chunks)  # pylint: disable=protected-access


def _redirect_target(url, response):
    """Where a redirect answer points (relative to ``url``), without credentials, query or fragment; or None."""
    location = (response.headers.get('Location') or '').strip()
    if not location:
        return None
    parts = urlsplit(urljoin(url, location))
    host = parts.hostname or ''
    if ':' in host:
        host = '[{0}]'.format(host)
    try:
        port = parts.port
    except ValueError:
        port = None
    return '{0}://{1}{2}{3}'.format(parts.scheme, host, ':{0}'.format(port) if port else '', parts.path)


def _origin(url):
    parts = urlsplit(url)
    return '{0}://{1}'.format(parts.scheme, parts.netloc)


class _Failure:
    """How one attempt failed: ``kind`` is tls, proxy, connect (nothing was sent), lost (sent, no full answer) or
    too_large (an answer longer than max_response_size, not retried: it would come back as long)."""

    def __init__(self, exc, expired):
        self.exc = exc
        self.expired = expired
        if isinstance(exc, _TooLarge):
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


class Client:
    """Talks to the Upsun API on behalf of one module run (or one filing of a plugin).

    ``warn`` receives one message per retry (``module.warn``) and what else
    the user should know. ``token_source`` names where the API token came
    from, for authentication error messages; ``validate_certs_source`` names
    the variable that turned ``validate_certs`` off, if one did. The
    ``deadline`` clock starts when the client is made.
    """

    def __init__(self, api_url, auth_url, api_token=None, access_token=None, timeout=30.0,
                 validate_certs=True, ca_path=None, retries=3, warn=None, token_source=None, token_url=None,
                 deadline=DEFAULT_DEADLINE, page_limit=DEFAULT_PAGE_LIMIT, validate_certs_source=None,
                 page_concurrency=DEFAULT_PAGE_CONCURRENCY, max_response_size=DEFAULT_MAX_RESPONSE_SIZE):
        self.api_url = api_url.rstrip('/')
        self.token_url = token_url or auth_url.rstrip('/') + TOKEN_PATH
        self._api_token = api_token
        self._access_token = access_token
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.retries = retries
        self.deadline = float(deadline)
        self.page_limit = page_limit
        self.page_concurrency = page_concurrency
        self.max_response_size = max_response_size
        self._deadline_at = time.monotonic() + self.deadline
        self._warn = warn
        self.token_source = token_source or 'the api_token option'
        self._local = threading.local()
        self._sessions = []
        self._lock = threading.Lock()
        # Held while the API token is exchanged: the threads of a listing share one access token.
        self._token_lock = threading.Lock()
        self.exchanges = 0
        # Every request waits until then (monotonic clock): set by a 429 for all threads.
        self._paused_until = 0.0
        # How many 429 answers this client got: a listing reading pages at once then reads one at a time.
        self.rate_limited = 0
        # What requests gets as verify with every request, the SSL context of the sessions, and what that trusts.
        self.verify, self._ssl_context, self.trusted = trust_store(self.validate_certs, self.ca_path)
        # When the access token is to be exchanged again (the clock's time), or None: not known, or no API token.
        self.clock = time.monotonic
        self._renew_at = None
        # The proxies of each origin (scheme://host:port), read from the environment at its first request.
        self._proxies = {}
        if not self.validate_certs:
            hosts = []
            for url in (self.api_url, self.token_url):
                if _origin(url) not in hosts:
                    hosts.append(_origin(url))
            self.warn(
                'validate_certs is false{0}: the TLS certificates of {1} are not checked, so anyone on the network '
                'path could read the API token and the tickets. Only do this with a test server; to trust a '
                'private CA, give its bundle as ca_path instead.'.format(
                    ' (set by {0})'.format(validate_certs_source) if validate_certs_source else '', ' and '.join(hosts)))

    @property
    def session(self):
        """The session of the calling thread (made at its first request)."""
        session = getattr(self._local, 'session', None)
        if session is None:
            session = requests.Session()
            # Not read from the environment on every request (see the module docstring).
            session.trust_env = False
            session.headers['User-Agent'] = user_agent()
            session.verify = self.verify
            adapter = _WatchedAdapter(self._ssl_context)
            session.mount('http://', adapter)
            session.mount('https://', adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close_thread_session(self):
        """Close the calling thread's session: a thread that read pages ahead, before it ends.

        A client that serves one listing after another (the event source) keeps no connection of a finished thread.
        """
        session = getattr(self._local, 'session', None)
        if session is None:
            return
        self._local.session = None
        with self._lock:
            if session in self._sessions:
                self._sessions.remove(session)
        session.close()

    def close(self):
        """Close the sessions of every thread."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
            self._local = threading.local()
        for session in sessions:
            session.close()

    def warn(self, message):
        """Tell the user something (a module warning, the callback's output)."""
        if self._warn is not None:
            message = mask_userinfo(message)
            self._warn(message)

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

    def _proxies_for(self, url):
        """The proxies for ``url``, as requests would read them from the environment; once per origin."""
        origin = _origin(url)
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = requests.utils.get_environ_proxies(url)
        return proxies

    def _attempt(self, method, url, budget, kwargs):
        """One HTTP attempt within ``budget`` seconds: the response, or a ``_Failure``."""
        attempt = _Attempt(budget)
        # A redirect is answered, not followed (see _api_error): requests would send a form body (the API token)
        # or a ticket on to wherever it points, and turn a POST into a GET after a 301 or 302.
        # Streamed, so that the body is read within the cap (and within the attempt's time, by the watchdog).
        options = dict(timeout=(budget, budget), verify=self.verify, proxies=self._proxies_for(url),
                       allow_redirects=False, stream=True)
        options.update(kwargs)
        # Without certificate checks, urllib3's warning is silenced: it was said once, in our own words, when the
        # client was made. Otherwise the process's warning filters are left alone (catch_warnings is not thread-safe).
        quiet = warnings.catch_warnings() if self.verify is False else contextlib.nullcontext()
        try:
            with attempt, quiet:
                if self.verify is False:
                    warnings.simplefilter('ignore', InsecureRequestWarning)
                response = self.session.request(method, url, **options)
                try:
                    _read_capped(response, self.max_response_size)
                finally:
                    # Only an answer read to its end leaves its connection for the next request.
                    if response._content is False:  # pylint: disable=protected-access
                        response.close()
        except (requests.exceptions.RequestException, OSError, _TooLarge) as exc:
            return _Failure(exc, attempt.expired)
        if attempt.expired:
            # Cut off by the watchdog: older urllib3 (1.26) returns what had arrived without an error.
            return _Failure(requests.exceptions.ReadTimeout('the answer was still incomplete'), True)
        short = _short_body(response)
        if short:
            return _Failure(requests.exceptions.ChunkedEncodingError(short), False)
        return response

    def _send(self, method, url, **kwargs):
        """Send one request, retried as the policy and the deadline allow; the response, or our error.

        The response carries ``upsun_retries`` (how many retries were made)
        and ``upsun_no_retry`` (why no further retry was made, if the
        deadline stopped them).
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
            if isinstance(outcome, _Failure):
                status = None
                retryable = outcome.kind in ('connect', 'proxy') or (outcome.kind == 'lost' and _may_repeat(method))
                wait = self._backoff(retries_made + 1)
            else:
                status = outcome.status_code
                if status == RATE_LIMITED:
                    with self._lock:
                        self.rate_limited += 1
                retryable = status in RETRY_STATUSES and _may_repeat(method, status)
                wait = None
                if retryable and status in RETRY_AFTER_STATUSES:
                    wait = _retry_after(outcome)
                if wait is None:
                    wait = self._backoff(retries_made + 1)
            no_retry = None
            if retryable and retries_made < self.retries and wait >= self.remaining():
                no_retry = ('no retry: waiting {0:g} s would pass the deadline of {1:g} s'.format(wait, self.deadline)
                            if wait > 0 else 'no retry: the deadline of {0:g} s has passed'.format(self.deadline))
            if not retryable or retries_made >= self.retries or no_retry:
                if isinstance(outcome, _Failure):
                    raise self._failure_error(method, url, outcome, budget, retries_made, no_retry)
                outcome.upsun_retries = retries_made
                outcome.upsun_no_retry = no_retry
                return outcome
            retries_made += 1
            self._on_retry(method, url, status, outcome if status is None else None, retries_made, wait)
            if status == RATE_LIMITED:
                # The rate limit is the token's, not this request's: the other threads hold back too.
                self._pause(wait)
            self.sleep(wait)

    def _failure_error(self, method, url, failure, budget, retries_made, no_retry):
        reason = _reason(failure.exc)
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
                    failure.exc.limit), url=url)
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
                url=url)
        return ResponseLostError('{0} {1} was sent but no answer came back: {2}.{3}'.format(
            method, url, reason, gave_up), url=url)

    def exchange_token(self):
        """Trade the API token for a fresh access token."""
        if not self._api_token:
            raise AuthenticationError(
                'The access token was refused and no API token is set to get a new one. Set api_token '
                '(or the UPSUN_CLI_TOKEN environment variable) so the module can exchange it.')
        sent = self.clock()
        response = self._send(
            'POST', self.token_url,
            data={'grant_type': 'api_token', 'api_token': self._api_token},
            auth=(OAUTH_CLIENT_ID, ''))
        self.exchanges += 1
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                'The Upsun auth server refused the API token from {0} (HTTP {1}: {2}). Check that {0} holds a valid, '
                'unrevoked API token (Upsun console: My profile > API tokens) and that auth_url/UPSUN_CLI_AUTH_URL '
                'is right.'.format(self.token_source, response.status_code, api_error_text(response) or 'no detail'),
                status=response.status_code, url=self.token_url, api_error=api_error_text(response))
        if response.status_code != 200:
            raise self._api_error('POST', self.token_url, response, 'for the token exchange')
        try:
            token = response.json()['access_token']
        except (ValueError, KeyError, TypeError):
            raise ApiError('The auth server at {0} answered HTTP 200 without an access_token. Check auth_url/UPSUN_CLI_AUTH_URL.'.format(
                self.token_url), status=200, url=self.token_url)
        self._access_token = token
        self._renew_at = _renewal_time(sent, response)

    def _token_due(self):
        """Whether there is no access token yet, or the one held expires soon and the API token can renew it."""
        if not self._access_token:
            return True
        return bool(self._api_token) and self._renew_at is not None and self.clock() >= self._renew_at

    def request(self, method, path, params=None, body=None):
        """Call the API and return ``(status, decoded JSON or None)``.

        Exchanges the API token first when there is no access token, and once
        more on a ``401``.
        """
        url = self.api_url + path
        if self._token_due():
            with self._token_lock:
                if self._token_due():
                    self.exchange_token()
        token = self._access_token
        response = self._authorized(method, url, params, body, token)
        if response.status_code == 401 and self._api_token:
            with self._token_lock:
                # Another thread may have exchanged it meanwhile: then its new token is tried, not exchanged again.
                if self._access_token == token:
                    self.exchange_token()
            response = self._authorized(method, url, params, body, self._access_token)
        if response.status_code == 401:
            if self._api_token:
                advice = 'Check {0}; a new API token can be created in the Upsun console.'.format(self.token_source)
            else:
                advice = ('The access_token option may have expired: set api_token (or the UPSUN_CLI_TOKEN environment '
                          'variable) so the module can get a new access token.')
            raise AuthenticationError(
                'The Upsun API refused the access token for {0} {1} (HTTP 401: {2}). {3}'.format(
                    method, url, api_error_text(response) or 'no detail', advice),
                status=401, url=url, api_error=api_error_text(response))
        if response.status_code >= 300:
            raise self._api_error(method, url, response)
        if response.status_code == 204 or not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ApiError('The Upsun API answered {0} {1} with HTTP {2} but a body that is not JSON.'.format(
                method, url, response.status_code), status=response.status_code, url=url)

    def _authorized(self, method, url, params, body, token):
        return self._send(method, url, params=params, json=body,
                          headers={'Authorization': 'Bearer ' + token, 'Accept': 'application/json'})

    def _api_error(self, method, url, response, doing=None):
        status = response.status_code
        if 300 <= status < 400:
            target = _redirect_target(url, response)
            return ApiError('The Upsun API answered {0} {1} with HTTP {2}{3}, a redirect {4}: it is not followed, so '
                            'that neither a token nor a ticket goes to an address that was not set. {5}'.format(
                                method, url, status, ' ' + doing if doing else '',
                                'to ' + target if target else 'without a Location', ADVICE_REDIRECT),
                            status=status, url=url)
        text = api_error_text(response)
        advice = _field_advice(response) or ADVICE_BY_STATUS.get(status) or (
            ADVICE_SERVER_ERROR if status >= 500 else ADVICE_OTHER)
        if status in RETRY_STATUSES and _may_repeat(method, status):
            no_retry = getattr(response, 'upsun_no_retry', None)
            advice = 'Gave up after {0} retries{1}. {2}'.format(
                getattr(response, 'upsun_retries', self.retries), ' ({0})'.format(no_retry) if no_retry else '', advice)
        return ApiError('The Upsun API answered {0} {1} with HTTP {2}{3}: {4}. {5}'.format(
            method, url, status, ' ' + doing if doing else '', text or 'no detail', advice),
            status=status, url=url, api_error=text)


ADVICE_BY_STATUS = {
    400: 'The API could not read the request; check the option the message names.',
    403: 'The token user may not act on this organization, subscription or ticket; check organization_id, '
         'subscription_id and the user behind the API token.',
    404: 'Check api_url (UPSUN_CLI_API_URL) and the ticket id.',
    409: 'The ticket changed meanwhile; run again.',
    422: 'Fix the value the API names and run again.',
    429: 'The API is rate limiting this token; wait and run again, or raise retries.',
}
ADVICE_REDIRECT = ('Set api_url (UPSUN_CLI_API_URL), auth_url (UPSUN_CLI_AUTH_URL) or token_url '
                   '(UPSUN_CLI_OAUTH2_TOKEN_URL) to the address the service answers at, if you trust it.')
ADVICE_SERVER_ERROR = 'The Upsun API is failing; try again later, and contact Upsun support if it persists.'
ADVICE_OTHER = 'Check the request options.'


def _reason(exc):
    """A short, secret-free description of a requests exception."""
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    args = getattr(reason, 'args', ())
    # urllib3's ProtocolError("Connection broken: ...", ConnectionResetError(...)): the words, not the tuple.
    if isinstance(reason, Exception) and len(args) == 2 and isinstance(args[1], BaseException):
        return '{0} ({1})'.format(str(args[0]).rstrip(':. '), args[1])
    return str(reason)


def client_from_settings(settings, warn=None):
    """A ``Client`` for resolved ``settings.ConnectionSettings``."""
    return Client(warn=warn, **settings.client_kwargs())


@contextlib.contextmanager
def module_client(module):
    """The ``Client`` of one module run, for a ``with`` block.

    Resolves and checks the connection settings first, turns the collection's
    own errors into ``fail_json`` (anything else is a bug and shows as one), and
    closes the session at the end.
    """
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    client = None
    try:
        settings = resolve_connection(*_given_connection(module))
        # Values read from the environment are not in the module's parameters: hide them in its output too.
        module.no_log_values.update(settings.secret_values() + settings.url_passwords())
        settings.validate()
        client = client_from_settings(settings, warn=module.warn)
        yield client
    except UpsunError as exc:
        module.fail_json(**exc.to_result())
    finally:
        if client is not None:
            client.close()


def _given_connection(module):
    """The connection values the task set (``module_defaults`` included), not the spec's defaults, and their origin."""
    given = _load_params()
    values = dict((name, module.params.get(name)) for name in CONNECTION_NAMES if given.get(name) is not None)
    return values, dict((name, 'option') for name in values)
