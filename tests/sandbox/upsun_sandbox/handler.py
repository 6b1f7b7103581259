# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The sandbox's HTTP/1.1 keep-alive request handler: reads each request, has the Sandbox answer it, and sends the
answer as a fault may bend it (cut, trickled, endless, never)."""

import socket
import ssl
import struct
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from .faults import ENDLESS, UNREADABLE_BODY, Fault
from .messages import Incoming, Reply, problem


class RequestHandler(BaseHTTPRequestHandler):
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
        data, content_type = self._payload(reply, fault)
        self._send_head(reply, action, bool(data), content_type, len(data))
        if self.command == "HEAD":
            data = b""
        try:
            self._send_body(data, fault)
            self.wfile.flush()
        except OSError:
            # The client went away (gave up on a trickled answer): end this connection quietly.
            self.close_connection = True

    @staticmethod
    def _payload(reply: Reply, fault: Fault | None) -> tuple[bytes, str]:
        """The body to send and its content type: the reply's, or the page an `unreadable` fault puts instead."""
        if fault is not None and fault.action == "unreadable":
            return (fault.body if isinstance(fault.body, str) else UNREADABLE_BODY).encode("utf-8"), "text/html; charset=utf-8"
        return reply.encode(), reply.content_type

    def _send_head(self, reply: Reply, action: str | None, has_body: bool, content_type: str, length: int) -> None:
        """The status line and headers, with the framing the fault's body needs."""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status >= 200 and reply.status not in (204, 304):
            if has_body:
                self.send_header("Content-Type", content_type)
            if action == "endless_chunked":
                self.send_header("Transfer-Encoding", "chunked")
            elif action == "endless_unsized":
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send_body(self, data: bytes, fault: Fault | None) -> None:
        """The body, as the fault says: cut by a reset, endless, trickled, or whole."""
        action = fault.action if fault is not None else None
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
