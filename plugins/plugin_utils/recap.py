# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The play recap of a run, as lines of a ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def recap_lines(stats, marked=(), limit=50):
    """The play recap of ``stats`` (``AggregateStats``), one line per host, ``*`` after the ``marked`` ones."""
    summarize = getattr(stats, 'summarize', None)
    processed = getattr(stats, 'processed', None)
    if summarize is None or not isinstance(processed, dict):
        return []
    lines = []
    for host in sorted(processed)[:limit]:
        counts = summarize(host)
        lines.append('  {0}{1}: {2}'.format(host, ' *' if host in marked else '', ' '.join(
            '{0}={1}'.format(name, counts.get(name, 0))
            for name in ('ok', 'changed', 'unreachable', 'failures', 'skipped', 'rescued', 'ignored'))))
    return lines
