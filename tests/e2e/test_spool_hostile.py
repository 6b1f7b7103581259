# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The flush against hostile and unlucky spools: real runs of the flush_spool playbook against the sandbox.

A record is data, never instructions (no token goes where a record says); a record that cannot be read, or that the
API refuses for good, is set aside and never blocks the others; a ticket whose answer was lost is searched for by its
reference before it is posted again, with or without a dedupe_key; a squatted lock directory never stops filing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import resource
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import BIN_DIR, ansible_env, files_under, one_line, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

# A flush that does not end within this many seconds is blocked.
FLUSH_TIMEOUT = 120
OTHER_API = 'https://api.staging.example.com'


class CountingServer:
    """A local HTTP server that answers everything with a token answer, and records every request it gets."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get('Content-Length') or 0)
                received.append(dict(method=self.command, path=self.path, authorization=self.headers.get('Authorization'),
                                     body=self.rfile.read(length).decode('latin-1')))
                body = json.dumps({'access_token': 'collected', 'expires_in': 900, 'token_type': 'bearer'}).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:{0}'.format(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def spool(tmp_path):
    return tmp_path / 'home' / '.ansible' / 'upsun_support_spool'


def rejected(tmp_path):
    return spool(tmp_path) / 'rejected'


def env_for(client, tmp_path, **extra):
    (tmp_path / 'tmp').mkdir(exist_ok=True)
    return ansible_env(client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', TMPDIR=tmp_path / 'tmp', **extra)


def record(subject, api_url, created='2026-12-01T10:00:00Z', connection=None, **ticket):
    return {'format': 2, 'created': created, 'source': 'role', 'error': 'API down', 'may_exist': False,
            'connection': dict(connection or {}, api_url=api_url) if api_url else dict(connection or {}),
            'ticket': dict({'subject': subject, 'description': 'Spooled ' + subject, 'filed_by': 'role'}, **ticket)}


def spool_ready(tmp_path):
    directory = spool(tmp_path)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def plant(tmp_path, name, data):
    path = spool_ready(tmp_path) / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        write(path, json.dumps(data))
    return path


def flush(client, tmp_path, *args, **extra):
    """Run the flush playbook; return ``(seconds, returncode, output)``. Its address space is capped at 2 GiB."""
    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    command = [str(BIN_DIR / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', 'upsun.support.flush_spool'] + list(args)
    started = time.monotonic()
    run = subprocess.run(command, env=env_for(client, tmp_path, **extra), cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=FLUSH_TIMEOUT, check=False, preexec_fn=cap_memory)
    return time.monotonic() - started, run.returncode, one_line(run.stdout + run.stderr)


def subjects(client):
    return sorted(ticket['subject'] for ticket in client.tickets())


# --- records are data, never instructions ----------------------------------------------------------------------------


def test_a_planted_record_never_sends_the_token_elsewhere_and_a_record_of_another_api_is_kept(sandbox, tmp_path):
    with CountingServer() as collector:
        planted = plant(tmp_path, 'ticket-1-planted.json', record(
            'Planted', collector.url, connection={'auth_url': collector.url, 'token_url': collector.url + '/oauth2/token'}))
        staging = plant(tmp_path, 'ticket-2-staging.json', record('From staging', OTHER_API))
        for index in range(2):
            plant(tmp_path, 'ticket-3-good-{0}.json'.format(index), record('Good {0}'.format(index), sandbox.url))
        # The record names a token URL too, which the environment (the sandbox's) leaves unset: it is never used.
        dummy, returncode, output = flush(sandbox, tmp_path)

        assert collector.received == []
    assert returncode == 2, output
    assert subjects(sandbox) == ['Good 0', 'Good 1']
    assert len(sandbox.journal('POST', '/tickets')) == 2
    for path, url in ((planted, collector.url), (staging, OTHER_API)):
        assert path.exists()
        assert '{0} was spooled against the API {1}, not {2}, the API this flush files with: it was kept and not ' \
               'sent'.format(path, url, sandbox.url) in output
    assert sandbox.api_token not in output


def test_a_record_with_credentials_in_a_url_is_not_trusted_and_the_credentials_are_not_shown(sandbox, tmp_path):
    url = sandbox.url.replace('http://', 'http://ci:hunter2secret@')
    plant(tmp_path, 'ticket-1-userinfo.json', record('With userinfo', url))
    plant(tmp_path, 'ticket-2-good.json', record('Good', sandbox.url))

    dummy, returncode, output = flush(sandbox, tmp_path)

    assert returncode == 2, output
    assert subjects(sandbox) == ['Good']
    assert 'connection.api_url holds a user name or password' in output
    assert 'ticket-1-userinfo.json' in output and (rejected(tmp_path) / 'ticket-1-userinfo.json').exists()


# --- the reader trusts nothing it reads ------------------------------------------------------------------------------


def good_records(tmp_path, client, count=3):
    for index in range(count):
        plant(tmp_path, 'ticket-5-good-{0}.json'.format(index), record('Good {0}'.format(index), client.url))
    return ['Good {0}'.format(index) for index in range(count)]


def assert_set_aside(tmp_path, name, output, words):
    moved = rejected(tmp_path) / name
    assert os.path.lexists(str(moved)), output
    assert not os.path.lexists(str(spool(tmp_path) / name))
    reason = (rejected(tmp_path) / (name + '.reason')).read_text()
    assert words in reason and words in output
    assert str(spool(tmp_path) / name) in output


def plant_not_utf8(path, client):
    path.write_bytes(json.dumps(record('Caf\xe9', client.url)).replace('\\u00e9', '\xe9').encode('latin-1'))


def plant_over_the_cap(path, client):
    with open(str(path), 'wb') as handle:
        handle.truncate(64 * 1024 * 1024 + 1)


# What a bad record file can be, and what the flush says of it.
NOT_RECORDS = {
    'not utf-8': ('ticket-1-latin1.json', plant_not_utf8, 'is not UTF-8 text'),
    'fifo': ('x.json', lambda path, client: os.mkfifo(str(path)), 'is not a regular file (a named pipe)'),
    'symlink to /dev/zero': ('ticket-1-zero.json', lambda path, client: path.symlink_to('/dev/zero'), 'is a symbolic link'),
    'over the size cap': ('ticket-1-huge.json', plant_over_the_cap, 'is larger than the 64 MiB a spool record may hold'),
}


@pytest.mark.parametrize('kind', sorted(NOT_RECORDS))
def test_a_file_that_is_not_a_record_is_set_aside_in_bounded_time_and_memory_and_the_others_are_filed(sandbox, tmp_path, kind):
    name, make, words = NOT_RECORDS[kind]
    make(spool_ready(tmp_path) / name, sandbox)
    wanted = good_records(tmp_path, sandbox)

    seconds, returncode, output = flush(sandbox, tmp_path)

    assert seconds < 60, seconds
    assert returncode == 2, output
    assert subjects(sandbox) == wanted
    assert_set_aside(tmp_path, name, output, words)
    # The largest child this test process waited for (the flushes, in kilobytes on Linux).
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 400 * 1024
    if kind == 'symlink to /dev/zero':
        assert os.readlink(str(rejected(tmp_path) / name)) == '/dev/zero'
    # Set aside once: the next flush has nothing left to do.
    dummy, returncode, output = flush(sandbox, tmp_path)
    assert returncode == 0, output
    assert subjects(sandbox) == wanted


@pytest.mark.parametrize('status', [400, 422])
def test_a_record_the_api_refuses_for_good_is_set_aside_with_the_api_reason(sandbox, tmp_path, status):
    plant(tmp_path, 'ticket-1-refused.json', record('Refused', sandbox.url, dedupe_key='refused'))
    wanted = good_records(tmp_path, sandbox, count=2)
    sandbox.fault('/tickets', method='POST', status=status, body={'error': 'subscription_id: no such subscription'})

    dummy, returncode, output = flush(sandbox, tmp_path)

    assert returncode == 2, output
    assert subjects(sandbox) == wanted
    assert_set_aside(tmp_path, 'ticket-1-refused.json', output, 'the API refused it (HTTP {0})'.format(status))
    assert 'no such subscription' in (rejected(tmp_path) / 'ticket-1-refused.json.reason').read_text()


@pytest.mark.parametrize('status', [401, 429, 503])
def test_a_record_refused_for_now_is_kept_for_the_next_flush(sandbox, tmp_path, status):
    path = plant(tmp_path, 'ticket-1-later.json', record('Later', sandbox.url, dedupe_key='later'))
    # A 401 is answered by exchanging the token again and retrying once: both are refused.
    sandbox.fault('/tickets', method='POST', status=status, count=2)

    dummy, returncode, output = flush(sandbox, tmp_path, UPSUN_SUPPORT_RETRIES='0')

    assert returncode == 2, output
    assert sandbox.tickets() == [] and path.exists() and not rejected(tmp_path).exists()
    assert 'ticket-1-later.json' in output
    dummy, returncode, output = flush(sandbox, tmp_path)
    assert returncode == 0, output
    assert subjects(sandbox) == ['Later'] and not path.exists()


# --- a lost answer is searched for before posting again -------------------------------------------------------------


@pytest.mark.parametrize('dedupe_key', ['deploy-42', None])
def test_a_lost_answer_files_one_ticket_in_two_flushes_with_or_without_dedupe_key(sandbox, tmp_path, dedupe_key):
    ticket = dict(dedupe_key=dedupe_key) if dedupe_key else {}
    path = plant(tmp_path, 'ticket-1-lost.json', record('Lost answer', sandbox.url, **ticket))
    # The ticket is stored, then the connection is reset before the body of the answer.
    sandbox.fault('/tickets', method='POST', action='reset_after_headers')

    outputs = [flush(sandbox, tmp_path, UPSUN_SUPPORT_DEADLINE='20')[2] for dummy in range(2)]

    assert subjects(sandbox) == ['Lost answer'], outputs
    assert len(sandbox.journal('POST', '/tickets')) == 1
    assert not path.exists()


@pytest.mark.parametrize('dedupe_key', ['deploy-42', None])
def test_a_ticket_that_may_exist_is_searched_for_and_not_posted_again_within_may_exist_wait(sandbox, tmp_path, dedupe_key):
    ticket = dict(dedupe_key=dedupe_key) if dedupe_key else {}
    path = plant(tmp_path, 'ticket-1-late.json', record('Created late', sandbox.url, **ticket))
    # The API stores the ticket 25 s after the request, long after the client gave up and searched in vain.
    sandbox.fault('/tickets', method='POST', action='create_later', create_after=25)

    dummy, returncode, output = flush(sandbox, tmp_path, UPSUN_SUPPORT_DEADLINE='4', UPSUN_CLI_DEFAULT_TIMEOUT='2')
    assert returncode == 2, output
    kept = json.loads(path.read_text())
    assert kept['may_exist'] is True and kept['lost_at'] and kept['ticket']['dedupe_key']

    # Within may_exist_wait: searched for, not found yet, not posted.
    dummy, returncode, output = flush(sandbox, tmp_path)
    assert returncode == 0, output
    assert len(sandbox.journal('POST', '/tickets')) == 1 and path.exists()
    assert 'posted again from' in output and 'may_exist_wait' in output

    deadline = time.monotonic() + 40
    while not sandbox.tickets() and time.monotonic() < deadline:
        time.sleep(0.5)
    dummy, returncode, output = flush(sandbox, tmp_path)
    assert returncode == 0, output
    assert subjects(sandbox) == ['Created late']
    assert len(sandbox.journal('POST', '/tickets')) == 1 and not path.exists()
    assert 'already open' in output


# One setting: the wait of the record and the hold of this controller's ledger on the key are the same, set by the
# playbook's variable (the spool's may_exist_wait, which the flush passes on to the ticket module) or the variable.
@pytest.mark.parametrize('args, variables', [(['-e', 'upsun_support_may_exist_wait=0'], {}),
                                             ([], {'UPSUN_SUPPORT_MAY_EXIST_HOLD': '0'})], ids=['option', 'environment'])
def test_a_ticket_still_not_found_after_may_exist_wait_is_posted_again_once(sandbox, tmp_path, args, variables):
    path = plant(tmp_path, 'ticket-1-gateway.json', record('Gateway error', sandbox.url))
    # A 502 to the create: the client cannot know that nothing was stored.
    sandbox.fault('/tickets', method='POST', status=502)
    dummy, returncode, output = flush(sandbox, tmp_path, UPSUN_SUPPORT_DEADLINE='4', UPSUN_SUPPORT_RETRIES='0')
    assert returncode == 2, output
    assert json.loads(path.read_text())['may_exist'] is True

    # Within may_exist_wait (900 s by default): searched for, not posted.
    dummy, returncode, output = flush(sandbox, tmp_path)
    assert len(sandbox.journal('POST', '/tickets')) == 1 and path.exists(), output
    # The wait over (0 s), for the record and for this controller's ledger alike.
    dummy, returncode, output = flush(sandbox, tmp_path, *args, **variables)

    assert returncode == 0, output
    assert subjects(sandbox) == ['Gateway error'] and not path.exists()
    assert len(sandbox.journal('POST', '/tickets')) == 2


# --- locks that cannot be squatted -----------------------------------------------------------------------------------


@pytest.mark.parametrize('squat', ['another user', 'mode 0777'])
def test_a_squatted_lock_directory_stops_no_filing(sandbox, tmp_path, squat):
    if squat == 'another user' and os.geteuid() == 0:
        owner = 65534
    elif squat == 'another user':
        pytest.skip('needs root to give a directory to another user')
    else:
        owner = os.geteuid()
    squatted = tmp_path / 'tmp' / 'upsun-support-locks-{0}'.format(os.geteuid())
    squatted.mkdir(parents=True)
    squatted.chmod(0o777)
    os.chown(str(squatted), owner, owner)
    path = plant(tmp_path, 'ticket-1-deduped.json', record('Deduped', sandbox.url, dedupe_key='deploy-42'))

    dummy, returncode, output = flush(sandbox, tmp_path)

    assert returncode == 0, output
    assert subjects(sandbox) == ['Deduped'] and not path.exists()
    assert os.listdir(str(squatted)) == []
    assert files_under(tmp_path / 'home' / '.ansible' / 'upsun_support_locks')
    assert 'The dedupe locks are kept in' in output
