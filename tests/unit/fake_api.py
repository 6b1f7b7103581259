# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fake API of the unit tests: a local HTTP/1.1 keep-alive server whose routes each test scripts (the ``api``
fixture of conftest.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit


# Recognisable secrets: no test output may ever contain them.
API_TOKEN = 'apitoken-SECRET-7c1e4b2a9f'
ACCESS_TOKEN = 'accesstoken-SECRET-3d8f60aa1b'
EXCHANGED_TOKEN = 'exchanged-SECRET-5b2c9e7d40'

# Answers the tests script: an empty listing, and a ticket as the API returns it.
TICKETS = {'count': 0, 'tickets': [], '_links': {}}
TICKET = {'ticket_id': 42, 'subject': 'Deploy failed', 'status': 'new', 'priority': 'high'}


def assert_no_secret(value, tokens):
    """None of the ``tokens`` (the fixture: api, access, exchanged) is in ``value``, text or anything JSON writes."""
    text = json.dumps(value) if not isinstance(value, str) else value
    for secret in (tokens.api, tokens.access, tokens.exchanged):
        assert secret not in text


class Call:
    """One request the fake API received."""

    def __init__(self, method, path, query, headers, body, port):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.port = port

    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def form(self):
        return parse_qs(self.body.decode('utf-8'), keep_blank_values=True)

    def __repr__(self):
        return 'Call({0} {1} {2})'.format(self.method, self.path, self.query)


class FakeApi:
    """The routes of the local server for one test, and the requests it got."""

    def __init__(self, url):
        self.url = url
        self.calls = []
        self._routes = {}
        self._lock = threading.Lock()

    def on(self, method, path, *answers):
        """Answer ``method path`` with ``answers`` in turn, the last one for ever after.

        An answer is ``(status, body)`` or ``(status, body, headers)``: a dict or
        list body is sent as JSON, a str as text, None as nothing. It can also be
        a callable taking the ``Call`` and returning such a tuple.
        """
        self._routes[(method, path)] = list(answers)

    def allow_exchange(self, *access_tokens):
        """The token endpoint hands out ``access_tokens`` in turn (EXCHANGED_TOKEN by default)."""
        self.on('POST', '/oauth2/token', *[
            (200, {'access_token': token, 'expires_in': 900, 'token_type': 'bearer'})
            for token in (access_tokens or (EXCHANGED_TOKEN,))])

    @staticmethod
    def slow(seconds, answer):
        """An answer sent only after ``seconds``: a read timeout for a client with a smaller timeout."""
        def delayed(call):
            time.sleep(seconds)
            return answer
        return delayed

    def requests(self, method=None, path=None):
        return [call for call in self.calls if (method is None or call.method == method) and (path is None or call.path == path)]

    def connections(self):
        """The client ports seen: one per TCP connection."""
        return set(call.port for call in self.calls)

    def answer(self, call):
        with self._lock:
            self.calls.append(call)
            queue = self._routes.get((call.method, call.path))
            if not queue:
                return 418, 'no route for {0} {1}'.format(call.method, call.path), {}
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            answer = answer(call)
        status, body = answer[0], answer[1]
        headers = answer[2] if len(answer) > 2 else {}
        return status, body, headers


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, like the real API
    disable_nagle_algorithm = True
    timeout = 10

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _serve(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        parts = urlsplit(self.path)
        call = Call(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), self.headers, body,
                    self.client_address[1])
        api = self.server.api
        if api is None:
            status, content, headers = 418, 'no test is running', {}
        else:
            status, content, headers = api.answer(call)
        if isinstance(content, (dict, list)):
            data = json.dumps(content).encode('utf-8')
            content_type = 'application/json'
        else:
            data = (content or '').encode('utf-8')
            content_type = 'text/plain; charset=utf-8'
        headers = dict(headers)
        content_type = headers.pop('Content-Type', content_type)
        try:
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve
