# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Recovery (recovery.py): the unsolved tickets carrying a reference found and solved; the ticket operations and the
ledger it calls are spec'd mocks (the ledger itself: test_ledger.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.upsun.support.plugins.module_utils import recovery
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError
from ansible_collections.upsun.support.plugins.module_utils.ledger import Ledger
from ansible_collections.upsun.support.plugins.module_utils.recovery import solve_carrying, unsolved_carrying

REFERENCE = 'upsunrecovery0123456789abcdef0123'
CLIENT = object()


def ticket(ticket_id, status):
    return dict(ticket_id=ticket_id, status=status, description='... ' + REFERENCE)


@pytest.fixture
def operations():
    """``find_by_reference`` and ``update_ticket`` of recovery.py, as spec'd mocks."""
    with mock.patch.object(recovery, 'find_by_reference', autospec=True) as find_by_reference:
        with mock.patch.object(recovery, 'update_ticket', autospec=True) as update_ticket:
            yield mock.Mock(find_by_reference=find_by_reference, update_ticket=update_ticket)


@pytest.fixture
def ledger():
    ledger = mock.create_autospec(Ledger, instance=True)
    ledger.merge.side_effect = lambda reference, listed: listed
    return ledger


def test_only_the_unsolved_carriers_are_kept(operations):
    operations.find_by_reference.return_value = [ticket(5, 'hold'), ticket(4, 'solved'), ticket(3, 'closed'),
                                                 ticket(2, 'pending'), ticket(1, 'new'), ticket(0, 'open')]

    found = unsolved_carrying(CLIENT, REFERENCE)

    assert [item['ticket_id'] for item in found] == [5, 2, 1, 0]
    operations.find_by_reference.assert_called_once_with(CLIENT, REFERENCE)


def test_the_ledger_adds_what_the_listing_does_not_show_yet(operations, ledger):
    operations.find_by_reference.return_value = []
    ledger.merge.side_effect = None
    ledger.merge.return_value = [ticket(8, 'new')]

    assert unsolved_carrying(CLIENT, REFERENCE, ledger) == [ticket(8, 'new')]
    ledger.merge.assert_called_once_with(REFERENCE, [])


def test_each_unsolved_carrier_is_solved_with_one_patch(operations, ledger):
    operations.find_by_reference.return_value = [ticket(2, 'open'), ticket(1, 'solved'), ticket(0, 'new')]
    operations.update_ticket.side_effect = lambda client, ticket_id, body: dict(ticket(ticket_id, 'solved'), updated='now')

    results = solve_carrying(CLIENT, REFERENCE, ledger=ledger)

    assert results == [(ticket(2, 'open'), dict(ticket(2, 'solved'), updated='now')),
                       (ticket(0, 'new'), dict(ticket(0, 'solved'), updated='now'))]
    assert operations.update_ticket.call_args_list == [mock.call(CLIENT, 2, {'status': 'solved'}),
                                                       mock.call(CLIENT, 0, {'status': 'solved'})]
    assert ledger.record_ticket.call_args_list == [mock.call(after, [REFERENCE]) for dummy, after in results]


def test_an_answer_without_a_body_counts_as_solved(operations):
    operations.find_by_reference.return_value = [ticket(2, 'open')]
    operations.update_ticket.return_value = None

    assert solve_carrying(CLIENT, REFERENCE) == [(ticket(2, 'open'), ticket(2, 'solved'))]


def test_check_mode_sends_nothing_after_the_search(operations, ledger):
    operations.find_by_reference.return_value = [ticket(2, 'pending')]

    assert solve_carrying(CLIENT, REFERENCE, check_mode=True, ledger=ledger) == [(ticket(2, 'pending'), ticket(2, 'solved'))]
    operations.update_ticket.assert_not_called()
    ledger.record_ticket.assert_not_called()


def test_nothing_carries_the_reference_solves_nothing(operations):
    operations.find_by_reference.return_value = [ticket(1, 'solved')]
    assert solve_carrying(CLIENT, REFERENCE) == []
    operations.update_ticket.assert_not_called()


def test_a_ticket_gone_from_the_api_is_forgotten_and_left_out(operations, ledger):
    operations.find_by_reference.return_value = [ticket(2, 'open'), ticket(1, 'open')]
    operations.update_ticket.side_effect = [ApiError('gone', status=404), ticket(1, 'solved')]

    assert solve_carrying(CLIENT, REFERENCE, ledger=ledger) == [(ticket(1, 'open'), ticket(1, 'solved'))]
    ledger.forget_ticket.assert_called_once_with(2)


@pytest.mark.parametrize('status, with_ledger', [(404, False), (403, True), (500, True)])
def test_other_refusals_are_raised(operations, ledger, status, with_ledger):
    operations.find_by_reference.return_value = [ticket(2, 'open')]
    operations.update_ticket.side_effect = ApiError('refused', status=status)

    with pytest.raises(ApiError) as caught:
        solve_carrying(CLIENT, REFERENCE, ledger=ledger if with_ledger else None)
    assert caught.value.status == status
    ledger.forget_ticket.assert_not_called()
