# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The play recap of a run, as lines of a ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.executor.stats import AggregateStats

from ansible_collections.upsun.support.plugins.plugin_utils.recap import recap_lines


def test_one_line_per_host_in_order_the_marked_ones_starred():
    stats = AggregateStats()
    stats.increment('ok', 'web2')
    stats.increment('failures', 'web1')
    stats.increment('rescued', 'web1')

    assert recap_lines(stats, marked=['web1']) == [
        '  web1 *: ok=0 changed=0 unreachable=0 failures=1 skipped=0 rescued=1 ignored=0',
        '  web2: ok=1 changed=0 unreachable=0 failures=0 skipped=0 rescued=0 ignored=0']


def test_at_most_limit_hosts_and_nothing_without_stats():
    stats = AggregateStats()
    for number in range(5):
        stats.increment('ok', 'web{0}'.format(number))

    assert len(recap_lines(stats, limit=3)) == 3
    assert recap_lines(None) == [] and recap_lines(object()) == []
