# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The example rulebook, run by the real ansible-rulebook (it needs Java 17), against the sandbox.

ansible-rulebook finds the rulebook, the upsun.support.ticket_events source and the notify playbook in the
collection (``collections/`` on ANSIBLE_COLLECTIONS_PATH, as the ansible-galaxy it calls lists it); the source
imports the collection's shared code from there. Status changes made in the sandbox must trigger the
rulebook's actions, once each, and only for tickets this collection filed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from helpers import BIN_DIR, REPO_ROOT, ansible_env, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

RULEBOOK = 'upsun.support.ticket_events'
API_TOKEN = 'rulebook-SECRET-api-token-91d3e0'
FOOTER = '\n\n--\nFiled by Ansible: the upsun.support.deploy_failure_ticket role.\nDedupe reference: upsundedupe0123456789abcdef0123'
DEPLOY = '''
- name: Deploy again (a stand-in that records the event it was run for)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record the event
      ansible.builtin.copy:
        dest: "{marker}"
        content: "deployed after ticket {{{{ ansible_eda.event.ticket.ticket_id }}}} was {{{{ ansible_eda.event.ticket.status }}}}\\n"
        mode: "0600"
'''


def ansible_rulebook():
    executable = BIN_DIR / 'ansible-rulebook'
    return str(executable) if executable.exists() else 'ansible-rulebook'


@pytest.fixture
def workdir(tmp_path):
    """The directory ansible-rulebook runs in: an inventory, the rulebook's variables, a deploy.yml stand-in."""
    if shutil.which('java') is None and not os.environ.get('JAVA_HOME'):
        pytest.fail('ansible-rulebook needs Java 17: install openjdk-17-jre-headless (.ci/run does where java is missing)')
    write(tmp_path / 'inventory.yml', '''
        all:
          hosts:
            localhost:
              ansible_connection: local
              ansible_python_interpreter: {0}
        '''.format(sys.executable))
    write(tmp_path / 'vars.yml', 'upsun_support_interval: 1\n')
    # ansible-rulebook runs a copy of it elsewhere: it writes its marker here by absolute path
    write(tmp_path / 'deploy.yml', DEPLOY.format(marker=tmp_path / 'deployed.txt'))
    (tmp_path / 'home').mkdir()
    return tmp_path


class Rulebook:
    """A running ansible-rulebook, its output in files."""

    def __init__(self, workdir, env, *args, rulebook=RULEBOOK):
        self.out = open(workdir / 'rulebook.out', 'w+')  # pylint: disable=consider-using-with
        self.err = open(workdir / 'rulebook.err', 'w+')  # pylint: disable=consider-using-with
        command = [ansible_rulebook(), '--rulebook', rulebook, '-i', 'inventory.yml', '--vars', 'vars.yml'] + list(args)
        self.process = subprocess.Popen(command, cwd=str(workdir), env=env, stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                        stdout=self.out, stderr=self.err, start_new_session=True)

    def output(self):
        self.out.seek(0)
        self.err.seek(0)
        return self.out.read() + self.err.read()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        text = self.output()
        self.out.close()
        self.err.close()
        return text


def wait_for(condition, rulebook, what, timeout=90):
    deadline = time.monotonic() + timeout
    while not condition():
        if rulebook.process.poll() is not None:
            raise AssertionError('ansible-rulebook ended (exit status {0}) before {1}:\n{2}'.format(
                rulebook.process.returncode, what, rulebook.output()))
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for {0}:\n{1}'.format(what, rulebook.output()))
        time.sleep(0.2)


def test_status_changes_in_the_sandbox_trigger_the_example_rulebook(sandbox_factory, workdir):
    sandbox = sandbox_factory(api_tokens=[API_TOKEN])
    ours = sandbox.add_ticket(subject='Deploy of release 42 failed', description='It broke.' + FOOTER)
    theirs = sandbox.add_ticket(subject='Asked by hand', description='No footer.')
    home = workdir / 'home'
    env = ansible_env(sandbox, home=workdir / 'ansible-home', HOME=home)
    notifications = home / 'upsun-support-events.log'
    deployed = workdir / 'deployed.txt'

    # -vv: the most ansible-rulebook says (debug logs), which must still hold no secret.
    rulebook = Rulebook(workdir, env, '-vv')
    try:
        wait_for(lambda: sandbox.journal(method='GET', path='/tickets'), rulebook, 'the first poll')
        # A ticket that was not filed by the collection: no action.
        sandbox.set_ticket(theirs['ticket_id'], status='pending')
        sandbox.set_ticket(ours['ticket_id'], status='pending')
        wait_for(notifications.exists, rulebook, 'the notification of the pending ticket')
        wait_for(lambda: 'PLAY RECAP' in rulebook.output(), rulebook, 'the end of the notify playbook')

        sandbox.set_ticket(ours['ticket_id'], status='solved')
        wait_for(deployed.exists, rulebook, 'the deploy after the solved ticket')
        # A few more polls: nothing is triggered twice.
        polls = len(sandbox.journal(method='GET', path='/tickets'))
        wait_for(lambda: len(sandbox.journal(method='GET', path='/tickets')) >= polls + 3, rulebook, 'three more polls')
    finally:
        output = rulebook.stop()

    lines = notifications.read_text().splitlines()
    assert len(lines) == 1, lines
    assert 'Upsun support ticket {0} (Deploy of release 42 failed) is pending (was new): support is waiting on us'.format(
        ours['ticket_id']) in lines[0]
    assert 'filed by upsun.support (role)' in lines[0]
    assert deployed.read_text() == 'deployed after ticket {0} was solved\n'.format(ours['ticket_id'])
    assert output.count('PLAY [Notify about an Upsun support ticket event]') == 1
    assert output.count('PLAY [Deploy again') == 1
    assert API_TOKEN not in output
    assert 'Bearer ' not in output
    assert 'Traceback' not in output


LAG_RULEBOOK = '''
- name: Every Upsun ticket change, recorded once
  hosts: localhost
  sources:
    - upsun.support.ticket_events:
        interval: 1
        state_file: "{{ state_file }}"
  rules:
    - name: Record it
      condition: event.change == "updated"
      action:
        run_playbook:
          name: record.yml
'''
RECORD = '''
- name: Record the event in a file of its own
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record it
      ansible.builtin.copy:
        dest: "{marker_dir}/{{{{ ansible_eda.event.ticket.ticket_id }}}}-{{{{ ansible_eda.event.ticket.status }}}}-{{{{ ansible_eda.event.meta.uuid }}}}"
        content: "was {{{{ ansible_eda.event.previous.status }}}}\\n"
        mode: "0600"
'''


def test_under_a_listing_lag_each_change_is_one_event_and_a_restart_emits_what_changed_while_stopped(
        sandbox_factory, workdir):
    sandbox = sandbox_factory('--listing-lag', '120', api_tokens=[API_TOKEN])
    first, second = [sandbox.add_ticket(subject='Ticket of {0}'.format(day), updated=day, created=day)
                     for day in ('2026-03-01T10:00:00Z', '2026-03-02T10:00:00Z')]
    sandbox.catch_up()
    markers = workdir / 'events'
    markers.mkdir()
    (workdir / 'state').mkdir(mode=0o700)
    state_file = workdir / 'state' / 'events.json'
    write(workdir / 'lag.yml', LAG_RULEBOOK)
    write(workdir / 'record.yml', RECORD.format(marker_dir=markers))
    write(workdir / 'vars.yml', 'state_file: {0}\n'.format(state_file))
    env = ansible_env(sandbox, home=workdir / 'ansible-home', HOME=workdir / 'home')

    def recorded(ticket, status):
        return sorted(path.read_text() for path in markers.glob('{0}-{1}-*'.format(ticket['ticket_id'], status)))

    def polls():
        return len([entry for entry in sandbox.journal(method='GET', path='/tickets')
                    if entry['query'].get('page') in ('1', ['1'])])

    def more_polls(rulebook, count=3):
        done = polls()
        wait_for(lambda: polls() >= done + count, rulebook, '{0} more polls'.format(count))

    rulebook = Rulebook(workdir, env, rulebook='lag.yml')
    try:
        wait_for(lambda: polls() >= 1, rulebook, 'the first poll')
        sandbox.set_ticket(first['ticket_id'], status='pending')
        # The index does not show it yet: no event (a few polls, time for a playbook run that should not come).
        more_polls(rulebook, 5)
        assert recorded(first, 'pending') == []
        sandbox.catch_up()
        wait_for(lambda: recorded(first, 'pending'), rulebook, 'the event of the change, once the index shows it')
        more_polls(rulebook)
    finally:
        output = rulebook.stop()
    assert recorded(first, 'pending') == ['was new\n'], output
    assert oct(state_file.stat().st_mode & 0o777) == '0o600'
    assert API_TOKEN not in state_file.read_text()

    # While the rulebook is stopped, the other ticket is solved.
    sandbox.set_ticket(second['ticket_id'], status='solved')
    rulebook = Rulebook(workdir, env, rulebook='lag.yml')
    try:
        more_polls(rulebook, 6)
        assert recorded(second, 'solved') == []
        sandbox.catch_up()
        wait_for(lambda: recorded(second, 'solved'), rulebook, 'the event of the change made while stopped')
        more_polls(rulebook)
    finally:
        output += rulebook.stop()

    assert recorded(second, 'solved') == ['was new\n'], output
    assert recorded(first, 'pending') == ['was new\n'], output
    assert len(list(markers.iterdir())) == 2, output
    assert API_TOKEN not in output
    assert 'Traceback' not in output


def test_a_bad_argument_stops_the_rulebook_naming_it(sandbox, workdir):
    write(workdir / 'vars.yml', 'upsun_support_interval: 0\n')
    env = ansible_env(sandbox, home=workdir / 'ansible-home', HOME=workdir / 'home')

    result = subprocess.run([ansible_rulebook(), '--rulebook', RULEBOOK, '-i', 'inventory.yml', '--vars', 'vars.yml'],
                            cwd=str(workdir), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120, check=False)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert 'upsun.support.ticket_events: interval must be a number of seconds above 0, got 0.' in output
    assert 'Traceback' not in output
    assert sandbox.journal() == []


def test_the_rulebooks_of_the_source_documentation_and_the_example_are_valid():
    """ansible-rulebook's own schema and condition parser accept the EXAMPLES of the source and the example rulebook."""
    import yaml
    from ansible_rulebook.condition_parser import parse_condition  # pylint: disable=import-error
    from ansible_rulebook.validators import Validate  # pylint: disable=import-error

    source = REPO_ROOT / 'extensions' / 'eda' / 'plugins' / 'event_source' / 'ticket_events.py'
    examples = [node.value.value for node in ast.parse(source.read_text()).body
                if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ['EXAMPLES']]
    rulebooks = [yaml.safe_load(examples[0]),
                 yaml.safe_load((REPO_ROOT / 'extensions' / 'eda' / 'rulebooks' / 'ticket_events.yml').read_text())]

    for rulebook in rulebooks:
        Validate.rulebook(rulebook)
        conditions = [rule['condition'] for ruleset in rulebook for rule in ruleset['rules']]
        assert conditions
        for condition in conditions:
            parse_condition(condition)
