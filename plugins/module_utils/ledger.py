# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ledger: what this controller filed, per reference, so that dedupe and recovery need not wait for the listings.

The API's listings (``search`` and the filters of ``GET /tickets``) come from a
search index that shows a new or changed ticket only minutes later. The
ledger, a private directory on the controller beside the spool, remembers
each ticket filed or updated from here (its id, references, status and
``updated``, per API URL) and each create whose answer was lost (``may_exist``),
so that a re-run, a recovery or a solve by key on the same controller acts on
what it filed at once.

One JSON object a line (``ledger.jsonl``), appended and fsync-ed under an
``flock`` of ``ledger.lock``; the last line of a key wins; a torn or garbled
line (a crash while writing) is skipped. It stays small: entries expire after
ENTRY_LIFETIME, and once the file outgrows MAX_BYTES it is rewritten
atomically with the live entries only, MAX_ENTRIES at most. A ledger that
cannot be used (its directory is another user's, a symlink or open to others)
is left alone with a warning: the run goes on with the listings only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import json
import os
import tempfile
import time

from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.footer import parse_footer
from ansible_collections.upsun.support.plugins.module_utils.private_dir import ensure_private_directory

try:
    import fcntl
except ImportError:  # not a POSIX host: no ledger
    fcntl = None

DEFAULT_LEDGER_DIR = '~/.ansible/upsun_support_ledger'
LEDGER_ENV = 'UPSUN_SUPPORT_LEDGER_DIR'
LEDGER_FILE = 'ledger.jsonl'
LOCK_FILE = 'ledger.lock'
FORMAT = 1
# A ticket this controller filed stands in for the listings that do not show it yet, this long after it was filed.
LISTING_LAG_ALLOWANCE = 3600
# Entries older than this are dropped: by then the listings have long shown what they record.
ENTRY_LIFETIME = 7 * 24 * 3600
# The may-exist wait, one rule for the ticket module's ledger and the spool's flush: after a create whose answer was
# lost, nothing posts again for its reference until its ticket is found or this many seconds have passed (0: as soon
# as a search does not find it). The option may_exist_wait (ticket, spool), else MAY_EXIST_WAIT_ENV, sets another.
MAY_EXIST_WAIT = 900
MAY_EXIST_WAIT_ENV = 'UPSUN_SUPPORT_MAY_EXIST_HOLD'
# Past the ledger's memory of the lost create a longer wait would hold nothing back.
MAX_MAY_EXIST_WAIT = ENTRY_LIFETIME
MAX_BYTES = 256 * 1024
MAX_ENTRIES = 500
# The longest wait for another run's ledger lock (it holds it for one write); past it the run goes on without.
LOCK_WAIT = 10.0
# What the ledger keeps of a ticket: enough to dedupe and to say which ticket, nothing of its text.
SNAPSHOT_FIELDS = ('ticket_id', 'status', 'created', 'updated', 'followup_tid', 'zd_ticket_url')
_OPEN_FLAGS = getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)


def references_of(description):
    """The references in the footer of ``description``: ``[dedupe, recovery]`` without the missing ones."""
    footer = parse_footer(description) or {}
    return [ref for ref in (footer.get('dedupe_reference'), footer.get('recovery_reference')) if ref]


def _snapshot(ticket):
    return dict((name, ticket[name]) for name in SNAPSHOT_FIELDS if ticket.get(name) is not None)


def _newer_or_same(ours, listed):
    """Whether the ledger's view ``ours`` is more recent than the listing's (by the API's ``updated``).

    ``updated`` counts whole seconds: a change in the same second as the one
    the ledger saw (support solving a ticket just filed) shows with the same
    time, so a tie goes to the listing, the API's own view.
    """
    return bool(ours.get('updated')) and str(ours['updated']) > str(listed.get('updated') or '')


class Ledger:
    """The ledger in ``directory`` for the API at ``api_url``; ``warn`` receives why it cannot be used, once.

    ``wait``: the ``may_exist_wait`` option when given; without it, the environment or the default.
    """

    def __init__(self, directory, api_url, warn=None, clock=time.time, wait=None):
        self.directory = os.path.abspath(os.path.expanduser(directory or DEFAULT_LEDGER_DIR))
        self.api_url = api_url
        self._warn = warn or (lambda message: None)
        self._clock = clock
        self._usable = None
        self.hold = may_exist_wait(wait, self._warn)
        # The last line of each key, read once; this run's own lines are added as they are written.
        self._latest = None

    # -- what the ledger says ----------------------------------------------------------------------------------

    def merge(self, reference, listed):
        """``listed`` (the tickets a listing shows carrying ``reference``) with what this controller knows, newest first.

        A ticket the ledger saw change later than the listing shows it takes the
        ledger's status; a ticket the listings do not show yet is added from the
        ledger for LISTING_LAG_ALLOWANCE seconds after it was filed.
        """
        known = dict((entry['ticket']['ticket_id'], entry) for entry in self._entries()
                     if entry['state'] == 'filed' and reference in entry['refs'])
        merged = {}
        for ticket in listed:
            entry = known.get(ticket.get('ticket_id'))
            if entry is not None and _newer_or_same(entry['ticket'], ticket):
                ticket = dict(ticket, **entry['ticket'])
            merged[ticket.get('ticket_id')] = ticket
        now = self._clock()
        for ticket_id, entry in known.items():
            if ticket_id not in merged and now - entry['since'] <= LISTING_LAG_ALLOWANCE:
                merged[ticket_id] = dict(entry['ticket'])
        return sorted(merged.values(), key=lambda ticket: ticket.get('ticket_id') or 0, reverse=True)

    def snapshot(self, ticket_id):
        """What the ledger knows of ticket ``ticket_id`` (a few fields), or None."""
        entry = self._entries_by_key().get(_ticket_key(ticket_id))
        return dict(entry['ticket']) if entry is not None and entry['state'] == 'filed' else None

    def fresher(self, ticket):
        """``ticket`` as a listing showed it, with the ledger's status when the ledger saw a later change."""
        entry = self._entries_by_key().get(_ticket_key(ticket.get('ticket_id')))
        if entry is not None and entry['state'] == 'filed' and _newer_or_same(entry['ticket'], ticket):
            return dict(ticket, **entry['ticket'])
        return ticket

    def lost_create(self, reference, listed):
        """The create of ``reference`` whose answer was lost, while it still holds new posts back; else None.

        It holds until a ticket filed after it shows in ``listed`` (then that is
        the ticket, recorded as filed) or ``hold`` seconds (``may_exist_wait``) have passed.
        """
        entry = self._entries_by_key().get(_lost_key(reference))
        if entry is None or entry['state'] != 'may_exist':
            return None
        found = [ticket for ticket in listed if (ticket.get('ticket_id') or 0) > entry.get('after', 0)]
        if found:
            self.record_ticket(min(found, key=lambda ticket: ticket['ticket_id']), found_lost=reference)
            return None
        if self._clock() - entry['since'] >= self.hold:
            return None
        return entry

    def age(self, entry):
        """Seconds since ``entry`` was first recorded."""
        return max(0.0, self._clock() - entry['since'])

    # -- what the ledger records -------------------------------------------------------------------------------

    def record_posting(self, reference, refs, after):
        """Before ``POST /tickets``: the create of ``reference`` may exist from now on (a crash keeps it so).

        ``after`` is the highest id among the tickets already carrying it: a ticket above it is the one posted.
        """
        self._append(dict(key=_lost_key(reference), state='may_exist', refs=list(refs or [reference]), after=after or 0))

    def forget_lost(self, reference):
        """The create of ``reference`` surely filed nothing, or its ticket was found."""
        self._append(dict(key=_lost_key(reference), state='gone', refs=[reference]))

    def record_ticket(self, ticket, refs=None, found_lost=None):
        """Remember ``ticket`` (as the API answered a create or an update) under ``refs`` or its footer's references.

        A ticket without references, and unknown to the ledger, is not recorded. ``found_lost``: the reference whose
        lost create this ticket is, cleared in the same write.
        """
        if not isinstance(ticket, dict) or ticket.get('ticket_id') is None:
            return
        entry = self._ticket_entry(ticket, refs)
        lost = [dict(key=_lost_key(found_lost), state='gone', refs=[found_lost])] if found_lost else []
        self._append(*([entry] if entry else []) + lost)

    def _ticket_entry(self, ticket, refs):
        key = _ticket_key(ticket['ticket_id'])
        earlier = self._entries_by_key().get(key)
        refs = list(refs or []) + references_of(ticket.get('description')) + list((earlier or {}).get('refs') or [])
        refs = sorted(set(refs), key=refs.index)
        if not refs:
            return None
        snapshot = dict((earlier or {}).get('ticket') or {})
        snapshot.update(_snapshot(ticket))
        return dict(key=key, state='filed', refs=refs, ticket=snapshot,
                    since=(earlier or {}).get('since') if earlier and earlier['state'] == 'filed' else None)

    def record_comment_attempt(self, reference):
        """Before ``POST /comments`` of the repeat comment carrying ``reference``: it may be on the ticket from now on."""
        self._append(dict(key=_comment_key(reference), state='may_exist', refs=[reference], after=0))

    def comment_attempted(self, reference):
        """Whether a run of this controller sent (or tried to send) the repeat comment carrying ``reference``."""
        return _comment_key(reference) in self._entries_by_key()

    def forget_ticket(self, ticket_id):
        """Ticket ``ticket_id`` is gone (the API answered 404 for it)."""
        if self._entries_by_key().get(_ticket_key(ticket_id)) is not None:
            self._append(dict(key=_ticket_key(ticket_id), state='gone', refs=[]))

    # -- the file ----------------------------------------------------------------------------------------------

    @property
    def path(self):
        return os.path.join(self.directory, LEDGER_FILE)

    def usable(self):
        """Whether the ledger directory exists (created 0700 if not) and is private; warns once when it is not."""
        if self._usable is None:
            problem = 'it needs fcntl (a POSIX controller)' if fcntl is None else self._prepare_directory()
            self._usable = problem is None
            if problem:
                self._warn('The ticket ledger {0} is not used: {1}. Dedupe and recovery rely on the API\'s listings '
                           'alone, which show a new ticket only minutes later. Set ledger_dir (or {2}) to a private '
                           'directory of this user (mode 0700).'.format(self.directory, problem, LEDGER_ENV))
        return self._usable

    def _prepare_directory(self):
        return ensure_private_directory(self.directory)

    def _entries_by_key(self):
        """The live entries of this API URL: the last line of each key, unexpired."""
        if not self.usable():
            return {}
        if self._latest is None:
            self._latest = {}
            for entry in _read_lines(self.path, self._warn):
                if entry.get('api') == self.api_url:
                    self._latest[entry['key']] = entry
        oldest = self._clock() - ENTRY_LIFETIME
        return dict((key, entry) for key, entry in self._latest.items() if entry['at'] >= oldest)

    def _entries(self):
        return list(self._entries_by_key().values())

    def _append(self, *entries):
        """Write ``entries`` (one line each) with one write and one fsync."""
        if not entries or not self.usable():
            return
        now = self._clock()
        entries = [dict(entry, v=FORMAT, api=self.api_url, at=now) for entry in entries]
        for entry in entries:
            if entry.get('since') is None:
                entry['since'] = now
        data = b''.join((json.dumps(entry, sort_keys=True, separators=(',', ':')) + '\n').encode('utf-8') for entry in entries)
        try:
            self._entries_by_key()
            with self._locked():
                size = _append_line(self.path, data)
                self._latest.update((entry['key'], entry) for entry in entries)
                if size > MAX_BYTES:
                    self._compact()
                    self._latest = None
        except (OSError, LedgerBusy) as exc:
            self._warn('Could not write to the ticket ledger {0}: {1}. This run goes on; the next may file a duplicate '
                       'while the listings lag.'.format(self.path, exc.strerror if isinstance(exc, OSError) and exc.strerror else exc))

    def _compact(self):
        """Rewrite the file with the live entries only (all API URLs), the newest MAX_ENTRIES at most; atomically."""
        oldest = self._clock() - ENTRY_LIFETIME
        latest = {}
        for entry in _read_lines(self.path):
            latest[(entry.get('api'), entry['key'])] = entry
        live = [entry for entry in latest.values() if entry['state'] != 'gone' and entry['at'] >= oldest]
        live = sorted(live, key=lambda entry: entry['at'])[-MAX_ENTRIES:]
        descriptor, temporary = tempfile.mkstemp(prefix='.ledger-', dir=self.directory)
        try:
            with os.fdopen(descriptor, 'wb') as handle:
                for entry in live:
                    handle.write((json.dumps(entry, sort_keys=True, separators=(',', ':')) + '\n').encode('utf-8'))
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _fsync_directory(self.directory)

    @contextlib.contextmanager
    def _locked(self):
        descriptor = os.open(os.path.join(self.directory, LOCK_FILE), os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, 0o600)
        try:
            waited = 0.0
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK) or waited >= LOCK_WAIT:
                        raise LedgerBusy('another run held its lock for {0:g} s'.format(waited))
                time.sleep(0.05)
                waited += 0.05
            yield
        finally:
            os.close(descriptor)


def may_exist_wait(given=None, warn=None):
    """The seconds of the may-exist wait: ``given`` (the option) if not None, else MAY_EXIST_WAIT_ENV, else MAY_EXIST_WAIT.

    A given value out of range is an ``InputError``; a variable's is warned about (``warn``) and the default used.
    """
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, (int, float)) or not 0 <= given <= MAX_MAY_EXIST_WAIT:
            raise InputError('may_exist_wait must be a number of seconds from 0 to {0}, got {1!r}.'.format(
                MAX_MAY_EXIST_WAIT, given))
        return given
    text = os.environ.get(MAY_EXIST_WAIT_ENV)
    if text is None:
        return MAY_EXIST_WAIT
    try:
        wait = float(text)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= MAX_MAY_EXIST_WAIT:
        if warn is not None:
            warn('{0} must be a number of seconds from 0 to {1}, got {2!r}; using {3} s.'.format(
                MAY_EXIST_WAIT_ENV, MAX_MAY_EXIST_WAIT, text, MAY_EXIST_WAIT))
        return MAY_EXIST_WAIT
    return wait


class LedgerBusy(Exception):
    """The ledger's lock could not be had in LOCK_WAIT seconds."""


def _ticket_key(ticket_id):
    return 'ticket:{0}'.format(ticket_id)


def _lost_key(reference):
    return 'lost:{0}'.format(reference)


def _comment_key(reference):
    return 'comment:{0}'.format(reference)


def _append_line(path, line):
    """Append ``line`` to ``path`` (0600) and fsync it; return the file's size. A torn last line is ended first."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _OPEN_FLAGS, 0o600)
    try:
        size = os.fstat(descriptor).st_size
        if size and _last_byte(path, size) != b'\n':
            line = b'\n' + line
        os.write(descriptor, line)
        os.fsync(descriptor)
        return size + len(line)
    finally:
        os.close(descriptor)


def _last_byte(path, size):
    descriptor = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    try:
        return os.pread(descriptor, 1, size - 1)
    finally:
        os.close(descriptor)


def _read_lines(path, warn=None):
    """The well-formed entries of the file at ``path``, in order; torn or foreign lines are skipped."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno != errno.ENOENT and warn is not None:
            warn('Could not read the ticket ledger {0}: {1}.'.format(path, exc.strerror or exc))
        return []
    with os.fdopen(descriptor, 'rb') as handle:
        data = handle.read(MAX_BYTES * 4)
    entries = []
    for raw in data.split(b'\n'):
        try:
            entry = json.loads(raw.decode('utf-8'))
        except ValueError:
            continue
        if _well_formed(entry):
            entries.append(entry)
    return entries


def _well_formed(entry):
    if not isinstance(entry, dict) or entry.get('v') != FORMAT or not isinstance(entry.get('key'), str):
        return False
    if entry.get('state') not in ('filed', 'may_exist', 'gone') or not isinstance(entry.get('refs'), list):
        return False
    if not all(isinstance(entry.get(name), (int, float)) and not isinstance(entry.get(name), bool) for name in ('at', 'since')):
        return False
    if entry['state'] == 'filed':
        ticket = entry.get('ticket')
        return isinstance(ticket, dict) and isinstance(ticket.get('ticket_id'), int) and not isinstance(ticket['ticket_id'], bool)
    return entry['state'] != 'may_exist' or isinstance(entry.get('after'), int)


def _fsync_directory(directory):
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
