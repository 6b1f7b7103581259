# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Token formats: JWTs whatever their payload, and dotted words that only look like one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor


@pytest.mark.parametrize('payload', [b'{"sub":"ci"}', b'not json at all, a plain payload', b'\x00\x01binary'])
def test_a_jwt_is_masked_whatever_its_payload_but_not_dotted_words(payload):
    def part(data):
        return base64.urlsafe_b64encode(data).decode().rstrip('=')
    token = '.'.join([part(b'{"alg":"ES256","typ":"JWT"}'), part(payload), part(b'signature-bytes-1234')])

    assert Redactor(environ={})('token ' + token + ' rejected') == 'token [REDACTED] rejected'
    dotted = 'eyewear-shop-frontend.example.com.internal and examples.of.words'
    assert Redactor(environ={})(dotted) == dotted
