# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP plumbing: a threaded HTTP/1.1 keep-alive server, fault handling, the journal, and the Sandbox class."""

import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qsl, urlsplit

from .api import UpsunApi
from .catalog import DEFAULT_API_TOKEN
from .faults import ENDLESS, PAGING, UNREADABLE_BODY, Fault, FaultQueue
from .hooks import PREFIX, ControlHooks
from .messages import FORM, Incoming, Reply, problem
from .store import Journal, TicketStore, TokenStore
from .validation import Validator

# Never journaled: the credentials themselves. Only presence and scheme of Authorization are kept.
_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")
_SECRET_FIELDS = ("api_token", "access_token", "refresh_token", "client_secret", "password")
REDACTED = "<redacted>"


class _Handler(BaseHTTPRequestHandler):
    """One client connection; serves requests on it until the client or a fault closes it."""

    protocol_version = "HTTP/1.1"
    server_version = "UpsunSandbox/1.0"
    sys_version = ""
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus delayed ACK cost 40 ms a reply.
    disable_nagle_algorithm = True
    arrived: float | None = None  # time.monotonic() when the current request line was read
    # Idle keep-alive connections give their thread back after this many seconds.
    timeout = 300

    # Bytes of a partial body sent by a reset_in_body fault reach the client before the reset after this pause.
    reset_pause = 0.2

    def setup(self) -> None:
        self.handshake_failed = False
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (OSError, ssl.SSLError) as exc:
                # A client that does not trust the certificate hangs up here: log it, not a traceback.
                self.handshake_failed = True
                self.server.sandbox.log(f"TLS handshake failed: {exc}")
        super().setup()
        self.connection_id = self.server.opened(self.connection)

    def handle(self) -> None:
        if not self.handshake_failed:
            super().handle()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.closed(self.connection)

    def log_request(self, code="-", size="-") -> None:
        # The sandbox writes its own line per request, faults included.
        pass

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        self.server.sandbox.log(format % args)

    def parse_request(self) -> bool:
        # Called as soon as the request line is read: the latency fault counts from here.
        self.arrived = time.monotonic()
        return super().parse_request()

    def do_GET(self) -> None:
        """Every method goes through the same dispatcher."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        split = urlsplit(self.path)
        incoming = Incoming(method=self.command, path=split.path or "/",
                            query=parse_qsl(split.query, keep_blank_values=True),
                            headers=self.headers, body=body, connection=self.connection_id, arrived=self.arrived)
        reply, fault = self.server.sandbox.dispatch(incoming)
        if reply is None:
            if fault is not None and fault.action == "create_later":
                self._stay_silent(fault.create_after)
            # A "drop" fault (and the end of a silent one): close without a single byte of response.
            self.close_connection = True
            return
        self._send(reply, fault)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
            if size < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            self._send(problem(400, "Invalid Content-Length header"))
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        chunks = []
        try:
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields are ignored
        except ValueError:
            self.close_connection = True
            self._send(problem(400, "Invalid chunked request body"))
            return None
        return b"".join(chunks)

    def _send(self, reply: Reply, fault: Fault | None = None) -> None:
        action = fault.action if fault is not None else None
        data = reply.encode()
        content_type = reply.content_type
        if action == "unreadable":
            data = (fault.body if isinstance(fault.body, str) else UNREADABLE_BODY).encode("utf-8")
            content_type = "text/html; charset=utf-8"
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status >= 200 and reply.status not in (204, 304):
            if data:
                self.send_header("Content-Type", content_type)
            if action == "endless_chunked":
                self.send_header("Transfer-Encoding", "chunked")
            elif action == "endless_unsized":
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            data = b""
        try:
            if action == "reset_after_headers":
                self._reset()
            elif action == "reset_in_body":
                self.wfile.write(data[:max(1, len(data) // 2)])
                self._reset()
            elif action in ENDLESS:
                self._stream_endless(data, fault)
            elif action == "trickle" and data:
                for offset in range(0, len(data), fault.chunk):
                    if offset:
                        time.sleep(fault.interval)
                    self.wfile.write(data[offset:offset + fault.chunk])
            elif data:
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            # The client went away (gave up on a trickled answer): end this connection quietly.
            self.close_connection = True

    def _stream_endless(self, data: bytes, fault: Fault) -> None:
        """The answer's body but its last byte, then `chunk` bytes of spaces every `interval` s, until the client goes
        (or the sandbox stops: it shuts the connection down, and the write fails)."""
        chunked = fault.action == "endless_chunked"
        filler = b" " * fault.chunk
        block = data[:-1]
        while True:
            if block:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            block = filler
            if fault.interval:
                time.sleep(fault.interval)

    def _reset(self) -> None:
        """End the connection with a TCP reset (RST) instead of an orderly close."""
        self.wfile.flush()
        time.sleep(self.reset_pause)
        # Linger on, with a zero timeout: close() then sends RST and drops whatever is unsent.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.server.reset_on_close(self.connection)
        self.close_connection = True

    def _stay_silent(self, seconds: float) -> None:
        """Answer nothing for `seconds`, or until the client hangs up, whichever comes first."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.connection.settimeout(remaining)
            try:
                if not self.connection.recv(1):
                    return
            except (TimeoutError, OSError):
                return


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
        super().__init__(address, _Handler)

    def get_request(self):
        sock, address = super().get_request()
        if self.tls_context is not None:
            # The handshake runs in the connection's own thread (_Handler.setup), not in the accept loop.
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


def journal_entry(incoming: Incoming) -> dict:
    """What the journal keeps of a request: never a credential."""
    authorization = incoming.headers.get("Authorization")
    return {
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "connection": incoming.connection,
        "method": incoming.method,
        "path": incoming.path,
        "query": _redacted(_as_dict(incoming.query)),
        "headers": {name: value for name, value in incoming.headers.items() if name.lower() not in _SECRET_HEADERS},
        "auth": {
            "present": authorization is not None,
            "scheme": authorization.strip().split(" ", 1)[0] if authorization and authorization.strip() else None,
        },
        "body": _journal_body(incoming),
        "status": None,
        "fault": None,
    }


def _journal_body(incoming: Incoming):
    if not incoming.body:
        return None
    if incoming.content_type == FORM:
        return _redacted(_as_dict(parse_qsl(incoming.body.decode("utf-8", "replace"), keep_blank_values=True)))
    try:
        return _redacted(incoming.json())
    except ValueError:
        return incoming.body.decode("utf-8", "replace")


def _as_dict(pairs) -> dict:
    """Query or form pairs as a dict; a repeated name maps to the list of its values."""
    result: dict = {}
    for name, value in pairs:
        if name in result:
            previous = result[name]
            result[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            result[name] = value
    return result


def _redacted(value):
    if isinstance(value, dict):
        return {name: REDACTED if name in _SECRET_FIELDS else item for name, item in value.items()}
    return value
