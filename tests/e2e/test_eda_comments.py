# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Support's answers heard by the real ansible-rulebook (Java 17) through upsun.support.ticket_events, against the sandbox.

The example rulebook pages on-call (the notify playbook) with support's comment, once, also when the listings lag;
comment endpoints that the API refuses are one warning while the other events keep coming; with a state file, a
comment made while the rulebook was stopped is heard after its restart, once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from helpers import ansible_env, write  # pylint: disable=import-error
from test_eda_rulebook import API_TOKEN, FOOTER, LAG_RULEBOOK, Rulebook, wait_for, workdir  # noqa: F401 pylint: disable=import-error,unused-import

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

SUPPORT = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d'
LONG_AGO = '2026-03-01T10:00:00Z'
# What support writes, on two lines: the page shows it on one.
# With templates in it: ansible-core renders templates found in the event data, and a ticket's text must never run.
ANSWER = ("The disk of the app is full.\nPlease grow it to 2 GB {{ 6 * 7 }} "
          "{{ lookup('ansible.builtin.pipe', 'printf %s%s INJEC TED') }}.")
PRINTED_ANSWER = ("The disk of the app is full. Please grow it to 2 GB {{ 6 * 7 }} "
                  "{{ lookup('ansible.builtin.pipe', 'printf %s%s INJEC TED') }}.")


def ticket_polls(sandbox):
    return len([entry for entry in sandbox.journal(method='GET', path='/tickets')
                if entry['query'].get('page') in (None, '1', ['1'])])


def more_polls(sandbox, rulebook, count=3):
    done = ticket_polls(sandbox)
    wait_for(lambda: ticket_polls(sandbox) >= done + count, rulebook, '{0} more polls'.format(count))


def filed_long_ago(sandbox, subject):
    return sandbox.add_ticket(subject=subject, description='It broke.' + FOOTER, created=LONG_AGO, updated=LONG_AGO)


def filed_and_watched(sandbox, workdir, subject):
    """A ticket filed long ago by the collection, shown by the listings; the notify playbook's file; the environment."""
    ticket = filed_long_ago(sandbox, subject)
    sandbox.catch_up()
    home = workdir / 'home'
    return ticket, home / 'upsun-support-events.log', ansible_env(sandbox, home=workdir / 'ansible-home', HOME=home)


def test_the_example_rulebook_pages_on_call_with_supports_answer_once_under_a_listing_lag(sandbox_factory, workdir):
    sandbox = sandbox_factory('--listing-lag', '120', api_tokens=[API_TOKEN])
    ours, notifications, env = filed_and_watched(sandbox, workdir, 'Deploy of release 43 failed')

    rulebook = Rulebook(workdir, env)
    try:
        wait_for(lambda: ticket_polls(sandbox), rulebook, 'the first poll')
        sandbox.add_comment(ours['ticket_id'], ANSWER, author_id=SUPPORT)
        # Our own comment (the requester's, as a repeat of the failure) pages nobody.
        sandbox.add_comment(ours['ticket_id'], 'It failed again.', author_id=ours['requester_id'])
        # The listings do not show the ticket's new updated time yet: nothing is heard.
        more_polls(sandbox, rulebook, 4)
        assert not notifications.exists()
        sandbox.catch_up()
        wait_for(notifications.exists, rulebook, 'the page with support\'s answer')
        wait_for(lambda: 'PLAY RECAP' in rulebook.output(), rulebook, 'the end of the notify playbook')
        more_polls(sandbox, rulebook, 4)
    finally:
        output = rulebook.stop()

    lines = notifications.read_text().splitlines()
    assert len(lines) == 1, output
    assert 'Upsun support ticket {0} (Deploy of release 43 failed): support wrote "{1}"'.format(
        ours['ticket_id'], PRINTED_ANSWER) in lines[0]
    assert output.count('PLAY [Notify about an Upsun support ticket event]') == 1
    assert output.count(PRINTED_ANSWER) == 1, output
    assert API_TOKEN not in output
    assert 'Traceback' not in output
    # Printed as written: neither template ran.
    assert 'INJECTED' not in output + lines[0] and '2 GB 42' not in output + lines[0]


def test_refused_comment_endpoints_are_one_warning_and_the_rulebook_still_pages_on_a_status(sandbox_factory, workdir):
    sandbox = sandbox_factory('--comments', 'refuse-404', api_tokens=[API_TOKEN])
    ours, notifications, env = filed_and_watched(sandbox, workdir, 'Deploy of release 44 failed')

    rulebook = Rulebook(workdir, env)
    try:
        wait_for(lambda: ticket_polls(sandbox), rulebook, 'the first poll')
        sandbox.set_ticket(ours['ticket_id'], status='open')
        more_polls(sandbox, rulebook)
        sandbox.set_ticket(ours['ticket_id'], status='pending')
        wait_for(notifications.exists, rulebook, 'the page of the pending ticket')
        more_polls(sandbox, rulebook)
    finally:
        output = rulebook.stop()

    assert 'is pending (was open): support is waiting on us' in notifications.read_text()
    assert output.count('The Upsun API refused GET /comments/{0} (HTTP 404'.format(ours['ticket_id'])) == 1, output
    assert output.count('goes on without commented events until it is restarted') == 1, output
    assert len(sandbox.journal(method='GET', path='/comments/{0}'.format(ours['ticket_id']))) == 1
    assert 'Traceback' not in output


# The rulebook of the lag test, recording the commented events instead.
STATE_RULEBOOK = LAG_RULEBOOK.replace('event.change == "updated"', 'event.change == "commented"')
RECORD = '''
- name: Record the comment in a file of its own
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record it
      ansible.builtin.copy:
        dest: "{marker_dir}/{{{{ ansible_eda.event.comment.comment_id }}}}-{{{{ ansible_eda.event.meta.uuid }}}}"
        content: "{{{{ ansible_eda.event.comment.body }}}}\\n"
        mode: "0600"
'''


def test_a_comment_made_while_the_rulebook_is_stopped_is_heard_after_its_restart_once(sandbox_factory, workdir):
    sandbox = sandbox_factory('--listing-lag', '120', api_tokens=[API_TOKEN])
    ticket = filed_long_ago(sandbox, 'Deploy of release 45 failed')
    sandbox.catch_up()
    markers = workdir / 'comments'
    markers.mkdir()
    (workdir / 'state').mkdir(mode=0o700)
    write(workdir / 'answers.yml', STATE_RULEBOOK)
    write(workdir / 'record.yml', RECORD.format(marker_dir=markers))
    write(workdir / 'vars.yml', 'state_file: {0}\n'.format(workdir / 'state' / 'events.json'))
    env = ansible_env(sandbox, home=workdir / 'ansible-home', HOME=workdir / 'home')

    def recorded():
        return sorted((path.name.split('-', 1)[0], path.read_text()) for path in markers.iterdir())

    rulebook = Rulebook(workdir, env, rulebook='answers.yml')
    try:
        wait_for(lambda: ticket_polls(sandbox), rulebook, 'the first poll')
        first = sandbox.add_comment(ticket['ticket_id'], 'First answer.', author_id=SUPPORT)
        sandbox.catch_up()
        wait_for(recorded, rulebook, 'the first answer')
        more_polls(sandbox, rulebook)
    finally:
        output = rulebook.stop()

    # While the rulebook is stopped, support answers again.
    second = sandbox.add_comment(ticket['ticket_id'], 'Second answer.', author_id=SUPPORT)
    rulebook = Rulebook(workdir, env, rulebook='answers.yml')
    try:
        more_polls(sandbox, rulebook, 4)
        sandbox.catch_up()
        wait_for(lambda: len(recorded()) >= 2, rulebook, 'the answer made while stopped')
        more_polls(sandbox, rulebook, 4)
    finally:
        output += rulebook.stop()

    assert recorded() == [(str(first['comment_id']), 'First answer.\n'),
                          (str(second['comment_id']), 'Second answer.\n')], output
    assert API_TOKEN not in output
    assert 'Traceback' not in output
