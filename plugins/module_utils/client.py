# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the Upsun API: transport, token exchange, retries.

One ``requests.Session`` per run, so the token exchange and the API calls
share connections. Retries are urllib3's ``Retry`` with one policy change:
a POST (which may create a ticket) is only retried when nothing can have been
created (no connection, ``429``, ``503``); its lost answers are raised as
``ResponseLostError`` so the caller can say the ticket may exist.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import platform
import traceback

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.upsun.support.plugins.module_utils.constants import COLLECTION_NAME, COLLECTION_VERSION, OAUTH_CLIENT_ID, TOKEN_PATH
from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    ResponseLostError,
    TransportError,
    UpsunError,
)
from ansible_collections.upsun.support.plugins.module_utils.settings import resolve_connection

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
    from urllib3.util.retry import Retry
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    Retry = object  # lets the class below be defined; it is never used without requests
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

# GET and PATCH (which sets absolute values) are safe to repeat.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# A POST answered with these was refused before anything was created.
CREATE_SAFE_RETRY_STATUSES = frozenset((429, 503))
BACKOFF_FACTOR = 1.0
# Honour Retry-After, but never wait longer than this between two attempts.
MAX_RETRY_AFTER = 60.0
# Longest API error text carried into a result.
MAX_API_ERROR_LENGTH = 2000


class UpsunRetry(Retry):
    """urllib3 ``Retry`` that never repeats a POST whose answer was lost, and reports each retry."""

    def __init__(self, *args, **kwargs):
        self.on_retry = kwargs.pop('on_retry', None)
        super(UpsunRetry, self).__init__(*args, **kwargs)

    def new(self, **kw):
        retry = super(UpsunRetry, self).new(**kw)
        retry.on_retry = self.on_retry
        return retry

    def is_retry(self, method, status_code, has_retry_after=False):
        if method.upper() == 'POST' and status_code not in CREATE_SAFE_RETRY_STATUSES:
            return False
        return super(UpsunRetry, self).is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if error is not None and (method or '').upper() == 'POST' and not self._is_connection_error(error):
            # The request may have been processed: re-raise so the caller can tell the user.
            raise error
        retry = super(UpsunRetry, self).increment(
            method=method, url=url, response=response, error=error, _pool=_pool, _stacktrace=_stacktrace)
        if self.on_retry is not None:
            if response is not None and retry.respect_retry_after_header and response.headers.get('Retry-After'):
                wait = retry.get_retry_after(response)
            else:
                wait = retry.get_backoff_time()
            self.on_retry(method, url, response.status if response is not None else None, error, len(retry.history), wait)
        return retry

    def get_retry_after(self, response):
        seconds = super(UpsunRetry, self).get_retry_after(response)
        if seconds is None:
            return None
        return min(seconds, MAX_RETRY_AFTER)


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
        if value and isinstance(value, (str, int, float)) and str(value) not in parts:
            parts.append(str(value))
    text = ': '.join(parts) if parts else json.dumps(body)
    return text[:MAX_API_ERROR_LENGTH]


def _is_connect_failure(exc):
    """True when ``exc`` proves the request never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class Client:
    """Talks to the Upsun API on behalf of one module run.

    ``warn`` receives one message per retry (``module.warn``). ``token_source``
    names where the API token came from, for authentication error messages.
    """

    def __init__(self, api_url, auth_url, api_token=None, access_token=None, timeout=30.0,
                 validate_certs=True, ca_path=None, retries=3, warn=None, token_source=None, token_url=None):
        self.api_url = api_url.rstrip('/')
        self.token_url = token_url or auth_url.rstrip('/') + TOKEN_PATH
        self._api_token = api_token
        self._access_token = access_token
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.retries = retries
        self._warn = warn
        self.token_source = token_source or 'the api_token option'
        self._session = None
        self.exchanges = 0

    @property
    def session(self):
        if self._session is None:
            session = requests.Session()
            session.headers['User-Agent'] = user_agent()
            session.verify = self.ca_path or self.validate_certs
            retry = UpsunRetry(
                total=self.retries, connect=self.retries, read=self.retries, status=self.retries, other=0,
                allowed_methods=frozenset(('GET', 'PATCH', 'POST')), status_forcelist=RETRY_STATUSES,
                backoff_factor=BACKOFF_FACTOR, raise_on_status=False, respect_retry_after_header=True,
                on_retry=self._on_retry)
            adapter = HTTPAdapter(max_retries=retry)
            session.mount('http://', adapter)
            session.mount('https://', adapter)
            self._session = session
        return self._session

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None

    def _on_retry(self, method, path, status, error, attempt, wait):
        if self._warn is None:
            return
        if status is not None:
            why = 'answered HTTP {0}'.format(status)
        else:
            why = 'failed ({0})'.format(type(error).__name__)
        self._warn('Upsun API: {0} {1} {2}; retry {3} of {4} in {5:g} s.'.format(
            method, path, why, attempt, self.retries, wait))

    def _send(self, method, url, **kwargs):
        """Send one request (urllib3 retries included) and map transport failures to our errors."""
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise TransportError(
                'TLS verification failed for {0}: {1}. Set ca_path to the CA bundle that signs the server certificate '
                '(or validate_certs=false for a test server only).'.format(url, _reason(exc)), url=url)
        except requests.exceptions.ProxyError as exc:
            raise TransportError('The proxy refused {0} {1}: {2}. Check the HTTPS_PROXY/HTTP_PROXY/NO_PROXY environment.'.format(
                method, url, _reason(exc)), url=url)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if _is_connect_failure(exc):
                raise TransportError(
                    'Could not connect to {0} after {1} retries: {2}. Check api_url/auth_url (UPSUN_CLI_API_URL, UPSUN_CLI_AUTH_URL), '
                    'the network and any proxy settings.'.format(url, self.retries, _reason(exc)), url=url)
            raise ResponseLostError(
                '{0} {1} was sent but no answer came back within {2:g} s: {3}.'.format(method, url, self.timeout, _reason(exc)),
                url=url)
        except requests.exceptions.RequestException as exc:
            raise TransportError('{0} {1} failed: {2}.'.format(method, url, _reason(exc)), url=url)

    def exchange_token(self):
        """Trade the API token for a fresh access token."""
        if not self._api_token:
            raise AuthenticationError(
                'The access token was refused and no API token is set to get a new one. Set api_token '
                '(or the UPSUN_CLI_TOKEN environment variable) so the module can exchange it.')
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

    def request(self, method, path, params=None, body=None):
        """Call the API and return ``(status, decoded JSON or None)``.

        Exchanges the API token first when there is no access token, and once
        more on a ``401``.
        """
        url = self.api_url + path
        if not self._access_token:
            self.exchange_token()
        response = self._authorized(method, url, params, body)
        if response.status_code == 401 and self._api_token:
            self.exchange_token()
            response = self._authorized(method, url, params, body)
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
        if response.status_code >= 400:
            raise self._api_error(method, url, response)
        if response.status_code == 204 or not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ApiError('The Upsun API answered {0} {1} with HTTP {2} but a body that is not JSON.'.format(
                method, url, response.status_code), status=response.status_code, url=url)

    def _authorized(self, method, url, params, body):
        return self._send(method, url, params=params, json=body,
                          headers={'Authorization': 'Bearer ' + self._access_token, 'Accept': 'application/json'})

    def _api_error(self, method, url, response, doing=None):
        status = response.status_code
        text = api_error_text(response)
        advice = ADVICE_BY_STATUS.get(status) or (ADVICE_SERVER_ERROR if status >= 500 else ADVICE_OTHER)
        if status in RETRY_STATUSES and not (method == 'POST' and status not in CREATE_SAFE_RETRY_STATUSES):
            advice = 'Gave up after {0} retries. {1}'.format(self.retries, advice)
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
ADVICE_SERVER_ERROR = 'The Upsun API is failing; try again later, and contact Upsun support if it persists.'
ADVICE_OTHER = 'Check the request options.'


def _reason(exc):
    """A short, secret-free description of a requests exception."""
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
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
        settings = resolve_connection(module.params)
        settings.validate()
        client = client_from_settings(settings, warn=module.warn)
        yield client
    except UpsunError as exc:
        module.fail_json(**exc.to_result())
    finally:
        if client is not None:
            client.close()
