# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module, run through main() against the fake API: updating a ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.modules import ticket as ticket_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import (
    UUID_A,
    UUID_B,
    UUID_C,
    existing,
    listing,
)


# --- updating a ticket ------------------------------------------------------------------------------------------------


UPDATE = dict(ticket_id=1234)


def test_update_status_sends_patch(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status='open')))
    api.on('PATCH', '/tickets/1234', (200, existing(status='solved', updated='now')))

    result = run_module(ticket_module, module_params(status='solved', **UPDATE), diff=True)

    assert result['changed'] is True
    assert result['ticket'] == existing(status='solved', updated='now')
    assert result['diff'] == {'before': {'status': 'open'}, 'after': {'status': 'solved'}}
    assert result['msg'] == 'Updated Upsun ticket 1234: status.'
    assert api.requests('GET')[0].query == {'filter[ticket_id]': ['1234'], 'page': ['1']}
    assert [call.json() for call in api.requests('PATCH')] == [{'status': 'solved'}]


@pytest.mark.parametrize('current, wanted', [('solved', 'solved'), ('open', 'open'), ('closed', 'solved')])
def test_same_status_changes_nothing(api, run_module, module_params, current, wanted):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status=current)))

    result = run_module(ticket_module, module_params(status=wanted, **UPDATE))

    assert result['changed'] is False
    assert result['ticket'] == existing(status=current)
    assert api.requests('PATCH') == []


def test_update_answered_204_is_not_changed(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status='open')))
    api.on('PATCH', '/tickets/1234', (204, None))

    result = run_module(ticket_module, module_params(status='solved', **UPDATE))

    assert result['changed'] is False
    assert result['ticket'] == existing(status='open')
    assert 'HTTP 204' in result['msg']
    assert len(api.requests('PATCH')) == 1


def test_collaborators_are_added(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A])))
    api.on('PATCH', '/tickets/1234', (200, existing(collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_A, UUID_B, UUID_B], **UPDATE), diff=True)

    assert result['changed'] is True
    assert [call.json() for call in api.requests('PATCH')] == [{'collaborator_ids': [UUID_B], 'collaborators_replace': False}]
    assert result['diff'] == {'before': {'collaborator_ids': [UUID_A]}, 'after': {'collaborator_ids': [UUID_A, UUID_B]}}


def test_collaborators_already_there_change_nothing(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_B], **UPDATE))

    assert result['changed'] is False
    assert api.requests('PATCH') == []


def test_collaborators_are_replaced(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A, UUID_B])))
    api.on('PATCH', '/tickets/1234', (200, existing(collaborator_ids=[UUID_B, UUID_C])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_B, UUID_C], collaborators_replace=True, **UPDATE))

    assert result['changed'] is True
    assert [call.json() for call in api.requests('PATCH')] == [{'collaborator_ids': [UUID_B, UUID_C], 'collaborators_replace': True}]
    assert result['ticket']['collaborator_ids'] == [UUID_B, UUID_C]


def test_replacing_collaborators_by_the_same_set_changes_nothing(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(collaborator_ids=[UUID_B, UUID_A], collaborators_replace=True, **UPDATE))

    assert result['changed'] is False
    assert api.requests('PATCH') == []


def test_update_check_mode_sends_no_patch(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing(existing(status='open')))

    result = run_module(ticket_module, module_params(status='solved', collaborator_ids=[UUID_B], **UPDATE), check_mode=True, diff=True)

    assert result['changed'] is True
    assert api.requests('PATCH') == []
    assert result['diff'] == {'before': {'status': 'open', 'collaborator_ids': [UUID_A]},
                              'after': {'status': 'solved', 'collaborator_ids': [UUID_A, UUID_B]}}
    assert result['ticket'] == existing(status='solved', collaborator_ids=[UUID_A, UUID_B])


def test_update_of_unknown_ticket_fails(api, run_module, module_params):
    # The listing does not show it (it may lag): the update goes to the ticket itself, whose 404 says it does not exist.
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    api.on('PATCH', '/tickets/1234', (404, {'error': 'Ticket 1234 not found'}))

    result = run_module(ticket_module, module_params(status='solved', **UPDATE))

    assert result['failed'] is True
    assert 'Ticket 1234 was not found' in result['msg']
    assert [call.json() for call in api.requests('PATCH')] == [{'status': 'solved'}]


def test_update_of_a_ticket_the_listing_does_not_show_yet_is_sent_directly(api, run_module, module_params):
    api.allow_exchange()
    api.on('GET', '/tickets', listing())
    api.on('PATCH', '/tickets/1234', (200, existing(status='solved', collaborator_ids=[UUID_A, UUID_B])))

    result = run_module(ticket_module, module_params(status='solved', collaborator_ids=[UUID_B, UUID_B], **UPDATE))

    assert result['changed'] is True
    assert result['ticket']['status'] == 'solved'
    assert 'sent directly' in result['msg']
    assert [call.json() for call in api.requests('PATCH')] == [
        {'status': 'solved', 'collaborator_ids': [UUID_B], 'collaborators_replace': False}]
