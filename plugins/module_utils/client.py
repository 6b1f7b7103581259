# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the Upsun API: one ``Client`` per run, made of the transport's parts.

One ``requests.Session`` per thread of a run (the first one serves the
token exchange and the API calls, over shared connections; the threads that
read pages at once each get their own, as a session is not safe to share
between threads), with one access token for all of them, exchanged once
(``access_token``). Time is bounded twice: ``timeout`` bounds each HTTP
attempt from connecting to the last byte of the answer (``watchdog``), and
``deadline`` the whole operation of a client, every attempt and every wait
(``retries``). A POST whose answer is lost (timeout after sending, a reset
after the headers or in the body) is raised as ``ResponseLostError`` so the
caller can say the ticket may exist.

Answers are read as a stream, ``max_response_size`` bytes at most: a longer
one (announced or not, chunked or not) fails as soon as it passes the cap,
so an endless answer costs neither memory nor more than a moment.

The environment is read once per client, not by requests on every request
(the sessions do not trust it): the proxies of each host, by requests' own
rules (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``), and the trust store
(``trust``). So ``~/.netrc`` is never read: requests would put its
login in place of the Bearer token.

Nothing here knows of ``AnsibleModule``: modules get their client from
``module_client``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import platform
import threading
import traceback
import warnings
from urllib.parse import urlsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION

from ansible_collections.upsun.support.plugins.module_utils.access_token import TokenExchange
from ansible_collections.upsun.support.plugins.module_utils.api_errors import api_error
from ansible_collections.upsun.support.plugins.module_utils.constants import COLLECTION_NAME, COLLECTION_VERSION
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, mask_userinfo
from ansible_collections.upsun.support.plugins.module_utils.retries import DEFAULT_DEADLINE, Failure, RetryLoop, TooLarge
from ansible_collections.upsun.support.plugins.module_utils.trust import WatchedAdapter, trust_store
from ansible_collections.upsun.support.plugins.module_utils.watchdog import Attempt

try:
    import requests
    from urllib3.exceptions import InsecureRequestWarning
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

DEFAULT_PAGE_LIMIT = 100
DEFAULT_PAGE_CONCURRENCY = 4
DEFAULT_MAX_RESPONSE_SIZE = 10485760
# Bytes read from the socket at a time: small enough that a compressed answer cannot pass the cap by much in one step.
READ_CHUNK_SIZE = 16384


def user_agent():
    return 'ansible-collection-{0}/{1} (ansible-core {2}; python {3}; requests {4})'.format(
        COLLECTION_NAME, COLLECTION_VERSION, ANSIBLE_VERSION, platform.python_version(),
        getattr(requests, '__version__', 'unknown') if HAS_REQUESTS else 'missing')


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


def _read_capped(response, limit):
    """Read a streamed response's body into it, ``limit`` bytes at most; raise ``TooLarge`` past that."""
    if response.headers.get('Content-Encoding') in (None, '', 'identity'):
        try:
            declared = int(response.headers.get('Content-Length') or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise TooLarge(response.status_code, limit, declared)
    chunks = []
    total = 0
    for chunk in response.iter_content(READ_CHUNK_SIZE):
        total += len(chunk)
        if total > limit:
            raise TooLarge(response.status_code, limit)
        chunks.append(chunk)
    # What requests itself would hold after reading the whole body at once.
    response._content = b''.join(chunks)  # pylint: disable=protected-access


def _origin(url):
    parts = urlsplit(url)
    return '{0}://{1}'.format(parts.scheme, parts.netloc)


class Client(RetryLoop, TokenExchange):
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
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.page_limit = page_limit
        self.page_concurrency = page_concurrency
        self.max_response_size = max_response_size
        self._warn = warn
        self._local = threading.local()
        self._sessions = []
        self._lock = threading.Lock()
        self._init_retries(retries, deadline)
        self._init_token(auth_url, token_url, api_token, access_token, token_source)
        # What requests gets as verify with every request, the SSL context of the sessions, and what that trusts.
        self.verify, self._ssl_context, self.trusted = trust_store(self.validate_certs, self.ca_path)
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
            adapter = WatchedAdapter(self._ssl_context)
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

    def _proxies_for(self, url):
        """The proxies for ``url``, as requests would read them from the environment; once per origin."""
        origin = _origin(url)
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = requests.utils.get_environ_proxies(url)
        return proxies

    def _attempt(self, method, url, budget, kwargs):
        """One HTTP attempt within ``budget`` seconds: the response, or a ``retries.Failure``."""
        attempt = Attempt(budget)
        # A redirect is answered, not followed (see api_errors.api_error): requests would send a form body (the API token)
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
        except (requests.exceptions.RequestException, OSError, TooLarge) as exc:
            return Failure(exc, attempt.expired)
        if attempt.expired:
            # Cut off by the watchdog: older urllib3 (1.26) returns what had arrived without an error.
            return Failure(requests.exceptions.ReadTimeout('the answer was still incomplete'), True)
        short = _short_body(response)
        if short:
            return Failure(requests.exceptions.ChunkedEncodingError(short), False)
        return response

    def request(self, method, path, params=None, body=None):
        """Call the API and return ``(status, decoded JSON or None)``.

        Exchanges the API token first when there is no access token, and once
        more on a ``401``.
        """
        url = self.api_url + path
        token = self._current_token()
        response = self._authorized(method, url, params, body, token)
        if response.status_code == 401:
            renewed = self._token_after_refusal(token)
            if renewed is not None:
                response = self._authorized(method, url, params, body, renewed)
        if response.status_code == 401:
            raise self._refused_token_error(method, url, response)
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

    def _api_error(self, method, url, response, doing=None, request_sent=True):
        return api_error(method, url, response, doing, self._gave_up(method, response), request_sent)


def client_from_settings(settings, warn=None):
    """A ``Client`` for resolved ``settings.ConnectionSettings``."""
    return Client(warn=warn, **settings.client_kwargs())
