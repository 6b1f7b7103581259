# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One lock per dedupe reference, so that runs on one host with the same dedupe_key file one ticket.

The locks are ``flock`` locks on files in a private per-user directory under
the temporary directory (``TMPDIR``): ``upsun-support-locks-<uid>/<reference>.lock``.
The kernel drops a lock when its holder ends, however it ends, so a crashed
run never blocks the next one. The file name is the dedupe reference (a
digest), never the key itself. Waiting is bounded by the client's deadline.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import os
import stat
import tempfile

from ansible_collections.upsun.support.plugins.module_utils.errors import DedupeLockError

try:
    import fcntl
except ImportError:  # not a POSIX host: no lock (the module only runs on POSIX hosts in practice)
    fcntl = None

# How often a held lock is tried again.
POLL_SECONDS = 0.2


def lock_directory():
    """The per-user lock directory, created private (0700); refused when it is not safe to use."""
    uid = os.geteuid()
    directory = os.path.join(tempfile.gettempdir(), 'upsun-support-locks-{0}'.format(uid))
    try:
        os.mkdir(directory, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise DedupeLockError('Cannot create the dedupe lock directory {0}: {1}. Set TMPDIR to a writable '
                                  'directory.'.format(directory, exc.strerror or exc))
    problem = private_directory_problem(directory)
    if problem:
        raise DedupeLockError(
            'The dedupe lock directory {0} is not safe to use: {1}. Remove it (it only holds lock files), or set '
            'TMPDIR to a private directory.'.format(directory, problem))
    return directory


def private_directory_problem(directory):
    """Why ``directory`` is not safe for this user's private files, or None: a symlink, not a directory, another
    user's, or open to other users. Shared by the lock directory and the ledger (``ledger.py``)."""
    uid = os.geteuid()
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        return 'it is not a directory (or is a symbolic link)'
    if info.st_uid != uid:
        return 'it belongs to user {0}, not to this user ({1})'.format(info.st_uid, uid)
    if stat.S_IMODE(info.st_mode) & 0o077:
        return 'other users may write to it (mode {0:o})'.format(stat.S_IMODE(info.st_mode))
    return None


@contextlib.contextmanager
def dedupe_lock(reference, client):
    """Hold the lock of ``reference`` for a ``with`` block; yield the lock file's path.

    Waits for another holder as long as ``client.remaining()`` allows, polling
    with ``client.sleep``; raises ``DedupeLockError`` when the lock cannot be had.
    """
    if fcntl is None:
        yield None
        return
    path = os.path.join(lock_directory(), reference + '.lock')
    flags = os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as exc:
        raise DedupeLockError('Cannot open the dedupe lock {0}: {1}. Set TMPDIR to a private, writable '
                              'directory.'.format(path, exc.strerror or exc))
    try:
        wait = round(client.remaining(), 1)
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise DedupeLockError('Cannot lock {0}: {1}.'.format(path, exc.strerror or exc))
            if client.remaining() <= 0:
                raise DedupeLockError(
                    'Another run on this controller is filing a ticket with the same dedupe_key ({0}holds the lock '
                    '{1}) and did not finish within {2:g} s, what was left of the deadline. Nothing was sent. Run again '
                    'once it is done (it may have filed the ticket), or raise deadline.'.format(
                        _holder(descriptor), path, wait))
            client.sleep(min(POLL_SECONDS, client.remaining()))
        # Who holds it, for the message of a run that waits in vain.
        os.ftruncate(descriptor, 0)
        os.write(descriptor, '{0}\n'.format(os.getpid()).encode('ascii'))
        try:
            yield path
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _holder(descriptor):
    try:
        text = os.pread(descriptor, 32, 0).decode('ascii', 'replace').strip()
    except OSError:
        return ''
    return 'process {0} '.format(text) if text.isdigit() else ''
