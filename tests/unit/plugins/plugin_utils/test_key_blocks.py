# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private key blocks, also cut by a log tail at either end, with the log lines around them kept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor


def test_a_private_key_cut_by_a_log_tail_is_still_hidden():
    # A tail that starts inside the key, and one that stops inside it.
    assert 'tailbody' not in Redactor(environ={})('tailbody1234\n-----END PRIVATE KEY-----\nnext line')
    unfinished = Redactor(environ={})('log line\n-----BEGIN EC PRIVATE KEY-----\nheadbody5678')
    assert 'headbody' not in unfinished and unfinished.startswith('log line\n')


def test_a_cut_key_keeps_the_log_lines_around_it():
    body = ['web1 | ' + 'A' * 63 + str(index) for index in range(3)]
    text = '\n'.join(['web1 | TASK [install deploy key] done'] + body + ['web1 | -----END PRIVATE KEY-----', 'web1 | ok'])

    redacted = Redactor(environ={})(text)

    assert 'AAAA' not in redacted
    assert redacted.startswith('web1 | TASK [install deploy key] done\n') and redacted.endswith('-----END PRIVATE KEY-----\nweb1 | ok')
    begun = Redactor(environ={})('-----BEGIN RSA PRIVATE KEY-----\n' + 'B' * 64 + '\n' + 'C' * 64 + '\nTASK [next] ok')
    assert 'BBBB' not in begun and 'CCCC' not in begun and begun.endswith('\nTASK [next] ok')
