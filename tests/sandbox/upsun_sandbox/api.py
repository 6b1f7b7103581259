# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Upsun endpoints the sandbox imitates: the OAuth2 token exchange and the support-ticket API."""

import base64
import binascii
import re
from urllib.parse import parse_qsl, urlencode

from .catalog import CLI_CLIENT_ID, CLIENT_ID, category_list, priority_list
from .conversation import COMMENT_MODES
from .messages import FORM, Incoming, Reply, oauth_error, problem
from .store import TicketLocked, TicketNotFound, TicketStore, TokenStore
from .validation import Validator

TOKEN_PATH = "/oauth2/token"

# (path pattern, allowed methods); /tickets/category and /tickets/priority come before /tickets/{id}.
ROUTES = (
    (re.compile(r"^/oauth2/token$"), ("POST",)),
    (re.compile(r"^/tickets$"), ("GET", "POST")),
    (re.compile(r"^/tickets/category$"), ("GET",)),
    (re.compile(r"^/tickets/priority$"), ("GET",)),
    (re.compile(r"^/tickets/(?P<ticket_id>[^/]+)$"), ("PATCH",)),
    (re.compile(r"^/comments$"), ("POST",)),
    (re.compile(r"^/comments/(?P<ticket_id>[^/]+)$"), ("GET",)),
    (re.compile(r"^/comments/(?P<ticket_id>[^/]+)/attachments$"), ("GET",)),
)

# The Console's comment endpoints, 50 comments a page as the live API.
COMMENTS_PREFIX = "/comments"
COMMENTS_PAGE_SIZE = 50

# The query parameters of GET /tickets that filter on a Ticket field of the same name.
FILTERS = ("ticket_id", "status", "priority", "type", "requester_id", "submitter_id", "assignee_id",
           "has_incidents", "created", "updated", "due")

_REALM = 'Bearer realm="Upsun sandbox"'


class UpsunApi:
    """Answers API requests; faults and journaling are the caller's business."""

    def __init__(self, tickets: TicketStore, tokens: TokenStore, validator: Validator, page_size: int,
                 base_url) -> None:
        self.tickets = tickets
        self.tokens = tokens
        self.validator = validator
        self.page_size = page_size
        # A callable: the URL is only known once the server is bound.
        self._base_url = base_url
        # One of COMMENT_MODES: whether the comment endpoints are served or refused.
        self.comments_mode = "serve"

    def set_comments_mode(self, mode: str) -> str:
        """Serve or refuse the comment endpoints from now on; ValueError for an unknown mode."""
        if mode not in COMMENT_MODES:
            raise ValueError(f"comments must be one of {', '.join(COMMENT_MODES)}, got {mode!r}")
        self.comments_mode = mode
        return mode

    @property
    def base_url(self) -> str:
        """The sandbox's own URL, for absolute links."""
        return self._base_url()

    def handle(self, incoming: Incoming, paging: str | None = None) -> Reply:
        """Route, authenticate, validate, then run the endpoint.

        `paging` is a paging fault for GET /tickets ("endless_next" or "stuck_next"), else None.
        """
        on_comments = incoming.path == COMMENTS_PREFIX or incoming.path.startswith(COMMENTS_PREFIX + "/")
        if on_comments and self.comments_mode == "refuse-404":
            return problem(404, f"No route found for {incoming.method} {incoming.path}")
        if on_comments and self.comments_mode == "refuse-405":
            return problem(405, f"Method {incoming.method} is not allowed on {incoming.path}")
        for pattern, methods in ROUTES:
            if pattern.match(incoming.path):
                if incoming.method not in methods:
                    return problem(405, f"Method {incoming.method} is not allowed on {incoming.path}",
                                   {"Allow": ", ".join(methods)})
                break
        else:
            return problem(404, f"No route found for {incoming.method} {incoming.path}")
        if incoming.path == TOKEN_PATH:
            return self.exchange_token(incoming)
        refused = self.authenticate(incoming)
        if refused is not None:
            return refused
        if on_comments and self.comments_mode == "refuse-403":
            return problem(403, "Access denied: this API client may not use the comment endpoints")
        checked = self.validator.check(incoming)
        if checked.error is not None:
            return checked.error
        if incoming.path == "/tickets/category":
            return Reply(200, category_list())
        if incoming.path == "/tickets/priority":
            return Reply(200, priority_list())
        if incoming.path == "/tickets":
            if incoming.method == "POST":
                return self.create_ticket(incoming)
            return self.list_tickets(incoming, checked.query, paging)
        if on_comments:
            return self.comments(incoming, checked)
        return self.update_ticket(incoming, checked.path["ticket_id"])

    def exchange_token(self, incoming: Incoming) -> Reply:
        """POST /oauth2/token, grant_type=api_token (RFC 6749): the client platform-api-user over HTTP Basic, or, as
        the Upsun CLI sends it, client_id=upsun-cli in the form body."""
        is_form = incoming.content_type == FORM
        form = dict(parse_qsl(incoming.body.decode("utf-8", "replace"), keep_blank_values=True)) if is_form else {}
        client = _basic_client(incoming.headers.get("Authorization"))
        if client is None and "Authorization" not in incoming.headers and form.get("client_id") == CLI_CLIENT_ID:
            client = CLI_CLIENT_ID
        if client not in (CLIENT_ID, CLI_CLIENT_ID):
            return oauth_error(401, "invalid_client", "Client authentication failed: use HTTP Basic with the "
                               f"client id {CLIENT_ID} and an empty password, or client_id={CLI_CLIENT_ID} in the body.",
                               {"WWW-Authenticate": 'Basic realm="Upsun sandbox"'})
        if not is_form:
            return oauth_error(400, "invalid_request", f"The request body must be {FORM}.")
        grant_type = form.get("grant_type")
        if not grant_type:
            return oauth_error(400, "invalid_request", "The grant_type parameter is missing.")
        if grant_type != "api_token":
            return oauth_error(400, "unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")
        api_token = form.get("api_token")
        if not api_token or not self.tokens.accepts(api_token):
            return oauth_error(400, "invalid_grant", "The API token is missing, invalid or revoked.")
        access_token = self.tokens.issue()
        body = {"access_token": access_token, "expires_in": self.tokens.lifetime, "token_type": "bearer"}
        return Reply(200, body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def authenticate(self, incoming: Incoming) -> Reply | None:
        """None when the request carries a valid access token, else the 401 reply (RFC 6750)."""
        scheme, _sep, token = (incoming.headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return problem(401, "Authentication required: send an access token as Authorization: Bearer.",
                           {"WWW-Authenticate": _REALM})
        state = self.tokens.check(token)
        if state == "valid":
            return None
        message = "The access token has expired." if state == "expired" else "The access token is invalid."
        return problem(401, message, {"WWW-Authenticate": f'{_REALM}, error="invalid_token", error_description="{message}"'})

    def create_ticket(self, incoming: Incoming) -> Reply:
        """POST /tickets (the body is already validated)."""
        ticket = self.tickets.create(incoming.json())
        return Reply(200, ticket)

    def list_tickets(self, incoming: Incoming, query: dict, paging: str | None = None) -> Reply:
        """GET /tickets: filter, search, then one page with HAL links (broken ones under a paging fault)."""
        filters = {name: query[f"filter[{name}]"] for name in FILTERS if f"filter[{name}]" in query}
        page = query.get("page", 1)
        start = (page - 1) * self.page_size
        count, tickets = self.tickets.find(filters, query.get("search"), start, start + self.page_size)
        links = {"self": {"href": self._page_href(incoming, None)}}
        if page > 1:
            links["previous"] = {"href": self._page_href(incoming, page - 1)}
        if start + self.page_size < count or paging == "endless_next":
            links["next"] = {"href": self._page_href(incoming, page + 1)}
        if paging == "stuck_next":
            links["next"] = {"href": self._page_href(incoming, page)}
        if paging == "endless_next" and count and start >= count:
            # Past the end, a broken server keeps serving its last page.
            start = (count - 1) // self.page_size * self.page_size
            count, tickets = self.tickets.find(filters, query.get("search"), start, start + self.page_size)
        return Reply(200, {"count": count, "tickets": tickets, "_links": links})

    def comments(self, incoming: Incoming, checked) -> Reply:
        """POST /comments, GET /comments/{ticket_id} and GET /comments/{ticket_id}/attachments."""
        if incoming.method == "POST":
            body = incoming.json()
            ticket_id = str(body["ticket_id"])
        else:
            ticket_id = checked.path["ticket_id"]
        try:
            if not ticket_id.isdigit():
                raise TicketNotFound(ticket_id)
            if incoming.method == "POST":
                return Reply(200, self.tickets.add_comment(int(ticket_id), body["body"], body.get("author_id"),
                                                           body.get("attachments")))
            if incoming.path.endswith("/attachments"):
                return Reply(200, self.tickets.comment_attachments(int(ticket_id)))
            return self.list_comments(incoming, int(ticket_id), checked.query.get("page", 1))
        except TicketNotFound:
            return problem(404, f"Ticket {ticket_id} not found")
        except TicketLocked as exc:
            return problem(422, f"Ticket {ticket_id} is {exc} and takes no more comments")

    def list_comments(self, incoming: Incoming, ticket_id: int, page: int) -> Reply:
        """GET /comments/{ticket_id}: one page, newest first, with the links of GET /tickets."""
        start = (page - 1) * COMMENTS_PAGE_SIZE
        count, comments = self.tickets.comments(ticket_id, start, start + COMMENTS_PAGE_SIZE)
        links = {"self": {"href": self._page_href(incoming, None)}}
        if page > 1:
            links["previous"] = {"href": self._page_href(incoming, page - 1)}
        if start + COMMENTS_PAGE_SIZE < count:
            links["next"] = {"href": self._page_href(incoming, page + 1)}
        return Reply(200, {"count": count, "comments": comments, "_links": links})

    def _page_href(self, incoming: Incoming, page: int | None) -> str:
        pairs = list(incoming.query)
        if page is not None:
            pairs = [(name, value) for name, value in pairs if name != "page"] + [("page", str(page))]
        query = urlencode(pairs)
        return f"{self.base_url}{incoming.path}" + (f"?{query}" if query else "")

    def update_ticket(self, incoming: Incoming, ticket_id: str) -> Reply:
        """PATCH /tickets/{ticket_id}: 200 with the ticket, 204 when nothing changes."""
        if not ticket_id.isdigit():
            return problem(404, f"Ticket {ticket_id} not found")
        body = incoming.json() if incoming.body else {}
        try:
            ticket = self.tickets.update(int(ticket_id), status=body.get("status"),
                                         collaborator_ids=body.get("collaborator_ids"),
                                         replace=bool(body.get("collaborators_replace")))
        except TicketNotFound:
            return problem(404, f"Ticket {ticket_id} not found")
        except TicketLocked as exc:
            return problem(422, f"Ticket {ticket_id} is {exc} and can no longer be updated")
        if ticket is None:
            return Reply(204)
        return Reply(200, ticket)


def _basic_client(header: str | None) -> str | None:
    """The user name of an HTTP Basic Authorization header whose password is empty, else None."""
    scheme, _sep, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep or password:
        return None
    return user
