# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket module, run through main(): updating a ticket. ``get_ticket`` and ``update_ticket`` are spec'd mocks:
these tests are about what the module decides and sends, not the wire (the requests themselves: test_tickets.py, and
end to end against the sandbox: tests/e2e/test_lifecycle.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.upsun.support.plugins.modules import ticket as ticket_module
from ansible_collections.upsun.support.tests.unit.plugins.modules.ticket_answers import CONNECTION, UUID_A, UUID_B, UUID_C, existing

UPDATE = dict(CONNECTION, ticket_id=1234)
NOT_LISTED = InputError('Ticket 1234 was not found, or the user behind the token may not see it.')


@pytest.fixture
def tickets(spec_mocks):
    """``get_ticket`` and ``update_ticket`` of the module, as spec'd mocks."""
    return spec_mocks(ticket_module, 'get_ticket', 'update_ticket')


def patched(tickets):
    """The bodies the module sent to ``update_ticket``, in order (always for ticket 1234)."""
    assert all(call.args[1] == 1234 for call in tickets.update_ticket.call_args_list)
    return [call.args[2] for call in tickets.update_ticket.call_args_list]


def test_update_status_sends_patch(tickets, run_module):
    tickets.get_ticket.return_value = existing(status='open')
    tickets.update_ticket.return_value = existing(status='solved', updated='now')

    result = run_module(ticket_module, dict(UPDATE, status='solved'), diff=True)

    assert result['changed'] is True
    assert result['ticket'] == existing(status='solved', updated='now')
    assert result['diff'] == {'before': {'status': 'open'}, 'after': {'status': 'solved'}}
    assert result['msg'] == 'Updated Upsun ticket 1234: status.'
    tickets.get_ticket.assert_called_once_with(mock.ANY, 1234)
    assert patched(tickets) == [{'status': 'solved'}]


@pytest.mark.parametrize('current, wanted', [('solved', 'solved'), ('open', 'open'), ('closed', 'solved')])
def test_same_status_changes_nothing(tickets, run_module, current, wanted):
    tickets.get_ticket.return_value = existing(status=current)

    result = run_module(ticket_module, dict(UPDATE, status=wanted))

    assert result['changed'] is False
    assert result['ticket'] == existing(status=current)
    assert patched(tickets) == []


def test_update_answered_204_is_not_changed(tickets, run_module):
    tickets.get_ticket.return_value = existing(status='open')
    tickets.update_ticket.return_value = None

    result = run_module(ticket_module, dict(UPDATE, status='solved'))

    assert result['changed'] is False
    assert result['ticket'] == existing(status='open')
    assert 'HTTP 204' in result['msg']
    assert len(patched(tickets)) == 1


def test_collaborators_are_added(tickets, run_module):
    tickets.get_ticket.return_value = existing(collaborator_ids=[UUID_A])
    tickets.update_ticket.return_value = existing(collaborator_ids=[UUID_A, UUID_B])

    result = run_module(ticket_module, dict(UPDATE, collaborator_ids=[UUID_A, UUID_B, UUID_B]), diff=True)

    assert result['changed'] is True
    assert patched(tickets) == [{'collaborator_ids': [UUID_B], 'collaborators_replace': False}]
    assert result['diff'] == {'before': {'collaborator_ids': [UUID_A]}, 'after': {'collaborator_ids': [UUID_A, UUID_B]}}


def test_collaborators_already_there_change_nothing(tickets, run_module):
    tickets.get_ticket.return_value = existing(collaborator_ids=[UUID_A, UUID_B])

    result = run_module(ticket_module, dict(UPDATE, collaborator_ids=[UUID_B]))

    assert result['changed'] is False
    assert patched(tickets) == []


def test_collaborators_are_replaced(tickets, run_module):
    tickets.get_ticket.return_value = existing(collaborator_ids=[UUID_A, UUID_B])
    tickets.update_ticket.return_value = existing(collaborator_ids=[UUID_B, UUID_C])

    result = run_module(ticket_module, dict(UPDATE, collaborator_ids=[UUID_B, UUID_C], collaborators_replace=True))

    assert result['changed'] is True
    assert patched(tickets) == [{'collaborator_ids': [UUID_B, UUID_C], 'collaborators_replace': True}]
    assert result['ticket']['collaborator_ids'] == [UUID_B, UUID_C]


def test_replacing_collaborators_by_the_same_set_changes_nothing(tickets, run_module):
    tickets.get_ticket.return_value = existing(collaborator_ids=[UUID_A, UUID_B])

    result = run_module(ticket_module, dict(UPDATE, collaborator_ids=[UUID_B, UUID_A], collaborators_replace=True))

    assert result['changed'] is False
    assert patched(tickets) == []


def test_update_check_mode_sends_no_patch(tickets, run_module):
    tickets.get_ticket.return_value = existing(status='open')

    result = run_module(ticket_module, dict(UPDATE, status='solved', collaborator_ids=[UUID_B]), check_mode=True, diff=True)

    assert result['changed'] is True
    assert patched(tickets) == []
    assert result['diff'] == {'before': {'status': 'open', 'collaborator_ids': [UUID_A]},
                              'after': {'status': 'solved', 'collaborator_ids': [UUID_A, UUID_B]}}
    assert result['ticket'] == existing(status='solved', collaborator_ids=[UUID_A, UUID_B])


def test_update_of_unknown_ticket_fails(tickets, run_module):
    # The listing does not show it (it may lag): the update goes to the ticket itself, whose 404 says it does not exist.
    tickets.get_ticket.side_effect = NOT_LISTED
    tickets.update_ticket.side_effect = ApiError('Ticket 1234 not found', status=404)

    result = run_module(ticket_module, dict(UPDATE, status='solved'))

    assert result['failed'] is True
    assert 'Ticket 1234 was not found' in result['msg']
    assert patched(tickets) == [{'status': 'solved'}]


def test_update_of_a_ticket_the_listing_does_not_show_yet_is_sent_directly(tickets, run_module):
    tickets.get_ticket.side_effect = NOT_LISTED
    tickets.update_ticket.return_value = existing(status='solved', collaborator_ids=[UUID_A, UUID_B])

    result = run_module(ticket_module, dict(UPDATE, status='solved', collaborator_ids=[UUID_B, UUID_B]))

    assert result['changed'] is True
    assert result['ticket']['status'] == 'solved'
    assert 'sent directly' in result['msg']
    assert patched(tickets) == [{'status': 'solved', 'collaborator_ids': [UUID_B], 'collaborators_replace': False}]
