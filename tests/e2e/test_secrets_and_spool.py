# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nothing secret leaves the controller, and the spool files each ticket once: real runs against the sandbox.

The corpus of real-looking CI log lines (tests/data/secret_corpus.yml) fails a deploy on five hosts and is its log:
it goes through the role (ticket, attachments, output, spool, flush) and the callback (ticket, console, spool,
flush). Each check asserts that no secret of the corpus survives and that the text around them does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import subprocess

from helpers import (  # pylint: disable=import-error
    BIN_DIR,
    SecretCorpus,
    ansible_env,
    files_under,
    run_playbook,
    write,
)

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

HOSTS = ['h{0}'.format(index) for index in range(5)]
CALLBACK = 'upsun.support.ticket_on_failure'


def setup(tmp_path, sandbox_client):
    """The corpus split over five hosts (one file each, read by the failing task) and whole in one log file."""
    corpus = SecretCorpus(sandbox_client.api_token)
    for host, chunk in zip(HOSTS, corpus.chunks(len(HOSTS))):
        write(tmp_path / 'chunks' / (host + '.txt'), chunk)
    write(tmp_path / 'logs' / 'deploy.log', '\n'.join(corpus.chunks(1)) + '\n')
    write(tmp_path / 'inventory.ini', '[web]\n' + '\n'.join(HOSTS) + '\n\n[web:vars]\nansible_connection=local\n')
    return corpus


def deploy_play(tmp_path, rescue_with_role=True, name='deploy.yml'):
    failing = {'name': 'Run the deploy', 'ansible.builtin.fail': {
        'msg': "{{ lookup('ansible.builtin.file', '" + str(tmp_path / 'chunks') + "/' ~ inventory_hostname ~ '.txt') }}"}}
    tasks = [failing]
    if rescue_with_role:
        tasks = [{'name': 'Deploy', 'block': [failing], 'rescue': [{
            'name': 'File a ticket for the failed deploy',
            'ansible.builtin.include_role': {'name': 'upsun.support.deploy_failure_ticket'},
            'vars': {'deploy_failure_ticket_error_max_chars': 0,
                     'deploy_failure_ticket_logs': [str(tmp_path / 'logs' / 'deploy.log')]}}]}]
    play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False, 'tasks': tasks}]
    return write(tmp_path / name, json.dumps(play, indent=2))


def env_for(sandbox_client, tmp_path, callback=False, down=False, **extra):
    if callback:
        extra['ANSIBLE_CALLBACKS_ENABLED'] = CALLBACK
    if down:
        # Down at its own URL (until flush() clears the faults): a flush files only records of its own API.
        sandbox_client.fault('/oauth2/token', status=503, count=1000)
        extra.update(UPSUN_SUPPORT_RETRIES='0')
    return ansible_env(sandbox_client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', **extra)


def spool_dir(tmp_path):
    return tmp_path / 'home' / '.ansible' / 'upsun_support_spool'


def ours(output, marker):
    """The part of a run's output after ``marker``: what the collection printed, not the failing task's own result."""
    assert marker in output, output
    return output.split(marker, 1)[1]


def ticket_text(client, ticket):
    attachments = client.attachments(ticket['ticket_id'])
    return '\n'.join([ticket['subject'], ticket['description']] + [item['content'].decode('utf-8') for item in attachments])


def strings(value):
    """Every string inside a decoded JSON value, one a line."""
    if isinstance(value, dict):
        return '\n'.join(strings(item) for item in value.values())
    if isinstance(value, list):
        return '\n'.join(strings(item) for item in value)
    return value if isinstance(value, str) else ''


def assert_clean_record(corpus, path):
    """A spool file: no secret in its text, nor in its decoded strings, and the useful text kept."""
    raw = path.read_text()
    assert corpus.leaks(raw) == []
    assert_clean(corpus, strings(json.loads(raw)))


def assert_clean(corpus, text, complete=True):
    assert corpus.leaks(text) == []
    if complete:
        assert corpus.lost(text) == []


def flush(client, tmp_path, env=None):
    client.clear_faults()
    return run_playbook('upsun.support.flush_spool', tmp_path / 'inventory.ini', env or env_for(client, tmp_path),
                        cwd=tmp_path)


# --- the role ---------------------------------------------------------------------------------------------------------


def test_the_role_sends_and_shows_no_secret_of_the_corpus(sandbox, tmp_path):
    corpus = setup(tmp_path, sandbox)
    run = run_playbook(deploy_play(tmp_path), tmp_path / 'inventory.ini', env_for(sandbox, tmp_path), args=['-vvvv'])
    assert run.returncode == 2, run.stdout + run.stderr

    [ticket] = sandbox.tickets()
    description = ticket['description']
    assert_clean(corpus, description)
    assert_clean(corpus, ticket_text(sandbox, ticket))
    assert [item['filename'] for item in sandbox.attachments(ticket['ticket_id'])] == [host + '-deploy.log' for host in HOSTS]
    # Even at -vvvv, what the role printed (and the hosts' final failure) holds no secret.
    assert_clean(corpus, ours(run.stdout, 'TASK [upsun.support.deploy_failure_ticket'), complete=False)
    assert corpus.leaks(run.stderr) == []


def test_the_role_spools_and_the_flush_files_with_no_secret(sandbox, tmp_path):
    corpus = setup(tmp_path, sandbox)
    run = run_playbook(deploy_play(tmp_path), tmp_path / 'inventory.ini', env_for(sandbox, tmp_path, down=True))
    assert run.returncode == 2, run.stdout + run.stderr
    [path] = files_under(spool_dir(tmp_path))
    assert_clean_record(corpus, path)
    assert_clean(corpus, ours(run.stdout, 'TASK [upsun.support.deploy_failure_ticket'), complete=False)
    assert stat.S_IMODE(spool_dir(tmp_path).stat().st_mode) == 0o700

    flushed = flush(sandbox, tmp_path)
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    [ticket] = sandbox.tickets()
    assert_clean(corpus, ticket_text(sandbox, ticket))
    assert corpus.leaks(flushed.stdout + flushed.stderr) == []
    assert files_under(spool_dir(tmp_path)) == []


# --- the callback -----------------------------------------------------------------------------------------------------


def test_the_callback_sends_and_prints_no_secret_of_the_corpus(sandbox, tmp_path):
    corpus = setup(tmp_path, sandbox)
    run = run_playbook(deploy_play(tmp_path, rescue_with_role=False), tmp_path / 'inventory.ini',
                       env_for(sandbox, tmp_path, callback=True))
    assert run.returncode == 2, run.stdout + run.stderr

    [ticket] = sandbox.tickets()
    assert_clean(corpus, ticket['description'])
    printed = ours(run.stdout + run.stderr, 'PLAY RECAP')
    assert 'filed Upsun ticket {0}'.format(ticket['ticket_id']) in printed
    assert corpus.leaks(printed) == []


def test_the_callback_spools_and_the_flush_files_with_no_secret(sandbox, tmp_path):
    corpus = setup(tmp_path, sandbox)
    run = run_playbook(deploy_play(tmp_path, rescue_with_role=False), tmp_path / 'inventory.ini',
                       env_for(sandbox, tmp_path, callback=True, down=True))
    assert run.returncode == 2, run.stdout + run.stderr
    [path] = files_under(spool_dir(tmp_path))
    assert_clean_record(corpus, path)
    printed = ours(run.stdout + run.stderr, 'PLAY RECAP')
    assert str(path) in ' '.join(printed.split()) and corpus.leaks(printed) == []

    flushed = flush(sandbox, tmp_path)
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    [ticket] = sandbox.tickets()
    assert_clean(corpus, ticket['description'])
    assert 'Filed by Ansible: the upsun.support.ticket_on_failure callback.' in ticket['description']


def test_role_and_callback_together_file_one_ticket_for_one_failure(sandbox, tmp_path):
    setup(tmp_path, sandbox)
    run = run_playbook(deploy_play(tmp_path), tmp_path / 'inventory.ini', env_for(sandbox, tmp_path, callback=True))
    assert run.returncode == 2, run.stdout + run.stderr

    [ticket] = sandbox.tickets()
    assert 'Filed by Ansible: the upsun.support.deploy_failure_ticket role.' in ticket['description']
    assert len(sandbox.journal('POST', '/tickets')) == 1
    assert 'filed Upsun ticket' not in ours(run.stdout + run.stderr, 'PLAY RECAP')


# --- the spool --------------------------------------------------------------------------------------------------------


def spool_record(subject, api_url, **ticket):
    return {'format': 2, 'created': '2026-12-01T10:00:00Z', 'source': 'role', 'error': 'API down', 'may_exist': False,
            'connection': {'api_url': api_url},
            'ticket': dict({'subject': subject, 'description': 'Spooled ' + subject, 'filed_by': 'role'}, **ticket)}


def test_parallel_flushes_file_each_spooled_ticket_once(sandbox, tmp_path):
    directory = spool_dir(tmp_path)
    directory.mkdir(parents=True, mode=0o700)
    subjects = ['Spooled ticket {0}'.format(index) for index in range(6)]
    for index, subject in enumerate(subjects):
        # No dedupe key: only the claim keeps two flushes from filing the same record.
        write(directory / 'ticket-2026120{0}T000000Z-x.json'.format(index), json.dumps(spool_record(subject, sandbox.url)))
    os.chmod(str(directory), 0o700)
    write(tmp_path / 'inventory.ini', 'localhost ansible_connection=local\n')
    # A slow API widens the window in which flushes overlap.
    sandbox.fault('/tickets', action='delay', method='POST', delay=0.4, count=100)
    env = env_for(sandbox, tmp_path)
    command = [str(BIN_DIR / 'ansible-playbook'), '-i', str(tmp_path / 'inventory.ini'), 'upsun.support.flush_spool']
    runs = [subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, text=True) for dummy in range(3)]
    outputs = [run.communicate(timeout=180)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert sorted(ticket['subject'] for ticket in sandbox.tickets()) == subjects
    assert len(sandbox.journal('POST', '/tickets')) == len(subjects)
    assert files_under(directory) == []


def test_crafted_spool_records_are_refused_and_nothing_is_sent_for_them(sandbox, tmp_path):
    directory = spool_dir(tmp_path)
    directory.mkdir(parents=True, mode=0o700)
    secret_file = write(tmp_path / 'secret.txt', 'the content of a file nobody should upload\n')
    crafted = {
        'ticket-1-path.json': spool_record('Reads a file', sandbox.url, attachments=[{'path': str(secret_file)}]),
        'ticket-2-unknown-field.json': dict(spool_record('Unknown field', sandbox.url), run_this='rm -rf /'),
        'ticket-3-version.json': dict(spool_record('Future format', sandbox.url), format=3),
        'ticket-4-not-json.json': None,
    }
    for name, record in crafted.items():
        write(directory / name, json.dumps(record) if record else '{not json')
    write(directory / 'ticket-5-good.json', json.dumps(spool_record('A good one', sandbox.url)))
    write(tmp_path / 'inventory.ini', 'localhost ansible_connection=local\n')

    flushed = flush(sandbox, tmp_path)

    assert flushed.returncode == 2, flushed.stdout + flushed.stderr
    output = ' '.join(flushed.stdout.split())
    for name in crafted:
        assert name in output
    assert 'is a path to read' in output and 'unknown field(s) run_this' in output and 'unknown spool format 3' in output
    assert [ticket['subject'] for ticket in sandbox.tickets()] == ['A good one']
    assert 'nobody should upload' not in json.dumps(sandbox.journal())
    # Each is set aside in rejected/, with its reason next to it, and the next flush is clean.
    assert sorted(path.name for path in files_under(directory)) == sorted(
        list(crafted) + [name + '.reason' for name in crafted])
    assert all(path.parent.name == 'rejected' for path in files_under(directory))
    assert flush(sandbox, tmp_path).returncode == 0


def test_an_unsafe_spool_directory_is_refused_and_the_ticket_is_shown(sandbox, tmp_path):
    corpus = setup(tmp_path, sandbox)
    shared = tmp_path / 'shared-spool'
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    play = deploy_play(tmp_path)
    text = json.loads(play.read_text())
    text[0]['tasks'][0]['rescue'][0]['vars']['deploy_failure_ticket_spool_dir'] = str(shared)
    play.write_text(json.dumps(text))

    run = run_playbook(play, tmp_path / 'inventory.ini', env_for(sandbox, tmp_path, down=True))

    assert run.returncode == 2, run.stdout + run.stderr
    printed = ours(run.stdout, 'TASK [upsun.support.deploy_failure_ticket')
    assert 'can be written by other users (mode 0777)' in ' '.join(printed.split())
    assert 'Deploy failed: Run the deploy on 5 host(s) (Deploy the shop)' in printed
    assert corpus.leaks(printed) == []
    assert os.listdir(str(shared)) == [] and stat.S_IMODE(shared.stat().st_mode) == 0o777


def test_the_callback_shows_the_ticket_when_the_spool_directory_is_unsafe(sandbox, tmp_path):
    setup(tmp_path, sandbox)
    shared = tmp_path / 'shared-spool'
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    run = run_playbook(deploy_play(tmp_path, rescue_with_role=False), tmp_path / 'inventory.ini',
                       env_for(sandbox, tmp_path, callback=True, down=True, UPSUN_TICKET_ON_FAILURE_SPOOL_DIR=shared))

    assert run.returncode == 2, run.stdout + run.stderr
    printed = ' '.join(ours(run.stdout + run.stderr, 'PLAY RECAP').split())
    assert 'nor spool it' in printed and 'can be written by other users' in printed
    assert 'Ansible run of deploy.yml failed on 5 host(s): Run the deploy' in printed
    assert os.listdir(str(shared)) == []
