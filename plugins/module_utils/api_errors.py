# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What an API answer with an error status says, in the user's words: the API's own message, the option to fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from urllib.parse import urljoin, urlsplit

from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError

# Longest API error text carried into a result.
MAX_API_ERROR_LENGTH = 2000

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


def api_error(method, url, response, doing=None, gave_up=None, request_sent=True):
    """The ``ApiError`` for ``response``, an answer with an error status (a redirect included) to ``method url``.

    ``doing`` names what the request was for; ``gave_up`` says how the retries ended, when they were made;
    ``request_sent`` is false for the token exchange the client made for the caller's request.
    """
    status = response.status_code
    if 300 <= status < 400:
        target = _redirect_target(url, response)
        return ApiError('The Upsun API answered {0} {1} with HTTP {2}{3}, a redirect {4}: it is not followed, so '
                        'that neither a token nor a ticket goes to an address that was not set. {5}'.format(
                            method, url, status, ' ' + doing if doing else '',
                            'to ' + target if target else 'without a Location', ADVICE_REDIRECT),
                        status=status, url=url, request_sent=request_sent)
    text = api_error_text(response)
    advice = _field_advice(response) or ADVICE_BY_STATUS.get(status) or (
        ADVICE_SERVER_ERROR if status >= 500 else ADVICE_OTHER)
    return ApiError('The Upsun API answered {0} {1} with HTTP {2}{3}: {4}. {5}{6}'.format(
        method, url, status, ' ' + doing if doing else '', text or 'no detail', gave_up + ' ' if gave_up else '', advice),
        status=status, url=url, api_error=text, request_sent=request_sent)


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
