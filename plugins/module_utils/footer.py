# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The footer that every ticket filed by the collection ends with, and its references.

The footer says which part of the collection filed the ticket and carries the
references that find it again with one search: the dedupe reference (one per
failure, see ``dedupe_key``) and the recovery reference (one per deploy or
playbook, so that a recovered run can solve its tickets whatever failed).
A reference is a digest of its key: one word of letters and digits, which a
full-text search finds as it is, and which keeps host or play names that make
up the key out of the support engineer's way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

DEDUPE_PREFIX = 'upsundedupe'
RECOVERY_PREFIX = 'upsunrecovery'
# The parts of the collection that file tickets, as the footer names them.
SOURCES = {
    'module': 'the upsun.support.ticket module',
    'role': 'the upsun.support.deploy_failure_ticket role',
    'callback': 'the upsun.support.ticket_on_failure callback',
}
_SOURCE_NAMES = dict((text, name) for name, text in SOURCES.items())
SEPARATOR = '\n\n--\n'
_FILED_BY = 'Filed by Ansible: {0}.'
_DEDUPE_LINE = 'Dedupe reference: {0}'
_RECOVERY_LINE = 'Recovery reference: {0}'
_REFERENCE = r'[a-z]+[0-9a-f]{20}'
_FOOTER = re.compile(
    r'(?:^|\n)--\nFiled by Ansible: (?P<source>[^\n]+)\.'
    r'(?:\nDedupe reference: (?P<dedupe>' + _REFERENCE + r'))?'
    r'(?:\nRecovery reference: (?P<recovery>' + _REFERENCE + r'))?\s*$')


def _digest(prefix, key):
    return prefix + hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]


def dedupe_reference(key):
    """The word recorded in a ticket's footer for ``dedupe_key``."""
    return _digest(DEDUPE_PREFIX, key)


def recovery_reference(key):
    """The word recorded in a ticket's footer for a recovery key (the deploy or the playbook)."""
    return _digest(RECOVERY_PREFIX, key)


def render_footer(source='module', dedupe=None, recovery=None):
    """The footer text (with its leading separator) for references already made from their keys."""
    lines = [_FILED_BY.format(SOURCES[source])]
    if dedupe:
        lines.append(_DEDUPE_LINE.format(dedupe))
    if recovery:
        lines.append(_RECOVERY_LINE.format(recovery))
    return SEPARATOR + '\n'.join(lines)


def with_footer(description, source='module', dedupe=None, recovery=None):
    """``description`` ending with the footer."""
    return description.rstrip('\n') + render_footer(source, dedupe, recovery)


def parse_footer(description):
    """What the footer of ``description`` says: ``source``, ``dedupe_reference`` and ``recovery_reference``.

    ``None`` when the ticket carries no footer of this collection.
    """
    match = _FOOTER.search(description or '')
    source = _SOURCE_NAMES.get(match.group('source')) if match else None
    if source is None:
        return None
    return dict(source=source, dedupe_reference=match.group('dedupe'), recovery_reference=match.group('recovery'))
