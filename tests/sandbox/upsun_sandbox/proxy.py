# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ForwardProxy: a tiny HTTP proxy on loopback (CONNECT tunnels and absolute-URI requests), for proxy tests.

It records what it was asked for (method, target, the status it answered), never a header value. A client
connection is relayed to one upstream: the first request decides it (enough for requests/urllib3, which
open one connection per proxied host).
"""

import select
import socket
import threading
from socketserver import StreamRequestHandler, ThreadingTCPServer
from urllib.parse import urlsplit

_MAX_HEAD = 65536


class _ProxyHandler(StreamRequestHandler):
    """One client connection: read the first request head, then relay bytes both ways."""

    timeout = 30

    def handle(self) -> None:
        head = _read_head(self.connection)
        if not head:
            return
        request_line, _sep, rest = head.partition(b"\r\n")
        try:
            method, target, version = request_line.decode("latin-1").split(" ", 2)
        except ValueError:
            self.connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if method.upper() == "CONNECT":
            host, _colon, port = target.rpartition(":")
            upstream = self._connect(method, target, host.strip("[]"), port)
            if upstream is None:
                return
            self.connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            first = b""
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                self._refuse(method, target, 400, "Bad Request")
                return
            upstream = self._connect(method, target, parts.hostname, str(parts.port or 80))
            if upstream is None:
                return
            origin = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            # Forwarded in origin form, without the proxy's own headers.
            headers = b"".join(line + b"\r\n" for line in rest.split(b"\r\n")
                               if line and not line.lower().startswith(b"proxy-"))
            first = f"{method} {origin} {version}\r\n".encode("latin-1") + headers + b"\r\n"
        with upstream:
            if first:
                upstream.sendall(first)
            _relay(self.connection, upstream)

    def _connect(self, method: str, target: str, host: str, port: str):
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except (OSError, ValueError):
            self._refuse(method, target, 502, "Bad Gateway")
            return None
        self.server.record(method, target, 200)
        return upstream

    def _refuse(self, method: str, target: str, status: int, reason: str) -> None:
        self.server.record(method, target, status)
        self.connection.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())


def _read_head(sock: socket.socket) -> bytes:
    """The request head up to the blank line, read byte by byte so nothing after it is consumed."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte or len(head) > _MAX_HEAD:
            return b""
        head += byte
    return head[:-4]


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [client, upstream]
    while True:
        readable, _w, _x = select.select(sockets, [], [], 60)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            other = upstream if sock is client else client
            try:
                other.sendall(data)
            except OSError:
                return


class _ProxyServer(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address) -> None:
        self._lock = threading.Lock()
        self._requests: list[dict] = []
        super().__init__(address, _ProxyHandler)

    def record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self._requests.append({"method": method.upper(), "target": target, "status": status})

    def requests(self) -> list[dict]:
        with self._lock:
            return [dict(item) for item in self._requests]


class ForwardProxy:
    """A loopback HTTP proxy: ``with ForwardProxy() as proxy: ... proxy.url ... proxy.requests()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.url = ""
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "ForwardProxy":
        """Listen and serve from a background thread."""
        self._server = _ProxyServer((self.host, self.port))
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="upsun-sandbox-proxy", daemon=True)
        self._thread.start()
        return self

    def requests(self) -> list[dict]:
        """What clients asked for, oldest first: {method, target, status}."""
        return self._server.requests() if self._server else []

    def stop(self) -> None:
        """Stop listening (tunnels still open end with their clients)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> "ForwardProxy":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
