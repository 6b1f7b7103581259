# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the tests of the upsun.support.ticket_events event source share: its arguments, one poll, its queue.

Most tests drive the source one poll at a time (``TicketSource.poll``), so that
the sandbox can be changed between two polls without any sleep; the tests of
``main`` run it as ansible-rulebook does, as a task putting events on a queue.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import logging

from ansible_collections.upsun.support.extensions.eda.plugins.event_source import ticket_events

LATER = '2030-01-01T00:00:00Z'
REQUESTER = '3c90c3cc-0d44-4b50-8888-8dd25736052a'


class QueueStandIn:
    """What ansible-rulebook's queue receives: the events, in order."""

    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


def source_args(sandbox, **args):
    """The source's arguments pointing at ``sandbox``, without retries unless a test asks for them."""
    arguments = dict(api_token=sandbox.api_token, api_url=sandbox.url, auth_url=sandbox.url, retries=0, timeout=5)
    arguments.update(args)
    return dict((name, value) for name, value in arguments.items() if value is not None)


def poll(source):
    return asyncio.run(source.poll())


def run_main(queue, args, timeout=20):
    """``main`` as ansible-rulebook runs it; a source that never stops fails the test after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(ticket_events.main(queue, args), timeout))


def ticket_polls(sandbox):
    return sandbox.journal(method='GET', path='/tickets')


def warnings_of(caplog):
    return [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and record.name == ticket_events.SOURCE_NAME]


def seed_days(sandbox, count=3):
    """``count`` tickets last updated on different days in the past: a listing that can tell the date filters apart."""
    times = ['2026-03-0{0}T10:00:00Z'.format(day) for day in range(1, count + 1)]
    return [sandbox.add_ticket(subject='seeded {0}'.format(when), created=when, updated=when) for when in times]


def updated_asked(sandbox):
    """The filter[updated] of each GET /tickets page 1, None where there was none."""
    found = []
    for entry in ticket_polls(sandbox):
        query = dict((name, value[0] if isinstance(value, list) else value) for name, value in entry['query'].items())
        if query.get('page', '1') == '1':
            found.append(query.get('filter[updated]'))
    return found


def stop(source):
    """What ``run`` does after each poll, then the end of the source."""
    source.save()
    source.client.close()


def watching_seeded(sandbox, make_source, meaning, lag):
    """The sandbox's date filter meaning ``meaning`` and its listings lagging ``lag`` s, three tickets of past days
    (shown), and a source that has made its first poll: (the tickets, the source)."""
    sandbox.set_listing(date_filter=meaning, lag=lag)
    seeded = seed_days(sandbox)
    sandbox.catch_up()
    source = make_source()
    assert poll(source) == []
    return seeded, source
