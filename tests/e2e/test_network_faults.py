# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules against a sandbox that behaves like real networks do: bodies that trickle in, endless paging,
resets, creates that finish after the client gave up, parallel runs with one dedupe_key (TLS, proxies and inputs:
test_network_tls_and_inputs.py).

Each test asserts the time bound (in generous seconds: an ad hoc run costs a few seconds of startup on a busy
machine) and the number of tickets the sandbox holds afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import subprocess
import sys
import time

import pytest

from helpers import BIN_DIR, REPO_ROOT, adhoc_result, one_line, run_adhoc  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import
from network_runs import INFO, NEW, TICKET, environment, requests_to, result_of, seed, timed  # pylint: disable=import-error


# --- deadlines ------------------------------------------------------------------------------------------------------


def test_a_trickled_answer_is_bounded_by_timeout(sandbox, tmp_path):
    seed(sandbox, 3)
    # About 2 KB one byte a second: no single read ever waits 2 s, the whole answer would take most of an hour.
    sandbox.fault('/tickets', 'trickle', method='GET', chunk=1, interval=1, count=10)
    seconds, run = timed(INFO, {'timeout': 2, 'retries': 0}, environment(sandbox, tmp_path), timeout=90)
    assert run.returncode == 2, run.stdout + run.stderr
    message = result_of(run)['msg']
    assert 'GET {0}/tickets'.format(sandbox.url) in message
    assert 'within 2 s' in message and 'last byte' in message
    assert seconds < 30, seconds
    assert len(requests_to(sandbox, 'GET')) == 1
    assert len(sandbox.tickets()) == 3


def test_retries_of_a_trickled_answer_stop_at_the_deadline(sandbox, tmp_path):
    seed(sandbox, 3)
    sandbox.fault('/tickets', 'trickle', method='GET', chunk=1, interval=1, count=10)
    seconds, run = timed(INFO, {'timeout': 2, 'retries': 5, 'deadline': 5}, environment(sandbox, tmp_path), timeout=90)
    assert run.returncode == 2, run.stdout + run.stderr
    message = result_of(run)['msg']
    assert 'deadline' in message and '5 s' in message
    # 2 s, 2 s, then 1 s left: never a sixth attempt.
    attempts = len(requests_to(sandbox, 'GET'))
    assert 2 <= attempts <= 3, attempts
    assert seconds < 30, seconds
    assert len(sandbox.tickets()) == 3


def test_a_bad_deadline_or_page_limit_is_refused_before_any_request(sandbox, tmp_path):
    for options, words in (({'deadline': 0}, ['deadline', 'above 0']), ({'page_limit': 0}, ['page_limit', 'from 1 to 10000']),
                           ({'page_concurrency': 0}, ['page_concurrency', 'from 1 to 16']),
                           ({'page_concurrency': 17}, ['page_concurrency', 'from 1 to 16', 'got 17'])):
        run = run_adhoc(INFO, options, environment(sandbox, tmp_path))
        assert run.returncode == 2, run.stdout + run.stderr
        for word in words:
            assert word in result_of(run)['msg']
    assert sandbox.journal() == []


# --- paging ---------------------------------------------------------------------------------------------------------


def test_an_endless_next_link_stops_at_the_count(sandbox, tmp_path):
    seeded = seed(sandbox, 7)
    sandbox.fault('/tickets', 'endless_next', method='GET', count=1000000)
    seconds, run = timed(INFO, {'fetch': ['tickets']}, environment(sandbox, tmp_path), timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    assert result['count'] == 7
    assert sorted(ticket['ticket_id'] for ticket in result['tickets']) == sorted(ticket['ticket_id'] for ticket in seeded)
    assert len(requests_to(sandbox, 'GET')) == 2
    assert seconds < 30, seconds
    assert len(sandbox.tickets()) == 7


def test_a_next_link_that_does_not_move_forward_stops_with_a_warning(sandbox, tmp_path):
    seed(sandbox, 7)
    sandbox.fault('/tickets', 'stuck_next', method='GET', count=1000000)
    seconds, run = timed(INFO, {'fetch': ['tickets']}, environment(sandbox, tmp_path), timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    assert result['count'] == 7 and len(result['tickets']) == 5
    assert 'the next link of page 1 does not move forward' in one_line(run.stderr)
    assert len(requests_to(sandbox, 'GET')) == 1
    assert seconds < 30, seconds


def test_the_page_limit_stops_paging_with_a_warning(sandbox, tmp_path):
    seed(sandbox, 12)
    seconds, run = timed(INFO, {'page_limit': 2}, environment(sandbox, tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    assert result['count'] == 12 and len(result['tickets']) == 10
    assert 'stopped after 2 pages (page_limit); 10 of the 12 matching tickets were read' in one_line(run.stderr)
    assert len(requests_to(sandbox, 'GET')) == 2
    # The variable sets it too.
    run = run_adhoc(INFO, {'fetch': ['tickets']}, environment(sandbox, tmp_path, UPSUN_SUPPORT_PAGE_LIMIT=1))
    assert len(result_of(run)['tickets']) == 5
    assert seconds < 30, seconds


def test_the_pages_after_the_first_are_read_at_once_and_kept_in_the_api_order(sandbox, tmp_path):
    seeded = seed(sandbox, 40)
    # Slow pages, so that the reads overlap.
    sandbox.fault('/tickets', 'delay', method='GET', delay=0.2, count=100)
    run = run_adhoc(INFO, {'fetch': ['tickets']}, environment(sandbox, tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    assert result['count'] == 40
    # The API's order: newest first.
    newest_first = sorted((ticket['ticket_id'] for ticket in seeded), reverse=True)
    assert [ticket['ticket_id'] for ticket in result['tickets']] == newest_first
    pages = requests_to(sandbox, 'GET')
    assert sorted(int(entry['query']['page']) for entry in pages) == list(range(1, 9))
    # The first page on its own; then the threads that read the others at once, each on its own connection.
    assert len(set(entry['connection'] for entry in pages[1:])) == 4
    # page_concurrency 1 (here from its variable): one page after the other, over the one connection.
    sandbox.clear_journal()
    run = run_adhoc(INFO, {'fetch': ['tickets']}, environment(sandbox, tmp_path, UPSUN_SUPPORT_PAGE_CONCURRENCY=1))
    assert [ticket['ticket_id'] for ticket in result_of(run)['tickets']] == [ticket['ticket_id'] for ticket in result['tickets']]
    pages = requests_to(sandbox, 'GET')
    assert [int(entry['query']['page']) for entry in pages] == list(range(1, 9))
    assert len(set(entry['connection'] for entry in pages)) == 1


def test_a_429_while_pages_are_read_at_once_is_waited_out_and_nothing_is_lost(sandbox, tmp_path):
    seeded = seed(sandbox, 30)
    # The third request (a page read ahead) is rate limited.
    sandbox.fault('/tickets', 'delay', method='GET', delay=0, count=2)
    sandbox.fault('/tickets', 'status', method='GET', status=429, retry_after=1)
    run = run_adhoc(INFO, {'fetch': ['tickets']}, environment(sandbox, tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    newest_first = sorted((ticket['ticket_id'] for ticket in seeded), reverse=True)
    assert [ticket['ticket_id'] for ticket in result['tickets']] == newest_first
    assert 'GET /tickets answered HTTP 429; retry 1 of 3 in 1 s' in one_line(run.stderr)
    pages = requests_to(sandbox, 'GET')
    assert [entry['status'] for entry in pages].count(429) == 1
    assert sorted(int(entry['query']['page']) for entry in pages if entry['status'] == 200) == list(range(1, 7))


def test_dedupe_search_with_an_endless_next_link_ends_and_files_once(sandbox, tmp_path):
    first = run_adhoc(TICKET, dict(NEW, dedupe_key='nightly|production'), environment(sandbox, tmp_path))
    assert first.returncode == 0, first.stdout + first.stderr
    sandbox.set_ticket(result_of(first)['ticket']['ticket_id'], status='solved')
    sandbox.fault('/tickets', 'endless_next', method='GET', count=1000000)
    seconds, run = timed(TICKET, dict(NEW, dedupe_key='nightly|production'), environment(sandbox, tmp_path), timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    assert result['changed'] is True
    assert result['ticket']['followup_tid'] == str(result_of(first)['ticket']['ticket_id'])
    assert seconds < 30, seconds
    assert len(sandbox.tickets()) == 2


# --- exactly once ---------------------------------------------------------------------------------------------------


def adhoc_command(module, module_args):
    executable = BIN_DIR / 'ansible'
    return [str(executable) if executable.exists() else 'ansible', 'localhost', '-m', module, '-a', json.dumps(module_args)]


def test_parallel_runs_with_one_dedupe_key_file_one_ticket(sandbox, tmp_path):
    # A slow API: each search and each create takes a while, so the runs overlap.
    sandbox.fault('/tickets', 'delay', method='POST', delay=2, count=4)
    sandbox.fault('/tickets', 'delay', method='GET', delay=0.5, count=20)
    env = environment(sandbox, tmp_path)
    started = time.monotonic()
    processes = [subprocess.Popen(adhoc_command(TICKET, dict(NEW, dedupe_key='nightly|production')), env=env,  # pylint: disable=consider-using-with
                                  cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for dummy in range(4)]
    outputs = [process.communicate(timeout=150) for process in processes]
    seconds = time.monotonic() - started
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stdout + stderr
    results = [adhoc_result(stdout) for stdout, dummy in outputs]
    [stored] = sandbox.tickets()
    assert sorted(result['changed'] for result in results) == [False, False, False, True]
    assert set(result['ticket']['ticket_id'] for result in results) == {stored['ticket_id']}
    assert len(requests_to(sandbox, 'POST')) == 1
    assert seconds < 90, seconds


def lock_files(tmp_path):
    return sorted((tmp_path / 'tmp').glob('upsun-support-locks-*/*.lock'))


def test_a_held_lock_is_waited_for_within_the_deadline_then_fails_clearly(sandbox, tmp_path):
    env = environment(sandbox, tmp_path)
    first = run_adhoc(TICKET, dict(NEW, dedupe_key='nightly|production'), env)
    assert first.returncode == 0, first.stdout + first.stderr
    [lock] = lock_files(tmp_path)
    assert oct(lock.parent.stat().st_mode & 0o777) == oct(0o700)
    assert 'nightly' not in lock.name
    sandbox.clear_journal()
    with open(str(lock), 'r+') as holder:
        # Another run holds it (and stays stuck, for longer than this run's deadline).
        fcntl.flock(holder, fcntl.LOCK_EX)
        seconds, run = timed(TICKET, dict(NEW, dedupe_key='nightly|production', deadline=3), env)
    assert run.returncode == 2, run.stdout + run.stderr
    message = result_of(run)['msg']
    assert message.startswith('Another run on this controller is filing a ticket with the same dedupe_key')
    assert str(lock) in message and 'within 3 s' in message
    assert sandbox.journal(path='/tickets') == []
    assert seconds < 30, seconds
    assert len(sandbox.tickets()) == 1


def test_a_crashed_lock_holder_never_blocks(sandbox, tmp_path):
    env = environment(sandbox, tmp_path)
    first = run_adhoc(TICKET, dict(NEW, dedupe_key='nightly|production'), env)
    assert first.returncode == 0, first.stdout + first.stderr
    sandbox.set_ticket(result_of(first)['ticket']['ticket_id'], status='solved')
    [lock] = lock_files(tmp_path)
    holder = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, '-c', 'import fcntl, sys, time; f = open(sys.argv[1], "r+"); fcntl.flock(f, fcntl.LOCK_EX); '
         'print("held", flush=True); time.sleep(600)', str(lock)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == 'held'
    holder.kill()
    holder.wait(10)
    holder.stdout.close()
    seconds, run = timed(TICKET, dict(NEW, dedupe_key='nightly|production', deadline=10), env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert result_of(run)['changed'] is True
    assert seconds < 30, seconds
    assert len(sandbox.tickets()) == 2


@pytest.mark.parametrize('action, options', [
    ('create_later', {'create_after': 3}),
    ('delay', {'delay': 3}),
])
def test_a_create_still_at_work_when_the_client_gave_up_is_found_not_posted_again(sandbox, tmp_path, action, options):
    sandbox.fault('/tickets', action, method='POST', **options)
    seconds, run = timed(TICKET, dict(NEW, dedupe_key='nightly|production', timeout=1, retries=0),
                         environment(sandbox, tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    result = result_of(run)
    # A late create that had not happened yet would show here.
    time.sleep(1)
    [stored] = sandbox.tickets()
    assert result['changed'] is True and result['ticket']['ticket_id'] == stored['ticket_id']
    assert len(requests_to(sandbox, 'POST')) == 1
    # It searched more than once: the ticket only appeared about 3 s after the POST.
    assert len(requests_to(sandbox, 'GET')) >= 3
    assert ('The answer to POST /tickets was lost; ticket {0} carries the dedupe_key, so it was filed.'.format(
        stored['ticket_id']) in one_line(run.stderr))
    assert seconds < 40, seconds


@pytest.mark.parametrize('action', ['reset_after_headers', 'reset_in_body', 'create_then_delay', 'create_then_drop'])
def test_an_ambiguous_answer_after_the_create_with_dedupe_key_finds_the_ticket(sandbox, tmp_path, action):
    sandbox.fault('/tickets', action, method='POST', delay=5 if action == 'create_then_delay' else None)
    seconds, run = timed(TICKET, dict(NEW, dedupe_key='nightly|production', timeout=2), environment(sandbox, tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    [stored] = sandbox.tickets()
    assert result_of(run)['ticket']['ticket_id'] == stored['ticket_id']
    assert len(requests_to(sandbox, 'POST')) == 1
    assert seconds < 40, seconds


@pytest.mark.parametrize('action', ['reset_after_headers', 'reset_in_body', 'create_then_delay'])
def test_an_ambiguous_answer_without_dedupe_key_fails_saying_the_ticket_may_exist(sandbox, tmp_path, action):
    sandbox.fault('/tickets', action, method='POST', delay=5 if action == 'create_then_delay' else None)
    seconds, run = timed(TICKET, dict(NEW, timeout=2), environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    result = result_of(run)
    assert result['msg'].startswith('The ticket may have been created, but its answer was lost')
    assert result['may_exist'] is True
    assert len(requests_to(sandbox, 'POST')) == 1
    assert seconds < 40, seconds
    assert len(sandbox.tickets()) == 1


def test_a_5xx_after_sending_is_searched_for_then_fails_saying_the_ticket_may_exist(sandbox, tmp_path):
    # The gateway answered 502 and nothing was created: searches find nothing, and nothing is posted again.
    sandbox.fault('/tickets', method='POST', status=502)
    seconds, run = timed(TICKET, dict(NEW, dedupe_key='nightly|production', deadline=8), environment(sandbox, tmp_path))
    assert run.returncode == 2, run.stdout + run.stderr
    result = result_of(run)
    assert result['msg'].startswith('The ticket may have been created, but its answer was lost')
    assert result['may_exist'] is True
    assert result['dedupe_reference'].startswith('upsundedupe')
    assert result['dedupe_reference'] in result['msg']
    assert len(requests_to(sandbox, 'POST')) == 1
    searches = [entry for entry in requests_to(sandbox, 'GET') if entry['query'].get('search') == result['dedupe_reference']]
    # The search before the create, then several with a back-off, all within the deadline.
    assert len(searches) >= 3
    assert seconds < 30, seconds
    assert sandbox.tickets() == []
