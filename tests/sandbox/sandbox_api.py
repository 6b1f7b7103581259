# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A minimal client of the sandbox's API for its tests, and the API reference's values they check against."""

import base64
import json
import socket
from urllib.parse import urlsplit

import requests


CLIENT = ("platform-api-user", "")
UUID_A = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
UUID_B = "0f8fad5b-d9cb-469f-a165-70867728950e"

# The Ticket fields of the API reference, written out again here so the test does not trust the sandbox's list.
TICKET_FIELDS = {
    "ticket_id", "created", "updated", "type", "subject", "description", "priority", "followup_tid", "status",
    "recipient", "requester_id", "submitter_id", "assignee_id", "organization_id", "collaborator_ids",
    "has_incidents", "due", "tags", "subscription_id", "ticket_group", "support_plan", "affected_url", "queue",
    "issue_type", "resolution_time", "response_time", "project_url", "region", "category", "environment",
    "ticket_sharing_status", "application_ticket_url", "infrastructure_ticket_url", "jira", "zd_ticket_url",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Api:
    """A minimal API client: one requests.Session, the token exchange, bearer calls."""

    def __init__(self, sandbox, verify=True, proxies=None) -> None:
        self.url = sandbox.url
        self.api_token = sandbox.api_token
        self.session = requests.Session()
        # Loopback only: ignore any proxy settings of the environment.
        self.session.trust_env = False
        self.session.verify = verify
        self.session.proxies = proxies or {}
        self.access_token = None

    def exchange(self, api_token=None, auth=CLIENT, grant_type="api_token") -> requests.Response:
        data = {"grant_type": grant_type, "api_token": api_token or self.api_token}
        return self.session.post(f"{self.url}/oauth2/token", data=data, auth=auth, timeout=10)

    def login(self) -> str:
        response = self.exchange()
        assert response.status_code == 200, response.text
        self.access_token = response.json()["access_token"]
        return self.access_token

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        if self.access_token is None:
            self.login()
        headers = dict(kwargs.pop("headers", {}), Authorization=f"Bearer {self.access_token}")
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def create(self, **fields) -> dict:
        body = {"subject": "Deploy failed", "description": "The deploy hook exited 1."}
        body.update(fields)
        response = self.call("POST", "/tickets", json=body)
        assert response.status_code == 200, response.text
        return response.json()


def raw_exchange(url: str, request: bytes, timeout: float = 10.0) -> tuple[bytes, BaseException | None]:
    """Send raw bytes to the sandbox; return every byte received and the error that ended the read (None at EOF)."""
    parts = urlsplit(url)
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return received, None
                received += data
        except OSError as exc:
            return received, exc


def raw_request(api: Api, method: str, path: str, body: dict | None = None) -> bytes:
    """One HTTP/1.1 request with the api's access token, as bytes."""
    data = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {api.access_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


def split_response(received: bytes) -> tuple[str, dict, bytes]:
    """(status line, headers with lower-case names, body bytes) of a raw answer."""
    head, _sep, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((name.strip().lower(), value.strip()) for name, _s, value in (line.partition(":") for line in lines[1:]))
    return lines[0], headers, body


def listed(api: Api, **params) -> list[dict]:
    response = api.call("GET", "/tickets", params=params)
    assert response.status_code == 200, response.text
    return response.json()["tickets"]


def listed_ids(api: Api, **params) -> list[int]:
    return [ticket["ticket_id"] for ticket in listed(api, **params)]
