# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Command lines and prompts: each rule function on its own, masking only the password and keeping the command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.command_lines import mask_flags


def flags(text):
    return mask_flags(text, '***', text.lower())


@pytest.mark.parametrize('line, masked', [
    ('mysql -u app -pS3cretPw -h db', 'mysql -u app -p*** -h db'),
    ('app --db-password=S3cretPw --verbose', 'app --db-password=*** --verbose'),
    ('docker login -u ci -p S3cretPw registry.example.test', 'docker login -u ci -p *** registry.example.test'),
    ('htpasswd -bc .htpasswd admin S3cretPw', 'htpasswd -bc .htpasswd admin ***'),
    ("Password for 'https://ci@git.example.test': S3cretPw", "Password for 'https://ci@git.example.test': ***"),
    ('keytool -list -storepass "S3cret Pw" -v', 'keytool -list -storepass "***" -v'),
])
def test_the_password_of_a_command_line_is_masked_and_the_command_kept(line, masked):
    assert flags(line) == masked


@pytest.mark.parametrize('line', ['docker run -p 8080:80 nginx', 'unzip -p archive.zip', 'app --no-password --verbose',
                                  'mysqldump.sh-p notacommand'])
def test_flags_that_take_no_password_are_kept(line):
    assert flags(line) == line
