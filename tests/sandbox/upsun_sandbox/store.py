# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""In-memory state of the sandbox: tickets with their attachments, access tokens, and the request journal.

Every public method takes the object's lock, so handlers running in parallel threads see consistent state.
"""

import base64
import copy
import hmac
import secrets
import threading
import time
from datetime import datetime, timezone

from .catalog import CREATE_FIELDS, SANDBOX_USER_ID, TICKET_DEFAULTS, TICKET_FIELDS

FIRST_TICKET_ID = 1001

# Statuses in which Zendesk refuses any further change.
LOCKED_STATUSES = ("closed", "deleted")


def utc_now() -> str:
    """The current time as the API writes it: ISO 8601, UTC, whole seconds, "Z" suffix."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime | None:
    """A ticket timestamp as an aware datetime (None stays None)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class TicketNotFound(LookupError):
    """No ticket has that id."""


class TicketLocked(ValueError):
    """The ticket is closed (or deleted) and can no longer be updated."""


class TicketStore:
    """The tickets, numbered from FIRST_TICKET_ID, each with the attachments it was created with."""

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url
        self._lock = threading.Lock()
        self._tickets: dict[int, dict] = {}
        self._attachments: dict[int, list[dict]] = {}
        self._next_id = FIRST_TICKET_ID

    def reset(self) -> None:
        """Forget every ticket and number again from FIRST_TICKET_ID."""
        with self._lock:
            self._tickets.clear()
            self._attachments.clear()
            self._next_id = FIRST_TICKET_ID

    def _new(self, fields: dict) -> dict:
        ticket_id = self._next_id
        self._next_id += 1
        now = utc_now()
        ticket = dict.fromkeys(TICKET_FIELDS)
        ticket.update(copy.deepcopy(TICKET_DEFAULTS))
        ticket.update({
            "ticket_id": ticket_id,
            "created": now,
            "updated": now,
            "requester_id": SANDBOX_USER_ID,
            "submitter_id": SANDBOX_USER_ID,
            "collaborator_ids": [],
            "zd_ticket_url": f"{self.base_url}/support/tickets/{ticket_id}",
        })
        ticket.update(copy.deepcopy(fields))
        self._tickets[ticket_id] = ticket
        self._attachments[ticket_id] = []
        return ticket

    def create(self, body: dict) -> dict:
        """Create a ticket from a validated POST /tickets body; return the API view of it."""
        fields = {name: body[name] for name in CREATE_FIELDS if body.get(name) is not None}
        if "collaborator_ids" in fields:
            fields["collaborator_ids"] = _unique(fields["collaborator_ids"])
        attachments = []
        for item in body.get("attachments") or []:
            # The schema has already checked the base64; decoding cannot fail here.
            data = base64.b64decode(item["data"], validate=True)
            attachments.append({"filename": item["filename"], "size": len(data), "data": item["data"]})
        with self._lock:
            ticket = self._new(fields)
            self._attachments[ticket["ticket_id"]] = attachments
            return copy.deepcopy(ticket)

    def seed(self, fields: dict) -> dict:
        """Create a ticket with any field values, unvalidated (control API)."""
        unknown = sorted(set(fields) - set(TICKET_FIELDS) - {"attachments"})
        if unknown:
            raise ValueError(f"unknown ticket fields: {', '.join(unknown)}")
        fields = dict(fields)
        attachments = fields.pop("attachments", None) or []
        fields.pop("ticket_id", None)
        fields.setdefault("subject", "Seeded ticket")
        fields.setdefault("description", "Created through the sandbox control API.")
        stored = [_stored_attachment(item) for item in attachments]
        with self._lock:
            ticket = self._new(fields)
            self._attachments[ticket["ticket_id"]] = stored
            return self._dump_one(ticket["ticket_id"])

    def update(self, ticket_id: int, status: str | None = None, collaborator_ids: list | None = None,
               replace: bool = False) -> dict | None:
        """Apply a PATCH; return the updated ticket, or None when nothing would change."""
        with self._lock:
            ticket = self._tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            changes = {}
            if status is not None and status != ticket["status"]:
                changes["status"] = status
            if collaborator_ids is not None:
                current = ticket["collaborator_ids"] or []
                wanted = _unique(collaborator_ids) if replace else _unique(current + list(collaborator_ids))
                if wanted != current:
                    changes["collaborator_ids"] = wanted
            if not changes:
                return None
            if ticket["status"] in LOCKED_STATUSES:
                raise TicketLocked(ticket["status"])
            ticket.update(changes)
            ticket["updated"] = utc_now()
            return copy.deepcopy(ticket)

    def set_fields(self, ticket_id: int, fields: dict) -> dict:
        """Overwrite any fields of a ticket, unvalidated, as support staff would (control API)."""
        unknown = sorted(set(fields) - set(TICKET_FIELDS))
        if unknown:
            raise ValueError(f"unknown ticket fields: {', '.join(unknown)}")
        with self._lock:
            ticket = self._tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            fields = {name: value for name, value in fields.items() if name != "ticket_id"}
            ticket.update(copy.deepcopy(fields))
            if "updated" not in fields:
                ticket["updated"] = utc_now()
            return self._dump_one(ticket_id)

    def find(self, filters: dict, search: str | None = None, start: int = 0,
             stop: int | None = None) -> tuple[int, list[dict]]:
        """How many tickets match every filter and the search text, and copies of matches [start:stop].

        Newest (highest id) first. Only the tickets asked for are copied, so that a page of a long
        listing costs little. Filters hold openapi-core's unmarshalled values: exact match for ids,
        enums and booleans; "at or after" for the created, updated and due datetimes (a ticket
        without a due date never matches filter[due]).
        """
        needle = search.casefold() if search else None
        with self._lock:
            found = [ticket for ticket in sorted(self._tickets.values(), key=lambda item: item["ticket_id"], reverse=True)
                     if _matches(ticket, filters) and (
                         needle is None
                         or needle in (ticket.get("subject") or "").casefold()
                         or needle in (ticket.get("description") or "").casefold())]
            return len(found), [copy.deepcopy(ticket) for ticket in found[start:stop]]

    def _dump_one(self, ticket_id: int) -> dict:
        ticket = copy.deepcopy(self._tickets[ticket_id])
        ticket["attachments"] = copy.deepcopy(self._attachments[ticket_id])
        return ticket

    def dump(self, ticket_id: int | None = None) -> list[dict] | dict:
        """Tickets with their stored attachments (filename, size, base64 data), oldest first."""
        with self._lock:
            if ticket_id is not None:
                if ticket_id not in self._tickets:
                    raise TicketNotFound(ticket_id)
                return self._dump_one(ticket_id)
            return [self._dump_one(ident) for ident in sorted(self._tickets)]


def _unique(values) -> list:
    """The values without duplicates, first occurrence order kept."""
    return list(dict.fromkeys(values))


def _stored_attachment(item: dict) -> dict:
    data = item.get("data", "")
    return {"filename": item.get("filename"), "size": len(base64.b64decode(data)), "data": data}


def _matches(ticket: dict, filters: dict) -> bool:
    for name, wanted in filters.items():
        value = ticket.get(name)
        if name in ("created", "updated", "due"):
            if wanted.tzinfo is None:
                # Defensive: the date-time format check normally refuses a time without an offset.
                wanted = wanted.replace(tzinfo=timezone.utc)
            if value is None or parse_time(value) < wanted:
                return False
        elif isinstance(wanted, (bool, int)):
            if value != wanted:
                return False
        elif str(value).lower() != str(wanted).lower():
            # UUIDs come back from openapi-core as uuid.UUID; compare their text, case-insensitively.
            return False
    return True


class TokenStore:
    """The accepted API tokens and the access tokens issued for them."""

    def __init__(self, api_tokens, lifetime: int) -> None:
        self.api_tokens = tuple(api_tokens)
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}
        self.issued = 0

    def accepts(self, api_token: str) -> bool:
        """Whether the API token is one the sandbox was started with."""
        return any(hmac.compare_digest(api_token.encode(), known.encode()) for known in self.api_tokens)

    def issue(self) -> str:
        """A new random access token valid for the configured lifetime."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._access[token] = time.monotonic() + self.lifetime
            self.issued += 1
        return token

    def check(self, token: str) -> str:
        """"valid", "expired" or "unknown"."""
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            return "unknown"
        return "valid" if time.monotonic() < expires else "expired"

    def expire_all(self) -> int:
        """Make every issued access token expired; return how many there were."""
        with self._lock:
            for token in self._access:
                self._access[token] = 0.0
            return len(self._access)

    def reset(self) -> None:
        """Forget every issued access token."""
        with self._lock:
            self._access.clear()
            self.issued = 0


class Journal:
    """The requests received outside /_sandbox/, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._seq = 0

    def add(self, entry: dict) -> None:
        """Record one request."""
        with self._lock:
            self._seq += 1
            self._entries.append(dict(entry, seq=self._seq))

    def entries(self) -> list[dict]:
        """A copy of every recorded request."""
        with self._lock:
            return copy.deepcopy(self._entries)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._entries.clear()
