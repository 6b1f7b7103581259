# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The watchdog: one thread ends the attempts whose time ran out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.upsun.support.plugins.module_utils import watchdog as watchdog_module


# --- the watchdog: one thread ends the attempts whose time ran out -------------------------------------------------


class _RecordingSocket:
    def __init__(self):
        self.shut = threading.Event()

    def shutdown(self, how):
        self.shut.set()


class _Connection:
    def __init__(self):
        self.sock = _RecordingSocket()


def _watched_attempt(seconds):
    attempt = watchdog_module.Attempt(seconds)
    attempt.__enter__()
    connection = _Connection()
    attempt.watch(connection)
    return attempt, connection


def test_an_attempt_still_running_when_its_time_runs_out_has_its_socket_shut():
    attempt, connection = _watched_attempt(0.05)
    try:
        assert connection.sock.shut.wait(5), 'the watchdog never ended the attempt'
        assert attempt.expired
    finally:
        attempt.__exit__(None, None, None)


def test_an_attempt_that_ended_in_time_is_left_alone():
    attempt, connection = _watched_attempt(0.05)
    attempt.__exit__(None, None, None)
    time.sleep(0.2)
    assert not connection.sock.shut.is_set() and not attempt.expired


def test_a_shorter_attempt_watched_after_a_longer_one_still_ends_on_time():
    # The watchdog sleeps until the earliest deadline: a new earlier one must wake it.
    long_attempt, long_connection = _watched_attempt(30)
    short_attempt, short_connection = _watched_attempt(0.05)
    started = time.monotonic()
    try:
        assert short_connection.sock.shut.wait(5)
        assert time.monotonic() - started < 2
        assert not long_connection.sock.shut.is_set()
    finally:
        short_attempt.__exit__(None, None, None)
        long_attempt.__exit__(None, None, None)


def test_one_watchdog_thread_serves_many_attempts():
    before = [thread for thread in threading.enumerate() if thread.name == 'upsun-support-watchdog']
    attempts = [_watched_attempt(30)[0] for dummy in range(20)]
    for attempt in attempts:
        attempt.__exit__(None, None, None)
    after = [thread for thread in threading.enumerate() if thread.name == 'upsun-support-watchdog']
    assert len(after) == 1 and len(before) <= 1


def test_a_forked_child_starts_its_own_watchdog(monkeypatch):
    # A worker forked from the controller has no copy of the parent's thread: a new process id means a new thread.
    watchdog = watchdog_module.Watchdog()
    attempt, connection = watchdog_module.Attempt(0.05), _Connection()
    attempt.watch(connection)
    watchdog.watch(attempt, 0.05)
    first = watchdog._cond
    monkeypatch.setattr(watchdog_module.os, 'getpid', lambda: -1)
    child_attempt, child_connection = watchdog_module.Attempt(0.05), _Connection()
    child_attempt.watch(child_connection)
    watchdog.watch(child_attempt, 0.05)
    assert watchdog._cond is not first
    assert child_connection.sock.shut.wait(5) and connection.sock.shut.wait(5)
