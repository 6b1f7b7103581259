# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP plumbing: a threaded HTTP/1.1 keep-alive server, fault handling, and the Sandbox class."""

import socket
import ssl
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from socketserver import TCPServer

from .api import UpsunApi
from .catalog import DEFAULT_API_TOKEN
from .faults import PAGING, Fault, FaultQueue
from .handler import RequestHandler
from .hooks import PREFIX, ControlHooks
from .journaling import journal_entry
from .messages import Incoming, Reply, problem
from .store import Journal, TicketStore, TokenStore
from .validation import Validator


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that numbers its connections and can cut them all at shutdown."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sandbox, tls_context: ssl.SSLContext | None = None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sandbox = sandbox
        self.tls_context = tls_context
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self.connections_opened = 0
        super().__init__(address, RequestHandler)

    def get_request(self):
        sock, address = super().get_request()
        if self.tls_context is not None:
            # The handshake runs in the connection's own thread (RequestHandler.setup), not in the accept loop.
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def reset_on_close(self, sock: socket.socket) -> None:
        """Close `sock` without the orderly shutdown first, so its zero linger sends a reset."""
        with self._lock:
            self._resets.add(sock)

    def shutdown_request(self, request) -> None:
        with self._lock:
            reset = request in self._resets
            self._resets.discard(request)
        if reset:
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves the host name (getfqdn), which can take seconds; skip it.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def opened(self, sock: socket.socket) -> int:
        """Register a new connection; return its number (1, 2, ...)."""
        with self._lock:
            self._open.add(sock)
            self.connections_opened += 1
            return self.connections_opened

    def closed(self, sock: socket.socket) -> None:
        """Forget a finished connection."""
        with self._lock:
            self._open.discard(sock)

    def cut_connections(self) -> None:
        """Shut down every open connection so idle keep-alive threads end now."""
        with self._lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Sandbox:
    """The Upsun ticket API and its auth server on one loopback port, with test hooks under /_sandbox/.

    In-process use::

        with Sandbox(page_size=2) as sandbox:
            requests.post(sandbox.url + "/oauth2/token", ...)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_tokens=None, token_lifetime: int = 900,
                 page_size: int = 5, quiet: bool = True, log_stream=None, tls_cert=None, tls_key=None,
                 validation_errors: str = "list") -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.host = host
        self.port = port
        self.url = ""
        self.quiet = quiet
        self._log_stream = log_stream
        self._log_lock = threading.Lock()
        self.tokens = TokenStore(api_tokens or (DEFAULT_API_TOKEN,), token_lifetime)
        self.tickets = TicketStore()
        self.journal = Journal()
        self.faults = FaultQueue()
        self.validator = Validator(style=validation_errors)
        self.api = UpsunApi(self.tickets, self.tokens, self.validator, page_size, lambda: self.url)
        self.hooks = ControlHooks(self)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Requests of create_later faults, processed when their timer fires (cancelled by reset and stop).
        self._later_lock = threading.Lock()
        self._later: set[threading.Timer] = set()
        # Counts resets: what a request still at work at a reset would journal is dropped.
        self._generation = 0

    @property
    def tls(self) -> bool:
        """Whether the sandbox serves HTTPS."""
        return self.tls_cert is not None

    @property
    def api_token(self) -> str:
        """The first accepted API token."""
        return self.tokens.api_tokens[0]

    @property
    def connections_opened(self) -> int:
        """How many TCP connections the server has accepted."""
        return self._server.connections_opened if self._server else 0

    def start(self, warm_up: bool = True) -> "Sandbox":
        """Listen, serve from a background thread, and (by default) load openapi-core in another."""
        context = None
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls_cert), str(self.tls_key))
        self._server = _Server((self.host, self.port), self, context)
        host, self.port = self._server.server_address[:2]
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"
        self.tickets.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="upsun-sandbox", daemon=True)
        self._thread.start()
        if warm_up:
            self.warm_up()
        return self

    def warm_up(self) -> None:
        """Load openapi-core in a background thread, so the first request does not pay for it."""
        threading.Thread(target=self._warm_up, name="upsun-sandbox-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.validator.warm_up()
        except Exception:
            # The first validated request will fail the same way and answer 500; say why here too.
            self.log(traceback.format_exc(), force=True)

    def stop(self) -> None:
        """Stop serving and close every connection."""
        self._cancel_later()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.cut_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "Sandbox":
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def reset(self) -> None:
        """Fresh state: no tickets, access tokens, journal entries or faults."""
        # A request still at work (a delay fault) when the state is reset belongs to the state before: it is not
        # journaled after the reset (see dispatch).
        self._generation += 1
        self._cancel_later()
        self.tickets.reset()
        self.tokens.reset()
        self.journal.clear()
        self.faults.clear()

    def _cancel_later(self) -> None:
        with self._later_lock:
            timers = list(self._later)
            self._later.clear()
        for timer in timers:
            timer.cancel()

    def log(self, message: str, force: bool = False) -> None:
        """One line on the log stream (stderr by default), unless quiet."""
        if self.quiet and not force:
            return
        stream = self._log_stream or sys.stderr
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        with self._log_lock:
            stream.write(f"[{stamp}] {message.rstrip()}\n")
            stream.flush()

    def dispatch(self, incoming: Incoming) -> tuple[Reply | None, Fault | None]:
        """The reply to a request and the fault applied to it; no reply means close without answering.

        Faults that spoil the answer itself (trickle, resets) are carried out by the caller, which sends it.
        """
        if incoming.path == PREFIX or incoming.path.startswith(PREFIX + "/"):
            return self._safely(self.hooks.handle, incoming), None
        arrived = incoming.arrived if incoming.arrived is not None else time.monotonic()
        generation = self._generation
        fault = self.faults.take(incoming.method, incoming.path)
        action = fault.action if fault is not None else None
        entry = journal_entry(incoming)
        if fault is not None:
            entry["fault"] = {"id": fault.id, "action": action}
            if fault.delay_first:
                time.sleep(fault.delay_first)
        if action == "drop":
            reply = None
        elif action == "create_later":
            self._process_later(incoming, fault.create_after)
            reply = None
        elif action == "status":
            reply = fault.reply()
        else:
            reply = self._safely(self.api.handle, incoming, action if action in PAGING else None)
        entry["status"] = reply.status if reply is not None else None
        # Journal before answering, so a test that got its answer always finds the entry.
        if generation == self._generation:
            self.journal.add(entry)
        marker = f" [fault {action}]" if fault is not None else ""
        self.log(f"#{incoming.connection} {incoming.method} {incoming.path} -> {entry['status']}{marker}")
        if reply is not None:
            reply.encode()  # before any wait, so that the answer leaves when a fault says (latency counts this too)
        wait = fault.delay_after(time.monotonic() - arrived) if fault is not None else 0.0
        if wait:
            time.sleep(wait)
        if action == "create_then_drop":
            return None, fault
        return reply, fault

    def _process_later(self, incoming: Incoming, seconds: float) -> None:
        """Process `incoming` in `seconds`, whatever its client does meanwhile (a back end still at work)."""
        def process() -> None:
            with self._later_lock:
                self._later.discard(timer)
            reply = self._safely(self.api.handle, incoming)
            self.log(f"#{incoming.connection} {incoming.method} {incoming.path} processed late -> {reply.status}")

        timer = threading.Timer(seconds, process)
        timer.daemon = True
        with self._later_lock:
            self._later.add(timer)
        timer.start()

    def _safely(self, handler, incoming: Incoming, *args) -> Reply:
        try:
            return handler(incoming, *args)
        except Exception:
            self.log(traceback.format_exc(), force=True)
            return problem(500, "Internal sandbox error")
