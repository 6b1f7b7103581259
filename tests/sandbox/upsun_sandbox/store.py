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
from .conversation import FIRST_COMMENT_ID, api_view, attachment_list, dump_view, make_comment

FIRST_TICKET_ID = 1001

# Statuses in which Zendesk refuses any further change.
LOCKED_STATUSES = ("closed", "deleted")

# What filter[created], filter[updated] and filter[due] may mean (the API does not say): the ticket's time is at or
# after the given one, equal to it (to the second), or on the same UTC day.
DATE_FILTERS = ("at-or-after", "exactly", "same-day")
# Which listings of GET /tickets come from the lagging index: all of them, or only those with search or a filter.
LAG_SCOPES = ("all", "filtered")


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
        # ticket_id -> its comments, oldest first (the description first)
        self._comments: dict[int, list[dict]] = {}
        self._next_comment_id = FIRST_COMMENT_ID
        self.index = ListingIndex()

    def reset(self) -> None:
        """Forget every ticket and number again from FIRST_TICKET_ID (the listing settings stay)."""
        with self._lock:
            self._tickets.clear()
            self._attachments.clear()
            self._next_id = FIRST_TICKET_ID
            self._comments.clear()
            self._next_comment_id = FIRST_COMMENT_ID
            self.index.forget()

    def _new(self, fields: dict, attachments: list[dict]) -> dict:
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
        self._attachments[ticket_id] = attachments
        # The description is the conversation's first comment, by the submitter, with the ticket's files.
        self._comments[ticket_id] = [self._comment(ticket, ticket.get("description") or "", ticket["submitter_id"],
                                                   ticket["created"], attachments)]
        self.index.stage(ticket)
        return ticket

    def _comment(self, ticket: dict, body: str, author_id: str, created_at: str, attachments: list[dict],
                 public: bool = True) -> dict:
        comment_id = self._next_comment_id
        self._next_comment_id += 1
        return make_comment(comment_id, ticket, body, author_id, created_at, attachments, public)

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
            ticket = self._new(fields, attachments)
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
            ticket = self._new(fields, stored)
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
            self.index.stage(ticket)
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
            self.index.stage(ticket)
            return self._dump_one(ticket_id)

    def add_comment(self, ticket_id: int, body: str, author_id: str | None = None, attachments=(),
                    public: bool = True, created_at: str | None = None) -> dict:
        """Add a comment (POST /comments, or the control API with `public` and `created_at`); return it.

        As in Zendesk: the ticket's `updated` moves (listings see it after their lag), a comment by the
        requester reopens a solved ticket, and a closed (or deleted) ticket takes no comment (TicketLocked).
        """
        stored = [_stored_attachment(item) for item in attachments or []]
        with self._lock:
            ticket = self._tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            if ticket["status"] in LOCKED_STATUSES:
                raise TicketLocked(ticket["status"])
            author_id = author_id or SANDBOX_USER_ID
            now = utc_now()
            comment = self._comment(ticket, body, author_id, created_at or now, stored, public)
            self._comments[ticket_id].append(comment)
            if ticket["status"] == "solved" and str(author_id).lower() == str(ticket["requester_id"]).lower():
                ticket["status"] = "open"
            ticket["updated"] = now
            self.index.stage(ticket)
            return api_view(comment)

    def comments(self, ticket_id: int, start: int = 0, stop: int | None = None) -> tuple[int, list[dict]]:
        """How many comments the ticket has, and those [start:stop] newest first, as GET /comments/{id} lists them."""
        with self._lock:
            if ticket_id not in self._comments:
                raise TicketNotFound(ticket_id)
            newest_first = self._comments[ticket_id][::-1]
            return len(newest_first), [api_view(comment) for comment in newest_first[start:stop]]

    def comment_attachments(self, ticket_id: int) -> list[dict]:
        """Every file of the ticket's conversation, oldest first."""
        with self._lock:
            if ticket_id not in self._comments:
                raise TicketNotFound(ticket_id)
            return attachment_list(self._comments[ticket_id])

    def dump_comments(self, ticket_id: int) -> list[dict]:
        """The ticket's comments oldest first, each with its files (filename, size, base64 data) (control API)."""
        with self._lock:
            if ticket_id not in self._comments:
                raise TicketNotFound(ticket_id)
            return [dump_view(comment) for comment in self._comments[ticket_id]]

    def find(self, filters: dict, search: str | None = None, start: int = 0,
             stop: int | None = None) -> tuple[int, list[dict]]:
        """How many tickets match every filter and the search text, and copies of matches [start:stop].

        Newest (highest id) first. Only the tickets asked for are copied, so that a page of a long
        listing costs little. Filters hold openapi-core's unmarshalled values: exact match for ids,
        enums and booleans; the created, updated and due datetimes as the index's date filter says
        (a ticket without a due date never matches filter[due]). A listing in the index's lag scope
        sees the tickets as the index holds them (see ListingIndex).
        """
        needle = search.casefold() if search else None
        with self._lock:
            lagged = self.index.applies(bool(filters) or search is not None)
            tickets = self.index.view() if lagged else self._tickets
            meaning = self.index.date_filter
            found = [ticket for ticket in sorted(tickets.values(), key=lambda item: item["ticket_id"], reverse=True)
                     if _matches(ticket, filters, meaning) and (
                         needle is None
                         or needle in (ticket.get("subject") or "").casefold()
                         or needle in (ticket.get("description") or "").casefold())]
            return len(found), [copy.deepcopy(ticket) for ticket in found[start:stop]]

    def listing(self) -> dict:
        """The listing settings (lag, lag_scope, date_filter) and how many changes the index does not show yet."""
        with self._lock:
            return self.index.settings()

    def configure_listing(self, lag=None, lag_scope=None, date_filter=None) -> dict:
        """Change the listing settings given; return them all."""
        with self._lock:
            self.index.configure(lag=lag, scope=lag_scope, date_filter=date_filter)
            return self.index.settings()

    def catch_up(self, seconds=None) -> dict:
        """Let the index show every change made so far (or move it `seconds` on)."""
        with self._lock:
            return self.index.catch_up(seconds)

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


def _matches(ticket: dict, filters: dict, date_filter: str = "at-or-after") -> bool:
    for name, wanted in filters.items():
        value = ticket.get(name)
        if name in ("created", "updated", "due"):
            if wanted.tzinfo is None:
                # Defensive: the date-time format check normally refuses a time without an offset.
                wanted = wanted.replace(tzinfo=timezone.utc)
            if value is None or not _date_matches(parse_time(value), wanted, date_filter):
                return False
        elif isinstance(wanted, (bool, int)):
            if value != wanted:
                return False
        elif str(value).lower() != str(wanted).lower():
            # UUIDs come back from openapi-core as uuid.UUID; compare their text, case-insensitively.
            return False
    return True


def _date_matches(value: datetime, wanted: datetime, meaning: str) -> bool:
    if meaning == "exactly":
        return value == wanted.replace(microsecond=0)
    if meaning == "same-day":
        return value.astimezone(timezone.utc).date() == wanted.astimezone(timezone.utc).date()
    return value >= wanted


class ListingIndex:
    """The search index that listings read, as Zendesk's: each change reaches it `lag` seconds after it was made.

    Every version of a ticket is staged with the time it becomes visible; a lagging listing sees, for each ticket,
    the newest version already visible (a ticket none of whose versions is visible is absent). `catch_up` makes
    the index reach the tickets' present state (or moves it `seconds` closer), so tests need not sleep the lag out.
    A new lag applies to the changes made after it is set. The caller (TicketStore) holds its lock.
    """

    def __init__(self, lag: float = 0.0, scope: str = "all", date_filter: str = "at-or-after") -> None:
        self.lag = 0.0
        self.scope = "all"
        self.date_filter = "at-or-after"
        self.configure(lag=lag, scope=scope, date_filter=date_filter)
        self._seq = 0
        # ticket_id -> (sequence number, the ticket as the index holds it)
        self._visible: dict[int, tuple[int, dict]] = {}
        # (visible at, on the monotonic clock; sequence number; the ticket then), in staging order
        self._pending: list[tuple[float, int, dict]] = []

    def configure(self, lag=None, scope=None, date_filter=None) -> None:
        """Change the settings given (None keeps one); refuse bad values with ValueError, changing nothing."""
        if lag is not None and (isinstance(lag, bool) or not isinstance(lag, (int, float)) or not 0 <= lag < 10 ** 7):
            raise ValueError(f"lag must be a number of seconds from 0 to 9999999, got {lag!r}")
        if scope is not None and scope not in LAG_SCOPES:
            raise ValueError(f"lag_scope must be one of {', '.join(LAG_SCOPES)}, got {scope!r}")
        if date_filter is not None and date_filter not in DATE_FILTERS:
            raise ValueError(f"date_filter must be one of {', '.join(DATE_FILTERS)}, got {date_filter!r}")
        self.lag = self.lag if lag is None else float(lag)
        self.scope = scope or self.scope
        self.date_filter = date_filter or self.date_filter

    def settings(self) -> dict:
        """The settings and how many staged versions the index does not show yet."""
        self._release(time.monotonic())
        return {"lag": self.lag, "lag_scope": self.scope, "date_filter": self.date_filter,
                "pending": len(self._pending)}

    def applies(self, filtered: bool) -> bool:
        """Whether a listing (with search or a filter, or not) reads the index."""
        return self.scope == "all" or filtered

    def stage(self, ticket: dict) -> None:
        """Record the ticket's new version; visible at once without a lag."""
        self._seq += 1
        version = (time.monotonic() + self.lag, self._seq, copy.deepcopy(ticket))
        if self.lag > 0:
            self._pending.append(version)
        else:
            self._show(version)

    def view(self) -> dict[int, dict]:
        """ticket_id -> the ticket as the index shows it now."""
        self._release(time.monotonic())
        return {ticket_id: ticket for ticket_id, (_seq, ticket) in self._visible.items()}

    def catch_up(self, seconds: float | None = None) -> dict:
        """Show every staged version, or move the index `seconds` on; say how many were released and remain."""
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not 0 <= seconds < 10 ** 7):
            raise ValueError(f"seconds must be a number from 0 to 9999999, got {seconds!r}")
        before = len(self._pending)
        if seconds is None:
            self._release(float("inf"))
        else:
            self._pending = [(due - seconds, seq, ticket) for due, seq, ticket in self._pending]
            self._release(time.monotonic())
        return {"released": before - len(self._pending), "pending": len(self._pending)}

    def forget(self) -> None:
        """No ticket in the index (the store was reset)."""
        self._visible.clear()
        self._pending.clear()

    def _release(self, horizon: float) -> None:
        due = [version for version in self._pending if version[0] <= horizon]
        if due:
            self._pending = [version for version in self._pending if version[0] > horizon]
            for version in sorted(due, key=lambda item: item[1]):
                self._show(version)

    def _show(self, version: tuple[float, int, dict]) -> None:
        _due, seq, ticket = version
        shown = self._visible.get(ticket["ticket_id"])
        # A version staged under a longer lag may come due after a newer one: the newer one stays.
        if shown is None or shown[0] < seq:
            self._visible[ticket["ticket_id"]] = (seq, ticket)


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
