# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SandboxClient: drives a running sandbox through its /_sandbox/ control API (stdlib only)."""

import base64
import json
import ssl
import urllib.error
import urllib.request

from .catalog import DEFAULT_API_TOKEN


class SandboxError(RuntimeError):
    """A control request was refused; carries the HTTP status and the sandbox's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class SandboxClient:
    """Test-side handle on a sandbox: its URL, the API token it accepts, and its test hooks."""

    def __init__(self, url: str, api_token: str = DEFAULT_API_TOKEN, timeout: float = 10.0,
                 ca_file: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.api_token = api_token
        self.timeout = timeout
        # The certificate (CA bundle) an HTTPS sandbox is trusted with.
        self.ca_file = ca_file
        # Set by SandboxProcess: the child process running this sandbox.
        self.process = None
        # The sandbox is on loopback: never go through an HTTP proxy from the environment.
        handlers = [urllib.request.ProxyHandler({})]
        if ca_file is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_file)))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"SandboxClient({self.url!r})"

    def env(self) -> dict[str, str]:
        """The environment variables that point the Upsun CLI (and the collection) at this sandbox."""
        return {"UPSUN_CLI_TOKEN": self.api_token, "UPSUN_CLI_API_URL": self.url, "UPSUN_CLI_AUTH_URL": self.url}

    def _call(self, method: str, path: str, payload=None):
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(f"{self.url}/_sandbox{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("error", raw.decode())
            except ValueError:
                message = raw.decode("utf-8", "replace")
            raise SandboxError(exc.code, message) from None
        return json.loads(raw) if raw else None

    def info(self) -> dict:
        """The sandbox's settings and counters (api_tokens, page_size, connections, ...)."""
        return self._call("GET", "/info")

    def journal(self, method: str | None = None, path: str | None = None) -> list[dict]:
        """The received API requests, oldest first, optionally only those of a method and/or path."""
        entries = self._call("GET", "/journal")
        return [entry for entry in entries
                if (method is None or entry["method"] == method.upper()) and (path is None or entry["path"] == path)]

    def clear_journal(self) -> None:
        """Forget the received requests."""
        self._call("DELETE", "/journal")

    def tickets(self) -> list[dict]:
        """Every stored ticket, oldest first, with "attachments": [{filename, size, data (base64)}]."""
        return self._call("GET", "/tickets")

    def ticket(self, ticket_id: int) -> dict:
        """One stored ticket with its attachments."""
        return self._call("GET", f"/tickets/{ticket_id}")

    def attachments(self, ticket_id: int) -> list[dict]:
        """A ticket's attachments as {filename, size, content (decoded bytes)}."""
        return [{"filename": item["filename"], "size": item["size"], "content": base64.b64decode(item["data"])}
                for item in self.ticket(ticket_id)["attachments"]]

    def add_ticket(self, **fields) -> dict:
        """Create a ticket with any field values, unvalidated (e.g. an existing solved ticket)."""
        return self._call("POST", "/tickets", fields)

    def set_ticket(self, ticket_id: int, **fields) -> dict:
        """Overwrite fields of a ticket, as support staff would (e.g. status="closed")."""
        return self._call("POST", f"/tickets/{ticket_id}", fields)

    def reset(self) -> None:
        """Back to a fresh state: no tickets, access tokens, journal entries or faults."""
        self._call("POST", "/reset")

    def fault(self, path: str, action: str = "status", *, method: str | None = None, count: int = 1,
              status: int | None = None, retry_after=None, location: str | None = None, delay: float | None = None,
              body=None, chunk: int | None = None, interval: float | None = None,
              create_after: float | None = None) -> dict:
        """Queue a fault for the next `count` requests matching method and path; return it with its id."""
        spec = {"path": path, "action": action, "count": count}
        for name, value in (("method", method), ("status", status), ("retry_after", retry_after),
                            ("location", location), ("delay", delay), ("body", body), ("chunk", chunk),
                            ("interval", interval), ("create_after", create_after)):
            if value is not None:
                spec[name] = value
        return self._call("POST", "/faults", spec)

    def faults(self) -> list[dict]:
        """The faults still pending."""
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self._call("DELETE", "/faults")

    def expire_tokens(self) -> int:
        """Expire every issued access token; return how many."""
        return self._call("POST", "/tokens/expire")["expired"]

    def listing(self) -> dict:
        """The listing settings ({lag, lag_scope, date_filter}) and how many changes the index does not show yet."""
        return self._call("GET", "/listing")

    def set_listing(self, lag: float | None = None, lag_scope: str | None = None,
                    date_filter: str | None = None) -> dict:
        """Change the listing lag (seconds; for the changes made after), its scope or the date filters' meaning."""
        spec = {name: value for name, value in (("lag", lag), ("lag_scope", lag_scope), ("date_filter", date_filter))
                if value is not None}
        return self._call("POST", "/listing", spec)

    def catch_up(self, seconds: float | None = None) -> dict:
        """Make the lagging listings show every change made so far (or move them `seconds` on): {released, pending}."""
        return self._call("POST", "/listing/catch-up", {} if seconds is None else {"seconds": seconds})

    def comments(self, ticket_id: int) -> list[dict]:
        """A ticket's comments, oldest first (the description first), each with "files": [{filename, size, data}]."""
        return self._call("GET", f"/tickets/{ticket_id}/comments")

    def add_comment(self, ticket_id: int, body: str, **fields) -> dict:
        """Add a comment as anyone (author_id), public or not, at any created_at, unvalidated; return it."""
        return self._call("POST", f"/tickets/{ticket_id}/comments", dict(fields, body=body))

    def comments_mode(self) -> str:
        """How the comment endpoints answer: serve, refuse-404, refuse-403 or refuse-405."""
        return self._call("GET", "/comments")["mode"]

    def set_comments(self, mode: str) -> str:
        """Serve the comment endpoints ("serve") or refuse them ("refuse-404", "refuse-403", "refuse-405")."""
        return self._call("POST", "/comments", {"mode": mode})["mode"]
