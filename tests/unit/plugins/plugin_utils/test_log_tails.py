# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The log tails read on the failed hosts, as attachments: redacted, their partial first line dropped, capped in total."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.log_tails import log_attachments, parse_tails
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor

REDACT = Redactor(environ={})
M = '==m=='


def read(*files):
    """What the role's reader registers: ``(status, size, path, content)`` per file."""
    return {'rc': 0, 'stdout': ''.join('{0} {1} {2} {3}\n{4}\n'.format(M, status, size, path, content)
                                       for status, size, path, content in files)}


def test_the_readers_output_is_parsed_per_file():
    stdout = read(('ok', '12', '/srv/a.log', 'line 1\nline 2'), ('missing', '0', '/srv/b log', ''))['stdout']
    assert parse_tails(stdout, M) == [('ok', '12', '/srv/a.log', 'line 1\nline 2'), ('missing', '0', '/srv/b log', '\n')]
    assert parse_tails(b'no marker at all', M) == []


def test_a_tail_is_redacted_and_loses_its_partial_first_line():
    logs = log_attachments([('web1', read(('ok', '5000', '/srv/deploy.log', 'rt=hunter2hunter2\npassword=hunter2hunter2\n')), M)],
                           REDACT, tail_bytes=1024)

    content = logs['attachments'][0]['content']
    assert content.startswith('[upsun.support: the last 1 KiB of /srv/deploy.log (5000 bytes) on web1]\npassword=[REDACTED]')
    assert 'hunter2' not in content and logs['files'][0]['truncated'] is True


def test_missing_unreadable_and_unread_logs_are_noted_and_names_kept_unique():
    reads = [('web1', read(('ok', '3', '/a/app.log', 'one'), ('ok', '3', '/b/app.log', 'two'),
                           ('missing', '0', '/c.log', ''), ('unreadable', '0', '/d.log', '')), M),
             ('web2', {'rc': 1, 'msg': 'sudo: password=hunter2hunter2 wrong'}, M),
             ('web3', {'skipped': True}, M)]

    logs = log_attachments(reads, REDACT)

    assert [item['filename'] for item in logs['attachments']] == ['web1-app.log', 'web1-app.log-2']
    assert logs['notes'] == ['/c.log on web1: not found', '/d.log on web1: not readable',
                             'Logs of web2 could not be read: sudo: password=[REDACTED] wrong\nrc: 1']
    assert logs['total'] == sum(item['attached'] for item in logs['files'])


def test_the_total_cap_cuts_the_last_file_to_its_end_then_leaves_files_out():
    big = ''.join('line {0}\n'.format(number) for number in range(1000))
    reads = [('web1', read(('ok', str(len(big)), '/a.log', big), ('ok', str(len(big)), '/b.log', big),
                           ('ok', '2100', '/c.log', 'abc' * 700)), M)]

    logs = log_attachments(reads, REDACT, tail_bytes=len(big), max_total_bytes=len(big) + 2048)

    first, second = logs['attachments']
    assert first['content'] == big and second['content'].startswith('[upsun.support: cut to fit the total cap of')
    assert second['content'].endswith('line 999\n') and logs['files'][1]['truncated'] is True
    assert logs['total'] <= len(big) + 2048
    assert logs['notes'] == ['/c.log on web1: left out, the attachments reached the total cap of {0} KiB'.format(
        (len(big) + 2048) // 1024)]
