# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Error texts of task results: msg, items, streams, no_log; redacted before they are cut."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import error_text, is_hidden

REDACT = Redactor(environ={})


def test_the_error_is_msg_rc_and_the_end_of_stderr():
    stderr = '\n'.join('line {0}'.format(number) for number in range(100))
    text = error_text({'msg': 'non-zero return code', 'rc': 3, 'stderr': stderr, 'stdout': 'ignored'})
    assert text.startswith('non-zero return code\nrc: 3\nstderr:\n[80 earlier lines left out]\nline 80\n')
    assert text.endswith('line 99') and 'ignored' not in text


def test_stdout_is_shown_only_when_nothing_else_says_what_went_wrong():
    assert error_text({'rc': 2, 'stdout': 'it said no'}) == 'rc: 2\nstdout:\nit said no'
    assert error_text({}) == 'no error message'
    assert error_text({'msg': {'nested': 'structure'}}) == '{"nested": "structure"}'
    assert error_text({'msg': ['first', 'second']}) == 'first\nsecond'
    assert error_text('a plain string') == 'a plain string'
    assert error_text({'unreachable': True}) == 'host unreachable'


def test_loop_items_give_their_own_errors_and_censored_items_stay_hidden():
    data = {'failed': True, 'msg': 'One or more items failed', 'results': [
        {'item': 'a', 'failed': False},
        {'item': 'b', '_ansible_item_label': 'b', 'failed': True, 'msg': 'b broke'},
        {'failed': True, 'censored': 'hidden', '_ansible_no_log': True},
    ] + [{'item': str(number), 'failed': True, 'msg': 'x'} for number in range(4)]}
    assert error_text(data) == ('One or more items failed\nitem b: b broke\nitem : hidden by no_log\nitem 0: x\n'
                                '... and 3 more failed items')


@pytest.mark.parametrize('no_log, result, hidden', [
    (True, {'msg': 'x'}, True),
    ('{{ hide }}', {'msg': 'x'}, True),
    ('false', {'msg': 'x'}, False),
    (None, {'censored': 'the output has been hidden'}, True),
    (None, {'_ansible_no_log': True}, True),
    (None, {'results': [{'censored': 'x'}]}, True),
    (None, {'msg': 'x'}, False),
])
def test_no_log_is_read_from_the_task_and_the_result(no_log, result, hidden):
    assert is_hidden(no_log, result) is hidden


def test_a_stream_is_redacted_before_its_tail_is_taken():
    key = '-----BEGIN RSA PRIVATE KEY-----\n' + 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n' * 30
    text = error_text({'msg': 'failed', 'stderr': key + '-----END RSA PRIVATE KEY-----\nerror: bad key'}, REDACT)
    assert 'MIIEowIBAAKCAQEA' not in text and text.endswith('error: bad key')
