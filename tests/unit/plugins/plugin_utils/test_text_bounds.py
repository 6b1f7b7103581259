# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Text made cheap to redact: start and end of huge values, no over-long word."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.text_bounds import MAX_VALUE_CHARS, MAX_WORD_CHARS, bounded


def test_huge_values_are_bounded_before_they_are_redacted_and_no_word_is_split():
    short = 'deploy step failed: disk full'
    assert bounded(short) == short
    lines = '\n'.join('line {0} of the log'.format(number) for number in range(5000))
    kept = bounded(lines)
    assert len(kept) <= MAX_VALUE_CHARS + 100
    assert kept.startswith('line 0 of the log\n') and kept.endswith('\nline 4999 of the log')
    assert all(line.startswith(('line ', '[... ')) and line.endswith((' of the log', 'left out ...]'))
               for line in kept.splitlines())
    words = 'token=' + ' '.join('w{0}'.format(number) for number in range(20000))
    # Every word kept is a whole word of the text; only the note of what was left out is added.
    added = [word for word in bounded(words).split() if word not in set(words.split())]
    assert added[:1] + added[2:] == ['[...', 'characters', 'left', 'out', '...]'] and added[1].isdigit()
    assert bounded('x' * 1000000) == '\n[... 1000000 characters left out ...]\n'
    assert bounded('error: ' + 'a' * (MAX_WORD_CHARS + 1) + ' end') == (
        'error: [... {0} characters without a space left out ...] end'.format(MAX_WORD_CHARS + 1))
