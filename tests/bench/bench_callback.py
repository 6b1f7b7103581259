# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the upsun.support.ticket_on_failure callback on a successful run of 200 hosts.

The same play (200 hosts on the local connection, gather_facts false, one ``ansible.builtin.command`` task that
works on every host) runs without the callback and with it (``ANSIBLE_CALLBACKS_ENABLED``), each as its own
ansible-playbook process, against an offline sandbox of the Upsun API (its token and URLs are in the environment, so a
callback that sent anything would reach it).

The two runs of a round run side by side: started together (in alternating order from one round to the next), on the
same CPUs, so that both share whatever else slows the machine at the time. With the two runs one after the other, the
per-round ratios of this benchmark ranged from 0.94 to 1.07 here (the machine's speed drifts within a minute); side by
side, from 0.998 to 1.007. The callback's own cost is its loading, about a tenth of a second (printed at the end): no
hook of it runs for a successful task. That cost is on the controller's main process, where callbacks run, so it adds
to the wall time of its run side by side as it does alone. A cost spread over the forks would show at about half its
size in wall time (the run that ends first leaves the other both CPUs for its last part), and in full in CPU time:
the CPU time of each run is printed for information, and a CPU-time ratio well above the wall-time one would point
there.

Printed: the median wall time of each, and with/without (target at most 1.02) as the geometric mean of the per-round
wall-time ratios (see ``geometric_mean_ratio``), with PASS or FAIL; the same for the CPU time (user and system, of
every process of the run), for information; whether the sandbox received any request (target: none); and, for
information, what the callback costs by itself: the import of its module (``python -X importtime``) and making it
with its settings read (``set_options``), each the median of 5 runs. Exit status 1 when a target is missed or a run
fails.

    PYTHONPATH=tests/sandbox python tests/bench/bench_callback.py [--hosts 200] [--runs 6] [--forks 5] [--json]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_module import REPO_ROOT, bench_env, paired_ratio, tool  # noqa: E402 pylint: disable=wrong-import-position

from upsun_sandbox.process import SandboxProcess  # noqa: E402 pylint: disable=import-error,wrong-import-position

CALLBACK = 'upsun.support.ticket_on_failure'
TARGET = 1.02

PLAY = [{
    'name': 'Deploy the shop',
    'hosts': 'web',
    'gather_facts': False,
    'tasks': [{'name': 'Run the deploy script', 'ansible.builtin.command': {'argv': ['sh', '-c', 'echo deployed']},
               'changed_when': False}],
}]

# Made as ansible-playbook makes it: loaded by name, then its settings read.
SET_OPTIONS = '''
import time
started = time.perf_counter()
from ansible.plugins.loader import callback_loader, init_plugin_loader
init_plugin_loader()
loaded = time.perf_counter()
plugin = callback_loader.get({0!r})
plugin.set_options()
done = time.perf_counter()
print((done - loaded) * 1000)
'''.format(CALLBACK)


def write_files(workdir, hosts):
    inventory = workdir / 'inventory.ini'
    inventory.write_text('[web]\n' + ''.join('web{0:03d}\n'.format(i) for i in range(hosts))
                         + '\n[web:vars]\nansible_connection=local\nansible_python_interpreter={0}\n'.format(sys.executable))
    playbook = workdir / 'deploy.yml'
    playbook.write_text(json.dumps(PLAY, indent=2))
    return inventory, playbook


def run_side_by_side(names, command, envs, hosts, workdir):
    """Start one run per name together, in that order; return {name: (wall seconds, CPU seconds)}.

    A run that fails, or where a host did not succeed, is an error.
    """
    results, errors = {}, []

    def run(name, output_path):
        with open(output_path, 'w+', encoding='utf-8') as output:
            started = time.perf_counter()
            process = subprocess.Popen(command, env=envs[name], stdin=subprocess.DEVNULL, stdout=output,  # pylint: disable=consider-using-with
                                       stderr=subprocess.STDOUT)
            # wait4 rather than wait: the CPU time of the run, its processes that ended before it included.
            dummy_pid, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            output.seek(0)
            text = output.read()
        succeeded = len(re.findall(r'^web\d+ +: ok=1 .*failed=0 ', text, re.MULTILINE))
        if process.returncode != 0 or succeeded != hosts:
            errors.append('{0}: exit status {1}, {2} of {3} hosts ok:\n{4}'.format(
                name, process.returncode, succeeded, hosts, text[-3000:]))
        results[name] = (elapsed, usage.ru_utime + usage.ru_stime)

    threads = [threading.Thread(target=run, args=(name, workdir / '{0}-{1}.log'.format(index, name)))
               for index, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError('\n'.join(errors))
    return results


def geometric_mean_ratio(values, numerator, denominator):
    """The geometric mean of the per-round ratios.

    The rounds alternate which of the two runs starts first. Over an even number of rounds, whatever edge starting
    first gives is on each side as often, and the geometric mean of the ratios cancels it, where the median of a few
    rounds keeps it.
    """
    logs = [math.log(a / b) for a, b in zip(values[numerator], values[denominator])]
    return math.exp(sum(logs) / len(logs))


def median_of(command, env, parse, repeat=5):
    samples = []
    for dummy in range(repeat):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        samples.append(parse(result))
    return statistics.median(samples)


def import_ms(env):
    """Median milliseconds to import the callback's module, cumulated (python -X importtime), ansible-core already loaded."""
    statement = 'import ansible.plugins.callback, ansible.playbook.block; import ansible_collections.upsun.support.plugins.callback.ticket_on_failure'

    def parse(result):
        for line in result.stderr.splitlines():
            match = re.match(r'import time:\s+\d+ \|\s+(\d+) \| ansible_collections\.upsun\.support\.plugins\.callback\.ticket_on_failure$', line)
            if match:
                return int(match.group(1)) / 1000.0
        raise RuntimeError('no import time for the callback:\n' + result.stderr[-2000:])

    return median_of([sys.executable, '-X', 'importtime', '-c', statement],
                     dict(env, PYTHONPATH=str(REPO_ROOT / 'collections')), parse)


def set_options_ms(env):
    """Median milliseconds to load the callback by name and read its settings, as ansible-playbook does."""
    return median_of([sys.executable, '-c', SET_OPTIONS], env, lambda result: float(result.stdout.strip().splitlines()[-1]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--hosts', type=int, default=200)
    # 6 rounds: an even number, so that each run starts first as often (see geometric_mean_ratio).
    parser.add_argument('--runs', type=int, default=6, help='rounds: side-by-side runs of the two plays (default 6)')
    parser.add_argument('--forks', type=int, default=5, help='forks of both plays (default 5, as ansible.cfg)')
    parser.add_argument('--json', action='store_true', help='print the results as JSON')
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix='bench-callback-') as tmp, SandboxProcess('--quiet') as sandbox:
        workdir = Path(tmp)
        inventory, playbook = write_files(workdir, args.hosts)
        command = [tool('ansible-playbook'), '-i', str(inventory), '-f', str(args.forks), str(playbook)]
        without = bench_env(sandbox, workdir / 'home')
        envs = {'without': without, 'with': dict(without, ANSIBLE_CALLBACKS_ENABLED=CALLBACK)}
        order = ('with', 'without')
        times = dict((name, []) for name in order)
        cpu_times = dict((name, []) for name in order)
        run_side_by_side(order, command, envs, args.hosts, workdir)  # warm-up: caches, .pyc files
        for round_number in range(args.runs):
            results = run_side_by_side(order if round_number % 2 == 0 else order[::-1], command, envs, args.hosts, workdir)
            for name, (wall, cpu) in results.items():
                times[name].append(wall)
                cpu_times[name].append(cpu)
        requests_sent = sandbox.journal()
        costs = {'import_ms': import_ms(envs['with']), 'set_options_ms': set_options_ms(envs['with'])}
    load = (load_before, os.getloadavg()[0])
    medians = dict((name, statistics.median(values)) for name, values in times.items())
    ratio = geometric_mean_ratio(times, 'with', 'without')
    median_ratio = paired_ratio(times, 'with', 'without')
    cpu_ratio = geometric_mean_ratio(cpu_times, 'with', 'without')
    passed = ratio <= TARGET and not requests_sent

    if args.json:
        print(json.dumps({'hosts': args.hosts, 'runs': args.runs, 'forks': args.forks, 'times': times, 'medians': medians,
                          'cpu_times': cpu_times, 'cpu_ratio': cpu_ratio, 'ratio': ratio, 'median_ratio': median_ratio,
                          'target': TARGET, 'requests_sent': len(requests_sent), 'load_average': load,
                          'cpus': os.cpu_count(), 'passed': passed, 'callback_cost': costs}, indent=2))
    else:
        print('{0} callback, a successful run of {1} hosts (one ansible.builtin.command task each), forks {2}: '
              '{3} rounds of the two runs side by side (after a warm-up round)'.format(CALLBACK, args.hosts, args.forks, args.runs))
        print('  1-minute load average {0:.1f} before, {1:.1f} after, on {2} CPUs'.format(load[0], load[1], os.cpu_count()))
        for name in order:
            print('  {0:<8} median {1:6.2f} s  (min {2:.2f}, max {3:.2f}; CPU time median {4:.1f} s)  {0} the callback'.format(
                name, medians[name], min(times[name]), max(times[name]), statistics.median(cpu_times[name])))
        print('{0}  with/without = {1:.3f} (target <= {2:.2f}; geometric mean of the per-round ratios; their median is '
              '{3:.3f}, the ratio of the medians {4:.3f})'.format(
                  'PASS' if ratio <= TARGET else 'FAIL', ratio, TARGET, median_ratio, medians['with'] / medians['without']))
        print('  per-round ratios: ' + ', '.join('{0:.3f}'.format(a / b) for a, b in zip(times['with'], times['without'])))
        print('  for information, in CPU time: with/without = {0:.3f} (geometric mean of the per-round ratios: {1})'.format(
            cpu_ratio, ', '.join('{0:.3f}'.format(a / b) for a, b in zip(cpu_times['with'], cpu_times['without']))))
        print('{0}  requests the sandbox received: {1} (target: none)'.format(
            'PASS' if not requests_sent else 'FAIL', len(requests_sent)))
        print('  for information, the callback by itself: import {0:.0f} ms, load and set_options {1:.1f} ms'.format(
            costs['import_ms'], costs['set_options_ms']))
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
