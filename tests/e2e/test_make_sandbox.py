# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""``make sandbox``: scripts/sandbox.sh serves the sandbox in the foreground and prints what to export to use it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shlex
import signal
import subprocess
import time

from helpers import BIN_DIR, REPO_ROOT, ansible_env  # pylint: disable=import-error

SANDBOX = REPO_ROOT / 'scripts' / 'sandbox.sh'


def _read_until(stream, pattern, seconds):
    """The lines read from ``stream`` until one matches ``pattern`` (the sandbox prints them as soon as it listens)."""
    deadline = time.monotonic() + seconds
    lines = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError('no line matching {0!r} in:\n{1}'.format(pattern, ''.join(lines)))


def test_the_printed_commands_file_a_ticket_and_ctrl_c_stops_the_sandbox(tmp_path):
    env = ansible_env(home=tmp_path / 'ansible-home', VENV=BIN_DIR.parent, TMPDIR=tmp_path)
    process = subprocess.Popen(['bash', str(SANDBOX)], env=env, cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        lines = _read_until(process.stdout, r'Ctrl-C stops it', 60)
        text = ''.join(lines)
        exports = [line.strip()[len('export '):] for line in lines if line.strip().startswith('export ')]
        commands = [line.strip() for line in lines if 'upsun.support.ticket ' in line]
        assert exports and len(commands) == 1, text
        shell_env = dict(env)
        for assignment in exports:
            for word in shlex.split(assignment):
                name, dummy, value = word.partition('=')
                shell_env[name] = value
        run = subprocess.run(commands[0], shell=True, env=shell_env, cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        assert re.search(r'"ticket_id": \d+', run.stdout), run.stdout
        assert 'sandbox-api-token' not in run.stdout + run.stderr
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    # Ctrl-C is how it is meant to end: exit status 0, and the sandbox child stopped with it.
    assert returncode == 0
    assert subprocess.run(['pgrep', '-g', str(process.pid)], capture_output=True, check=False).returncode == 1
