# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build and check the body of ``POST /tickets`` from module options.

Everything here runs before any request: a value the API would refuse is an
``InputError`` that names the option, the value and what is allowed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import os
import re
import stat
from urllib.parse import urlparse

from ansible_collections.upsun.support.plugins.module_utils.errors import InputError

# Options copied to the payload as they are (after the checks below).
CREATE_FIELDS = (
    'subject', 'description', 'requester_id', 'priority', 'subscription_id', 'organization_id',
    'affected_url', 'followup_tid', 'category', 'collaborator_ids',
)


def check_not_blank(name, value):
    if value is not None and not str(value).strip():
        raise InputError('{0} must not be blank.'.format(name))


def check_ticket_id(value):
    """A ticket id the API could know: a positive number."""
    if value <= 0:
        raise InputError('ticket_id must be a positive ticket number, got {0}.'.format(value))


# The spellings of a UUID taken, in any case: 8-4-4-4-12 or 32 hex digits, bare, in {braces} or after urn:uuid:.
# uuid.UUID alone would also take stray dashes, underscores or spaces inside, which the API refuses.
_UUID_DIGITS = r'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})'
UUID_SPELLING = re.compile(r'(?:urn:uuid:)?{0}|\{{{0}\}}'.format(_UUID_DIGITS), re.IGNORECASE)


def check_uuid(name, value):
    """``value`` as the API takes a UUID (lower case, 8-4-4-4-12); ``InputError`` naming ``name`` when it is none."""
    match = UUID_SPELLING.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InputError('{0} must be a UUID such as 3c90c3cc-0d44-4b50-8888-8dd25736052a (also taken: 32 hex digits, '
                         '{{...}} or urn:uuid:...), got {1!r}.'.format(name, value))
    import uuid  # pylint: disable=import-outside-toplevel  # only for UUID options: kept off the import of every run
    return str(uuid.UUID(match.group(1) or match.group(2)))


def check_uuids(name, values):
    """A list of UUIDs, each as ``check_uuid`` gives it (``name[index]`` in the error)."""
    if not isinstance(values, list):
        raise InputError('{0} must be a list of UUIDs, got the {1} {2!r}.'.format(name, type(values).__name__, values))
    return [check_uuid('{0}[{1}]'.format(name, index), value) for index, value in enumerate(values)]


def check_http_url(name, value):
    parsed = urlparse(value)
    if parsed.scheme not in ('http', 'https') or not parsed.netloc:
        raise InputError('{0} must be an absolute http:// or https:// URL, got {1!r}.'.format(name, value))


def check_date_time(name, value):
    """An ISO 8601 date-time as the API's date filters take, e.g. 2026-11-01T00:00:00Z."""
    try:
        datetime.datetime.fromisoformat(value.replace('Z', '+00:00').replace('z', '+00:00'))
    except ValueError:
        raise InputError('{0} must be an ISO 8601 date-time such as 2026-11-01T00:00:00Z, got {1!r}.'.format(name, value))
    if 'T' not in value.upper():
        raise InputError('{0} must be an ISO 8601 date-time with a time, such as 2026-11-01T00:00:00Z, got {1!r}.'.format(name, value))


def build_create_payload(params):
    """Return ``(payload, summary)`` for ``POST /tickets``.

    ``summary`` is the payload with each attachment's data replaced by its
    size: what check mode, diff mode and error output may show.
    """
    for name in ('subject', 'description', 'subscription_id', 'organization_id', 'followup_tid'):
        check_not_blank(name, params.get(name))
    if params.get('affected_url') is not None:
        check_http_url('affected_url', params['affected_url'])

    payload = dict((name, params[name]) for name in CREATE_FIELDS if params.get(name) is not None)
    if 'requester_id' in payload:
        payload['requester_id'] = check_uuid('requester_id', payload['requester_id'])
    if 'collaborator_ids' in payload:
        payload['collaborator_ids'] = check_uuids('collaborator_ids', payload['collaborator_ids'])
    summary = dict(payload)
    add_attachments(params, payload, summary)
    return payload, summary


def add_attachments(params, payload, summary):
    """Check and read the ``attachments`` option into ``payload`` (base64 data) and ``summary`` (sizes), in place.

    The same for a ticket and for a comment: ``attachments`` and ``max_attachment_size`` in ``params``.
    """
    items = check_attachments(params.get('attachments'))
    if items:
        attachments = read_attachments(items, params['max_attachment_size'])
        payload['attachments'] = [dict(filename=name, data=data) for name, data, dummy in attachments]
        summary['attachments'] = [dict(filename=name, size=size) for name, dummy, size in attachments]


ATTACHMENT_KEYS = ('path', 'content', 'data', 'filename')
ATTACHMENT_SOURCES = ('path', 'content', 'data')


def check_attachments(value):
    """The ``attachments`` option as a list of ``{path, content, data, filename}`` dicts, checked.

    The module takes the option as ``raw``, so that a wrong type gets a message
    naming ``attachments`` (ansible-core's own one does not). ``path`` is
    expanded as a ``path`` option would be (``~`` and variables).
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(
            'attachments must be a list of dicts, each with one of path, content or data, got the {0} {1!r}. For one '
            'file: attachments: [{{path: /var/log/deploy.log}}].'.format(type(value).__name__, value))
    items = []
    for index, item in enumerate(value):
        where = 'attachments[{0}]'.format(index)
        if not isinstance(item, dict):
            example = item if isinstance(item, str) else '/var/log/deploy.log'
            raise InputError('{0} must be a dict with one of path, content or data, got the {1} {2!r}; for a file, '
                             'write {{path: {3}}}.'.format(where, type(item).__name__, item, example))
        unknown = sorted(str(key) for key in item if key not in ATTACHMENT_KEYS)
        if unknown:
            raise InputError('{0} has unknown keys: {1}. Allowed: {2}.'.format(where, ', '.join(unknown), ', '.join(ATTACHMENT_KEYS)))
        for key in ATTACHMENT_KEYS:
            if item.get(key) is not None and not isinstance(item[key], str):
                raise InputError('{0}.{1} must be a string, got the {2} {3!r}.'.format(
                    where, key, type(item[key]).__name__, item[key]))
        given = [key for key in ATTACHMENT_SOURCES if item.get(key) is not None]
        if len(given) > 1:
            raise InputError('{0} gives {1}, which are mutually exclusive: give only one of path, content or data.'.format(
                where, ' and '.join(given)))
        if not given:
            raise InputError('{0} needs one of path, content or data.'.format(where))
        if given[0] in ('content', 'data') and item.get('filename') is None:
            raise InputError('{0} gives {1} without filename: filename is required with content or data.'.format(
                where, given[0]))
        checked = dict((key, item.get(key)) for key in ATTACHMENT_KEYS)
        if checked['path'] is not None:
            checked['path'] = os.path.expanduser(os.path.expandvars(checked['path']))
        items.append(checked)
    return items


def read_attachments(items, max_total):
    """Return ``[(filename, base64 data, size in bytes)]``, enforcing ``max_total`` bytes in all."""
    result = []
    total = 0
    for index, item in enumerate(items):
        where = 'attachments[{0}]'.format(index)
        if item.get('path') is not None:
            path = item['path']
            filename = item.get('filename') or os.path.basename(path)
            check_attachment_filename(where, filename)
            raw = _read_file(where, path, filename, total, max_total)
        elif item.get('content') is not None:
            filename = item['filename']
            check_attachment_filename(where, filename)
            raw = item['content'].encode('utf-8')
        else:
            filename = item['filename']
            check_attachment_filename(where, filename)
            try:
                raw = base64.b64decode(item['data'], validate=True)
            except (binascii.Error, ValueError):
                raise InputError('{0}.data for {1!r} is not valid base64; pass the file as path or content instead.'.format(
                    where, filename))
        total = _add_size(where, filename, len(raw), total, max_total)
        result.append((filename, base64.b64encode(raw).decode('ascii'), len(raw)))
    return result


def check_attachment_filename(where, filename):
    """The name an attachment gets in the ticket: one plain file name (support staff save it as is)."""
    check_not_blank(where + '.filename', filename)
    if '/' in filename or '\\' in filename:
        raise InputError('{0}.filename must be a file name without a directory, got {1!r}.'.format(where, filename))
    if '..' in filename or filename == '.':
        raise InputError('{0}.filename must not be . or contain .., got {1!r}.'.format(where, filename))
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in filename):
        raise InputError('{0}.filename must not contain control characters, got {1!r}; give a plain filename.'.format(
            where, filename))


def _add_size(where, filename, size, total, max_total):
    total += size
    if total > max_total:
        raise InputError(
            '{0}: {1!r} is {2} bytes, which brings the attachments to {3} bytes, above max_attachment_size '
            '({4} bytes). Attach the last part of the file, or raise max_attachment_size.'.format(
                where, filename, size, total, max_total))
    return total


# Pseudo-file systems: their "files" are live kernel state (a process's environment, memory, devices),
# often with a stat size of 0, and can hold secrets such as the API token itself.
REFUSED_ROOTS = ('/proc', '/sys', '/dev')


def _refused_root(path):
    for root in REFUSED_ROOTS:
        if path == root or path.startswith(root + '/'):
            return root
    return None


def _read_file(where, path, filename, total, max_total):
    """The bytes of the regular file ``path``: at most what is left under ``max_total``, plus one to see more."""
    resolved = os.path.realpath(path)
    root = _refused_root(resolved)
    if root is not None:
        raise InputError(
            '{0}.path {1!r} resolves to {2!r}, under {3}: files under /proc, /sys and /dev are never attached (they '
            'can hold secrets, such as the environment of a process). Copy what the ticket needs into a regular '
            'file and attach that.'.format(where, path, resolved, root))
    try:
        info = os.stat(resolved)
    except OSError as exc:
        raise InputError('{0}.path {1!r} cannot be read: {2}.'.format(where, path, exc.strerror or exc))
    # Checked before opening: opening a FIFO would block until something writes to it.
    if not stat.S_ISREG(info.st_mode):
        raise InputError('{0}.path {1!r} is not a regular file.'.format(where, path))
    room = max(max_total - total, 0)
    if info.st_size > room:
        # Refused without reading it; st_size can only say "too big" here, never "small enough".
        _add_size(where, filename, info.st_size, total, max_total)
    flags = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0) | getattr(os, 'O_CLOEXEC', 0)
    try:
        descriptor = os.open(resolved, flags)
    except OSError as exc:
        raise InputError('{0}.path {1!r} cannot be read: {2}.'.format(where, path, exc.strerror or exc))
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode) or _on_refused_file_system(opened):
            raise InputError('{0}.path {1!r} is not a regular file.'.format(where, path))
        with os.fdopen(descriptor, 'rb') as handle:
            descriptor = None
            raw = handle.read(room + 1)
    except (IOError, OSError) as exc:
        raise InputError('{0}.path {1!r} cannot be read: {2}.'.format(where, path, exc.strerror or exc))
    finally:
        if descriptor is not None:
            os.close(descriptor)
    if len(raw) > room:
        raise InputError(
            '{0}: {1!r} is more than {2} bytes, which brings the attachments above max_attachment_size ({3} bytes). '
            'Attach the last part of the file, or raise max_attachment_size.'.format(where, filename, room, max_total))
    return raw


def _on_refused_file_system(opened):
    """Whether an opened file lives on the file system of /proc, /sys or /dev (a path swapped after the check)."""
    for root in REFUSED_ROOTS:
        try:
            if os.stat(root).st_dev == opened.st_dev:
                return True
        except OSError:
            continue
    return False
