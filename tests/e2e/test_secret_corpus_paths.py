# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every path that sends, prints or writes text masks the secret corpus and the values Ansible knows are secret.

The API token is given as the README shows: ``module_defaults`` of ``group/upsun.support.upsun`` from a
vault-encrypted variable (``vault_upsun_api_token`` in group_vars), never in the environment; a second vaulted
variable (a database password) appears in the deploy's error and log, where no rule but its known value finds it. The
corpus of tests/data/secret_corpus.yml (tests/e2e/helpers.py ``SecretCorpus``) fails the deploy and is its log. Each
path is checked: the role's ticket, attachments and spool record, the callback's ticket and spool record, what both
print (warnings, module messages) at ``-vvv``/``-vvvv``, and ansible-runner's job events and artifacts. Every secret
gone, every benign line and error line kept; the token and the vaulted values appear nowhere at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from helpers import SecretCorpus, ansible_env, closed_port_url, files_under, run_playbook, run_runner_cli, write  # pylint: disable=import-error
from test_secrets_and_spool import ours, strings, ticket_text  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ansible_runner = pytest.importorskip('ansible_runner')

HOSTS = ['h{0}'.format(index) for index in range(3)]
CALLBACK = 'upsun.support.ticket_on_failure'
ROLE_MARKER = 'TASK [upsun.support.deploy_failure_ticket'
VAULT_PASSWORD = 'e2e-vault-password'
# Found only by their known values: no rule recognises them, and they are written with text glued on both sides.
DB_PASSWORD = 'Vlt9DbPassQzx7'
# The token of the corpus lines in the tests that check the whole output for the API token (which the failing task
# itself would print): another CI token, vaulted too.
CORPUS_TOKEN = 'ci-tok-5e1d9a7c3b'
ERROR_LINE = 'migration 42 failed: relation "orders" already exists'


def vaulted(value):
    """``value`` as a ``!vault`` YAML scalar, encrypted with ``VAULT_PASSWORD``."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    ciphertext = VaultLib([('default', VaultSecret(VAULT_PASSWORD.encode()))]).encrypt(value).decode()
    return '!vault |\n' + ''.join('  ' + line + '\n' for line in ciphertext.splitlines())


class Deploy:
    """A failing deploy on three local hosts: its error is a third of the corpus, the vaulted password glued in."""

    def __init__(self, root, sandbox_client, other_token=False):
        self.root = root
        self.token = sandbox_client.api_token
        # With other_token, the API token is in no text at all: nothing may print it, not even the failing task.
        self.corpus = SecretCorpus(CORPUS_TOKEN if other_token else self.token)
        for host, chunk in zip(HOSTS, self.corpus.chunks(len(HOSTS))):
            write(root / 'chunks' / (host + '.txt'), '{0}\n{1}\nretried with ref=pre{2}post\n'.format(ERROR_LINE, chunk, DB_PASSWORD))
        write(root / 'logs' / 'deploy.log', '\n'.join(self.corpus.chunks(1)) + '\nrelease note: pre{0}post\n'.format(DB_PASSWORD))
        write(root / 'inventory' / 'hosts', '[web]\n' + '\n'.join(HOSTS) + '\n\n[web:vars]\nansible_connection=local\n')
        write(root / 'inventory' / 'group_vars' / 'web' / 'vault.yml', ''.join(
            '{0}: {1}'.format(name, vaulted(value)) for name, value in (
                ('vault_upsun_api_token', self.token), ('vault_db_password', DB_PASSWORD), ('vault_ci_token', CORPUS_TOKEN))))
        write(root / 'vault-password', VAULT_PASSWORD + '\n')

    def playbook(self, role=True, name='deploy.yml', directory=None, message=None):
        message = message or "{{ lookup('ansible.builtin.file', '" + str(self.root / 'chunks') + "/' ~ inventory_hostname ~ '.txt') }}"
        failing = {'name': 'Run the deploy', 'ansible.builtin.fail': {'msg': message}}
        tasks = [failing]
        if role:
            tasks = [{'name': 'Deploy', 'block': [failing], 'rescue': [{
                'name': 'File a ticket for the failed deploy',
                'ansible.builtin.import_role': {'name': 'upsun.support.deploy_failure_ticket', 'rolespec_validate': False},
                'vars': {'deploy_failure_ticket_error_max_chars': 0,
                         'deploy_failure_ticket_logs': [str(self.root / 'logs' / 'deploy.log')]}}]}]
        play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False,
                 # As the README shows: the token from a vault-encrypted variable.
                 'module_defaults': {'group/upsun.support.upsun': {'api_token': '{{ vault_upsun_api_token }}'}},
                 'tasks': tasks}]
        return write((directory or self.root) / name, json.dumps(play, indent=2))

    def env(self, sandbox_client, callback=False, down=False, **extra):
        env = ansible_env(sandbox_client, home=self.root / 'ansible-home', HOME=self.root / 'home',
                          ANSIBLE_VAULT_PASSWORD_FILE=self.root / 'vault-password', **extra)
        if callback:
            env['ANSIBLE_CALLBACKS_ENABLED'] = CALLBACK
        else:
            # The role gets its token from module_defaults only.
            del env['UPSUN_CLI_TOKEN']
        if down:
            env.update(UPSUN_CLI_API_URL=closed_port_url(), UPSUN_CLI_AUTH_URL=closed_port_url(), UPSUN_SUPPORT_RETRIES='0')
        return env

    def run(self, sandbox_client, args=(), **env):
        return run_playbook(self.playbook(role=not env.get('callback')), self.root / 'inventory' / 'hosts',
                            self.env(sandbox_client, **env), args=args)

    def known(self, text):
        """The known secrets (the token, the vaulted password) found in ``text``."""
        return [value for value in (self.token, DB_PASSWORD) if value in text]

    def assert_clean(self, text, complete=True):
        """No secret of the corpus nor known secret in ``text``; with ``complete``, the benign lines and error kept.

        Also without whitespace: Ansible wraps long warnings, also inside a word after a hyphen.
        """
        assert self.corpus.leaks(text) == [] and self.known(text) == []
        squeezed = ''.join(text.split())
        secrets = [secret for entry in self.corpus.entries for secret in entry['secrets']] + [self.token, DB_PASSWORD]
        assert [secret for secret in secrets if ''.join(secret.split()) in squeezed] == []
        if complete:
            assert self.corpus.lost(text) == [] and ERROR_LINE in text

    def spool_record(self):
        [path] = files_under(self.root / 'home' / '.ansible' / 'upsun_support_spool')
        raw = path.read_text()
        return path, raw, strings(json.loads(raw))


# --- the role ---------------------------------------------------------------------------------------------------------


def test_the_role_at_vvvv_sends_and_prints_no_secret_and_never_the_token_or_a_vaulted_value(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox, other_token=True)
    run = deploy.run(sandbox, args=['-vvvv'])
    assert run.returncode == 2, run.stdout + run.stderr

    [ticket] = sandbox.tickets()
    deploy.assert_clean(ticket['description'])
    deploy.assert_clean(ticket_text(sandbox, ticket))
    assert [item['filename'] for item in sandbox.attachments(ticket['ticket_id'])] == [host + '-deploy.log' for host in HOSTS]
    for item in sandbox.attachments(ticket['ticket_id']):
        deploy.assert_clean(item['content'].decode('utf-8'), complete=False)
        assert 'release note: pre[REDACTED]post' in item['content'].decode('utf-8')
    # What the role printed at -vvvv (its tasks, the ticket module's invocation, the hosts' final failure with the
    # deploy's error): no secret, the error kept.
    printed = ours(run.stdout, ROLE_MARKER)
    deploy.assert_clean(printed, complete=False)
    # (ansible-core 2.16 prints the message as JSON, its quotes escaped.)
    assert ERROR_LINE.split('"', 1)[0] in printed and 'Filed Upsun ticket {0}'.format(ticket['ticket_id']) in ' '.join(printed.split())
    # The token given through module_defaults, and the vaulted values, appear nowhere in the whole run's output.
    assert deploy.known(run.stdout.split(ROLE_MARKER, 1)[0]) == [DB_PASSWORD]  # only the failing task's own message
    assert deploy.token not in run.stdout + run.stderr


def test_the_role_spools_with_no_secret_and_says_so_without_one(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox)
    run = deploy.run(sandbox, args=['-vvv'], down=True)
    assert run.returncode == 2, run.stdout + run.stderr

    path, raw, text = deploy.spool_record()
    deploy.assert_clean(raw, complete=False)
    deploy.assert_clean(text)
    printed = ours(run.stdout, ROLE_MARKER)
    deploy.assert_clean(printed, complete=False)
    assert str(path) in ''.join(printed.split())


@pytest.mark.parametrize('verbosity', [[], ['-vvvv']], ids=['default', 'vvvv'])
def test_ansible_runner_job_events_and_artifacts_carry_no_secret_of_the_role(sandbox, tmp_path, verbosity):
    deploy = Deploy(tmp_path, sandbox, other_token=True)
    data_dir = tmp_path / 'runner'
    deploy.playbook(directory=data_dir / 'project')
    write(data_dir / 'inventory' / 'hosts', (tmp_path / 'inventory' / 'hosts').read_text())
    write(data_dir / 'inventory' / 'group_vars' / 'web' / 'vault.yml',
          (tmp_path / 'inventory' / 'group_vars' / 'web' / 'vault.yml').read_text())
    env = deploy.env(sandbox)
    write(data_dir / 'env' / 'envvars', json.dumps(dict(
        (name, str(value)) for name, value in env.items() if name.startswith(('UPSUN_', 'ANSIBLE_VAULT')))))

    run = run_runner_cli(data_dir, 'deploy.yml', env, args=verbosity)
    assert run.returncode == 2, run.stdout + run.stderr
    [ticket] = sandbox.tickets()
    deploy.assert_clean(ticket_text(sandbox, ticket))

    artifacts = files_under(data_dir / 'artifacts')
    events = [json.loads(path.read_text()) for path in artifacts if path.parent.name == 'job_events']
    assert events
    ours_events = [event for event in events
                   if str((event.get('event_data') or {}).get('role') or '').endswith('deploy_failure_ticket')]
    assert ours_events
    for event in ours_events:
        deploy.assert_clean(json.dumps(event), complete=False)
    # The token is in no artifact at all (what AWX shows), nor in any event's task_args.
    for path in artifacts:
        assert deploy.token not in path.read_text(errors='replace'), path


# --- the callback -----------------------------------------------------------------------------------------------------


def test_the_callback_at_vvv_sends_and_prints_no_secret_nor_a_vaulted_value(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox)
    run = deploy.run(sandbox, args=['-vvv'], callback=True)
    assert run.returncode == 2, run.stdout + run.stderr

    [ticket] = sandbox.tickets()
    deploy.assert_clean(ticket['description'])
    printed = ours(run.stdout + run.stderr, 'PLAY RECAP')
    assert 'filed Upsun ticket {0}'.format(ticket['ticket_id']) in printed
    deploy.assert_clean(printed, complete=False)


def test_the_callback_spools_with_no_secret_nor_a_vaulted_value(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox)
    run = deploy.run(sandbox, args=['-vvv'], callback=True, down=True)
    assert run.returncode == 2, run.stdout + run.stderr

    path, raw, text = deploy.spool_record()
    deploy.assert_clean(raw, complete=False)
    deploy.assert_clean(text)
    printed = ours(run.stdout + run.stderr, 'PLAY RECAP')
    # Without the line breaks ansible-core 2.16 puts into long warnings (also after a hyphen).
    assert str(path) in ''.join(printed.split())
    deploy.assert_clean(printed, complete=False)


def test_a_megabyte_of_adversarial_output_is_filed_in_bounded_time_without_its_secret(sandbox, tmp_path):
    deploy = Deploy(tmp_path, sandbox)
    write(tmp_path / 'huge.txt', '{0}\npassword=Adv3rsarialPassw0rd {1} end of the output\n'.format(
        ERROR_LINE, 'eyJ-' * 262144))
    book = deploy.playbook(role=False, message="{{ lookup('ansible.builtin.file', '" + str(tmp_path / 'huge.txt') + "') }}")
    started = time.time()
    run = run_playbook(book, tmp_path / 'inventory' / 'hosts', deploy.env(sandbox, callback=True), timeout=120)
    elapsed = time.time() - started
    assert run.returncode == 2, run.stdout[-3000:] + run.stderr[-3000:]
    assert elapsed < 60, elapsed

    [ticket] = sandbox.tickets()
    assert ERROR_LINE in ticket['description'] and 'end of the output' in ticket['description']
    assert 'Adv3rsarialPassw0rd' not in ticket['description'] and len(ticket['description']) < 200000
    assert 'Adv3rsarialPassw0rd' not in ours(run.stdout + run.stderr, 'PLAY RECAP')
