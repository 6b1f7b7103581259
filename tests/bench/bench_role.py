# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the upsun.support.deploy_failure_ticket role on a deploy that fails on 200 hosts.

Three plays over the same inventory (200 hosts on the local connection, gather_facts false, same forks), each a
deploy block whose step fails on every host:

- baseline: its rescue only re-raises the error (``ansible.builtin.fail: msg: "{{ ansible_failed_result.msg }}"``),
  what a deploy without the role does to fail visibly;
- role: its rescue imports the role as its README shows (``import_role: upsun.support.deploy_failure_ticket`` with
  ``rolespec_validate: false``: the role checks its arguments once itself);
- included, for information: its rescue is ``include_role: upsun.support.deploy_failure_ticket`` with Ansible's
  check of the role's arguments: two more tasks per failed host (the include_role and the check), what the role
  cost before it checked its arguments itself.

They run in rounds, each play as its own ansible-playbook process (in the order baseline, role, included, then
rotated by one in each round), against the offline sandbox this script starts (reset before each role run, so each one
files its ticket from scratch). Printed: the API calls the sandbox journal saw per role run (target: one ticket,
at most 4 calls), and role/baseline (target at most 1.10) as the median of the per-round ratios of the wall
times, with the ratio of the CPU times (ansible-playbook and its workers) for information: it is less disturbed
by other work on the machine. Every run is checked: each host fails (once rescued) with the deploy's own error,
and the role's ticket names every failed host.

    PYTHONPATH=tests/sandbox python tests/bench/bench_role.py [--hosts 200] [--runs 6] [--forks 5]
        [--deploy command|fail] [--json] [--keep]

``--deploy command`` (default) fails in ``ansible.builtin.command`` like a real deploy step (a module run on each
host); ``--deploy fail`` in ``ansible.builtin.fail``, which costs next to nothing: the worst case for the ratio.
Per failed host the imported role runs one task, the fail that re-raises the deploy's error, as the baseline does;
its other tasks run once. Exit status 1 when a target is missed or a run is wrong.

``--instructions`` (needs valgrind, about 10 minutes) also runs the three plays under ``valgrind --tool=callgrind
--trace-children=yes`` at 4 and 12 hosts, and prints the instructions each failed host adds (the slope), which do
not depend on the machine's speed: in the workers (the forked processes that run each task for a host) and in the
processes they start (modules, shells). The main process is left out of the slope: it polls while it waits for its
workers, so its count grows with the run's wall time (slower under valgrind).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import resource
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

MAX_CALLS = 4
MAX_RATIO = 1.10
ERROR = 'deploy failed: migration 42 refused'

DEPLOY_STEPS = {
    'command': {'name': 'Run the deploy script', 'ansible.builtin.command': {
        'argv': ['sh', '-c', 'echo "{0}" >&2; exit 3'.format(ERROR)]}, 'changed_when': True},
    'fail': {'name': 'Run the deploy step', 'ansible.builtin.fail': {'msg': ERROR}},
}
RERAISE = {'name': 'Fail with the deploy error', 'ansible.builtin.fail': {'msg': '{{ ansible_failed_result.msg }}'}}
ROLE = 'upsun.support.deploy_failure_ticket'
RESCUES = {
    'baseline': RERAISE,
    'role': {'name': 'File one ticket for the failed deploy',
             'ansible.builtin.import_role': {'name': ROLE, 'rolespec_validate': False}},
    'included': {'name': 'File one ticket for the failed deploy', 'ansible.builtin.include_role': {'name': ROLE}},
}


def write_files(workdir, hosts, deploy):
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = workdir / 'inventory.ini'
    inventory.write_text('[web]\n' + ''.join('web{0:03d}\n'.format(i) for i in range(hosts))
                         + '\n[web:vars]\nansible_connection=local\nansible_python_interpreter={0}\n'.format(sys.executable))
    plays = {}
    for name, rescue in RESCUES.items():
        play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False,
                 'module_defaults': {'group/upsun.support.upsun': {'retries': 0}},
                 'tasks': [{'name': 'Deploy', 'block': [DEPLOY_STEPS[deploy]], 'rescue': [rescue]}]}]
        path = workdir / '{0}.yml'.format(name)
        path.write_text(json.dumps(play, indent=2))
        plays[name] = path
    return inventory, plays


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(playbook, inventory, env, forks):
    """Run one play; return (wall seconds, CPU seconds of ansible-playbook and its workers, CompletedProcess)."""
    cpu = cpu_seconds()
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(inventory), '-f', str(forks), str(playbook)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    return time.monotonic() - started, cpu_seconds() - cpu, result


def check_run(name, result, hosts, deploy):
    """What is wrong with one run: every host must end failed (once rescued), the last time with the deploy's error."""
    problems = []
    if result.returncode != 2:
        problems.append('{0} play: exit status {1} (expected 2)'.format(name, result.returncode))
    recap = re.findall(r'^(web\d+) +: .*failed=1 .*rescued=1 ', result.stdout, re.MULTILINE)
    if len(set(recap)) != hosts:
        problems.append('{0} play: {1} of the {2} hosts ended failed=1 rescued=1'.format(name, len(set(recap)), hosts))
    # The last task of the run fails each host again: after its header, one "fatal" line per host.
    last_task = result.stdout.rsplit('\nTASK [', 1)[-1]
    # The role fails each host with the deploy's error text; a plain re-raise with its msg.
    expected = ERROR if name != 'baseline' or deploy == 'fail' else 'non-zero return code'
    failed_again = set(re.findall(r'^fatal: \[(web\d+)\]: FAILED! => (.*)$', last_task, re.MULTILINE))
    own_error = [host for host, text in failed_again if expected in text]
    if len(own_error) != hosts:
        problems.append('{0} play: {1} of the {2} hosts failed again with the deploy error ({3!r})'.format(
            name, len(own_error), hosts, expected))
    if problems:
        problems[-1] += '\n' + result.stdout[-3000:]
    return problems


def count_instructions(playbook, inventory, env, forks, outdir):
    """Run one play under callgrind; return (main process, workers, started processes) instructions."""
    outdir.mkdir(parents=True)
    # Counters are dumped before each fork, so that a forked worker does not start with its parent's count.
    process = subprocess.Popen(
        ['valgrind', '--tool=callgrind', '--trace-children=yes', '--dump-before=fork', '--dump-before=_Fork',
         '--callgrind-out-file=' + str(outdir / '%p.out'), str(Path(sys.executable).parent / 'ansible-playbook'),
         '-i', str(inventory), '-f', str(forks), str(playbook)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process.wait()
    main = workers = started = 0
    for path in outdir.iterdir():
        text = path.read_text(errors='replace')
        count = re.search(r'^(?:summary|totals): (\d+)', text, re.MULTILINE)
        command_line = re.search(r'^cmd: (.*)$', text, re.MULTILINE)
        if not count:
            continue
        if path.name.split('.')[0] == str(process.pid):
            main += int(count.group(1))
        elif command_line and 'ansible-playbook' in command_line.group(1):
            workers += int(count.group(1))
        else:
            started += int(count.group(1))
    return main, workers, started


def instructions_per_host(workdir, env, forks, deploy, reset, sizes=(4, 12)):  # pylint: disable=too-many-arguments
    """{play: (workers, started) instructions per failed host}, the slope between ``sizes`` hosts."""
    counts = {}
    for hosts in sizes:
        inventory, plays = write_files(workdir / 'instructions-{0}'.format(hosts), hosts, deploy)
        for name, playbook in plays.items():
            reset()  # each role run files its ticket from scratch
            counts[(name, hosts)] = count_instructions(playbook, inventory, env, forks,
                                                       workdir / 'callgrind' / '{0}-{1}'.format(len(counts), hosts))
    low, high = sizes
    return dict((name, tuple((counts[(name, high)][part] - counts[(name, low)][part]) / float(high - low) for part in (1, 2)))
                for name in RESCUES)


def paired_ratio(values, numerator, denominator):
    return statistics.median(a / b for a, b in zip(values[numerator], values[denominator]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--runs', type=int, default=6, help='rounds: runs of each play (default 6: each of the 3 orders twice)')
    parser.add_argument('--forks', type=int, default=5, help='forks of both plays (default 5, as ansible.cfg)')
    parser.add_argument('--deploy', choices=sorted(DEPLOY_STEPS), default='command')
    parser.add_argument('--instructions', action='store_true',
                        help='also count the instructions per failed host under valgrind (callgrind), about 10 minutes')
    parser.add_argument('--json', action='store_true', help='print one JSON object instead of text')
    parser.add_argument('--keep', action='store_true', help='keep the work directory (playbooks, inventory, logs)')
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix='bench-role-'))
    inventory, plays = write_files(workdir, args.hosts, args.deploy)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'UPSUN_', 'PLATFORMSH_')))
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get('PATH', '')]),
        ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / 'collections'),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_RETRY_FILES_ENABLED='False',
        ANSIBLE_LOCAL_TEMP=str(workdir / 'tmp'),
        HOME=str(workdir),  # the role's default spool directory, should filing fail
    )
    load_before = os.getloadavg()[0]
    names = tuple(RESCUES)
    times = dict((name, []) for name in names)
    cpu = dict((name, []) for name in names)
    calls = []
    problems = []
    with SandboxProcess(log_path=workdir / 'sandbox.log') as sandbox:
        env.update(sandbox.env(), UPSUN_SUPPORT_LEDGER_DIR=str(workdir / 'ledger'))

        def reset():
            # A reset sandbox forgets its tickets: so must the ticket ledger, or the next run finds the one it recorded.
            sandbox.reset()
            shutil.rmtree(str(workdir / 'ledger'), ignore_errors=True)

        for round_number in range(args.runs):
            for name in names[round_number % 3:] + names[:round_number % 3]:
                if name != 'baseline':
                    reset()
                seconds, cpu_used, result = run(plays[name], inventory, env, args.forks)
                times[name].append(seconds)
                cpu[name].append(cpu_used)
                problems.extend(check_run(name, result, args.hosts, args.deploy))
                if name != 'baseline':
                    journal = sandbox.journal()
                    tickets = sandbox.tickets()
                    calls.append(len(journal))
                    if len(tickets) != 1:
                        problems.append('{0} play: {1} tickets filed, expected 1'.format(name, len(tickets)))
                    elif 'Failed hosts ({0} of {0} in the play)'.format(args.hosts) not in tickets[0]['description']:
                        problems.append('{0} play: the ticket does not name the {1} failed hosts'.format(name, args.hosts))
            if not args.json:
                print('  round {0}: {1}; {2} API calls ({3})'.format(
                    round_number + 1, ', '.join('{0} {1:.1f} s ({2:.1f} s CPU)'.format(name, times[name][-1], cpu[name][-1])
                                                for name in names),
                    calls[-1], ', '.join('{0} {1}'.format(e['method'], e['path']) for e in journal)), flush=True)
        per_host = None
        if args.instructions:
            per_host = instructions_per_host(workdir, env, args.forks, args.deploy, reset)
    load = (load_before, os.getloadavg()[0])

    if args.keep:
        print('work directory kept: {0}'.format(workdir), file=sys.stderr)
    else:
        shutil.rmtree(str(workdir), ignore_errors=True)

    ratio = paired_ratio(times, 'role', 'baseline')
    cpu_ratio = paired_ratio(cpu, 'role', 'baseline')
    included_ratio = paired_ratio(times, 'included', 'baseline')
    report = {
        'hosts': args.hosts, 'forks': args.forks, 'deploy': args.deploy, 'runs': args.runs,
        'load_average': load, 'cpus': os.cpu_count(),
        'api_calls': max(calls), 'problems': problems,
        'baseline_seconds': [round(t, 2) for t in times['baseline']],
        'role_seconds': [round(t, 2) for t in times['role']],
        'ratio': round(ratio, 3),
        'ratio_of_medians': round(statistics.median(times['role']) / statistics.median(times['baseline']), 3),
        'baseline_cpu_seconds': [round(t, 2) for t in cpu['baseline']],
        'role_cpu_seconds': [round(t, 2) for t in cpu['role']],
        'cpu_ratio': round(cpu_ratio, 3),
        'included_seconds': [round(t, 2) for t in times['included']],
        'included_ratio': round(included_ratio, 3),
        'instructions_per_failed_host': per_host,
        'targets': {'api_calls': MAX_CALLS, 'ratio': MAX_RATIO},
        'ok': not problems and max(calls) <= MAX_CALLS and ratio <= MAX_RATIO,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print('deploy_failure_ticket role, {0} hosts failing ({1} step), forks {2}, {3} round(s):'.format(
            args.hosts, args.deploy, args.forks, args.runs))
        print('  1-minute load average {0:.1f} before, {1:.1f} after, on {2} CPUs'.format(load[0], load[1], os.cpu_count()))
        checks_passed = max(calls) <= MAX_CALLS and not problems
        print('{0}  API calls per role run: {1} (target <= {2}), one ticket per run naming every failed host, each host '
              'failed again with its own error: {3}'.format(
                  'PASS' if checks_passed else 'FAIL', max(calls), MAX_CALLS, 'yes' if not problems else 'NO'))
        print('{0}  role/baseline = {1:.3f} (target <= {2:.2f}; wall time, median of the per-round ratios; the ratio of the '
              'medians is {3:.3f}; baseline median {4:.1f} s)'.format(
                  'PASS' if ratio <= MAX_RATIO else 'FAIL', ratio, MAX_RATIO, report['ratio_of_medians'],
                  statistics.median(times['baseline'])))
        print('  for information: CPU time role/baseline = {0:.3f}'.format(cpu_ratio))
        print('  for information: included/baseline = {0:.3f} (include_role, with Ansible\'s check of the role\'s arguments '
              'on every failed host: two more tasks per host)'.format(included_ratio))
        if per_host:
            print('  instructions each failed host adds (callgrind, slope from 4 to 12 hosts; the main process left out):')
            for name, (workers, started) in per_host.items():
                print('    {0:<30} {1:7.1f} M in the workers, {2:7.1f} M in the processes they start'.format(
                    name, workers / 1e6, started / 1e6))
        for problem in problems:
            print('  PROBLEM: ' + problem)
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
