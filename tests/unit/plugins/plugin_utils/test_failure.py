# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One failure: its error redacted, then cut, in bounded time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.upsun.support.plugins.plugin_utils.failure import Failure
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import error_text
from ansible_collections.upsun.support.plugins.plugin_utils.text_bounds import MAX_VALUE_CHARS

REDACT = Redactor(environ={})


def test_an_error_is_redacted_before_it_is_cut():
    # Cut first, the key would be split and its second half would not look like a secret any more.
    failure = Failure.from_result('web1', {'msg': 'x' * 70 + ' password=hunter2hunter2 ' + 'y' * 50}, REDACT, max_chars=100)
    assert 'hunter2' not in failure.error and failure.error.startswith('x' * 55)
    assert failure.error.endswith('more characters cut]')


def test_a_loop_item_label_is_redacted_before_it_is_cut():
    # Cut first, the URL would lose its "@host" and the start of the token would reach the ticket.
    label = 'https://deploy-bot:glpat-xR7kP2mQ9vL4nT8wZ3yB@gitlab.example.com/shop/app.git/' + 'x' * 100
    data = {'msg': 'One or more items failed', 'results': [{'item': label, 'failed': True, 'msg': 'clone failed'}]}
    for text in (error_text(data, REDACT), Failure.from_result('web1', data, REDACT).error):
        assert 'glpat' not in text and 'xR7kP2' not in text
        assert 'item https://deploy-bot:' in text and 'clone failed' in text


def test_a_megabyte_of_adversarial_text_is_reported_in_bounded_time():
    message = 'Deploy failed: ' + 'eyJ-' * 262144 + '\nthe last line'
    started = time.time()
    failure = Failure.from_result('web1', {'msg': message, 'stderr': message, 'stdout': message,
                                           'results': [{'failed': True, 'item': message, 'msg': message}]}, REDACT,
                                  max_chars=0)
    assert time.time() - started < 5
    assert failure.error.startswith('Deploy failed:') and 'the last line' in failure.error
    assert len(failure.error) < 5 * MAX_VALUE_CHARS
