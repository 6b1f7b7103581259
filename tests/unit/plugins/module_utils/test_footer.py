# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The footer of the tickets the collection files: its references, how it is written and read back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest

from ansible_collections.upsun.support.plugins.module_utils.footer import (
    SOURCES,
    dedupe_reference,
    parse_footer,
    recovery_reference,
    with_footer,
)


def test_references_are_stable_and_differ_by_key_and_kind():
    assert dedupe_reference('deploy-release-42') == dedupe_reference('deploy-release-42')
    assert dedupe_reference('deploy-release-42') != dedupe_reference('deploy-release-43')
    assert recovery_reference('deploy-release-42')[-20:] == dedupe_reference('deploy-release-42')[-20:]
    assert recovery_reference('deploy-release-42') != dedupe_reference('deploy-release-42')


@pytest.mark.parametrize('make', [dedupe_reference, recovery_reference])
def test_a_reference_is_one_word_without_the_key(make):
    # Full-text search engines split words on punctuation, hyphens included: letters and digits only.
    reference = make('Deploy of release 42 failed on web1 / prod')

    assert re.match(r'^[a-z0-9]+$', reference), reference
    assert 'web1' not in reference


def test_the_footer_ends_the_description_and_names_who_filed_it():
    dedupe, recovery = dedupe_reference('k'), recovery_reference('deploy')

    description = with_footer('It broke.\n', source='role', dedupe=dedupe, recovery=recovery)

    assert description.startswith('It broke.\n\n--\n')
    assert description.splitlines()[-3:] == [
        'Filed by Ansible: the upsun.support.deploy_failure_ticket role.',
        'Dedupe reference: ' + dedupe,
        'Recovery reference: ' + recovery,
    ]


@pytest.mark.parametrize('source', sorted(SOURCES))
@pytest.mark.parametrize('with_dedupe', [True, False])
@pytest.mark.parametrize('with_recovery', [True, False])
def test_parse_reads_back_what_was_written(source, with_dedupe, with_recovery):
    dedupe = dedupe_reference('k') if with_dedupe else None
    recovery = recovery_reference('r') if with_recovery else None

    parsed = parse_footer(with_footer('Some text\n--\nnot a footer', source=source, dedupe=dedupe, recovery=recovery))

    assert parsed == dict(source=source, dedupe_reference=dedupe, recovery_reference=recovery)


@pytest.mark.parametrize('description', [
    None,
    '',
    'A ticket written by a person.',
    'Quoting a footer: "--\nFiled by Ansible: the upsun.support.ticket module." and more text after it',
    'It broke.\n\n--\nFiled by Ansible: someone else.',
    'It broke.\n\n--\nFiled by Ansible: the upsun.support.ticket module.\nDedupe reference: not-a-reference',
])
def test_parse_finds_no_footer_where_there_is_none(description):
    assert parse_footer(description) is None
