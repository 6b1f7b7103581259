# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The spool: tickets that could not be filed, kept on disk to be filed later.

A spool file is JSON: ``{"format": 1, "created": ..., "source": ..., "error": ...,
"ticket": {...}}`` where ``ticket`` holds the ``upsun.support.ticket`` options
that file it (never a connection option, so never a secret). The
``upsun.support.flush_spool`` playbook files each one and removes it only once
its ticket is filed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import tempfile

from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES

SPOOL_FORMAT = 1
DEFAULT_SPOOL_DIR = '~/.ansible/upsun_support_spool'


def spool_record(ticket_args, source, error=None):
    """The JSON-ready record for ``ticket_args``, with every connection option left out."""
    ticket = dict((name, value) for name, value in ticket_args.items()
                  if name not in CONNECTION_NAMES and value is not None)
    return {
        'format': SPOOL_FORMAT,
        'created': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'source': source,
        'error': error,
        'ticket': ticket,
    }


def write_spool(directory, ticket_args, source, error=None):
    """Write one spool file atomically (mode 0600) and return its path."""
    directory = os.path.expanduser(directory)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    record = spool_record(ticket_args, source, error)
    stamp = record['created'].replace(':', '').replace('-', '')
    fd, tmp_path = tempfile.mkstemp(prefix='.ticket-{0}-'.format(stamp), suffix='.json', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(record, handle, indent=2, sort_keys=True)
        final_path = os.path.join(directory, os.path.basename(tmp_path)[1:])
        os.rename(tmp_path, final_path)
    except Exception:
        os.unlink(tmp_path)
        raise
    return final_path
