# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The log tails read on the failed hosts (log_tails.py): parsed, redacted, named, and capped as attachments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.log_tails import log_attachments, parse_tails

MARKER = '@@upsun-log-7f3a@@'


def output(*files):
    """What the role's reader writes: ``(status, size, path, content)`` per file."""
    return '\n'.join('{0} {1} {2} {3}\n{4}'.format(MARKER, status, size, path, content) for status, size, path, content in files)


def redact(text):
    return text.replace('hunter2', '[REDACTED]')


def read(*files, **result):
    return dict(dict(rc=0, stdout=output(*files)), **result)


# --- parse_tails ------------------------------------------------------------------------------------------------------


def test_parse_tails_splits_the_output_at_each_marker():
    stdout = output(('ok', '12', '/var/log/deploy.log', 'line 1\nline 2'), ('missing', '0', '/var/log/gone.log', ''))
    assert parse_tails(stdout, MARKER) == [('ok', '12', '/var/log/deploy.log', 'line 1\nline 2'),
                                           ('missing', '0', '/var/log/gone.log', '')]


def test_parse_tails_keeps_spaces_in_paths_and_reads_bytes():
    stdout = output(('ok', '3', '/var/log/my app.log', 'abc')).encode('utf-8') + b'\xff'
    assert parse_tails(stdout, MARKER) == [('ok', '3', '/var/log/my app.log', 'abc\ufffd')]


@pytest.mark.parametrize('stdout', ['', None, 'text before any marker', MARKER + ' ok 3'])
def test_parse_tails_finds_nothing_without_a_whole_marker_line(stdout):
    assert parse_tails(stdout, MARKER) == []


def test_a_line_that_only_starts_like_the_marker_is_content():
    stdout = output(('ok', '9', '/a.log', MARKER + 'x not a marker'))
    assert parse_tails(stdout, MARKER) == [('ok', '9', '/a.log', MARKER + 'x not a marker')]


# --- log_attachments --------------------------------------------------------------------------------------------------


def test_each_file_read_becomes_a_redacted_attachment_named_after_host_and_file():
    reads = [('web1', read(('ok', '20', '/var/log/deploy.log', 'password=hunter2')), MARKER)]

    found = log_attachments(reads, redact)

    assert found['attachments'] == [dict(filename='web1-deploy.log', content='password=[REDACTED]')]
    assert found['files'] == [dict(host='web1', path='/var/log/deploy.log', filename='web1-deploy.log', size=20,
                                   attached=len('password=[REDACTED]'), truncated=False)]
    assert found['notes'] == [] and found['total'] == len('password=[REDACTED]')


def test_missing_unreadable_and_failed_reads_are_noted_and_skipped_ones_ignored():
    reads = [('web1', read(('missing', '0', '/a.log', ''), ('unreadable', '0', '/b.log', '')), MARKER),
             ('web2', dict(rc=2, stdout='', msg='sudo: password hunter2 refused'), MARKER),
             ('web3', dict(skipped=True), MARKER),
             ('web4', 'not a result', MARKER)]

    found = log_attachments(reads, redact)

    assert found['attachments'] == []
    assert found['notes'] == ['/a.log on web1: not found', '/b.log on web1: not readable',
                              'Logs of web2 could not be read: sudo: password [REDACTED] refused\nrc: 2']


def test_a_tail_drops_its_partial_first_line_and_says_what_it_is():
    reads = [('web1', read(('ok', '100000', '/var/log/app.log', 'ter2 partial\nwhole line')), MARKER)]

    found = log_attachments(reads, redact, tail_bytes=1024)

    content = found['attachments'][0]['content']
    assert content == '[upsun.support: the last 1 KiB of /var/log/app.log (100000 bytes) on web1]\nwhole line'
    assert found['files'][0]['truncated'] is True and found['files'][0]['size'] == 100000


def test_the_total_cap_cuts_the_last_file_and_leaves_out_those_after_it():
    big = '\n'.join('line {0:05d}'.format(number) for number in range(400))  # 4 KiB
    reads = [('web1', read(('ok', str(len(big)), '/a.log', big), ('ok', str(len(big)), '/b.log', big),
                           ('ok', '500', '/c.log', 'small' * 100)), MARKER)]

    found = log_attachments(reads, redact, tail_bytes=65536, max_total_bytes=6144)

    assert [item['filename'] for item in found['attachments']] == ['web1-a.log', 'web1-b.log']
    cut = found['attachments'][1]['content']
    assert cut.startswith('[upsun.support: cut to fit the total cap of 6 KiB]\nline ') and cut.endswith('line 00399')
    assert found['files'][1]['truncated'] is True and found['files'][0]['truncated'] is False
    assert found['total'] <= 6144
    assert found['notes'] == ['/c.log on web1: left out, the attachments reached the total cap of 6 KiB']


def test_filenames_are_safe_and_unique():
    reads = [('web/1', read(('ok', '1', '/var/log/../app.log', 'a'), ('ok', '1', '/srv/app.log', 'b'),
                            ('ok', '1', '/srv/app.log/', 'c'), ('ok', '1', '/x/$(rm -rf).log', 'd')), MARKER)]

    names = [item['filename'] for item in log_attachments(reads, redact)['attachments']]

    assert names == ['web_1-app.log', 'web_1-app.log-2', 'web_1-app.log-3', 'web_1-rm_-rf_.log']


def test_a_size_that_is_not_a_number_counts_as_0():
    found = log_attachments([('web1', read(('ok', 'x', '/a.log', 'text')), MARKER)], redact)
    assert found['files'][0]['size'] == 0 and found['attachments'][0]['content'] == 'text'
