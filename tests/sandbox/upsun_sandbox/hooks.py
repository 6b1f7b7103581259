# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The test hooks under /_sandbox/: inspect and steer the sandbox (no authentication)."""

import re

from .faults import Fault
from .messages import Incoming, Reply, problem
from .store import TicketLocked, TicketNotFound

PREFIX = "/_sandbox"

_TICKET = re.compile(r"^/_sandbox/tickets/(?P<ticket_id>\d+)$")
_TICKET_COMMENTS = re.compile(r"^/_sandbox/tickets/(?P<ticket_id>\d+)/comments$")


class ControlHooks:
    """Routes /_sandbox/* requests to the sandbox's state."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox

    def handle(self, incoming: Incoming) -> Reply:
        """Answer one control request."""
        try:
            payload = incoming.json() if incoming.body else {}
        except ValueError:
            return problem(400, "The request body is not valid JSON")
        routes = {
            "/_sandbox/info": {"GET": self.info},
            "/_sandbox/journal": {"GET": self.journal, "DELETE": self.clear_journal},
            "/_sandbox/tickets": {"GET": self.tickets, "POST": self.add_ticket},
            "/_sandbox/reset": {"POST": self.reset},
            "/_sandbox/faults": {"GET": self.faults, "POST": self.add_fault, "DELETE": self.clear_faults},
            "/_sandbox/tokens/expire": {"POST": self.expire_tokens},
            "/_sandbox/listing": {"GET": self.listing, "POST": self.set_listing},
            "/_sandbox/listing/catch-up": {"POST": self.catch_up},
            "/_sandbox/comments": {"GET": self.comments_mode, "POST": self.set_comments_mode},
        }
        match = _TICKET.match(incoming.path)
        comments_of = _TICKET_COMMENTS.match(incoming.path)
        if comments_of:
            ticket_id = int(comments_of["ticket_id"])
            methods = {"GET": lambda _payload: Reply(200, self.sandbox.tickets.dump_comments(ticket_id)),
                       "POST": lambda payload: self.add_comment(ticket_id, payload)}
        elif match:
            ticket_id = int(match["ticket_id"])
            methods = {"GET": lambda _payload: self.ticket(ticket_id),
                       "POST": lambda payload: self.set_ticket(ticket_id, payload)}
        else:
            methods = routes.get(incoming.path.rstrip("/"))
        if methods is None:
            return problem(404, f"No control endpoint {incoming.path}")
        handler = methods.get(incoming.method)
        if handler is None:
            return problem(405, f"Method {incoming.method} is not allowed on {incoming.path}",
                           {"Allow": ", ".join(methods)})
        try:
            return handler(payload)
        except TicketNotFound as exc:
            return problem(404, f"Ticket {exc} not found")
        except (TypeError, ValueError) as exc:
            return problem(400, str(exc))

    def info(self, _payload) -> Reply:
        """The sandbox's settings."""
        sandbox = self.sandbox
        return Reply(200, {
            "url": sandbox.url,
            "api_tokens": list(sandbox.tokens.api_tokens),
            "token_lifetime": sandbox.tokens.lifetime,
            "page_size": sandbox.api.page_size,
            "access_tokens_issued": sandbox.tokens.issued,
            "connections": sandbox.connections_opened,
            "tls": sandbox.tls,
            "listing": sandbox.tickets.listing(),
            "validation_errors": sandbox.validator.style,
            "comments": sandbox.api.comments_mode,
        })

    def journal(self, _payload) -> Reply:
        """Every journaled request."""
        return Reply(200, self.sandbox.journal.entries())

    def clear_journal(self, _payload) -> Reply:
        """Forget the journal."""
        self.sandbox.journal.clear()
        return Reply(204)

    def tickets(self, _payload) -> Reply:
        """Every ticket with its attachments."""
        return Reply(200, self.sandbox.tickets.dump())

    def ticket(self, ticket_id: int) -> Reply:
        """One ticket with its attachments."""
        return Reply(200, self.sandbox.tickets.dump(ticket_id))

    def add_ticket(self, payload) -> Reply:
        """Create a ticket with any field values (seed existing tickets)."""
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object of ticket fields")
        return Reply(200, self.sandbox.tickets.seed(payload))

    def set_ticket(self, ticket_id: int, payload) -> Reply:
        """Overwrite fields of a ticket, as support staff would."""
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object of ticket fields")
        return Reply(200, self.sandbox.tickets.set_fields(ticket_id, payload))

    def reset(self, _payload) -> Reply:
        """Back to a fresh state."""
        self.sandbox.reset()
        return Reply(204)

    def faults(self, _payload) -> Reply:
        """The pending faults."""
        return Reply(200, self.sandbox.faults.pending())

    def add_fault(self, payload) -> Reply:
        """Queue a fault."""
        return Reply(200, self.sandbox.faults.add(Fault.from_dict(payload)).to_dict())

    def clear_faults(self, _payload) -> Reply:
        """Drop the pending faults."""
        self.sandbox.faults.clear()
        return Reply(204)

    def expire_tokens(self, _payload) -> Reply:
        """Expire every issued access token."""
        return Reply(200, {"expired": self.sandbox.tokens.expire_all()})

    def listing(self, _payload) -> Reply:
        """The listing settings: lag, lag_scope, date_filter, and the changes the index does not show yet."""
        return Reply(200, self.sandbox.tickets.listing())

    def set_listing(self, payload) -> Reply:
        """Change some listing settings: {"lag": seconds, "lag_scope": ..., "date_filter": ...}."""
        if not isinstance(payload, dict) or set(payload) - {"lag", "lag_scope", "date_filter"}:
            raise ValueError("the body must be a JSON object with some of lag, lag_scope, date_filter")
        return Reply(200, self.sandbox.tickets.configure_listing(**payload))

    def catch_up(self, payload) -> Reply:
        """Let the lagging index show every change so far, or those due within {"seconds": N}."""
        if not isinstance(payload, dict) or set(payload) - {"seconds"}:
            raise ValueError('the body must be empty or {"seconds": N}')
        return Reply(200, self.sandbox.tickets.catch_up(payload.get("seconds")))

    def comments_mode(self, _payload) -> Reply:
        """Whether the comment endpoints are served: {"mode": "serve" or "refuse-404", ...}."""
        return Reply(200, {"mode": self.sandbox.api.comments_mode})

    def set_comments_mode(self, payload) -> Reply:
        """Serve or refuse the comment endpoints: {"mode": ...}."""
        if not isinstance(payload, dict) or set(payload) != {"mode"}:
            raise ValueError('the body must be {"mode": "serve" | "refuse-404" | "refuse-403" | "refuse-405"}')
        return Reply(200, {"mode": self.sandbox.api.set_comments_mode(payload["mode"])})

    def add_comment(self, ticket_id: int, payload) -> Reply:
        """Add a comment, unvalidated, as support staff would: body, author_id, public, created_at, attachments."""
        allowed = {"body", "author_id", "public", "created_at", "attachments"}
        if not isinstance(payload, dict) or "body" not in payload or set(payload) - allowed:
            raise ValueError(f"the body must be a JSON object with body and some of {', '.join(sorted(allowed - {'body'}))}")
        try:
            return Reply(200, self.sandbox.tickets.add_comment(ticket_id, **payload))
        except TicketLocked as exc:
            return problem(422, f"Ticket {ticket_id} is {exc} and takes no more comments")
