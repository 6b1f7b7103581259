# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module, run through main() against the fake API: dedupe, and creates whose answer is lost."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.module_utils.footer import with_footer
from ansible_collections.upsun.support.plugins.modules import ticket as ticket_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import (
    CREATED, DEDUPE, NEW, REFERENCE, carrier, existing, listing)


# --- dedupe -----------------------------------------------------------------------------------------------------------


def test_dedupe_returns_unsolved_ticket_without_posting(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'pending')))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['changed'] is False
    assert result['ticket'] == carrier(900, 'pending')
    assert '900' in result['msg']
    assert api.requests('POST', '/tickets') == []
    assert api.requests('GET')[0].query['search'] == [REFERENCE]


def test_dedupe_files_follow_up_of_solved_ticket(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'solved'), carrier(850, 'closed')))
    api.on('POST', '/tickets', (200, CREATED))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['changed'] is True
    posts = api.requests('POST', '/tickets')
    assert len(posts) == 1
    body = posts[0].json()
    assert body['followup_tid'] == '900'
    assert body['description'] == with_footer(NEW['description'], dedupe=REFERENCE)


def test_dedupe_keeps_followup_tid_set_by_user(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(carrier(900, 'solved')))
    api.on('POST', '/tickets', (200, CREATED))

    run_module(ticket_module, module_params(followup_tid='17', **DEDUPE))

    assert api.requests('POST', '/tickets')[0].json()['followup_tid'] == '17'


def test_dedupe_ignores_search_hits_without_the_reference(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(901, status='open', description='Mentions deploy-42 but no reference')))
    api.on('POST', '/tickets', (200, CREATED))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['changed'] is True
    assert 'followup_tid' not in api.requests('POST', '/tickets')[0].json()


@pytest.mark.parametrize('lost', ['502', 'read timeout'])
def test_lost_create_with_dedupe_key_finds_ticket_and_posts_once(api, run_module, module_params, lost):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(), listing(carrier(1234, 'new')))
    if lost == '502':
        api.on('POST', '/tickets', (502, 'Bad Gateway'))
    else:
        api.on('POST', '/tickets', api.slow(1.0, (200, CREATED)))

    result = run_module(ticket_module, module_params(timeout=0.3, **DEDUPE))

    assert 'failed' not in result, result['msg']
    assert result['changed'] is True
    assert result['ticket'] == carrier(1234, 'new')
    assert len(api.requests('POST', '/tickets')) == 1
    assert len(api.requests('GET', '/tickets')) == 2
    assert any('1234' in warning and 'lost' in warning for warning in result['warnings'])


def test_lost_create_with_dedupe_key_and_no_ticket_never_posts_again(api, run_module, module_params, tmp_path, monkeypatch):
    monkeypatch.setenv('TMPDIR', str(tmp_path))
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    api.on('POST', '/tickets', (504, 'Gateway Timeout'), (200, CREATED))

    result = run_module(ticket_module, module_params(**DEDUPE))

    assert result['failed'] is True
    assert result['msg'].startswith('The ticket may have been created, but its answer was lost')
    assert result['may_exist'] is True
    assert result['dedupe_reference'] == REFERENCE
    assert len(api.requests('POST', '/tickets')) == 1
    assert len(api.requests('GET', '/tickets')) > 2


@pytest.mark.parametrize('lost', ['502', 'read timeout', 'connection reset'])
def test_lost_create_without_dedupe_key_fails_saying_it_may_exist(api, raw_server, run_module, module_params, tokens, lost):
    args = module_params(access_token=tokens.access, timeout=0.3, **NEW)
    if lost == '502':
        api.on('POST', '/tickets', (502, 'Bad Gateway'))
    elif lost == 'read timeout':
        api.on('POST', '/tickets', api.slow(1.0, (200, CREATED)))
    else:
        server = raw_server('close')
        args['api_url'] = server.url

    result = run_module(ticket_module, args)

    assert result['failed'] is True
    assert 'may have been created' in result['msg']
    assert 'dedupe_key' in result['msg']
    if lost == 'connection reset':
        assert server.requests == 1
    else:
        assert len(api.requests('POST', '/tickets')) == 1
