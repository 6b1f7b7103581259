# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults of the API: a failed poll is a warning and the next one catches up; main as ansible-rulebook runs it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import logging
import time

import pytest

from ansible_collections.upsun.support.extensions.eda.plugins.event_source import ticket_events
from ansible_collections.upsun.support.tests.unit.extensions.eda.plugins.event_source.source_helpers import (
    LATER,
    QueueStandIn,
    poll,
    source_args,
    ticket_polls,
    warnings_of,
)


# --- faults -----------------------------------------------------------------------------------------------------------


def change_after_fault(sandbox, source, caplog, **fault):
    """Queue ``fault`` for the next poll, change a ticket, and return (events of that poll, of the next)."""
    ticket = sandbox.add_ticket()
    poll(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)
    sandbox.fault('/tickets', method='GET', **fault)
    caplog.clear()
    failed = poll(source)
    # The sandbox answers one request at a time: let it finish a delayed one first.
    time.sleep(fault.get('delay') or 0)
    return failed, poll(source)


def test_a_server_error_is_a_warning_and_the_next_poll_catches_up(sandbox, make_source, caplog):
    failed, recovered = change_after_fault(sandbox, make_source(interval=7), caplog, status=503)

    assert failed == []
    assert [event['previous']['status'] for event in recovered] == ['new']
    warnings = warnings_of(caplog)
    assert len(warnings) == 1
    assert 'the poll failed' in warnings[0] and 'HTTP 503' in warnings[0] and 'Trying again in 7 s' in warnings[0]


def test_a_429_is_retried_after_retry_after_then_a_warning(sandbox, make_source, caplog, retry_sleeps):
    failed, recovered = change_after_fault(sandbox, make_source(retries=1), caplog, status=429, retry_after=3, count=2)

    assert failed == []
    assert len(recovered) == 1
    assert 3 in retry_sleeps
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any('answered HTTP 429; retry 1 of 1' in message for message in messages)
    assert any('the poll failed' in message and 'HTTP 429' in message for message in messages)


def test_a_dropped_connection_is_a_warning(sandbox, make_source, caplog):
    failed, recovered = change_after_fault(sandbox, make_source(), caplog, action='drop')

    assert failed == []
    assert len(recovered) == 1
    assert len(warnings_of(caplog)) == 1


def test_a_stalled_answer_is_a_warning(sandbox, make_source, caplog):
    failed, recovered = change_after_fault(sandbox, make_source(timeout=0.3), caplog, action='delay', delay=1)

    assert failed == []
    assert len(recovered) == 1
    assert 'no answer came back' in warnings_of(caplog)[0]


def test_an_unreachable_api_is_a_warning_even_at_the_first_poll(make_source, caplog, closed_port_url):
    source = make_source(api_url=closed_port_url, auth_url=closed_port_url)

    assert poll(source) == []
    assert poll(source) == []

    warnings = warnings_of(caplog)
    assert len(warnings) == 2 and 'Could not connect' in warnings[0]
    assert source.watch.known is None


def test_the_tickets_of_the_first_poll_that_succeeds_are_the_existing_ones(sandbox, make_source, caplog):
    sandbox.add_ticket()
    sandbox.fault('/tickets', method='GET', status=502)
    source = make_source()

    assert poll(source) == []
    assert poll(source) == []
    created = sandbox.add_ticket()
    assert [event['ticket']['ticket_id'] for event in poll(source)] == [created['ticket_id']]
    assert len(warnings_of(caplog)) == 1


def test_an_expired_access_token_is_exchanged_again_once(sandbox, make_source, caplog):
    ticket = sandbox.add_ticket()
    # only the listing's requests: no read of the ticket's comments after it
    source = make_source(comments=False)
    poll(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)
    sandbox.expire_tokens()
    sandbox.clear_journal()

    events = poll(source)

    assert len(events) == 1
    assert [(entry['method'], entry['path'], entry['status']) for entry in sandbox.journal()] == [
        ('GET', '/tickets', 401), ('POST', '/oauth2/token', 200), ('GET', '/tickets', 200)]
    assert warnings_of(caplog) == []


def test_a_refused_token_exchange_after_the_start_is_a_warning(sandbox, make_source, caplog):
    source = make_source()
    poll(source)
    sandbox.expire_tokens()
    sandbox.fault('/oauth2/token', status=401, body={'error': 'invalid_client'})

    assert poll(source) == []
    assert poll(source) == []
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and 'refused' in warnings[0]


def test_the_deadline_bounds_each_poll_not_the_life_of_the_source(sandbox, make_source, caplog, retry_sleeps):
    ticket = sandbox.add_ticket()
    source = make_source(deadline=5)
    poll(source)
    # The client's clock counts the recorded waits as spent: a minute passes.
    retry_sleeps.append(60)
    sandbox.set_ticket(ticket['ticket_id'], status='open', updated=LATER)

    assert len(poll(source)) == 1
    assert warnings_of(caplog) == []


# --- main, as ansible-rulebook runs it --------------------------------------------------------------------------------


async def _wait_for(condition, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise AssertionError('timed out waiting')
        await asyncio.sleep(0.05)


def test_main_puts_each_change_on_the_queue_once_and_keeps_polling(sandbox):
    ticket = sandbox.add_ticket()
    queue = QueueStandIn()

    async def scenario():
        task = asyncio.create_task(ticket_events.main(queue, source_args(sandbox, interval=0.1)))
        await _wait_for(lambda: len(ticket_polls(sandbox)) >= 1)
        await asyncio.to_thread(sandbox.set_ticket, ticket['ticket_id'], status='pending')
        await _wait_for(lambda: queue.events)
        polls = len(ticket_polls(sandbox))
        await _wait_for(lambda: len(ticket_polls(sandbox)) >= polls + 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())

    assert [(event['change'], event['ticket']['status']) for event in queue.events] == [('updated', 'pending')]
    assert set(queue.events[0]) == {'ticket', 'change', 'previous', 'filed_by', 'text_base64'}
