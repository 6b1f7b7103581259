# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The per-key lock that serialises dedupe runs on one controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os
import stat
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.upsun.support.plugins.module_utils import locks
from ansible_collections.upsun.support.plugins.module_utils.errors import DedupeLockError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference

REFERENCE = dedupe_reference('deploy-42')


@pytest.fixture
def tmpdir_env(tmp_path, monkeypatch):
    monkeypatch.setenv('TMPDIR', str(tmp_path))
    monkeypatch.setattr(tempfile, 'tempdir', None)
    return tmp_path


@pytest.fixture
def client(make_client, tokens):
    return make_client(access_token=tokens.access, deadline=10)


def lock_path(tmp_path):
    return tmp_path / 'upsun-support-locks-{0}'.format(os.geteuid()) / (REFERENCE + '.lock')


def test_the_lock_lives_in_a_private_per_user_directory(tmpdir_env, client):
    with locks.dedupe_lock(REFERENCE, client) as path:
        assert path == str(lock_path(tmpdir_env))
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as handle:
            assert handle.read().strip() == str(os.getpid())


def test_the_lock_is_exclusive_and_released_after_use(tmpdir_env, client):
    with locks.dedupe_lock(REFERENCE, client) as path:
        with open(path, 'r+') as other:
            with pytest.raises(OSError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(path, 'r+') as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_the_lock_is_released_when_the_block_fails(tmpdir_env, client):
    with pytest.raises(UpsunError):
        with locks.dedupe_lock(REFERENCE, client):
            raise UpsunError('the API failed')
    with locks.dedupe_lock(REFERENCE, client):
        pass


def test_a_held_lock_is_waited_for_up_to_the_deadline_then_named(tmpdir_env, client, retry_sleeps):
    path = lock_path(tmpdir_env)
    with locks.dedupe_lock(REFERENCE, client):
        pass
    with open(str(path), 'r+') as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write('4242\n')
        holder.flush()
        with pytest.raises(DedupeLockError) as info:
            with locks.dedupe_lock(REFERENCE, client):
                raise AssertionError('the lock was had twice')

    # Polled with short waits, never past the deadline.
    assert retry_sleeps and max(retry_sleeps) <= locks.POLL_SECONDS
    assert 9 <= sum(retry_sleeps) <= 10
    message = info.value.msg
    assert message.startswith('Another run on this controller is filing a ticket with the same dedupe_key '
                              '(process 4242 holds the lock {0})'.format(path))
    assert 'within 10 s' in message and 'Nothing was sent' in message


def test_a_holder_that_crashed_never_blocks(tmpdir_env, client):
    path = lock_path(tmpdir_env)
    with locks.dedupe_lock(REFERENCE, client):
        pass
    holder = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, '-c', 'import fcntl, sys, time; f = open(sys.argv[1], "r+"); fcntl.flock(f, fcntl.LOCK_EX); '
         'print("held", flush=True); time.sleep(600)', str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()

    with locks.dedupe_lock(REFERENCE, client):
        pass


def spoil_directory(directory, how, elsewhere):
    """Make ``directory`` what another local user could leave in the way: theirs, open to all, a symlink, a file."""
    if how == 'owned by another user':
        directory.mkdir(mode=0o700)
        os.chown(str(directory), 65534, 65534)
    elif how == 'world writable':
        directory.mkdir(mode=0o700)
        directory.chmod(0o777)
    elif how == 'another user, world writable':
        directory.mkdir(mode=0o700)
        directory.chmod(0o777)
        os.chown(str(directory), 65534, 65534)
    elif how == 'symlink':
        elsewhere.mkdir(mode=0o700)
        directory.symlink_to(elsewhere)
    else:
        directory.write_text('')


SPOILS = ['owned by another user', 'world writable', 'another user, world writable', 'symlink', 'a file']


@pytest.fixture
def home(tmp_path, monkeypatch):
    directory = tmp_path / 'home'
    directory.mkdir(mode=0o700)
    monkeypatch.setenv('HOME', str(directory))
    monkeypatch.delenv('XDG_RUNTIME_DIR', raising=False)
    return directory


@pytest.mark.parametrize('spoil', SPOILS)
def test_a_squatted_lock_directory_is_never_used_and_the_lock_is_taken_in_a_private_one(tmpdir_env, home, client, spoil):
    if 'another user' in spoil and os.geteuid() != 0:
        pytest.skip('needs root to give a directory to another user')
    squatted = tmpdir_env / 'upsun-support-locks-{0}'.format(os.geteuid())
    spoil_directory(squatted, spoil, tmpdir_env / 'elsewhere')
    warnings = []
    client.warn = warnings.append

    with locks.dedupe_lock(REFERENCE, client) as path:
        assert path == str(home / '.ansible' / 'upsun_support_locks' / (REFERENCE + '.lock'))
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700

    assert not any(os.path.isdir(str(place)) and os.listdir(str(place)) for place in (squatted, tmpdir_env / 'elsewhere'))
    [warning] = warnings
    assert str(squatted) in warning and 'upsun_support_locks' in warning


def test_the_runtime_directory_is_the_last_private_place(tmpdir_env, home, client, monkeypatch):
    spoil_directory(tmpdir_env / 'upsun-support-locks-{0}'.format(os.geteuid()), 'world writable', None)
    home.chmod(0o500)
    runtime = tmpdir_env / 'run'
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv('XDG_RUNTIME_DIR', str(runtime))
    if os.geteuid() == 0:
        # root writes through any mode: a file where the home's lock directory would go stands in the way instead.
        home.chmod(0o700)
        (home / '.ansible').write_text('')

    with locks.dedupe_lock(REFERENCE, client) as path:
        assert path == str(runtime / 'upsun-support-locks' / (REFERENCE + '.lock'))


@pytest.mark.parametrize('spoil', ['world writable', 'symlink', 'a file'])
def test_without_any_private_place_nothing_is_sent_and_every_place_is_named(tmpdir_env, home, client, monkeypatch, spoil):
    squatted = tmpdir_env / 'upsun-support-locks-{0}'.format(os.geteuid())
    spoil_directory(squatted, spoil, tmpdir_env / 'elsewhere')
    spoil_directory(home / '.ansible', 'world writable', None)
    spoil_directory(home / '.ansible' / 'upsun_support_locks', 'world writable', None)

    with pytest.raises(DedupeLockError) as info:
        with locks.dedupe_lock(REFERENCE, client):
            raise AssertionError('an unsafe directory was used')

    assert str(squatted) in info.value.msg and str(home / '.ansible' / 'upsun_support_locks') in info.value.msg
    assert 'TMPDIR' in info.value.msg
