# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one check of the private directories the collection writes to: the spool and the dedupe locks.

A directory is private when it is a real directory (not a symbolic link), it
belongs to this user, and no other user can write to it: nobody else can then
plant, replace or remove what is in it. A directory the collection did not
create is never chmod-ed; one it creates is made ``0700``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat


def private_directory_problem(path):
    """Why ``path`` is not a private directory of this user, as ``it ...``; ``None`` when it is one."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return 'it cannot be used ({0})'.format(exc.strerror or exc)
    if stat.S_ISLNK(info.st_mode):
        return 'it is a symlink, which could point anywhere'
    if not stat.S_ISDIR(info.st_mode):
        return 'it is not a directory'
    if info.st_uid != os.geteuid():
        return 'it belongs to another user (uid {0}, this user is uid {1})'.format(info.st_uid, os.geteuid())
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return 'it can be written by other users (mode {0:04o})'.format(stat.S_IMODE(info.st_mode))
    return None


def ensure_private_directory(path, create=True):
    """Create ``path`` (mode ``0700``, its parents as needed) when ``create`` and it is missing; then check it.

    Returns why it cannot be used (see ``private_directory_problem``), or ``None``.
    """
    if create and not os.path.lexists(path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkdir(path, 0o700)
            # mkdir's mode is cut by the umask; this directory is ours, created a moment ago.
            os.chmod(path, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                return 'it cannot be created ({0})'.format(exc.strerror or exc)
    return private_directory_problem(path)
