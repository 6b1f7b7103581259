# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What identifies a failure: the project it belongs to, and the dedupe and recovery keys built from it.

Shared by the role and the callback, so that both name a project the same way.
The project is, in order:

1. the name the user sets (the callback's ``project`` option, the role's
   ``deploy_failure_ticket_project``), used as it is;
2. else, for each playbook (callback) or playbook directory (role) and each
   inventory source: inside a git checkout, the checkout's ``origin`` remote
   (credentials and scheme dropped, so that an HTTPS and an SSH clone agree),
   else the checkout directory's name, followed by the path inside the
   checkout; outside any checkout, the full real path. Inventory sources that
   are not paths (``-i web1,web2,``) count as written.

So two CI runners or controllers that check out the same repository in
different workspaces share the identity, and two repositories never do (unless
they have no remote and the same directory name: set the project then). The
git files are read, ``git`` is not run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# The part of the collection that files, as the first word of its keys.
KEY_PREFIXES = {'role': 'deploy_failure_ticket', 'callback': 'ticket_on_failure'}
_REMOTE_SECTION = re.compile(r'^\s*\[\s*remote\s+"(?P<name>[^"]*)"\s*\]\s*$')
_SECTION = re.compile(r'^\s*\[')
_URL = re.compile(r'^\s*url\s*=\s*(?P<url>.+?)\s*$', re.IGNORECASE)
# scheme://[user[:password]@]host[:port]/path, or host:path (scp-like, once the user is dropped).
_URL_FORM = re.compile(r'^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d+)?(?P<path>/.*)?$', re.IGNORECASE)
_SCP_FORM = re.compile(r'^(?P<host>[^/:]+):(?P<path>(?!//).+)$')


def failure_keys(source, project, scope, tasks=()):
    """``(dedupe key, recovery key)`` of a failure: the one place their format is written.

    ``project`` is from ``project_identity``; ``scope`` names what recovers (the
    playbook file names for the callback, the play and environment for the role);
    ``tasks`` are the failed tasks, in any order.
    """
    recovery = '|'.join([KEY_PREFIXES[source], project] + [str(part) for part in scope])
    dedupe = '|'.join([recovery] + sorted(set(str(task) for task in tasks)))
    return dedupe, recovery


def project_identity(project=None, paths=(), inventory_sources=()):
    """The project a failure belongs to, as a string: the ``project`` name, else where the run comes from."""
    if project is not None and str(project).strip():
        return 'project=' + str(project).strip()
    where = [location(path) for path in paths if path]
    inventories = [location(source) if _is_path(source) else str(source) for source in inventory_sources or () if source]
    return 'where={0};inventory={1}'.format(','.join(where) or 'unknown', ','.join(inventories) or 'none')


def _is_path(source):
    # As ansible-core tells a host list from a path: a comma makes a list.
    return ',' not in str(source)


def location(path):
    """``path`` as the same for every checkout of its repository: ``<repository>:<path inside>``, else its real path."""
    real = os.path.realpath(str(path))
    root = checkout_root(real)
    if root is None:
        return real
    inside = os.path.relpath(real, root).replace(os.sep, '/')
    return '{0}:{1}'.format(repository_name(root), '' if inside == '.' else inside)


def checkout_root(path):
    """The top directory of the git checkout holding ``path``, or ``None``."""
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    for dummy in range(100):
        if os.path.exists(os.path.join(directory, '.git')):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return None


def repository_name(root):
    """The ``origin`` remote of the checkout at ``root`` as ``host/path`` (else its first remote), else its directory name."""
    remotes = _remotes(_git_config(root))
    url = remotes.get('origin') or next(iter(remotes.values()), None)
    return normalize_remote(url) if url else os.path.basename(root)


def normalize_remote(url):
    """``host/path`` of a remote URL, without scheme, credentials, port or ``.git``; a local path as it is."""
    url = url.strip()
    match = _URL_FORM.match(url)
    if match and match.group('scheme').lower() != 'file':
        host, path = match.group('host'), match.group('path') or ''
    else:
        if os.path.isabs(url):
            return url.rstrip('/')
        # Whatever stands before the last @ is a user, or could be a credential.
        url = url.rsplit('@', 1)[-1]
        match = _SCP_FORM.match(url)
        if match is None:
            return url.rstrip('/')
        host, path = match.group('host'), match.group('path')
    path = path.strip('/')
    if path.endswith('.git'):
        path = path[:-4]
    return '{0}/{1}'.format(host.lower(), path)


def _git_config(root):
    """The text of the checkout's git config ('' when unreadable); a worktree's ``.git`` file points to it."""
    git = os.path.join(root, '.git')
    try:
        if os.path.isfile(git):
            with open(git, encoding='utf-8', errors='replace') as handle:
                pointer = handle.read().strip()
            if not pointer.startswith('gitdir:'):
                return ''
            git = os.path.join(root, pointer[len('gitdir:'):].strip())
            common = os.path.join(git, 'commondir')
            if os.path.isfile(common):
                with open(common, encoding='utf-8', errors='replace') as handle:
                    git = os.path.join(git, handle.read().strip())
        with open(os.path.join(git, 'config'), encoding='utf-8', errors='replace') as handle:
            return handle.read()
    except OSError:
        return ''


def _remotes(config):
    """``{name: url}`` of the ``[remote "..."]`` sections of a git config, in order."""
    remotes = {}
    current = None
    for line in config.splitlines():
        section = _REMOTE_SECTION.match(line)
        if section:
            current = section.group('name')
            continue
        if _SECTION.match(line):
            current = None
            continue
        url = _URL.match(line)
        if current is not None and url and current not in remotes:
            remotes[current] = url.group('url').strip('"')
    return remotes
