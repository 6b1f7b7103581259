# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ends of the deploy logs read on the failed hosts, as ticket attachments: redacted and capped.

The role reads every log of a host with one command (see the role's
``vars/main.yml``), which writes ``<marker> ok <size> <path>`` and the file's
last bytes before each file, or ``<marker> missing|unreadable 0 <path>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from collections.abc import Mapping

from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import error_text


def _safe_filename(text):
    return re.sub(r'[^A-Za-z0-9._-]+', '_', text).strip('._') or 'log'


def parse_tails(stdout, marker):
    """``[(status, size, path, content)]`` from the log reader's output."""
    entries = []
    current = None
    lines = []
    text = stdout.decode('utf-8', 'replace') if isinstance(stdout, bytes) else str(stdout or '')
    for line in text.split('\n'):
        if line.startswith(marker + ' '):
            if current is not None:
                entries.append(current + ('\n'.join(lines),))
            fields = line[len(marker) + 1:].split(' ', 2)
            current = tuple(fields) if len(fields) == 3 else None
            lines = []
        elif current is not None:
            lines.append(line)
    if current is not None:
        entries.append(current + ('\n'.join(lines),))
    return entries


def log_attachments(reads, redact, tail_bytes=65536, max_total_bytes=4194304):
    """``dict(attachments, files, notes, total)`` from ``reads`` (host name to what the reader registered, and marker).

    ``attachments`` are ``upsun.support.ticket`` attachments (``filename``,
    ``content``); ``files`` says what was attached, for the description;
    ``notes`` lists the files missing, unreadable or left out by the total cap.
    """
    attachments, files, notes = [], [], []
    used_names = set()
    total = 0
    for host, read, marker in reads:
        if not isinstance(read, Mapping) or read.get('skipped'):
            continue
        if read.get('rc') not in (0, None) or 'stdout' not in read:
            notes.append('Logs of {0} could not be read: {1}'.format(host, error_text(read, redact)))
            continue
        for status, size, path, content in parse_tails(read.get('stdout'), marker):
            if status != 'ok':
                notes.append('{0} on {1}: {2}'.format(path, host, 'not found' if status == 'missing' else 'not readable'))
                continue
            size = int(size) if size.isdigit() else 0
            content = _redacted_tail(content, redact, size, tail_bytes, '{0} ({1} bytes) on {2}'.format(path, size, host))
            content, cut = _within_total(content, max_total_bytes - total, max_total_bytes)
            if content is None:
                notes.append('{0} on {1}: left out, the attachments reached the total cap of {2} KiB'.format(
                    path, host, max_total_bytes // 1024))
                continue
            attached = len(content.encode('utf-8'))
            total += attached
            filename = _unique_filename(host, path, used_names)
            attachments.append(dict(filename=filename, content=content))
            files.append(dict(host=host, path=path, filename=filename, size=size, attached=attached,
                              truncated=size > tail_bytes or cut))
    return dict(attachments=attachments, files=files, notes=notes, total=total)


def _redacted_tail(content, redact, size, tail_bytes, what):
    """The redacted ``content`` of a tail; of a file longer than ``tail_bytes``, without its first, partial line."""
    if size <= tail_bytes:
        return redact(content)
    # The tail starts in the middle of a line, which could be the end of a secret the rules no longer recognise: drop
    # that partial line.
    content = content.split('\n', 1)[1] if '\n' in content else ''
    return '[upsun.support: the last {0} KiB of {1}]\n{2}'.format(tail_bytes // 1024, what, redact(content))


def _within_total(content, room, max_total_bytes):
    """``(content, cut)``: ``content`` cut to its end that fits the ``room`` left, or ``(None, True)`` when too little is."""
    data = content.encode('utf-8')
    if len(data) <= room:
        return content, False
    if room < 1024:
        return None, True
    content = data[len(data) - (room - 200):].decode('utf-8', 'ignore')
    content = content.split('\n', 1)[1] if '\n' in content else content
    return '[upsun.support: cut to fit the total cap of {0} KiB]\n{1}'.format(max_total_bytes // 1024, content), True


def _unique_filename(host, path, used_names):
    """``<host>-<file name>``, numbered when two files would share it."""
    base = '{0}-{1}'.format(_safe_filename(host), _safe_filename(path.rstrip('/').rsplit('/', 1)[-1]))
    filename, counter = base, 2
    while filename in used_names:
        filename, counter = '{0}-{1}'.format(base, counter), counter + 1
    used_names.add(filename)
    return filename
