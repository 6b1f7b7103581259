# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket ledger: what it records and answers, crash safety, bounds, concurrent writers, its private directory;
and the dedupe and recovery paths that consult it, against the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import multiprocessing
import os
import stat

import pytest

from ansible_collections.upsun.support.plugins.module_utils import ledger as ledger_module
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError, TicketMayExistError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference, with_footer
from ansible_collections.upsun.support.plugins.module_utils.ledger import (
    ENTRY_LIFETIME,
    LISTING_LAG_ALLOWANCE,
    MAY_EXIST_WAIT,
    Ledger,
    may_exist_wait,
    references_of,
)
from ansible_collections.upsun.support.plugins.module_utils.recovery import solve_carrying
from ansible_collections.upsun.support.plugins.module_utils.tickets import create_deduped

API = 'https://api.upsun.com'
REFERENCE = dedupe_reference('deploy-42')
RECOVERY = recovery_reference('deploy-shop')


class Clock:
    """A clock the test moves on."""

    def __init__(self):
        self.now = 1800000000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def directory(tmp_path):
    return tmp_path / 'home' / '.ansible' / 'upsun_support_ledger'


@pytest.fixture
def ledger(directory, clock, warned):
    return Ledger(str(directory), API, warned.append, clock=clock)


def filed(ticket_id, status='new', updated='2027-01-15T08:00:00Z', **fields):
    description = with_footer('It broke.', dedupe=REFERENCE, recovery=RECOVERY)
    return dict(dict(ticket_id=ticket_id, status=status, created=updated, updated=updated, description=description,
                     subject='Deploy failed', zd_ticket_url='https://support.example/{0}'.format(ticket_id)), **fields)


def lines(directory):
    return (directory / 'ledger.jsonl').read_bytes().split(b'\n')


# --- what it records and answers --------------------------------------------------------------------------------------


def test_the_ledger_is_a_private_directory_created_beside_the_spool(ledger, directory):
    ledger.record_ticket(filed(1001))

    assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(directory / 'ledger.jsonl')).st_mode) == 0o600
    assert ledger_module.DEFAULT_LEDGER_DIR == '~/.ansible/upsun_support_ledger'


def test_a_ticket_filed_here_stands_in_for_a_listing_that_does_not_show_it_yet(ledger, clock):
    ledger.record_ticket(filed(1001))

    [ticket] = ledger.merge(REFERENCE, [])
    assert ticket['ticket_id'] == 1001 and ticket['status'] == 'new'
    # Under its recovery reference too, and only for the API it was filed with.
    assert [item['ticket_id'] for item in ledger.merge(RECOVERY, [])] == [1001]
    assert Ledger(ledger.directory, 'https://other.example', clock=clock).merge(REFERENCE, []) == []
    # Nothing of its text is kept.
    assert 'description' not in ticket and 'subject' not in ticket
    clock.now += LISTING_LAG_ALLOWANCE + 1
    assert ledger.merge(REFERENCE, []) == []


def test_a_change_made_here_wins_over_a_listing_that_shows_the_ticket_as_it_was(ledger):
    ledger.record_ticket(filed(1001))
    ledger.record_ticket(filed(1001, status='solved', updated='2027-01-15T08:01:00Z'), [REFERENCE])
    stale = filed(1001)

    [ticket] = ledger.merge(REFERENCE, [stale])
    assert ticket['status'] == 'solved'
    assert ledger.fresher(stale)['status'] == 'solved'
    # A change the listing shows later than the ledger's (support reopened it) wins over the ledger.
    reopened = filed(1001, status='open', updated='2027-01-15T09:00:00Z')
    assert ledger.merge(REFERENCE, [reopened])[0]['status'] == 'open'
    # The references recorded at filing are kept when an update names only one.
    assert [item['ticket_id'] for item in ledger.merge(RECOVERY, [])] == [1001]


def test_a_change_in_the_same_second_as_the_ledger_s_view_is_the_listing_s(ledger):
    # updated counts whole seconds: support solved the ticket in the second it was filed.
    ledger.record_ticket(filed(1001))

    [ticket] = ledger.merge(REFERENCE, [filed(1001, status='solved')])
    assert ticket['status'] == 'solved'


def test_a_lost_create_holds_new_posts_until_its_ticket_shows_or_the_hold_passes(ledger, clock):
    ledger.record_posting(REFERENCE, [REFERENCE], after=1000)

    assert ledger.lost_create(REFERENCE, [])['state'] == 'may_exist'
    # An earlier ticket carrying it is not the lost one.
    assert ledger.lost_create(REFERENCE, [filed(1000, status='solved')]) is not None
    clock.now += MAY_EXIST_WAIT + 1
    assert ledger.lost_create(REFERENCE, []) is None


@pytest.mark.parametrize('value, hold, warns', [('0', 0.0, False), ('60', 60.0, False), ('-1', MAY_EXIST_WAIT, True),
                                                ('soon', MAY_EXIST_WAIT, True), ('nan', MAY_EXIST_WAIT, True),
                                                ('inf', MAY_EXIST_WAIT, True), ('1e300', MAY_EXIST_WAIT, True),
                                                ('604800', 604800.0, False), ('604801', MAY_EXIST_WAIT, True)])
def test_the_hold_is_set_in_seconds_by_its_variable(directory, clock, warned, monkeypatch, value, hold, warns):
    monkeypatch.setenv('UPSUN_SUPPORT_MAY_EXIST_HOLD', value)
    ledger = Ledger(str(directory), API, warned.append, clock=clock)
    ledger.record_posting(REFERENCE, [REFERENCE], after=0)

    assert ledger.hold == hold
    assert (ledger.lost_create(REFERENCE, []) is None) is (hold == 0)
    assert bool(warned) is warns
    if warns:
        assert warned == ["UPSUN_SUPPORT_MAY_EXIST_HOLD must be a number of seconds from 0 to 604800, got {0!r}; "
                          "using 900 s.".format(value)]


def test_the_wait_given_as_an_option_wins_over_the_variable(directory, clock, warned, monkeypatch):
    monkeypatch.setenv('UPSUN_SUPPORT_MAY_EXIST_HOLD', 'not read')
    ledger = Ledger(str(directory), API, warned.append, clock=clock, wait=60)
    ledger.record_posting(REFERENCE, [REFERENCE], after=0)

    assert ledger.hold == 60 and warned == []
    clock.now += 59
    assert ledger.lost_create(REFERENCE, []) is not None
    clock.now += 1
    assert ledger.lost_create(REFERENCE, []) is None


@pytest.mark.parametrize('given', [-1, -0.5, 604801, 10 ** 30, float('inf'), float('nan'), True, '60'])
def test_a_wait_option_out_of_range_is_refused_naming_the_option(given):
    with pytest.raises(InputError) as caught:
        may_exist_wait(given)
    assert str(caught.value).startswith('may_exist_wait must be a number of seconds from 0 to 604800, got ')


def test_the_wait_defaults_to_its_one_constant(monkeypatch):
    monkeypatch.delenv('UPSUN_SUPPORT_MAY_EXIST_HOLD', raising=False)
    assert may_exist_wait() == MAY_EXIST_WAIT == 900
    assert may_exist_wait(0) == 0


def test_a_lost_create_whose_ticket_shows_is_recorded_as_filed(ledger):
    ledger.record_posting(REFERENCE, [REFERENCE], after=1000)

    assert ledger.lost_create(REFERENCE, [filed(1003)]) is None
    assert ledger.lost_create(REFERENCE, []) is None
    assert [item['ticket_id'] for item in ledger.merge(REFERENCE, [])] == [1003]


def test_a_ticket_gone_from_the_api_is_forgotten(ledger):
    ledger.record_ticket(filed(1001))
    ledger.forget_ticket(1001)

    assert ledger.merge(REFERENCE, []) == [] and ledger.snapshot(1001) is None


def test_references_of_reads_the_footer():
    assert references_of(filed(1)['description']) == [REFERENCE, RECOVERY]
    assert references_of('no footer') == [] and references_of(None) == []


# --- crash safety -----------------------------------------------------------------------------------------------------


def test_a_torn_last_line_is_skipped_and_does_not_spoil_the_next_one(ledger, directory):
    ledger.record_ticket(filed(1001))
    # A crash in the middle of writing the next line.
    with open(str(directory / 'ledger.jsonl'), 'ab') as handle:
        handle.write(b'{"v":1,"key":"ticket:1002","state":"fil')
    assert [item['ticket_id'] for item in ledger.merge(REFERENCE, [])] == [1001]

    ledger.record_ticket(filed(1003))

    assert [item['ticket_id'] for item in ledger.merge(REFERENCE, [])] == [1003, 1001]
    assert lines(directory)[1] == b'{"v":1,"key":"ticket:1002","state":"fil'


@pytest.mark.parametrize('garbage', [b'\x00\xff\xfe not json', b'[1, 2, 3]', b'{"v": 1, "key": "ticket:9", "state": "filed"}',
                                     b'{"v": 99, "key": "ticket:9"}', b'{"v":1,"key":"ticket:9","state":"filed","refs":[],'
                                     b'"at":1,"since":1,"ticket":{"ticket_id":true}}'])
def test_garbage_lines_are_skipped(ledger, directory, garbage):
    directory.mkdir(parents=True, mode=0o700)
    (directory / 'ledger.jsonl').write_bytes(garbage + b'\n')
    ledger.record_ticket(filed(1001))

    assert [item['ticket_id'] for item in ledger.merge(REFERENCE, [])] == [1001]
    assert ledger.snapshot(9) is None


# --- bounds -----------------------------------------------------------------------------------------------------------


def test_the_file_is_compacted_below_its_size_cap_keeping_the_newest_entries(ledger, directory, clock, monkeypatch):
    monkeypatch.setattr(ledger_module, 'MAX_BYTES', 4096)
    monkeypatch.setattr(ledger_module, 'MAX_ENTRIES', 10)
    for number in range(200):
        clock.now += 1
        ledger.record_ticket(filed(2000 + number))
        assert os.path.getsize(str(directory / 'ledger.jsonl')) <= 4096 + 400

    kept = [item['ticket_id'] for item in ledger.merge(REFERENCE, [])]
    assert 2199 in kept and 2000 not in kept and len(kept) <= 30
    assert [item['ticket_id'] for item in Ledger(ledger.directory, API, clock=clock).merge(REFERENCE, [])] == kept
    assert [name for name in os.listdir(str(directory)) if name.startswith('.ledger-')] == []


def test_expired_and_finished_entries_are_dropped(ledger, directory, clock, monkeypatch):
    monkeypatch.setattr(ledger_module, 'MAX_BYTES', 2048)
    ledger.record_ticket(filed(1001))
    ledger.record_ticket(filed(1002))
    ledger.forget_ticket(1002)
    clock.now += ENTRY_LIFETIME + 1
    assert ledger.snapshot(1001) is None
    for number in range(40):
        ledger.record_ticket(filed(3000 + number))

    text = (directory / 'ledger.jsonl').read_text()
    assert '"ticket_id":1001' not in text and '"ticket:1002"' not in text


# --- concurrency ------------------------------------------------------------------------------------------------------


def _append_many(directory, first, count):
    writer = Ledger(directory, API)
    for number in range(first, first + count):
        writer.record_ticket(filed(number))


def test_two_processes_appending_at_once_lose_nothing(directory):
    context = multiprocessing.get_context('fork')
    workers = [context.Process(target=_append_many, args=(str(directory), first, 150)) for first in (10000, 20000)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    ids = [item['ticket_id'] for item in Ledger(str(directory), API).merge(REFERENCE, [])]
    assert sorted(ids) == list(range(10000, 10150)) + list(range(20000, 20150))
    for line in lines(directory):
        if line:
            json.loads(line.decode('utf-8'))


# --- the private directory --------------------------------------------------------------------------------------------


def test_a_ledger_directory_of_another_user_is_refused_and_left_alone(ledger, directory, warned, monkeypatch):
    directory.mkdir(parents=True, mode=0o700)
    owner = os.stat(str(directory)).st_uid
    monkeypatch.setattr(os, 'geteuid', lambda: owner + 1)

    ledger.record_ticket(filed(1001))

    assert ledger.merge(REFERENCE, []) == []
    assert os.listdir(str(directory)) == []
    assert len(warned) == 1
    assert 'is not used: it belongs to another user (uid {0}, this user is uid {1})'.format(owner, owner + 1) in warned[0]
    assert 'UPSUN_SUPPORT_LEDGER_DIR' in warned[0]


@pytest.mark.parametrize('spoil', ['symlink', 'open to others'])
def test_an_unsafe_ledger_directory_is_refused(ledger, directory, warned, tmp_path, spoil):
    if spoil == 'symlink':
        target = tmp_path / 'elsewhere'
        target.mkdir(mode=0o700)
        directory.parent.mkdir(parents=True)
        directory.symlink_to(target)
    else:
        directory.mkdir(parents=True)
        os.chmod(str(directory), 0o777)

    ledger.record_ticket(filed(1001))

    assert ledger.merge(REFERENCE, []) == []
    assert 'is not used' in warned[0]
    assert not os.path.exists(str(directory / 'ledger.jsonl'))
    if spoil != 'symlink':
        assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o777


# --- the dedupe and recovery paths that consult it, against the fake API ---------------------------------------------


@pytest.fixture
def client(make_client, tokens):
    return make_client(access_token=tokens.access, retries=0, deadline=10)


def listing(tickets):
    return 200, {'count': len(tickets), 'tickets': tickets, '_links': {'self': {'href': '/tickets'}}}


def payload():
    return {'subject': 'Deploy failed', 'description': with_footer('It broke.', dedupe=REFERENCE, recovery=RECOVERY)}


def test_a_rerun_before_the_listing_shows_the_ticket_files_nothing(api, client, warned, directory):
    api.on('GET', '/tickets', listing([]))
    api.on('POST', '/tickets', (200, filed(1001)))
    ledger = Ledger(str(directory), client.api_url, warned.append)

    first = create_deduped(client, payload(), REFERENCE, warned.append, ledger)
    again = create_deduped(client, payload(), REFERENCE, warned.append, ledger)

    assert first[0] is True and again == (False, ledger.snapshot(1001))
    assert len(api.requests('POST', '/tickets')) == 1


def test_after_a_lost_answer_no_run_posts_again_for_the_hold(api, client, warned, directory, retry_sleeps):
    api.on('GET', '/tickets', listing([]))
    api.on('POST', '/tickets', (502, 'Bad Gateway'))
    ledger = Ledger(str(directory), client.api_url, warned.append)

    with pytest.raises(TicketMayExistError):
        create_deduped(client, payload(), REFERENCE, warned.append, ledger)
    with pytest.raises(TicketMayExistError) as info:
        create_deduped(client, payload(), REFERENCE, warned.append, ledger)

    assert len(api.requests('POST', '/tickets')) == 1
    assert 'lost the answer to its POST /tickets for this dedupe_key' in info.value.msg
    assert info.value.to_result()['dedupe_reference'] == REFERENCE


def test_a_create_refused_by_the_api_holds_nothing_back(api, client, warned, directory):
    api.on('GET', '/tickets', listing([]))
    api.on('POST', '/tickets', (422, {'error': 'bad priority'}), (200, filed(1001)))
    ledger = Ledger(str(directory), client.api_url, warned.append)

    with pytest.raises(Exception):
        create_deduped(client, payload(), REFERENCE, warned.append, ledger)
    created, ticket = create_deduped(client, payload(), REFERENCE, warned.append, ledger)

    assert created is True and ticket['ticket_id'] == 1001


def test_of_two_unsolved_tickets_the_oldest_is_kept_and_the_other_solved_as_its_duplicate(api, client, warned, directory):
    api.on('GET', '/tickets', listing([filed(1002), filed(1001)]))
    api.on('PATCH', '/tickets/1002', (200, filed(1002, status='solved', updated='2027-01-15T08:05:00Z')))
    ledger = Ledger(str(directory), client.api_url, warned.append)

    created, survivor = create_deduped(client, payload(), REFERENCE, warned.append, ledger)

    assert created is False and survivor['ticket_id'] == 1001
    assert [call.json() for call in api.requests('PATCH')] == [{'status': 'solved'}]
    assert api.requests('POST') == []
    assert 'Solved Upsun ticket 1002 as a duplicate of ticket 1001' in warned[-1]


def test_a_duplicate_the_api_will_not_solve_leaves_the_survivor_standing(api, client, warned, directory):
    api.on('GET', '/tickets', listing([filed(1003), filed(1002), filed(1001)]))
    api.on('PATCH', '/tickets/1003', (422, {'error': 'Ticket 1003 is closed'}))
    api.on('PATCH', '/tickets/1002', (404, {'error': 'not found'}))

    created, survivor = create_deduped(client, payload(), REFERENCE, warned.append, Ledger(str(directory), client.api_url))

    assert created is False and survivor['ticket_id'] == 1001
    assert api.requests('POST') == []
    assert [message for message in warned if 'duplicate' in message] == [
        'Could not solve Upsun ticket 1003, a duplicate of ticket 1001: ' + warned[-1].split(': ', 1)[1]]
    assert 'Ticket 1003 is closed' in warned[-1]


def test_a_follow_up_is_no_duplicate_of_the_ticket_it_follows(api, client, warned, directory):
    # The listing still shows 1001 unsolved, but 1002 follows up on it: 1001 was solved.
    api.on('GET', '/tickets', listing([filed(1002, followup_tid='1001'), filed(1001)]))

    created, ticket = create_deduped(client, payload(), REFERENCE, warned.append, Ledger(str(directory), client.api_url))

    assert created is False and ticket['ticket_id'] == 1002
    assert api.requests('PATCH') == []


def test_recovery_solves_what_this_controller_filed_before_the_listing_shows_it(api, client, warned, directory):
    api.on('GET', '/tickets', listing([]))
    api.on('PATCH', '/tickets/1001', (200, filed(1001, status='solved', updated='2027-01-15T08:05:00Z')))
    api.on('PATCH', '/tickets/1002', (404, {'error': 'not found'}))
    ledger = Ledger(str(directory), client.api_url, warned.append)
    ledger.record_ticket(filed(1001))
    ledger.record_ticket(filed(1002))

    solved = solve_carrying(client, RECOVERY, ledger=ledger)

    assert [after['ticket_id'] for dummy, after in solved] == [1001]
    assert ledger.merge(RECOVERY, []) == [dict(ledger.snapshot(1001), status='solved')]
    assert ledger.snapshot(1002) is None
    # Solved: the next recovery sends nothing more.
    assert solve_carrying(client, RECOVERY, ledger=ledger) == []
    assert len(api.requests('PATCH')) == 2
