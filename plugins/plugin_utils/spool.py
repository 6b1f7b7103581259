# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The spool: tickets that could not be filed, kept on the controller to be filed later.

One record format, written by the role (through the ``upsun.support.spool``
action) and the callback, read by the flush. A record holds the
``upsun.support.ticket`` options that file the ticket (log attachments as
their redacted content, never a path to read), the connection settings that
are not secret, why it was spooled, and whether the ticket may already exist.
The flush claims a record (an exclusive ``flock``) before filing it, so two
flushes at once file it once; a record whose filing failed is kept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile

from collections.abc import Mapping

from ansible_collections.upsun.support.plugins.module_utils.footer import SOURCES
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_SETTINGS

SPOOL_FORMAT = 2
# Format 1 (upsun.support 0.1.0) had no connection settings and no may_exist; it is read as such.
READABLE_FORMATS = (1, 2)
DEFAULT_SPOOL_DIR = '~/.ansible/upsun_support_spool'
FLUSH_COMMAND = 'ansible-playbook upsun.support.flush_spool'

_STR, _LIST, _SIZE = (str,), (list,), (str, int)
# The ticket options a record may carry, and their types; anything else is refused.
TICKET_FIELDS = {
    'subject': _STR, 'description': _STR, 'priority': _STR, 'category': _STR, 'requester_id': _STR,
    'subscription_id': _STR, 'organization_id': _STR, 'affected_url': _STR, 'followup_tid': _STR,
    'collaborator_ids': _LIST, 'attachments': _LIST, 'max_attachment_size': _SIZE, 'dedupe_key': _STR,
    'recovery_key': _STR, 'filed_by': _STR,
}
_TYPES = {'str': (str,), 'path': (str,), 'float': (int, float), 'int': (int,), 'bool': (bool,)}
CONNECTION_FIELDS = dict((setting.name, _TYPES[setting.type]) for setting in CONNECTION_SETTINGS if not setting.secret)
RECORD_FIELDS = ('format', 'created', 'source', 'error', 'may_exist', 'connection', 'ticket')
# Older records named their writer differently.
_SOURCE_NAMES = {'deploy_failure_ticket': 'role', 'ticket_on_failure': 'callback'}


class SpoolError(Exception):
    """A spool directory or record that cannot be used; the message names it and says why."""


def spool_directory(path, create=True):
    """The spool directory ``path`` (``~`` expanded), created ``0700`` if missing; refused when it is unsafe.

    Refused: a symlink, not a directory, owned by another user, or writable by
    others. A directory the collection did not create is never chmod-ed.
    """
    path = os.path.abspath(os.path.expanduser(path))
    try:
        info = os.lstat(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT or not create:
            raise SpoolError('the spool directory {0} cannot be used: {1}'.format(path, exc.strerror or exc))
        parent = os.path.dirname(path)
        try:
            os.makedirs(parent, exist_ok=True)
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise SpoolError('the spool directory {0} cannot be created: {1}'.format(path, exc.strerror or exc))
        info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise SpoolError('the spool directory {0} is a symlink; refused, as it could point anywhere. Use a real '
                         'directory of your own (mode 0700).'.format(path))
    if not stat.S_ISDIR(info.st_mode):
        raise SpoolError('the spool directory {0} is not a directory.'.format(path))
    if info.st_uid != os.geteuid():
        raise SpoolError('the spool directory {0} belongs to another user (uid {1}); refused. Use a directory of your '
                         'own (mode 0700).'.format(path, info.st_uid))
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SpoolError('the spool directory {0} can be written by other users (mode {1:04o}); refused, as they could '
                         'plant tickets. Run chmod 700 {0}, or use another directory.'.format(path, stat.S_IMODE(info.st_mode)))
    return path


def make_record(ticket, source, created, error=None, may_exist=False, connection=None, redact=None):
    """A record for ``ticket`` (its text redacted by ``redact``); raises ``SpoolError`` when it is not valid."""
    redact = redact or (lambda text: text)
    record = dict(
        format=SPOOL_FORMAT, created=created, source=source, error=redact(error) if error else None,
        may_exist=bool(may_exist),
        connection=dict((name, value) for name, value in (connection or {}).items()
                        if name in CONNECTION_FIELDS and value is not None),
        ticket=_redacted_ticket(dict((name, value) for name, value in ticket.items() if value is not None), redact),
    )
    problems = record_problems(record)
    if problems:
        raise SpoolError('the ticket cannot be spooled: {0}'.format('; '.join(problems)))
    return record


def _redacted_ticket(ticket, redact):
    for name in ('subject', 'description'):
        if isinstance(ticket.get(name), str):
            ticket[name] = redact(ticket[name])
    if isinstance(ticket.get('attachments'), list):
        ticket['attachments'] = [dict(item, content=redact(item['content']))
                                 if isinstance(item, Mapping) and isinstance(item.get('content'), str) else item
                                 for item in ticket['attachments']]
    return ticket


def write_record(directory, record):
    """Write ``record`` atomically (mode 0600) into the checked spool ``directory``; return its path."""
    directory = spool_directory(directory)
    stamp = record['created'].replace(':', '').replace('-', '')
    try:
        fd, tmp_path = tempfile.mkstemp(prefix='.ticket-{0}-'.format(stamp), suffix='.json', dir=directory)
    except OSError as exc:
        raise SpoolError('cannot write to the spool directory {0}: {1}'.format(directory, exc.strerror or exc))
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(record, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        final_path = os.path.join(directory, os.path.basename(tmp_path)[1:])
        os.rename(tmp_path, final_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
    return final_path


def record_problems(record):
    """Why ``record`` cannot be filed (empty when it can): what is unknown, missing or of the wrong type."""
    if not isinstance(record, Mapping):
        return ['not a JSON object']
    if record.get('format') not in READABLE_FORMATS:
        return ['unknown spool format {0!r} (this collection reads formats {1})'.format(
            record.get('format'), ', '.join(str(number) for number in READABLE_FORMATS))]
    problems = []
    unknown = sorted(set(record) - set(RECORD_FIELDS))
    if unknown:
        problems.append('unknown field(s) {0}'.format(', '.join(unknown)))
    if not isinstance(record.get('may_exist', False), bool):
        problems.append('may_exist is not true or false')
    connection = record.get('connection') or {}
    if not isinstance(connection, Mapping):
        problems.append('connection is not a mapping')
        connection = {}
    for name, value in connection.items():
        if name not in CONNECTION_FIELDS:
            problems.append('connection holds {0!r}, which a record may not carry'.format(name))
        elif not isinstance(value, CONNECTION_FIELDS[name]) or isinstance(value, bool) is not (bool in CONNECTION_FIELDS[name]):
            problems.append('connection.{0} has the wrong type'.format(name))
    ticket = record.get('ticket')
    if not isinstance(ticket, Mapping):
        return problems + ['no ticket in it']
    for name, value in ticket.items():
        if name not in TICKET_FIELDS:
            problems.append('the ticket holds {0!r}, which is not a ticket option a record may carry'.format(name))
        elif not isinstance(value, TICKET_FIELDS[name]) or isinstance(value, bool):
            problems.append('ticket.{0} has the wrong type'.format(name))
    for name in ('subject', 'description'):
        if not isinstance(ticket.get(name), str) or not ticket[name].strip():
            problems.append('the ticket has no {0}'.format(name))
    if ticket.get('filed_by') is not None and ticket['filed_by'] not in SOURCES:
        problems.append('ticket.filed_by is not one of {0}'.format(', '.join(SOURCES)))
    for index, item in enumerate(ticket.get('attachments') or []):
        if not isinstance(item, Mapping) or set(item) != {'filename', 'content'} or not all(
                isinstance(value, str) for value in item.values()):
            where = 'ticket.attachments[{0}]'.format(index)
            if isinstance(item, Mapping) and 'path' in item:
                problems.append('{0} is a path to read ({1!r}); a record carries attachments as their content only'.format(
                    where, item['path']))
            else:
                problems.append('{0} is not {{filename, content}} text'.format(where))
    return problems


def parse_record(text, path):
    """The record in ``text`` (read from ``path``), brought to the current format; ``SpoolError`` naming ``path``."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise SpoolError('{0} is not a spool record (not JSON: {1}); it was left in place.'.format(path, exc))
    problems = record_problems(record)
    if problems:
        raise SpoolError('{0} was refused and left in place: {1}.'.format(path, '; '.join(problems)))
    record = dict(record)
    record.setdefault('may_exist', False)
    record.setdefault('connection', {})
    ticket = dict(record['ticket'])
    ticket.setdefault('filed_by', _SOURCE_NAMES.get(record.get('source'), record.get('source')
                                                    if record.get('source') in SOURCES else 'module'))
    record['ticket'] = ticket
    record['format'] = SPOOL_FORMAT
    return record


def record_paths(directory):
    """The record files in ``directory``, oldest name first (names start with their UTC time)."""
    directory = spool_directory(directory, create=False)
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if name.endswith('.json') and not name.startswith('.')]


class Claim:
    """A record this process holds exclusively: ``done`` removes it, ``keep`` leaves it with the error of this attempt."""

    def __init__(self, path, handle, record):
        self.path = path
        self._handle = handle
        self.record = record

    def done(self):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def keep(self, error):
        """Leave the record for a later flush, with the error of this attempt."""
        record = dict(self.record, error=error)
        with contextlib.suppress(OSError, SpoolError):
            replacement = write_record(os.path.dirname(self.path), record)
            os.rename(replacement, self.path)


@contextlib.contextmanager
def claimed(path):
    """The ``Claim`` of the record at ``path``, or ``None`` when another flush holds it or it is gone.

    Raises ``SpoolError`` for a record that is not valid (it stays in place).
    """
    try:
        handle = open(path, 'r', encoding='utf-8')
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            yield None
            return
        # The holder before us may have filed and removed it, or replaced it: only the file still at the path counts.
        try:
            same = os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            yield None
            return
        record = parse_record(handle.read(), path)
        claim = Claim(path, handle, record)
        yield claim
    finally:
        handle.close()
