# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Assignments in every syntax and quoted keys: each rule function on its own, masking only the value."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.secret_assignments import mask_assignments, mask_quoted_keys


@pytest.mark.parametrize('line, masked', [
    ('export DB_PASSWORD="S3cret Pw"', 'export DB_PASSWORD="***"'),
    ('  api_key: S3cret Pw with spaces', '  api_key: ***'),
    ('user=app&password=S3cretPw&next=1', 'user=app&password=***&next=1'),
    ('Server=db;Uid=app;Pwd=S3cretPw;', 'Server=db;Uid=app;Pwd=***;'),
    ('<password>S3cretPw</password>', '<password>***</password>'),
    ('<add key="ClientSecret" value="S3cretPw" />', '<add key="ClientSecret" value="***" />'),
])
def test_the_value_of_a_secret_looking_name_is_masked(line, masked):
    assert mask_assignments(line, '***', line.lower()) == masked


@pytest.mark.parametrize('line', ['if password == expected:', 'PWD=/home/ci', 'password_file=/etc/app/pass'])
def test_comparisons_and_names_about_a_secret_are_kept(line):
    assert mask_assignments(line, '***', line.lower()) == line


@pytest.mark.parametrize('line, masked', [
    ('{"password": "S3cretPw", "user": "app"}', '{"password": "***", "user": "app"}'),
    ('{\\"token\\":\\"S3cret\\\\\\"Pw\\"}', '{\\"token\\":\\"***\\"}'),
    ("$config = ['password' => 'S3cretPw'];", "$config = ['password' => '***'];"),
    ("connect(('password', 'S3cretPw'))", "connect(('password', '***'))"),
])
def test_the_value_of_a_quoted_secret_key_is_masked(line, masked):
    assert mask_quoted_keys(line, '***', line.lower()) == masked


def test_a_list_of_quoted_names_is_not_taken_for_a_tuple():
    line = "fields = ['password', 'username']"
    assert mask_quoted_keys(line, '***', line.lower()) == line
