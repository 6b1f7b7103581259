# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the upsun.support.ticket module, ad hoc, against the offline sandbox this script starts.

Three commands, each run as its own process, after one untimed warm-up run of each, in rounds: every round runs each
command once, in the order ticket, ping, uri, then uri, ping, ticket in the next round, and so on:

- ticket: ``ansible localhost -m upsun.support.ticket -a "subject=... description=... priority=high"``;
- ping:   ``ansible localhost -m ansible.builtin.ping``, the floor for any module;
- uri:    ``ansible-playbook`` of the hand-written alternative users have today: a play on localhost that exchanges
  the API token and posts the ticket with two ``ansible.builtin.uri`` tasks.

Printed: the ratios ticket/ping (target at most 1.15) and ticket/uri (target at most 1.0), with PASS or FAIL each;
the median wall time of each command; how many TCP connections the module's ticket runs used (the token exchange and
the POST should share one); and whether the HTTP libraries the module imports have bytecode (.pyc) files.

The ratios are judged on instruction counts: each command also runs once under ``valgrind --tool=callgrind
--trace-children=yes``, and the instructions executed are summed over every process of the run (controller, worker,
shell, and the module's own ``AnsiballZ_*.py``, whose share is printed in brackets). They hardly depend on the
machine's speed: on the 2-CPU machines this runs on, ticket/ping in wall time moved between 1.09 and 1.19 from one
run to the next, its instruction count between 1.123 and 1.132 (the controller polls while it waits for the module,
so a slower run executes a few more instructions). About 80 s per command.

On localhost the ticket module's action plugin runs the module's code in the controller's worker
(``plugins/plugin_utils/controller_module.py``), so the ticket has no module process and its bracket share is 0: what
it costs is in the worker. (Packed and run as a module process, as on another host, it cost 1.19 times ping when the
module's code had grown to about 22,500 syntax-tree nodes, which the controller parses to pack them and the module
process compiles again.)

The timed ratios are printed for information (and judged where valgrind is missing, or with ``--no-instructions``):
each is the median of its per-round ratios (ticket's time over ping's in the same round), with the ratio of the two
medians next to it. The runs of one round share most of a change of the machine's speed, so the per-round ratio
cancels it where the ratio of medians taken over the whole run does not; the alternating order keeps a slow drift
from favouring the command that runs first.

With ``--explain``, also where the cost goes: a fourth command, ``floor``, runs ad hoc a module of a throwaway
collection that only imports ``requests`` and exits, interleaved with the others, so that ticket/floor is the cost of
the module's own code and its two API calls. With ``--explain`` or when a target is missed, the import time of the
module's code next to ping's. Exit status 1 when a target is missed or a run fails.

    PYTHONPATH=tests/sandbox python tests/bench/bench_module.py [--runs 31] [--explain] [--no-instructions] [--json]
"""

from __future__ import absolute_import, division, print_function

import argparse
import importlib.util
import json
import os
import re
import shutil
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


# The floor for any module that uses requests: a throwaway collection's module that imports it and exits.
FLOOR_COLLECTION = 'bench_floor.requests_only'
FLOOR_MODULE = '''\
#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

import requests  # noqa: F401 pylint: disable=unused-import


def main():
    module = AnsibleModule(argument_spec=dict(subject=dict(), description=dict(), priority=dict()))
    module.exit_json(changed=False)


if __name__ == '__main__':
    main()
'''

# What the ticket module imports at each run besides ansible.module_utils; without bytecode files each run compiles them.
HTTP_PACKAGES = ('requests', 'urllib3', 'charset_normalizer', 'idna', 'certifi')


def tool(name):
    path = BIN_DIR / name
    return str(path) if path.exists() else name


def bench_env(sandbox, home, extra_collections=None):
    """A clean environment: no ANSIBLE_*/UPSUN_* of the caller, the collection from this checkout, the sandbox's credentials."""
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')))
    env.update(sandbox.env())
    env.update(
        PATH=os.pathsep.join([str(BIN_DIR), env.get('PATH', '')]),
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO_ROOT / 'collections')] + list(extra_collections or [])),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / 'tmp'),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCALHOST_WARNING='False',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
    )
    return env


def write_floor_collection(root):
    """Write the throwaway collection holding the floor module under root; return root."""
    namespace, name = FLOOR_COLLECTION.split('.')
    modules = root / 'ansible_collections' / namespace / name / 'plugins' / 'modules'
    modules.mkdir(parents=True)
    (modules / 'noop.py').write_text(FLOOR_MODULE)
    return root


def commands(workdir):
    playbook = workdir / 'uri.yml'
    playbook.write_text(URI_PLAYBOOK)
    return {
        'ticket': [tool('ansible'), 'localhost', '-m', 'upsun.support.ticket', '-a', TICKET_ARGS],
        'ping': [tool('ansible'), 'localhost', '-m', 'ansible.builtin.ping'],
        'uri': [tool('ansible-playbook'), str(playbook)],
        'floor': [tool('ansible'), 'localhost', '-m', FLOOR_COLLECTION + '.noop', '-a', TICKET_ARGS],
    }


def missing_bytecode():
    """The HTTP packages whose __init__ has no up-to-date .pyc file next to it, in this interpreter (the modules' one)."""
    missing = []
    for package in HTTP_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.origin:
            continue
        cached = importlib.util.cache_from_source(spec.origin)
        if not os.path.exists(cached) or os.path.getmtime(cached) < os.path.getmtime(spec.origin):
            missing.append(package)
    return missing


def run_once(name, command, env, cwd, sandbox):
    """Run one command; return its wall time in seconds. A failed run, or one that filed no ticket, is an error."""
    files_ticket = name in ('ticket', 'uri')
    before = len(sandbox.tickets()) if files_ticket else 0
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError('{0} failed (exit status {1}):\n{2}{3}'.format(name, result.returncode, result.stdout, result.stderr))
    if files_ticket and len(sandbox.tickets()) != before + 1:
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
    parser.add_argument('--runs', type=int, default=31, help='rounds: timed runs of each command (default 31)')
    parser.add_argument('--explain', action='store_true', help='always print where the cost goes')
    parser.add_argument('--no-instructions', dest='instructions', action='store_false',
                        help='do not count instructions under valgrind: judge the ratios on wall time')
    parser.add_argument('--json', action='store_true', help='print the results as JSON')
    args = parser.parse_args(argv)
    valgrind = shutil.which('valgrind') if args.instructions else None

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix='bench-module-') as tmp, SandboxProcess() as sandbox:
        workdir = Path(tmp)
        env = bench_env(sandbox, workdir / 'ansible-home', [str(write_floor_collection(workdir / 'floor'))])
        cmds = commands(workdir)
        order = ('ticket', 'ping', 'uri', 'floor') if args.explain else ('ticket', 'ping', 'uri')
        times = dict((name, []) for name in order)
        for name in order:  # warm-up: caches, .pyc files, the sandbox's validator
            run_once(name, cmds[name], env, workdir, sandbox)
        for round_number in range(args.runs):
            for name in (order if round_number % 2 == 0 else order[::-1]):
                times[name].append(run_once(name, cmds[name], env, workdir, sandbox))
        connections = connections_per_ticket_run(sandbox, env, workdir, cmds['ticket'])
        instructions = None
        if valgrind:
            (workdir / 'callgrind').mkdir()
            instructions = dict((name, count_instructions(name, cmds[name], env, workdir, workdir / 'callgrind'))
                                for name in order)
        medians = dict((name, statistics.median(values)) for name, values in times.items())
        checks = [ratio_check(numerator, denominator, target, times, medians, instructions)
                  for numerator, denominator, target in TARGETS]
        failed = not all(check['passed'] for check in checks)
        explain = import_times(env) if (args.explain or failed) else None
    load = (load_before, os.getloadavg()[0])
    no_bytecode = missing_bytecode()

    if args.json:
        print(json.dumps({
            'runs': args.runs, 'times': times, 'medians': medians, 'load_average': load, 'cpus': os.cpu_count(),
            'ratios': checks,
            'ticket_run_requests': connections,
            'import_ms': explain[0] if explain else None,
            'packages_without_bytecode': no_bytecode,
            'instructions': instructions,
        }, indent=2))
    else:
        report(args.runs, times, medians, checks, connections, explain, load, no_bytecode, instructions,
               valgrind_missing=args.instructions and not valgrind)
    return 1 if failed else 0


def ratio_check(numerator, denominator, target, times, medians, instructions):
    """One target: judged on the instruction counts when there are some, else on the per-round wall-time ratios."""
    wall_time = paired_ratio(times, numerator, denominator)
    counted = instructions[numerator][0] / instructions[denominator][0] if instructions else None
    return dict(name='{0}/{1}'.format(numerator, denominator), numerator=numerator, denominator=denominator,
                target=target, judged_on='wall time' if counted is None else 'instructions',
                passed=(wall_time if counted is None else counted) <= target, instructions=counted,
                wall_time=wall_time, wall_time_ratio_of_medians=medians[numerator] / medians[denominator])


def count_instructions(name, command, env, cwd, outdir):
    """Run command once under callgrind; return (instructions in all its processes, those in the module's process)."""
    pattern = str(outdir / (name + '.%p.out'))
    subprocess.run(['valgrind', '--tool=callgrind', '--trace-children=yes', '--callgrind-out-file=' + pattern] + command,
                   env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, capture_output=True, check=True)
    total = module = 0
    for path in outdir.glob(name + '.*.out'):
        text = path.read_text(errors='replace')
        count = re.search(r'^(?:summary|totals): (\d+)', text, re.MULTILINE)
        command_line = re.search(r'^cmd: (.*)$', text, re.MULTILINE)
        if count:
            total += int(count.group(1))
            if command_line and 'AnsiballZ_' in command_line.group(1) and '/bin/sh' not in command_line.group(1):
                module += int(count.group(1))
    return total, module


def paired_ratio(times, numerator, denominator):
    """The median over the rounds of numerator's time over denominator's time in the same round."""
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


def report(runs, times, medians, checks, connections, explain, load, no_bytecode, instructions, valgrind_missing):
    labels = {
        'ticket': 'ansible localhost -m upsun.support.ticket',
        'ping': 'ansible localhost -m ansible.builtin.ping',
        'uri': 'ansible-playbook, two ansible.builtin.uri tasks',
        'floor': 'ansible localhost -m {0}.noop (imports requests, no API call)'.format(FLOOR_COLLECTION),
    }
    print('upsun.support.ticket, ad hoc, against the sandbox')
    if instructions:
        print('  instructions executed, one run of each under callgrind (all processes; the module\'s own process in brackets):')
        for name, (total, module) in instructions.items():
            print('  {0:<7} {1:6.3f} G  [{2:.3f} G]  {3}'.format(name, total / 1e9, module / 1e9, labels[name]))
    elif valgrind_missing:
        print('  valgrind not found (apt-get install valgrind): no instruction counts, so the ratios are judged on wall')
        print('  time, which moves by several percent from one run to the next on a shared machine')
    for check in checks:
        if check['judged_on'] == 'instructions':
            print('{0}  {name} = {instructions:.3f} (target <= {target:.2f}; instructions executed)'.format(
                'PASS' if check['passed'] else 'FAIL', **check))
        else:
            print('{0}  {name} = {wall_time:.3f} (target <= {target:.2f}; wall time, the median of the per-round ratios; '
                  'the ratio of the medians is {wall_time_ratio_of_medians:.3f})'.format('PASS' if check['passed'] else 'FAIL', **check))
    print('  wall time: {0} rounds, each running every command once (after a warm-up run); 1-minute load average {1:.1f} '
          'before, {2:.1f} after, on {3} CPUs'.format(runs, load[0], load[1], os.cpu_count()))
    for name in times:
        print('  {0:<7} median {1:6.3f} s  (min {2:.3f}, max {3:.3f})  {4}'.format(
            name, medians[name], min(times[name]), max(times[name]), labels[name]))
    if instructions:
        for check in checks:
            print('  for information, in wall time: {name} = {wall_time:.3f} (median of the per-round ratios; the ratio of '
                  'the medians is {wall_time_ratio_of_medians:.3f})'.format(**check))
    used = sorted(set(connection for dummy, dummy_path, connection in connections))
    print('One ad hoc ticket run sent {0} request(s) over {1} TCP connection(s): {2}'.format(
        len(connections), len(used), ', '.join('{0} {1} (#{2})'.format(*entry) for entry in connections)))
    if no_bytecode:
        print('WARNING: no bytecode (.pyc) for {0} in {1}: where PYTHONDONTWRITEBYTECODE is set or site-packages is '
              'read-only, every module run compiles them again (a few tenths of a second). Install with pip, or with '
              '`uv pip install --compile-bytecode`, or run `python -m compileall` on site-packages.'.format(
                  ', '.join(no_bytecode), sys.prefix))
    else:
        print('Bytecode: {0} have up-to-date .pyc files in {1}'.format(', '.join(HTTP_PACKAGES), sys.prefix))
    if 'floor' in medians:
        print('Where the cost goes: floor/ping = {0} (a collection module importing requests), ticket/floor = {1} (the '
              'module\'s own code and its two API calls)'.format(
                  cost_ratio(times, instructions, 'floor', 'ping'), cost_ratio(times, instructions, 'ticket', 'floor')))
    if explain:
        totals, top = explain
        print('Import time of the module code (python -X importtime, median): ticket {0:.0f} ms, ping {1:.0f} ms'.format(
            totals['ticket'], totals['ping']))
        print('  biggest imports of the ticket module (cumulative ms):')
        for milliseconds, module in top:
            print('    {0:7.1f}  {1}'.format(milliseconds, module))


def cost_ratio(times, instructions, numerator, denominator):
    """A ratio of the --explain breakdown: in instructions and wall time when counted, else in wall time."""
    timed = paired_ratio(times, numerator, denominator)
    if not instructions:
        return '{0:.3f} in wall time'.format(timed)
    return '{0:.3f} in instructions ({1:.3f} in wall time)'.format(
        instructions[numerator][0] / instructions[denominator][0], timed)


if __name__ == '__main__':
    sys.exit(main())
