# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared helpers of the end-to-end tests: run ansible-playbook and ansible-runner on this checkout.

The collection is found through ``collections/ansible_collections/upsun/support``
(a symlink to the checkout, ``make collections-link``). Every run gets an
environment without the caller's ``ANSIBLE_*``, ``UPSUN_*`` and
``PLATFORMSH_*`` variables, so a developer's own settings or token never leak in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / 'collections'
BIN_DIR = Path(sys.executable).parent
# Environment variables of the caller that are never passed on.
DROPPED_PREFIXES = ('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')


def ansible_env(sandbox=None, home=None, **extra):
    """The environment of one Ansible run.

    ``sandbox`` (a ``SandboxClient``) adds the token and URLs that point the
    collection at it; ``home`` keeps Ansible's own files (temp files, ssh control
    sockets) under a test directory; ``extra`` is added last, as strings.
    """
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith(DROPPED_PREFIXES))
    env['PATH'] = os.pathsep.join(filter(None, [str(BIN_DIR), env.get('PATH')]))
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_HOST_KEY_CHECKING='False',
        ANSIBLE_RETRY_FILES_ENABLED='False',
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    if home is not None:
        home = Path(home)
        env.update(
            ANSIBLE_HOME=str(home),
            ANSIBLE_LOCAL_TEMP=str(home / 'tmp'),
            ANSIBLE_SSH_CONTROL_PATH_DIR=str(home / 'cp'),
        )
    if sandbox is not None:
        env.update(sandbox.env())
    # A ticket ledger per run environment (per test), never the one of the user running the tests.
    env['UPSUN_SUPPORT_LEDGER_DIR'] = str(Path(home) / 'upsun_support_ledger') if home is not None else tempfile.mkdtemp(
        prefix='upsun-ledger-')
    env.update((name, str(value)) for name, value in extra.items())
    return env


def write(path, text):
    """Write ``text`` (dedented) to ``path``, creating its directory; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip('\n'))
    return path


def run_playbook(playbook, inventory, env, cwd=None, args=(), timeout=180):
    """Run ``ansible-playbook``; return the ``CompletedProcess`` (text stdout and stderr)."""
    executable = BIN_DIR / 'ansible-playbook'
    command = [str(executable) if executable.exists() else 'ansible-playbook', '-i', str(inventory)] + list(args) + [str(playbook)]
    return subprocess.run(command, env=env, cwd=str(cwd or Path(playbook).parent), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_runner_cli(private_data_dir, playbook, env, args=(), timeout=180):
    """Run ``ansible-runner run <private_data_dir> -p <playbook>``; return the ``CompletedProcess``."""
    command = [sys.executable, '-m', 'ansible_runner', 'run', str(private_data_dir), '-p', playbook] + list(args)
    return subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)


def closed_port_url():
    """A local URL nothing listens on: connections are refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'http://127.0.0.1:{0}'.format(port)


def files_under(directory):
    """Every regular file below ``directory``, sorted."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.rglob('*') if path.is_file())


def run_adhoc(module, module_args, env, args=(), cwd=None, timeout=180):
    """Run ``ansible localhost -m <module> -a <module_args>`` (implicit localhost); return the ``CompletedProcess``.

    ``module_args`` is the ``-a`` string as a user would type it (``key=value ...``),
    or a dict, passed as JSON (what ``-a`` takes for lists and dicts).
    """
    if not isinstance(module_args, str):
        module_args = json.dumps(module_args)
    executable = BIN_DIR / 'ansible'
    command = [str(executable) if executable.exists() else 'ansible', 'localhost', '-m', module, '-a', module_args] + list(args)
    return subprocess.run(command, env=env, cwd=str(cwd or REPO_ROOT), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


def adhoc_result(stdout, host='localhost'):
    """The result of ``host`` in the output of an ad hoc run with the default (or minimal) stdout callback.

    Those print ``<host> | <STATUS> => {...}``, the JSON of the result;
    ansible-core 2.19 ships no ``json`` stdout callback (it lives in ansible.posix).
    """
    marker = re.search(r'^{0} \| [A-Z!]+ => '.format(re.escape(host)), stdout, re.MULTILINE)
    if marker is None:
        raise AssertionError('no result for {0} in:\n{1}'.format(host, stdout))
    result, dummy = json.JSONDecoder().raw_decode(stdout, marker.end())
    return result


def one_line(text):
    """``text`` with every run of whitespace made one space: Ansible wraps long warnings."""
    return ' '.join(text.split())


CORPUS_FILE = REPO_ROOT / 'tests' / 'data' / 'secret_corpus.yml'


class SecretCorpus:
    """The real-looking CI log lines of ``tests/data/secret_corpus.yml``, with ``api_token`` put in."""

    def __init__(self, api_token):
        import yaml  # the tool venv has it; imported here so the other helpers need nothing more

        data = yaml.safe_load(CORPUS_FILE.read_text())
        self.entries = [dict(entry, line=entry['line'].replace('{api_token}', api_token),
                             secrets=[secret.replace('{api_token}', api_token) for secret in entry['secrets']])
                        for entry in data['secret_lines']]
        self.harmless = data['harmless_lines']

    def chunks(self, count):
        """The lines, secret and harmless mixed, in ``count`` texts."""
        lines = [entry['line'] for entry in self.entries] + self.harmless
        return ['\n'.join(lines[index::count]) for index in range(count)]

    def leaks(self, text):
        """The secrets of the corpus found in ``text``."""
        return [secret for entry in self.entries for secret in entry['secrets'] if secret in text]

    def lost(self, text):
        """The text around the secrets, and the harmless lines, missing from ``text``."""
        wanted = [kept for entry in self.entries for kept in entry['keep']] + list(self.harmless)
        return [item for item in wanted if item not in text]
