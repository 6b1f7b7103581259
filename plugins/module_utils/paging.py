# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pages of a listing read ahead, a few at once, and handed out in the API's order.

``tickets.search_tickets`` reads the first page itself; once it knows how many
pages the listing has, it asks ``PagesAhead`` for the rest. Worker threads read
them in page order, at most ``concurrency`` at once (one at a time once
``slow()`` says so: after a 429), and stop starting new ones after an error or
``stop()``; each thread calls ``finish()`` before it ends (to close its own
connection). The caller takes each page in turn and decides, as it would
sequentially, whether to go on: the limits stay where they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading


class PagesAhead:
    """The pages ``pages`` (numbers, in order) read by ``read(page)`` in threads, for ``take``."""

    def __init__(self, read, pages, concurrency, slow=None, finish=None):  # pylint: disable=too-many-arguments
        self._read = read
        self._finish = finish
        self._todo = list(pages)
        self._concurrency = max(int(concurrency), 1)
        self._slow = slow
        self._running = set()
        self._done = {}
        self._stopped = False
        self._started = 0
        self._condition = threading.Condition()
        self._threads = [threading.Thread(target=self._work, name='upsun-support-page-{0}'.format(number))
                         for number in range(min(self._concurrency, len(self._todo)))]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    @property
    def started(self):
        """How many requests were started (each counts against the page limit)."""
        with self._condition:
            return self._started

    def pending(self, page):
        """Whether ``page`` was read, is being read, or will be."""
        with self._condition:
            return page in self._done or page in self._running or (not self._stopped and page in self._todo)

    def take(self, page):
        """The body of ``page`` once read; its error raised here; None when it is not read ahead (read it yourself)."""
        with self._condition:
            while page not in self._done and (page in self._running or (not self._stopped and page in self._todo)):
                self._condition.wait()
            if page not in self._done:
                return None
            body, error = self._done.pop(page)
        if error is not None:
            raise error
        return body

    def stop(self):
        """Start no further page (those being read still end)."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()

    def close(self):
        """Stop, and wait for the pages being read: no thread outlives the listing."""
        self.stop()
        for thread in self._threads:
            thread.join()

    def _allowed(self):
        return 1 if self._slow is not None and self._slow() else self._concurrency

    def _work(self):
        try:
            self._read_pages()
        finally:
            if self._finish is not None:
                self._finish()

    def _read_pages(self):
        while True:
            with self._condition:
                while not self._stopped and self._todo and len(self._running) >= self._allowed():
                    self._condition.wait()
                if self._stopped or not self._todo:
                    return
                page = self._todo.pop(0)
                self._running.add(page)
                self._started += 1
            try:
                outcome = (self._read(page), None)
            except Exception as exc:  # pylint: disable=broad-except
                # Raised again by take() in the caller's thread, if the listing gets that far.
                outcome = (None, exc)
            with self._condition:
                self._running.discard(page)
                self._done[page] = outcome
                if outcome[1] is not None:
                    # Later pages would most likely fail alike (deadline, authentication): none is started.
                    self._stopped = True
                self._condition.notify_all()
