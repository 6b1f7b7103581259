# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the upsun.support.ticket module, ad hoc, against the offline sandbox this script starts.

Three commands, each run as its own process, interleaved (ticket, ping, uri, ticket, ping, uri, ...) so that machine
noise spreads over all three, after one untimed warm-up run of each:

- ticket: ``ansible localhost -m upsun.support.ticket -a "subject=... description=... priority=high"``;
- ping:   ``ansible localhost -m ansible.builtin.ping``, the floor for any module;
- uri:    ``ansible-playbook`` of the hand-written alternative users have today: a play on localhost that exchanges
  the API token and posts the ticket with two ``ansible.builtin.uri`` tasks.

Printed: the median wall time of each, and the ratios ticket/ping (target at most 1.15) and ticket/uri (target at
most 1.0), with PASS or FAIL each; then how many TCP connections the module's ticket runs used (the token exchange
and the POST should share one) and, with ``--explain`` or when a target is missed, the import time of the module's
code next to ping's. Exit status 1 when a target is missed or a run fails.

    PYTHONPATH=tests/sandbox python tests/bench/bench_module.py [--runs 7] [--explain] [--json]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'sandbox'))

from upsun_sandbox.process import SandboxProcess  # noqa: E402 pylint: disable=import-error,wrong-import-position

BIN_DIR = Path(sys.executable).parent
TARGETS = (('ticket', 'ping', 1.15), ('ticket', 'uri', 1.0))
TICKET_ARGS = "subject='Bench: deploy of release 42 failed' description='Filed by tests/bench/bench_module.py' priority=high"

URI_PLAYBOOK = '''\
- name: File an Upsun ticket with ansible.builtin.uri, as users do without the collection
  hosts: localhost
  gather_facts: false
  vars:
    auth_url: "{{ lookup('ansible.builtin.env', 'UPSUN_CLI_AUTH_URL') }}"
    api_url: "{{ lookup('ansible.builtin.env', 'UPSUN_CLI_API_URL') }}"
  tasks:
    - name: Exchange the API token for an access token
      ansible.builtin.uri:
        url: "{{ auth_url }}/oauth2/token"
        method: POST
        url_username: platform-api-user
        url_password: ""
        force_basic_auth: true
        body_format: form-urlencoded
        body:
          grant_type: api_token
          api_token: "{{ lookup('ansible.builtin.env', 'UPSUN_CLI_TOKEN') }}"
      register: upsun_token
      no_log: true

    - name: File the ticket
      ansible.builtin.uri:
        url: "{{ api_url }}/tickets"
        method: POST
        headers:
          Authorization: "Bearer {{ upsun_token.json.access_token }}"
        body_format: json
        body:
          subject: "Bench: deploy of release 42 failed"
          description: Filed by tests/bench/bench_module.py
          priority: high
'''


def tool(name):
    path = BIN_DIR / name
    return str(path) if path.exists() else name


def bench_env(sandbox, home):
    """A clean environment: no ANSIBLE_*/UPSUN_* of the caller, the collection from this checkout, the sandbox's credentials."""
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')))
    env.update(sandbox.env())
    env.update(
        PATH=os.pathsep.join([str(BIN_DIR), env.get('PATH', '')]),
        ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / 'collections'),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / 'tmp'),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCALHOST_WARNING='False',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
    )
    return env


def commands(workdir):
    playbook = workdir / 'uri.yml'
    playbook.write_text(URI_PLAYBOOK)
    return {
        'ticket': [tool('ansible'), 'localhost', '-m', 'upsun.support.ticket', '-a', TICKET_ARGS],
        'ping': [tool('ansible'), 'localhost', '-m', 'ansible.builtin.ping'],
        'uri': [tool('ansible-playbook'), str(playbook)],
    }


def run_once(name, command, env, cwd, sandbox):
    """Run one command; return its wall time in seconds. A failed run, or one that filed no ticket, is an error."""
    before = len(sandbox.tickets()) if name != 'ping' else 0
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError('{0} failed (exit status {1}):\n{2}{3}'.format(name, result.returncode, result.stdout, result.stderr))
    if name != 'ping' and len(sandbox.tickets()) != before + 1:
        raise RuntimeError('{0} did not file exactly one ticket:\n{1}'.format(name, result.stdout))
    return elapsed


def connections_per_ticket_run(sandbox, env, cwd, command):
    """The TCP connections one ad hoc ticket run used, from the sandbox journal's connection numbers."""
    sandbox.clear_journal()
    subprocess.run(command, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, capture_output=True, check=True)
    journal = sandbox.journal()
    return [(entry['method'], entry['path'], entry['connection']) for entry in journal]


IMPORTS = {
    'ticket': 'import ansible_collections.upsun.support.plugins.modules.ticket',
    'ping': 'import ansible.modules.ping',
}


def import_times(env, repeat=5):
    """Median import time (ms) of the ticket module's code and of ping's, and the ticket's biggest imports below it."""
    env = dict(env, PYTHONPATH=str(REPO_ROOT / 'collections'))
    totals = {}
    biggest = {}
    for name, statement in IMPORTS.items():
        samples = []
        for dummy in range(repeat):
            result = subprocess.run([sys.executable, '-X', 'importtime', '-c', statement], env=env, capture_output=True, text=True,
                                    check=True)
            rows = []
            for line in result.stderr.splitlines():
                match = re.match(r'import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)', line)
                if match:
                    # Each nesting level indents the name by 2 more spaces; 1 is a top-level import.
                    rows.append((int(match.group(1)) / 1000.0, len(match.group(2)) // 2 + 1, match.group(3)))
            samples.append(sum(milliseconds for milliseconds, level, dummy_module in rows if level == 1))
            if name == 'ticket':
                for milliseconds, level, module in rows:
                    if 2 <= level <= 4:
                        biggest.setdefault(module, []).append(milliseconds)
        totals[name] = statistics.median(samples)
    top = sorted(((statistics.median(values), module) for module, values in biggest.items()), reverse=True)[:10]
    return totals, top


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=7, help='timed runs of each command (default 7)')
    parser.add_argument('--explain', action='store_true', help='always print where the time goes')
    parser.add_argument('--json', action='store_true', help='print the results as JSON')
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix='bench-module-') as tmp, SandboxProcess() as sandbox:
        workdir = Path(tmp)
        env = bench_env(sandbox, workdir / 'ansible-home')
        cmds = commands(workdir)
        order = ('ticket', 'ping', 'uri')
        times = dict((name, []) for name in order)
        for name in order:  # warm-up: caches, .pyc files, the sandbox's validator
            run_once(name, cmds[name], env, workdir, sandbox)
        for dummy in range(args.runs):
            for name in order:
                times[name].append(run_once(name, cmds[name], env, workdir, sandbox))
        connections = connections_per_ticket_run(sandbox, env, workdir, cmds['ticket'])
        medians = dict((name, statistics.median(values)) for name, values in times.items())
        checks = []
        for numerator, denominator, target in TARGETS:
            ratio = medians[numerator] / medians[denominator]
            checks.append((numerator, denominator, ratio, target, ratio <= target))
        failed = not all(check[-1] for check in checks)
        explain = import_times(env) if (args.explain or failed) else None
    load = (load_before, os.getloadavg()[0])

    if args.json:
        print(json.dumps({
            'runs': args.runs, 'times': times, 'medians': medians, 'load_average': load, 'cpus': os.cpu_count(),
            'ratios': [dict(name='{0}/{1}'.format(n, d), ratio=r, target=t, passed=p) for n, d, r, t, p in checks],
            'ticket_run_requests': connections,
            'import_ms': explain[0] if explain else None,
        }, indent=2))
    else:
        report(args.runs, times, medians, checks, connections, explain, load)
    return 1 if failed else 0


def report(runs, times, medians, checks, connections, explain, load):
    print('upsun.support.ticket, ad hoc, against the sandbox: {0} interleaved runs each (after a warm-up run)'.format(runs))
    print('  1-minute load average {0:.1f} before, {1:.1f} after, on {2} CPUs: the ratios are only as steady as the machine'.format(
        load[0], load[1], os.cpu_count()))
    labels = {
        'ticket': 'ansible localhost -m upsun.support.ticket',
        'ping': 'ansible localhost -m ansible.builtin.ping',
        'uri': 'ansible-playbook, two ansible.builtin.uri tasks',
    }
    for name in ('ticket', 'ping', 'uri'):
        print('  {0:<7} median {1:6.3f} s  (min {2:.3f}, max {3:.3f})  {4}'.format(
            name, medians[name], min(times[name]), max(times[name]), labels[name]))
    for numerator, denominator, ratio, target, passed in checks:
        print('{0}  {1}/{2} = {3:.3f} (target <= {4:.2f})'.format('PASS' if passed else 'FAIL', numerator, denominator, ratio, target))
    used = sorted(set(connection for dummy, dummy_path, connection in connections))
    print('One ad hoc ticket run sent {0} request(s) over {1} TCP connection(s): {2}'.format(
        len(connections), len(used), ', '.join('{0} {1} (#{2})'.format(*entry) for entry in connections)))
    if explain:
        totals, top = explain
        print('Import time of the module code (python -X importtime, median): ticket {0:.0f} ms, ping {1:.0f} ms'.format(
            totals['ticket'], totals['ping']))
        print('  biggest imports of the ticket module (cumulative ms):')
        for milliseconds, module in top:
            print('    {0:7.1f}  {1}'.format(milliseconds, module))


if __name__ == '__main__':
    sys.exit(main())
