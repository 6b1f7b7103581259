# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The request and reply values passed between the HTTP plumbing and the handlers."""

import json
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Incoming:
    """One HTTP request as received: the body is fully read, the query kept in order."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Message
    body: bytes
    connection: int = 0
    arrived: float | None = None  # time.monotonic() when its request line was read

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ("" when absent)."""
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    def json(self):
        """The body decoded as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Reply:
    """What to answer: a status, a JSON-serialisable body (None for no body) and extra headers."""

    status: int
    body: object = None
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    _data: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def encode(self) -> bytes:
        """The body as bytes (empty when there is none), encoded once."""
        if self._data is None:
            self._data = b"" if self.body is None else json.dumps(self.body, indent=None, separators=(",", ":")).encode("utf-8")
        return self._data


def problem(status: int, error: str, headers: dict[str, str] | None = None, **extra) -> Reply:
    """An application/problem+json reply carrying at least {"error": ...} as the Upsun API does."""
    body = {"error": error, "title": HTTPStatus(status).phrase, "status": status}
    body.update(extra)
    return Reply(status, body, PROBLEM_JSON, dict(headers or {}))


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Reply:
    """An RFC 6749 section 5.2 error reply of the token endpoint."""
    all_headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    all_headers.update(headers or {})
    return Reply(status, {"error": error, "error_description": description}, JSON, all_headers)
