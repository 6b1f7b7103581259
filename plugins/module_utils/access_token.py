# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's access token: exchanged for the API token, renewed before it expires, and after a ``401``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import threading

from ansible_collections.upsun.support.plugins.module_utils.api_errors import api_error_text
from ansible_collections.upsun.support.plugins.module_utils.constants import OAUTH_CLIENT_ID, default_token_url
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, AuthenticationError

# An access token is exchanged again this long before it expires (at most half its lifetime), as the SDKs do.
TOKEN_RENEWAL_MARGIN = 60.0


class TokenExchange:
    """Client mixin: one access token for every thread of the client, exchanged once, then again when due.

    It is exchanged before the first call, shortly before it expires (as the
    Upsun SDKs do) and once after a ``401``. The token exchange is the client's
    own request, not the caller's: its failures say ``request_sent=False``.
    Uses the client's ``_send``, ``_api_error`` and ``clock``.
    """

    def _init_token(self, auth_url, token_url, api_token, access_token, token_source):
        self.token_url = token_url or default_token_url(auth_url)
        self._api_token = api_token
        self._access_token = access_token
        self.token_source = token_source or 'the api_token option'
        # Held while the API token is exchanged: the threads of a listing share one access token.
        self._token_lock = threading.Lock()
        self.exchanges = 0
        # When the access token is to be exchanged again (the clock's time), or None: not known, or no API token.
        self._renew_at = None

    def exchange_token(self):
        """Trade the API token for a fresh access token."""
        if not self._api_token:
            raise AuthenticationError(
                'The access token was refused and no API token is set to get a new one. Set api_token '
                '(or the UPSUN_CLI_TOKEN environment variable) so the module can exchange it.')
        sent = self.clock()
        response = self._send(
            'POST', self.token_url, of_token=True,
            data={'grant_type': 'api_token', 'api_token': self._api_token},
            auth=(OAUTH_CLIENT_ID, ''))
        self.exchanges += 1
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                'The Upsun auth server refused the API token from {0} (HTTP {1}: {2}). Check that {0} holds a valid, '
                'unrevoked API token (Upsun console: My profile > API tokens) and that auth_url/UPSUN_CLI_AUTH_URL '
                'is right.'.format(self.token_source, response.status_code, api_error_text(response) or 'no detail'),
                status=response.status_code, url=self.token_url, api_error=api_error_text(response),
                request_sent=False)
        if response.status_code != 200:
            raise self._api_error('POST', self.token_url, response, 'for the token exchange', request_sent=False)
        try:
            token = response.json()['access_token']
        except (ValueError, KeyError, TypeError):
            raise ApiError('The auth server at {0} answered HTTP 200 without an access_token. Check auth_url/UPSUN_CLI_AUTH_URL.'.format(
                self.token_url), status=200, url=self.token_url, request_sent=False)
        self._access_token = token
        self._renew_at = _renewal_time(sent, response)

    def _token_due(self):
        """Whether there is no access token yet, or the one held expires soon and the API token can renew it."""
        if not self._access_token:
            return True
        return bool(self._api_token) and self._renew_at is not None and self.clock() >= self._renew_at

    def _current_token(self):
        """The access token to send, exchanged first when due (by one thread: the others wait for it)."""
        if self._token_due():
            with self._token_lock:
                if self._token_due():
                    self.exchange_token()
        return self._access_token

    def _token_after_refusal(self, refused):
        """The access token to try after a ``401`` to ``refused``, or None when there is no API token to get one."""
        if not self._api_token:
            return None
        with self._token_lock:
            # Another thread may have exchanged it meanwhile: then its new token is tried, not exchanged again.
            if self._access_token == refused:
                self.exchange_token()
        return self._access_token

    def _refused_token_error(self, method, url, response):
        """The error of a ``401`` that a new access token did not cure (or could not be had for)."""
        if self._api_token:
            advice = 'Check {0}; a new API token can be created in the Upsun console.'.format(self.token_source)
        else:
            advice = ('The access_token option may have expired: set api_token (or the UPSUN_CLI_TOKEN environment '
                      'variable) so the module can get a new access token.')
        return AuthenticationError(
            'The Upsun API refused the access token for {0} {1} (HTTP 401: {2}). {3}'.format(
                method, url, api_error_text(response) or 'no detail', advice),
            status=401, url=url, api_error=api_error_text(response))


def _renewal_time(sent, response):
    """When an access token answered to a request sent at ``sent`` is to be exchanged again; None if not said."""
    try:
        lifetime = float(response.json().get('expires_in'))
    except (ValueError, TypeError, AttributeError):
        return None
    if lifetime <= 0 or not math.isfinite(lifetime):
        return None
    return sent + lifetime - min(TOKEN_RENEWAL_MARGIN, lifetime / 2)
