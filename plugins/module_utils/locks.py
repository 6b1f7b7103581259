# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One lock per dedupe reference, so that runs on one host with the same dedupe_key file one ticket.

The locks are ``flock`` locks on files in a private per-user directory:
``upsun-support-locks-<uid>/<reference>.lock`` under the temporary directory
(``TMPDIR``), or, when another user holds or controls that one, under
``~/.ansible/upsun_support_locks``, then ``$XDG_RUNTIME_DIR/upsun-support-locks``.
The kernel drops a lock when its holder ends, however it ends, so a crashed
run never blocks the next one. The file name is the dedupe reference (a
digest), never the key itself. Waiting is bounded by the client's deadline.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import os
import tempfile

from ansible_collections.upsun.support.plugins.module_utils.errors import DedupeLockError
from ansible_collections.upsun.support.plugins.module_utils.private_dir import ensure_private_directory

try:
    import fcntl
except ImportError:  # not a POSIX host: no lock (the module only runs on POSIX hosts in practice)
    fcntl = None

# How often a held lock is tried again.
POLL_SECONDS = 0.2


def lock_directory(warn=None):
    """The first of ``lock_directory_candidates()`` that is private to this user (created ``0700`` if missing).

    One that another user owns or can write to, or that is a symlink, is never
    used: the next one is, and ``warn`` says why. ``DedupeLockError`` when none can be.
    """
    refused = []
    for directory in lock_directory_candidates():
        problem = ensure_private_directory(directory)
        if problem is None:
            if refused and warn is not None:
                warn('The dedupe locks are kept in {0}, as {1}.'.format(directory, '; '.join(refused)))
            return directory
        refused.append('{0} cannot be used: {1}'.format(directory, problem))
    raise DedupeLockError('No private directory for the dedupe locks: {0}. Remove the directories that are not yours '
                          '(they only hold lock files), or set TMPDIR to a private, writable directory.'.format(
                              '; '.join(refused)))


def lock_directory_candidates():
    """Where the locks may be kept, in order: under the temporary directory, in the home directory, the runtime directory.

    The first is where every version so far kept them; another local user can
    create it first (the temporary directory is shared), so the other two,
    which only this user can create, follow.
    """
    candidates = [os.path.join(tempfile.gettempdir(), 'upsun-support-locks-{0}'.format(os.geteuid()))]
    home = os.path.expanduser('~')
    if os.path.isabs(home):
        candidates.append(os.path.join(home, '.ansible', 'upsun_support_locks'))
    runtime = os.environ.get('XDG_RUNTIME_DIR') or ''
    if os.path.isabs(runtime):
        candidates.append(os.path.join(runtime, 'upsun-support-locks'))
    return candidates


@contextlib.contextmanager
def dedupe_lock(reference, client):
    """Hold the lock of ``reference`` for a ``with`` block; yield the lock file's path.

    Waits for another holder as long as ``client.remaining()`` allows, polling
    with ``client.sleep``; raises ``DedupeLockError`` when the lock cannot be had.
    """
    if fcntl is None:
        yield None
        return
    path = os.path.join(lock_directory(getattr(client, 'warn', None)), reference + '.lock')
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
