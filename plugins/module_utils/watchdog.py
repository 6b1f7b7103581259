# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The time bound of each HTTP attempt, from connecting to the last byte of the answer.

``timeout`` bounds each attempt as a whole: one watchdog thread shuts the
attempt's sockets down when it runs out, so an answer that trickles in cannot
stretch it (requests' own timeout only bounds each socket read). The
connections and pools below hand each connection to the attempt running in
their thread; ``watch_pools`` puts them under a urllib3 pool manager.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
import itertools
import os
import socket
import threading
import time

try:
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
except ImportError:
    # Lets the classes below be defined; they are never used without requests.
    HTTPConnectionPool = HTTPSConnectionPool = HTTPConnection = HTTPSConnection = object

# The attempt running in this thread, for the connection pools below.
_CURRENT = threading.local()


class Watchdog:
    """One thread that ends the attempts whose time ran out, for every attempt of the process.

    A thread per attempt would cost more than a request to a near API: its
    start waits for the GIL, which the threads reading pages ahead hold.
    """

    def __init__(self):
        self._pid = None
        self._cond = None
        self._heap = []
        self._order = itertools.count()
        self._start_lock = threading.Lock()

    def _start(self):
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # First use, or a forked child (a worker of the controller): the parent's thread is not here, and its
            # condition may have been held at the fork.
            self._cond = threading.Condition()
            self._heap = []
            thread = threading.Thread(target=self._run, args=(self._cond, self._heap), name='upsun-support-watchdog')
            thread.daemon = True
            thread.start()
            self._pid = os.getpid()

    def watch(self, attempt, seconds):
        """Call ``attempt.expire()`` in ``seconds``, unless it is done by then."""
        if self._pid != os.getpid():
            self._start()
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), attempt))
            if self._heap[0][2] is attempt:
                self._cond.notify()

    @staticmethod
    def _run(cond, heap):
        while True:
            with cond:
                while True:
                    while heap and heap[0][2].done:
                        heapq.heappop(heap)
                    wait = heap[0][0] - time.monotonic() if heap else None
                    if wait is not None and wait <= 0:
                        attempt = heapq.heappop(heap)[2]
                        break
                    cond.wait(wait)
            attempt.expire()


_WATCHDOG = Watchdog()


class Attempt:
    """The time bound of one HTTP attempt: when it runs out, the sockets it used are shut down.

    A blocked read then returns at once, however slowly the answer was
    arriving. Leaving the ``with`` block ends the watch (a connection kept
    alive for the next attempt is never touched afterwards).
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.expired = False
        self.done = False
        self._lock = threading.Lock()
        self._connections = []

    def __enter__(self):
        _CURRENT.attempt = self
        _WATCHDOG.watch(self, self.seconds)
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self.done = True
        _CURRENT.attempt = None

    def watch(self, connection):
        with self._lock:
            self._connections.append(connection)
            expired = self.expired and not self.done
        if expired:
            _shut(connection)

    def expire(self):
        with self._lock:
            if self.done:
                return
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection):
    sock = getattr(connection, 'sock', None) or getattr(connection, 'upsun_sock', None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass


class _WatchedConnection:
    """Connection mixin that remembers its socket: http.client forgets it (``sock = None``) as soon as an answer says
    ``Connection: close``, while that answer, which only the close would end, is still being read from it."""

    def connect(self):
        super(_WatchedConnection, self).connect()
        self.upsun_sock = self.sock


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool:
    """Connection pool mixin: each request's connection is handed to the attempt running in this thread."""

    def _make_request(self, conn, *args, **kwargs):
        attempt = getattr(_CURRENT, 'attempt', None)
        if attempt is not None:
            attempt.watch(conn)
        return super(_WatchedPool, self)._make_request(conn, *args, **kwargs)


class _WatchedHTTPConnectionPool(_WatchedPool, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def watch_pools(manager):
    """Make a urllib3 pool manager (direct or proxy) use the watched pools; other managers (SOCKS) are left alone."""
    classes = getattr(manager, 'pool_classes_by_scheme', None) or {}
    if classes.get('http') is HTTPConnectionPool and classes.get('https') is HTTPSConnectionPool:
        manager.pool_classes_by_scheme = {'http': _WatchedHTTPConnectionPool, 'https': _WatchedHTTPSConnectionPool}
    return manager
