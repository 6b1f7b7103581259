# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The state file: what the source has seen survives a restart, privately, and a bad file stops it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.tests.unit.extensions.eda.plugins.event_source.source_helpers import (
    QueueStandIn,
    poll,
    run_main,
    seed_days,
    source_args,
    stop,
    warnings_of,
)


# --- state file -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('lag', [0, 120])
def test_a_restart_with_a_state_file_emits_what_changed_while_stopped_once(sandbox, make_source, tmp_path, lag):
    sandbox.set_listing(lag=lag)
    state_file = tmp_path / 'events.json'
    seeded = seed_days(sandbox)
    sandbox.catch_up()
    source = make_source(state_file=str(state_file))
    poll(source)
    sandbox.set_ticket(seeded[0]['ticket_id'], status='open')
    sandbox.catch_up()
    assert len(poll(source)) == 1
    stop(source)

    # While it is stopped: a change, a new ticket.
    sandbox.set_ticket(seeded[1]['ticket_id'], status='pending')
    created = sandbox.add_ticket(subject='filed while the source was stopped')
    restarted = make_source(state_file=str(state_file))
    if lag:
        assert poll(restarted) == []
        sandbox.catch_up()
    events = poll(restarted)

    assert [(event['ticket']['ticket_id'], event['change'], event['previous']) for event in events] == [
        (seeded[1]['ticket_id'], 'updated', {'status': 'new', 'updated': seeded[1]['updated']}),
        (created['ticket_id'], 'created', None)]
    assert poll(restarted) == []
    stop(restarted)
    # A third start: nothing again.
    third = make_source(state_file=str(state_file))
    assert poll(third) == []
    stop(third)


def test_the_state_file_is_private_holds_no_token_and_is_replaced_atomically(
        sandbox, make_source, tmp_path, sandbox_api_token):
    (tmp_path / 'state').mkdir()
    state_file = tmp_path / 'state' / 'events.json'
    sandbox.add_ticket(subject='one')
    source = make_source(state_file=str(state_file))
    poll(source)
    stop(source)
    first_inode = state_file.stat().st_ino
    source = make_source(state_file=str(state_file))
    poll(source)
    stop(source)

    assert oct(state_file.stat().st_mode & 0o777) == '0o600'
    assert state_file.stat().st_ino != first_inode
    text = state_file.read_text()
    assert sandbox_api_token not in text and 'access_token' not in text
    state = json.loads(text)
    assert sorted(state) == ['comments', 'format', 'started', 'tickets', 'watched']
    assert [ticket['subject'] for ticket in state['tickets']] == ['one']
    assert os.listdir(str(tmp_path / 'state')) == ['events.json']


def test_without_a_state_file_the_source_has_written_nothing_and_starts_afresh(sandbox, make_source, tmp_path):
    ticket = sandbox.add_ticket()
    source = make_source()
    poll(source)
    stop(source)
    sandbox.set_ticket(ticket['ticket_id'], status='open')

    assert poll(make_source()) == []


@pytest.mark.parametrize('content, message', [
    ('not json', 'cannot be read'),
    ('[]', 'it is not a state file of this source'),
    ('{"format": 1, "started": "2030-01-01T00:00:00Z", "tickets": [], "watched": {"filters": {"status": "open"}, '
     '"search": null}}', 'it was written for other filters ({"filters": {"status": "open"}, "search": null})'),
    ('{"format": 99, "started": "2030-01-01T00:00:00Z", "tickets": [], "watched": {"filters": {}, "search": null}}',
     'it is not a state file of this source (format 1)'),
    ('{"format": 1, "started": "never", "tickets": [], "watched": {"filters": {}, "search": null}}',
     'it is not a state file of this source'),
    ('{"format": 1, "started": "2030-01-01T00:00:00Z", "tickets": [{"subject": "no id"}], '
     '"watched": {"filters": {}, "search": null}}', 'it is not a state file of this source'),
])
def test_a_state_file_that_is_not_one_of_this_source_stops_main_before_any_request(sandbox, tmp_path, content,
                                                                                   message):
    state_file = tmp_path / 'events.json'
    state_file.write_text(content)

    with pytest.raises(InputError) as info:
        run_main(QueueStandIn(), source_args(sandbox, state_file=str(state_file)))

    assert info.value.msg.startswith('upsun.support.ticket_events: state_file {0}'.format(state_file))
    assert message in info.value.msg
    assert sandbox.journal() == []
    assert state_file.read_text() == content


def test_a_state_file_that_cannot_be_written_is_a_warning(sandbox, make_source, tmp_path, caplog):
    directory = tmp_path / 'state'
    directory.mkdir()
    source = make_source(state_file=str(directory / 'events.json'))
    poll(source)
    directory.rmdir()
    source.save()

    assert len(warnings_of(caplog)) == 1
    assert 'cannot write the state_file {0}'.format(directory / 'events.json') in warnings_of(caplog)[0]
