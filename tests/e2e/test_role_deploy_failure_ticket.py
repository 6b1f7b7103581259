# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy_failure_ticket role and the flush_spool playbook in real ansible-playbook runs against the sandbox.

Every play has a deploy block that fails on purpose and the role in its ``rescue:``. The hosts use the local
connection; the deploy steps are controller-side actions (``fail``) or one ``command``, so a run takes seconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from helpers import ansible_env, files_under, run_playbook, write  # pylint: disable=import-error

# The sandbox fixtures, also when pytest runs without -p upsun_sandbox.pytest_plugin.
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: F401 pylint: disable=import-error,unused-import

ROLE = 'upsun.support.deploy_failure_ticket'
TOKEN = 'sandbox-api-token'


def inventory(tmp_path, hosts, extra=''):
    """An inventory of ``hosts`` on the local connection."""
    lines = ['[web]'] + list(hosts) + ['', '[web:vars]', 'ansible_connection=local', extra]
    return write(tmp_path / 'inventory.ini', '\n'.join(lines) + '\n')


def playbook(tmp_path, deploy, role_vars=None, play_name='Deploy the shop', module_defaults=None, name='deploy.yml'):
    """A play whose ``deploy`` tasks (YAML, indented for the block) run in a block with the role in its rescue."""
    play = {
        'name': play_name,
        'hosts': 'web',
        'gather_facts': False,
        'tasks': [
            {'name': 'Deploy', 'block': '__DEPLOY__', 'rescue': [
                # As the README shows (tests/e2e/test_secrets_and_spool.py and others use include_role).
                {'name': 'File a ticket for the failed deploy',
                 'ansible.builtin.import_role': {'name': ROLE, 'rolespec_validate': False}, 'vars': role_vars or {}},
            ]},
            {'name': 'After the deploy', 'ansible.builtin.debug': {'msg': 'play went on after the deploy block'}},
        ],
    }
    if module_defaults:
        play['module_defaults'] = {'group/upsun.support.upsun': module_defaults}
    text = json.dumps([play], indent=2).replace('"__DEPLOY__"', json.dumps(deploy))
    return write(tmp_path / name, text)


FAIL_STEP = [{'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration 42 failed: relation "orders" exists'}}]


def env_for(sandbox_client, tmp_path, **extra):
    # HOME under tmp_path: the default spool directory (~/.ansible/upsun_support_spool) is the test's own.
    return ansible_env(sandbox_client, home=tmp_path / 'ansible-home', HOME=tmp_path / 'home', ANSIBLE_PIPELINING='True',
                       **extra)


def ticket_posts(client):
    return client.journal('POST', '/tickets')


def test_one_host_fails_one_ticket_then_rerun_files_nothing(sandbox, tmp_path):
    inv = inventory(tmp_path, ['web1'])
    deploy = [{'name': 'Run the deploy script', 'ansible.builtin.command': {
        'argv': ['sh', '-c', 'echo "deploy: disk full on /srv" >&2; exit 3']}, 'changed_when': True}]
    book = playbook(tmp_path, deploy, {'deploy_failure_ticket_environment': 'production',
                                       'deploy_failure_ticket_release': 'v1.2.3',
                                       'deploy_failure_ticket_project_url': 'https://console.upsun.com/acme/shop'})
    env = env_for(sandbox, tmp_path)

    result = run_playbook(book, inv, env)
    assert result.returncode == 2, result.stdout + result.stderr
    # The failure is not masked: the host fails again with the deploy's own error, and the play stops there.
    assert 'deploy: disk full on /srv' in result.stdout
    assert 'play went on' not in result.stdout

    tickets = sandbox.tickets()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert 'web1' in ticket['description']
    assert 'Run the deploy script' in ticket['description']
    assert 'ansible.builtin.command' in ticket['description']
    assert 'deploy: disk full on /srv' in ticket['description']
    assert 'Deploy the shop' in ticket['description']
    assert 'production' in ticket['description'] and 'v1.2.3' in ticket['description']
    assert 'https://console.upsun.com/acme/shop' in ticket['description']
    assert ticket['priority'] == 'high' and ticket['category'] == 'incident_outage'
    assert 'Run the deploy script' in ticket['subject']
    # The ticket id and URL are in the output.
    assert 'Filed Upsun ticket {0}'.format(ticket['ticket_id']) in result.stdout
    assert ticket['zd_ticket_url'] in result.stdout
    assert TOKEN not in result.stdout

    # The same failure again while the ticket is unsolved: nothing new is filed, the play still fails.
    sandbox.clear_journal()
    again = run_playbook(book, inv, env)
    assert again.returncode == 2, again.stdout + again.stderr
    assert ticket_posts(sandbox) == []
    assert len(sandbox.tickets()) == 1
    assert 'already covers this failure' in again.stdout


def test_many_hosts_fail_one_ticket_lists_them_all(sandbox, tmp_path):
    hosts = ['web{0:02d}'.format(i) for i in range(1, 21)]
    inv = inventory(tmp_path, hosts + ['db01'])
    deploy = [{'name': 'Run the migrations', 'ansible.builtin.fail': {'msg': 'migration 42 failed on {{ inventory_hostname }}'},
               'when': "inventory_hostname != 'db01'"}]
    book = playbook(tmp_path, deploy)
    result = run_playbook(book, inv, env_for(sandbox, tmp_path), args=['-f', '20'])
    assert result.returncode == 2, result.stdout + result.stderr

    tickets = sandbox.tickets()
    assert len(tickets) == 1
    description = tickets[0]['description']
    for host in hosts:
        assert 'migration 42 failed on {0}'.format(host) in description
        assert host in description
    # db01's deploy succeeded: it is not in the ticket, and it goes on with the play.
    assert 'db01' not in description
    assert '20 of 21' in description
    assert 'play went on after the deploy block' in result.stdout
    assert result.stdout.count('fatal: [web') == 40  # each host: the deploy, then the role's fail
    # One token exchange, one dedupe search, one POST.
    calls = sandbox.journal()
    assert len(calls) <= 4, calls
    assert len(ticket_posts(sandbox)) == 1


def test_fail_false_continues_and_files_with_overrides(sandbox, tmp_path):
    write(tmp_path / 'templates' / 'my_subject.j2', 'Shop deploy {{ deploy_failure_ticket_release }} failed\n')
    inv = inventory(tmp_path, ['web1', 'web2'])
    book = playbook(tmp_path, FAIL_STEP, {'deploy_failure_ticket_fail': False,
                                          'deploy_failure_ticket_dedupe_key': 'release-42',
                                          'deploy_failure_ticket_release': 'r42',
                                          'deploy_failure_ticket_subject_template': 'my_subject.j2',
                                          'deploy_failure_ticket_category': 'bug_report',
                                          'deploy_failure_ticket_context': {'Pipeline': 'https://ci.example.com/1'}})
    result = run_playbook(book, inv, env_for(sandbox, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'play went on after the deploy block' in result.stdout
    (ticket,) = sandbox.tickets()
    assert 'Filed Upsun ticket {0}'.format(ticket['ticket_id']) in result.stdout
    assert 'web1' in ticket['description'] and 'web2' in ticket['description']
    assert ticket['subject'] == 'Shop deploy r42 failed'
    assert ticket['category'] == 'bug_report'
    assert 'Pipeline: https://ci.example.com/1' in ticket['description']


def test_api_down_spools_then_flush_files_once(sandbox, tmp_path):
    inv = inventory(tmp_path, ['web1', 'web2'])
    book = playbook(tmp_path, FAIL_STEP, {'deploy_failure_ticket_priority': 'urgent'}, module_defaults={'retries': 0})
    # The API is down at its own URL: the flush files only the records of the API it files with.
    sandbox.fault('/oauth2/token', status=503, count=1000)
    result = run_playbook(book, inv, env_for(sandbox, tmp_path))

    # The play still fails with the deploy's error, and says where the ticket went.
    assert result.returncode == 2, result.stdout + result.stderr
    after_role = result.stdout.split("Fail each failed host with the deploy's error", 1)[1]
    assert after_role.count('migration 42 failed: relation') >= 2
    spool_dir = tmp_path / 'home' / '.ansible' / 'upsun_support_spool'
    files = files_under(spool_dir)
    assert len(files) == 1, files
    spool_file = files[0]
    assert str(spool_file) in result.stdout
    assert 'upsun.support.flush_spool' in result.stdout
    assert oct(spool_file.stat().st_mode & 0o777) == '0o600'

    raw = spool_file.read_text()
    assert TOKEN not in raw
    record = json.loads(raw)
    assert record['format'] == 2 and record['source'] == 'role' and record['ticket']['filed_by'] == 'role'
    assert record['created'].endswith('Z') and 'HTTP 503' in record['error']
    assert not set(record['ticket']) & {'api_token', 'access_token', 'api_url', 'auth_url'}
    assert record['ticket']['priority'] == 'urgent'
    assert record['ticket']['dedupe_key']
    assert 'web1' in record['ticket']['description'] and 'web2' in record['ticket']['description']
    assert [(entry['method'], entry['path']) for entry in sandbox.journal()] == [('POST', '/oauth2/token')]
    assert record['connection'] == {'api_url': sandbox.url}

    # Flush: files it once and removes the file; a second flush files nothing.
    sandbox.clear_faults()
    flush_env = env_for(sandbox, tmp_path)
    flushed = run_playbook('upsun.support.flush_spool', inv, flush_env, cwd=tmp_path,
                           args=['-e', 'upsun_support_spool_dir={0}'.format(spool_dir)])
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert files_under(spool_dir) == []
    tickets = sandbox.tickets()
    assert len(tickets) == 1
    assert tickets[0]['priority'] == 'urgent'
    assert tickets[0]['subject'] == record['ticket']['subject']

    # A second flush files nothing. A spooled ticket the API cannot take (here: refused by the module's checks)
    # stays in the spool, and the play fails naming it.
    refused = write(spool_dir / 'ticket-20260101T000000Z-refused.json', json.dumps({
        'format': 2, 'created': '2026-01-01T00:00:00Z', 'source': 'role', 'error': 'API down',
        'ticket': {'subject': 'Refused', 'description': 'Not a valid priority', 'priority': 'critical'}}))
    again = run_playbook('upsun.support.flush_spool', inv, flush_env, cwd=tmp_path,
                         args=['-e', 'upsun_support_spool_dir={0}'.format(spool_dir)])
    assert again.returncode == 2, again.stdout + again.stderr
    assert len(ticket_posts(sandbox)) == 1
    assert len(sandbox.tickets()) == 1
    assert files_under(spool_dir) == [refused]
    assert 'could not be filed' in again.stdout and refused.name in again.stdout


def test_logs_attached_capped_and_redacted(sandbox, tmp_path):
    logs = tmp_path / 'logs'
    old_secret = 'OLD-LINE-BEFORE-THE-TAIL'
    body = ''.join('{0} INFO step {1} ok\n'.format(old_secret if i == 0 else '2026-01-01', i) for i in range(3000))
    tail = (
        'INFO connecting to db with password=hunter2-db-pass\n'
        'DEBUG sending Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\n'
        '-----BEGIN OPENSSH PRIVATE KEY-----\n'
        'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ-PEM-BODY-SECRET\n'
        '-----END OPENSSH PRIVATE KEY-----\n'
        'ERROR deploy failed: could not migrate\n'
    )
    write(logs / 'deploy.log', body + tail)
    write(logs / 'app.log', ''.join('app line {0} fine\n'.format(i) for i in range(400)))
    inv = inventory(tmp_path, ['web1'])
    book = playbook(tmp_path, FAIL_STEP, {
        'deploy_failure_ticket_logs': [str(logs / 'deploy.log'), str(logs / 'app.log'), str(logs / 'missing.log')],
        'deploy_failure_ticket_log_tail_kib': 4,
        'deploy_failure_ticket_logs_max_total_kib': 6,
    })
    result = run_playbook(book, inv, env_for(sandbox, tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'hunter2' not in result.stdout

    (ticket,) = sandbox.tickets()
    attachments = dict((item['filename'], item) for item in sandbox.attachments(ticket['ticket_id']))
    assert set(attachments) == {'web1-deploy.log', 'web1-app.log'}
    deploy_log = attachments['web1-deploy.log']['content'].decode('utf-8')
    # The end of the file, capped at the tail size (plus a one-line header).
    assert 'ERROR deploy failed: could not migrate' in deploy_log
    assert old_secret not in deploy_log
    assert attachments['web1-deploy.log']['size'] <= 4 * 1024 + 200
    # Redacted: the password, the bearer token and the key block.
    assert 'hunter2' not in deploy_log and 'password=[REDACTED]' in deploy_log
    assert 'abcdefghijklmnop' not in deploy_log and 'Authorization: Bearer [REDACTED]' in deploy_log
    assert 'PEM-BODY-SECRET' not in deploy_log and 'PRIVATE KEY-----' in deploy_log
    # The total cap holds over all attachments.
    assert sum(item['size'] for item in attachments.values()) <= 6 * 1024
    assert 'app line 399 fine' in attachments['web1-app.log']['content'].decode('utf-8')
    # What was attached, and what could not be, is in the description.
    assert 'web1-deploy.log' in ticket['description']
    assert 'missing.log on web1: not found' in ticket['description']
    for secret in ('hunter2', 'abcdefghijklmnop', 'PEM-BODY-SECRET'):
        assert secret not in json.dumps(sandbox.tickets())


def test_no_log_secret_never_reaches_the_ticket(sandbox, tmp_path):
    secret = 's3cr3t-n0-l0g-value'
    logs = tmp_path / 'logs'
    write(logs / 'deploy.log', 'deploy started\ndeploy failed\n')
    inv = inventory(tmp_path, ['web1'])
    deploy = [{'name': 'Log in to the registry', 'ansible.builtin.command': {
        'argv': ['sh', '-c', 'echo "login refused for token {0}" >&2; exit 1'.format(secret)]},
        'changed_when': False, 'no_log': True}]
    book = playbook(tmp_path, deploy, {'deploy_failure_ticket_logs': [str(logs / 'deploy.log')]})
    result = run_playbook(book, inv, env_for(sandbox, tmp_path), args=['-v'])
    assert result.returncode == 2, result.stdout + result.stderr
    assert secret not in result.stdout + result.stderr

    (ticket,) = sandbox.tickets()
    assert 'hidden by no_log' in ticket['description']
    assert 'Log in to the registry' in ticket['description']
    stored = json.dumps(sandbox.ticket(ticket['ticket_id']))
    assert secret not in stored
    for attachment in sandbox.attachments(ticket['ticket_id']):
        assert secret.encode() not in attachment['content']
    for entry in sandbox.journal():
        assert secret not in json.dumps(entry)
