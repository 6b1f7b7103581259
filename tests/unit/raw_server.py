# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A raw-socket server for connection faults (the ``raw_server`` fixture of conftest.py, whose docstring lists the
modes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import struct
import threading
import time


class RawServer:
    """A TCP server that reads each request, then misbehaves as ``mode`` says (see the docstring of conftest.py)."""

    # The answer of the trickle modes: far more body than any test waits for.
    TRICKLE_HEAD = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n'
    ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r\n{"ticket_id": 1234, "status": "new"}'

    def __init__(self, mode):
        self.mode = mode
        self.requests = 0
        # For the endless modes: the status of the answer, the pace of its body, and how much of it went out.
        self.status = 200
        self.interval = 0
        self.sent = 0
        self._held = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.url = 'http://127.0.0.1:{0}'.format(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, dummy = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(5)
            if self._read_request(conn):
                self.requests += 1
            if self.mode == 'close':
                conn.close()
            elif self.mode in ('trickle', 'trickle_headers'):
                threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()
                self._held.append(conn)
            elif self.mode.startswith('endless_'):
                threading.Thread(target=self._endless, args=(conn,), daemon=True).start()
                self._held.append(conn)
            elif self.mode == 'close_in_body':
                # An orderly close (FIN) before the end of the body: no error at the socket level.
                try:
                    conn.sendall(self.ANSWER[:-10])
                finally:
                    conn.close()
            elif self.mode in ('reset_after_headers', 'reset_in_body'):
                answer = self.ANSWER if self.mode == 'reset_in_body' else self.ANSWER.split(b'\r\n\r\n', maxsplit=1)[0] + b'\r\n\r\n'
                try:
                    conn.sendall(answer[:-10] if self.mode == 'reset_in_body' else answer)
                    time.sleep(0.1)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                finally:
                    conn.close()
            else:
                self._held.append(conn)

    def _trickle(self, conn):
        data = self.TRICKLE_HEAD + b' ' * 100000
        start = 0 if self.mode == 'trickle_headers' else len(self.TRICKLE_HEAD)
        try:
            conn.sendall(data[:start])
            for offset in range(start, len(data)):
                if self._stop.is_set():
                    return
                conn.sendall(data[offset:offset + 1])
                time.sleep(0.05)
        except OSError:
            return

    def _endless(self, conn):
        framing = {'endless_chunked': 'Transfer-Encoding: chunked', 'endless_unsized': 'Connection: close',
                   'endless_announced': 'Content-Length: 52428800'}[self.mode]
        block = b'x' if self.interval else b'x' * 65536
        framed = b'%x\r\n%s\r\n' % (len(block), block) if self.mode == 'endless_chunked' else block
        try:
            conn.sendall('HTTP/1.1 {0} Whatever\r\nContent-Type: application/json\r\n{1}\r\n\r\n'.format(
                self.status, framing).encode('ascii'))
            while not self._stop.is_set():
                conn.sendall(framed)
                self.sent += len(block)
                time.sleep(self.interval)
        except OSError:
            return

    @staticmethod
    def _read_request(conn):
        data = b''
        try:
            while b'\r\n\r\n' not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return False
                data += chunk
            head, rest = data.split(b'\r\n\r\n', 1)
            length = 0
            for line in head.split(b'\r\n')[1:]:
                name, dummy, value = line.partition(b':')
                if name.strip().lower() == b'content-length':
                    length = int(value.strip())
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except OSError:
            return False
        return True

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self._sock.close()
        for conn in self._held:
            conn.close()
