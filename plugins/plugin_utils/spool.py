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

A record is data, never instructions: the flush files with its own connection
settings only; the API URL a record keeps is only shown and compared. The
reader trusts nothing it reads: a record that is not a regular file, is larger
than ``MAX_RECORD_BYTES``, is not UTF-8 JSON or not of the format is refused
(``RecordRefused``), and the flush sets it aside in ``rejected/``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import errno
import fcntl
import json
import os
import stat
import tempfile
import uuid

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.upsun.support.plugins.module_utils.constants import DEFAULT_API_URL
from ansible_collections.upsun.support.plugins.module_utils.footer import SOURCES
from ansible_collections.upsun.support.plugins.module_utils.payload import CREATE_FIELDS
from ansible_collections.upsun.support.plugins.module_utils.private_dir import ensure_private_directory
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_SETTINGS

SPOOL_FORMAT = 2
DEFAULT_SPOOL_DIR = '~/.ansible/upsun_support_spool'
FLUSH_COMMAND = 'ansible-playbook upsun.support.flush_spool'

_STR, _LIST, _SIZE = (str,), (list,), (str, int)
# The ticket options a record may carry, and their types; anything else is refused: the fields of a ticket
# (payload.CREATE_FIELDS, text but the collaborators) and the ticket module's options that go with them.
TICKET_FIELDS = dict(dict.fromkeys(CREATE_FIELDS, _STR), collaborator_ids=_LIST, attachments=_LIST, max_attachment_size=_SIZE,
                     dedupe_key=_STR, recovery_key=_STR, filed_by=_STR, repeat_comment=_STR)
_TYPES = {'str': (str,), 'path': (str,), 'float': (int, float), 'int': (int,), 'bool': (bool,)}
# What older records may carry in ``connection``; read, type-checked, and never used to connect.
CONNECTION_FIELDS = dict((setting.name, _TYPES[setting.type]) for setting in CONNECTION_SETTINGS if not setting.secret)
_URL_FIELDS = ('api_url', 'auth_url', 'token_url')
# The record fields besides ``connection`` and ``ticket``, and their types (``None`` is allowed where listed).
_RECORD_TYPES = {'created': (str,), 'source': (str, type(None)), 'error': (str, type(None)), 'lost_at': (str, type(None))}
RECORD_FIELDS = ('format', 'created', 'source', 'error', 'may_exist', 'lost_at', 'connection', 'ticket')
# The largest record file read, in bytes: a bigger one is set aside unread (and none is written).
MAX_RECORD_BYTES = 64 * 1024 * 1024
# Where the flush sets aside the records it cannot use, each with ``<name>.reason`` next to it.
REJECTED_DIR = 'rejected'
# Records without a dedupe_key get one, so that a later flush can search for their ticket before posting it again.
GENERATED_KEY_PREFIX = 'upsun-spool-'
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


class SpoolError(Exception):
    """A spool directory or record that cannot be used; the message names it and says why."""


class RecordRefused(SpoolError):
    """A record file that cannot be used as it is (unreadable, not a record, refused by the API): it is set aside."""


def spool_directory(path, create=True):
    """The spool directory ``path`` (``~`` expanded), created ``0700`` if missing; refused when it is not private.

    Refused: a symlink, not a directory, owned by another user, or writable by
    others (``private_dir.private_directory_problem``). A directory the
    collection did not create is never chmod-ed.
    """
    path = os.path.abspath(os.path.expanduser(path))
    problem = ensure_private_directory(path, create=create)
    if problem:
        raise SpoolError('the spool directory {0} cannot be used: {1}. Use a directory of your own that only you can '
                         'write to (chmod 700).'.format(path, problem))
    return path


def make_record(ticket, source, created, error=None, may_exist=False, connection=None, redact=None):
    """A record for ``ticket`` (its text redacted by ``redact``); raises ``SpoolError`` when it is not valid.

    Of ``connection`` only the API URL is kept (without a user name or
    password), to be shown and compared by the flush. A ticket without a
    ``dedupe_key`` gets a generated one (``new_reference_key``), unless it may
    exist already: then it was sent without one, and no key can find it.
    """
    redact = redact or (lambda text: text)
    ticket = dict((name, value) for name, value in ticket.items() if value is not None)
    if not ticket.get('dedupe_key') and not may_exist:
        ticket['dedupe_key'] = new_reference_key()
    api_url = (connection or {}).get('api_url')
    record = dict(
        format=SPOOL_FORMAT, created=created, source=source, error=redact(error) if error else None,
        may_exist=bool(may_exist),
        connection=dict(api_url=without_userinfo(api_url)) if isinstance(api_url, str) and api_url else {},
        ticket=_redacted_ticket(ticket, redact),
    )
    problems = record_problems(record)
    if problems:
        raise SpoolError('the ticket cannot be spooled: {0}'.format('; '.join(problems)))
    return record


def new_reference_key():
    """A dedupe_key of its own for a record that has none: the ticket's footer carries its reference."""
    return GENERATED_KEY_PREFIX + uuid.uuid4().hex


def without_userinfo(url):
    """``url`` without a ``user:password@`` part."""
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit('@', 1)[1]))


def comparable_url(url):
    """``url`` as compared between a record and the flush: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip('/'), parts.query, ''))


def record_api_url(record):
    """The API a record was spooled against: its ``connection.api_url``, or the default API when it names none."""
    return record['connection'].get('api_url') or DEFAULT_API_URL


def parse_time(text):
    """The UTC ``datetime`` of a record's time stamp (``2026-12-01T10:15:00Z``), or ``None``."""
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def _redacted_ticket(ticket, redact):
    for name in ('subject', 'description', 'repeat_comment'):
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
    tmp_path = _write_hidden(directory, record)
    final_path = os.path.join(directory, os.path.basename(tmp_path)[1:])
    try:
        os.rename(tmp_path, final_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
    return final_path


def _write_hidden(directory, record):
    """``record`` written and synced to a new hidden file (mode 0600) of ``directory``, which no flush reads; its path."""
    text = json.dumps(record, indent=2, sort_keys=True)
    if len(text) > MAX_RECORD_BYTES:
        raise SpoolError('the record would take {0} MiB, more than the {1} MiB a spool record may hold: make the '
                         'attachments smaller (max_attachment_size).'.format(len(text) >> 20, MAX_RECORD_BYTES >> 20))
    stamp = str(record.get('created', '')).replace(':', '').replace('-', '')
    try:
        fd, tmp_path = tempfile.mkstemp(prefix='.ticket-{0}-'.format(stamp), suffix='.json', dir=directory)
    except OSError as exc:
        raise SpoolError('cannot write to the spool directory {0}: {1}'.format(directory, exc.strerror or exc))
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
    return tmp_path


def record_problems(record):
    """Why ``record`` cannot be filed (empty when it can): what is unknown, missing or of the wrong type."""
    if not isinstance(record, Mapping):
        return ['not a JSON object']
    if record.get('format') != SPOOL_FORMAT:
        return ['unknown spool format {0!r} (this collection reads format {1})'.format(record.get('format'), SPOOL_FORMAT)]
    problems = []
    unknown = sorted(set(record) - set(RECORD_FIELDS))
    if unknown:
        problems.append('unknown field(s) {0}'.format(', '.join(unknown)))
    if not isinstance(record.get('may_exist', False), bool):
        problems.append('may_exist is not true or false')
    for name, types in _RECORD_TYPES.items():
        if not isinstance(record.get(name), types):
            problems.append('{0} has the wrong type'.format(name))
    problems.extend(_connection_problems(record.get('connection') or {}))
    ticket = record.get('ticket')
    if not isinstance(ticket, Mapping):
        return problems + ['no ticket in it']
    return problems + _ticket_problems(ticket) + _attachment_problems(ticket.get('attachments') or [])


def _connection_problems(connection):
    """What is wrong with a record's ``connection``: it may only carry the API URL (and the like), without credentials."""
    if not isinstance(connection, Mapping):
        return ['connection is not a mapping']
    problems = []
    for name, value in connection.items():
        if name not in CONNECTION_FIELDS:
            problems.append('connection holds {0!r}, which a record may not carry'.format(name))
        elif not isinstance(value, CONNECTION_FIELDS[name]) or isinstance(value, bool) is not (bool in CONNECTION_FIELDS[name]):
            problems.append('connection.{0} has the wrong type'.format(name))
        elif name in _URL_FIELDS and without_userinfo(value) != value:
            problems.append('connection.{0} holds a user name or password; a record never carries credentials'.format(name))
    return problems


def _ticket_problems(ticket):
    """What is wrong with a record's ticket options."""
    problems = []
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
    return problems


def _attachment_problems(attachments):
    """What is wrong with a record's attachments: each is ``{filename, content}`` text, never a path to read."""
    problems = []
    for index, item in enumerate(attachments):
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
    """The record in ``text`` (read from ``path``) with the defaults of its format; ``RecordRefused`` naming ``path``."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RecordRefused('{0} is not a spool record (not JSON: {1}).'.format(path, exc))
    problems = record_problems(record)
    if problems:
        raise RecordRefused('{0} was refused: {1}.'.format(path, '; '.join(problems)))
    record = dict(record)
    record.setdefault('may_exist', False)
    record.setdefault('connection', {})
    ticket = dict(record['ticket'])
    ticket.setdefault('filed_by', record['source'] if record['source'] in SOURCES else 'module')
    record['ticket'] = ticket
    return record


def record_paths(directory):
    """The record files in ``directory``, oldest name first (names start with their UTC time)."""
    directory = spool_directory(directory, create=False)
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if name.endswith('.json') and not name.startswith('.')]


def set_aside(path, reason):
    """Move the record file at ``path`` (whatever it is) to ``rejected/`` of its spool, with ``<name>.reason``.

    Returns its new path; ``SpoolError`` when it cannot be moved. An earlier
    record of the same name there is never overwritten.
    """
    folder = os.path.join(os.path.dirname(path), REJECTED_DIR)
    problem = ensure_private_directory(folder)
    if problem:
        raise SpoolError('{0} could not be set aside: the folder {1} cannot be used: {2}.'.format(path, folder, problem))
    name = os.path.basename(path)
    target = os.path.join(folder, name)
    number = 1
    while os.path.lexists(target) or os.path.lexists(target + '.reason'):
        number += 1
        target = os.path.join(folder, '{0}.{1}'.format(name, number))
    try:
        os.rename(path, target)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(target + '.reason', flags, 0o600), 'w', encoding='utf-8') as handle:
            handle.write(reason.rstrip('\n') + '\n')
    except OSError as exc:
        raise SpoolError('{0} could not be set aside in {1}: {2}.'.format(path, folder, exc.strerror or exc))
    return target


class Claim:
    """A record this process holds exclusively (an ``flock`` on its open file).

    ``done`` removes it, ``keep`` leaves it with the error of this attempt,
    ``update`` replaces it before an attempt, ``set_aside`` moves it to ``rejected/``.
    """

    def __init__(self, path, descriptor):
        self.path = path
        self._descriptor = descriptor
        self.record = None

    def close(self):
        os.close(self._descriptor)

    def done(self):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def keep(self, error, **changes):
        """Leave the record for a later flush, with the error of this attempt (and ``changes``, e.g. ``may_exist``)."""
        with contextlib.suppress(OSError, SpoolError):
            self.update(dict(self.record, error=error, **changes))

    def update(self, record):
        """Replace the record on disk by ``record`` atomically, still held: the new file is locked before it is in place."""
        tmp_path = _write_hidden(os.path.dirname(self.path), record)
        try:
            descriptor = os.open(tmp_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            os.unlink(tmp_path)
            raise
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            os.rename(tmp_path, self.path)
        except OSError:
            os.close(descriptor)
            with contextlib.suppress(OSError):
                os.unlink(tmp_path)
            raise
        os.close(self._descriptor)
        self._descriptor = descriptor
        self.record = record

    def set_aside(self, reason):
        return set_aside(self.path, reason)


@contextlib.contextmanager
def claimed(path):
    """The ``Claim`` of the record at ``path``, or ``None`` when another flush holds it or it is gone.

    The file is opened without following a link and without blocking, and
    must be a regular file of at most ``MAX_RECORD_BYTES``, UTF-8 JSON, a
    valid record: else ``RecordRefused`` says why (the caller sets it aside).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RecordRefused('{0} is a symbolic link; a record is a regular file, and no link is followed.'.format(path))
        raise RecordRefused('{0} cannot be opened: {1}.'.format(path, exc.strerror or exc))
    claim = Claim(path, descriptor)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise RecordRefused('{0} is not a regular file ({1}); it was not read.'.format(path, _kind(info.st_mode)))
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            yield None
            return
        # The holder before us may have filed and removed it, or replaced it: only the file still at the path counts.
        try:
            same = os.path.samestat(os.fstat(descriptor), os.lstat(path))
        except FileNotFoundError:
            same = False
        if not same:
            yield None
            return
        claim.record = parse_record(_read_text(descriptor, info.st_size, path), path)
        yield claim
    finally:
        claim.close()


def _read_text(descriptor, size, path):
    """The UTF-8 text of the record file open on ``descriptor``, at most ``MAX_RECORD_BYTES`` of it."""
    too_big = RecordRefused('{0} is larger than the {1} MiB a spool record may hold; it was not read.'.format(
        path, MAX_RECORD_BYTES >> 20))
    if size > MAX_RECORD_BYTES:
        raise too_big
    chunks = []
    total = 0
    while True:
        chunk = os.read(descriptor, min(1 << 20, MAX_RECORD_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_RECORD_BYTES:
            raise too_big
    try:
        return b''.join(chunks).decode('utf-8')
    except UnicodeDecodeError as exc:
        raise RecordRefused('{0} is not UTF-8 text (byte {1} cannot be read); it is not a spool record.'.format(
            path, exc.start))


def _kind(mode):
    for test, name in ((stat.S_ISFIFO, 'a named pipe'), (stat.S_ISDIR, 'a directory'), (stat.S_ISCHR, 'a device'),
                       (stat.S_ISBLK, 'a device'), (stat.S_ISSOCK, 'a socket')):
        if test(mode):
            return name
    return 'not a file'
