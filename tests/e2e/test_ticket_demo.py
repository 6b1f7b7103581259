# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""``make demo``: scripts/demo.sh starts its own sandbox, runs tests/demo/deploy.yml and prints the filed ticket."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import subprocess

from helpers import BIN_DIR, REPO_ROOT, ansible_env  # pylint: disable=import-error

DEMO = REPO_ROOT / 'scripts' / 'demo.sh'


def test_demo_files_a_ticket_prints_it_and_exits_0(tmp_path):
    env = ansible_env(home=tmp_path / 'ansible-home', VENV=BIN_DIR.parent, TMPDIR=tmp_path)
    run = subprocess.run(['bash', str(DEMO)], env=env, cwd=str(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    # The play failed, as it should: the role re-raised the deploy's error after filing the ticket.
    assert 'The deploy failed (ansible-playbook exit status 2), and the rescue filed this ticket:' in run.stdout
    ticket_id = re.search(r'^  Ticket: +(\d+)$', run.stdout, re.MULTILINE).group(1)
    assert re.search(r'^  URL: +http://127\.0\.0\.1:\d+/support/tickets/{0}$'.format(ticket_id), run.stdout, re.MULTILINE)
    assert 'Filed Upsun ticket {0} for the failed deploy'.format(ticket_id) in run.stdout
    assert '  Priority:    high' in run.stdout
    assert 'Subject:     Deploy failed in demo: Run the database migrations' in run.stdout
    # The log is attached, its password redacted.
    assert '  | Connecting to postgresql://shop:[REDACTED]' in run.stdout
    assert 's3cr3t-demo-password' not in output
    assert 'sandbox-api-token' not in output
