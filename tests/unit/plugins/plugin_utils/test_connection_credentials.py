# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection credentials: a .netrc password line belongs to the machine or login line before it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor


def test_a_netrc_password_line_needs_its_login_line_just_before():
    text = 'docker login -u ci registry.example.com\nPassword for \'https://git.example.com\': x\npassword reset failed'
    assert Redactor(environ={})(text) == text.replace(': x', ': [REDACTED]')
    assert Redactor(environ={})('machine h\n  login u\n  password NetrcPass1') == 'machine h\n  login u\n  password [REDACTED]'
