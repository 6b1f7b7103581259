# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the upsun.support.deploy_failure_ticket role on a deploy that fails on 200 hosts.

Two plays over the same inventory (200 hosts on the local connection, gather_facts false, same forks):

- baseline: a deploy block whose step fails on every host, without a rescue;
- role: the same block with ``include_role: upsun.support.deploy_failure_ticket`` in its rescue.

They run alternately (baseline, role, baseline, role, ...), each as its own ansible-playbook process, against the
offline sandbox this script starts (reset before each role run, so each one files its ticket from scratch).
Printed: the API calls the sandbox journal saw per role run (target: one ticket, at most 4 calls) and the median
wall time of the role play over the median of the baseline (target: at most 1.5).

    PYTHONPATH=tests/sandbox python tests/bench/bench_role.py [--hosts 200] [--repeat 3] [--forks 5]
        [--deploy command|fail] [--json] [--keep]

``--deploy command`` (default) fails in ``ansible.builtin.command`` like a real deploy step (a module run on each
host); ``--deploy fail`` in ``ansible.builtin.fail``, which costs next to nothing: the worst case for the ratio, which
then misses the target, since Ansible itself runs three tasks per failed host for the role (the include_role, the
role's argument validation, and the fail that re-raises the deploy's error), each costing about as much as that
deploy step. The CPU time of each play (ansible-playbook and its workers) is printed too: it is less disturbed by
other work on the machine than the wall time. Exit status 1 when a target is missed.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
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
MAX_RATIO = 1.5

DEPLOY_STEPS = {
    'command': {'name': 'Run the deploy script', 'ansible.builtin.command': {
        'argv': ['sh', '-c', 'echo "deploy failed: migration 42 refused" >&2; exit 3']}, 'changed_when': True},
    'fail': {'name': 'Run the deploy step', 'ansible.builtin.fail': {'msg': 'deploy failed: migration 42 refused'}},
}


def write_files(workdir, hosts, deploy):
    inventory = workdir / 'inventory.ini'
    inventory.write_text('[web]\n' + ''.join('web{0:03d}\n'.format(i) for i in range(hosts))
                         + '\n[web:vars]\nansible_connection=local\nansible_python_interpreter={0}\n'.format(sys.executable))
    step = DEPLOY_STEPS[deploy]
    plays = {}
    for name, rescue in (('baseline', None), ('role', [{
            'name': 'File one ticket for the failed deploy',
            'ansible.builtin.include_role': {'name': 'upsun.support.deploy_failure_ticket'}}])):
        block = {'name': 'Deploy', 'block': [step]}
        if rescue:
            block['rescue'] = rescue
        play = [{'name': 'Deploy the shop', 'hosts': 'web', 'gather_facts': False,
                 'module_defaults': {'group/upsun.support.upsun': {'retries': 0}}, 'tasks': [block]}]
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--repeat', type=int, default=3, help='runs of each play; the medians are compared')
    parser.add_argument('--forks', type=int, default=5, help='forks of both plays (default 5, as ansible.cfg)')
    parser.add_argument('--deploy', choices=sorted(DEPLOY_STEPS), default='command')
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
    times = {'baseline': [], 'role': []}
    cpu = {'baseline': [], 'role': []}
    calls = []
    problems = []
    with SandboxProcess(log_path=workdir / 'sandbox.log') as sandbox:
        env.update(sandbox.env())
        for dummy in range(args.repeat):
            for name in ('baseline', 'role'):
                if name == 'role':
                    sandbox.reset()
                seconds, cpu_used, result = run(plays[name], inventory, env, args.forks)
                times[name].append(seconds)
                cpu[name].append(cpu_used)
                if result.returncode != 2:
                    problems.append('{0} play: exit status {1} (expected 2)\n{2}'.format(
                        name, result.returncode, result.stdout[-3000:]))
                if name == 'role':
                    journal = sandbox.journal()
                    tickets = sandbox.tickets()
                    calls.append(len(journal))
                    if len(tickets) != 1:
                        problems.append('role play: {0} tickets filed, expected 1'.format(len(tickets)))
                    elif tickets[0]['description'].count('web') < args.hosts:
                        problems.append('role play: the ticket does not list the {0} hosts'.format(args.hosts))
                    if not args.json:
                        print('  run: baseline {0:.1f} s ({1:.1f} s CPU), role {2:.1f} s ({3:.1f} s CPU), {4} API calls ({5})'.format(
                            times['baseline'][-1], cpu['baseline'][-1], seconds, cpu_used, len(journal),
                            ', '.join('{0} {1}'.format(e['method'], e['path']) for e in journal)), flush=True)

    if args.keep:
        print('work directory kept: {0}'.format(workdir), file=sys.stderr)
    else:
        shutil.rmtree(str(workdir), ignore_errors=True)

    baseline = statistics.median(times['baseline'])
    role = statistics.median(times['role'])
    ratio = role / baseline
    # Less sensitive than the wall time to other work on the machine: printed for information, not a target.
    cpu_ratio = statistics.median(cpu['role']) / statistics.median(cpu['baseline'])
    report = {
        'hosts': args.hosts, 'forks': args.forks, 'deploy': args.deploy, 'repeat': args.repeat,
        'api_calls': max(calls), 'tickets_per_run': 1 if not problems else None,
        'baseline_seconds': [round(t, 2) for t in times['baseline']],
        'role_seconds': [round(t, 2) for t in times['role']],
        'median_baseline_seconds': round(baseline, 2), 'median_role_seconds': round(role, 2),
        'ratio': round(ratio, 3),
        'baseline_cpu_seconds': [round(t, 2) for t in cpu['baseline']],
        'role_cpu_seconds': [round(t, 2) for t in cpu['role']],
        'cpu_ratio': round(cpu_ratio, 3),
        'targets': {'api_calls': MAX_CALLS, 'ratio': MAX_RATIO},
        'ok': not problems and max(calls) <= MAX_CALLS and ratio <= MAX_RATIO,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print('deploy_failure_ticket role, {0} hosts failing ({1} step), forks {2}, {3} run(s) each:'.format(
            args.hosts, args.deploy, args.forks, args.repeat))
        print('  API calls per role run: {0} (target <= {1}), one ticket per run: {2}'.format(
            max(calls), MAX_CALLS, 'yes' if not problems else 'NO'))
        print('  wall time: role {0:.1f} s / baseline {1:.1f} s = {2:.2f} (target <= {3})'.format(
            role, baseline, ratio, MAX_RATIO))
        print('  CPU time (information): role / baseline = {0:.2f}'.format(cpu_ratio))
        for problem in problems:
            print('  PROBLEM: ' + problem)
        print('  ' + ('OK' if report['ok'] else 'TARGET MISSED'))
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
