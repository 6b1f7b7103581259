# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of upsun.support.ticket_info listing 200 tickets over 40 pages, each request 50 ms slow, against one page.

Two offline sandboxes of the Upsun API holding the same 200 tickets, one with the sandbox's page size of 5 (40
pages), one with a page size of 200 (one page). Every API request, the token exchange included, is answered 50 ms
after it arrived (the sandbox's ``latency`` fault). The sandbox's own work on a request (mostly its OpenAPI
validation, about 3 ms of CPU) counts inside those 50 ms: its one Python process works on concurrent requests one
at a time, which would otherwise add up on top of the latency that the concurrent pages are meant to hide (a real
API does not serialise one client's requests). Four commands, each run as its own process, in rounds (alternating
their order):

- many:       ``ansible localhost -m upsun.support.ticket_info -a fetch=tickets`` over the 40 pages;
- one:        the same call over the one page: the baseline (same tickets, same result, one request less per page);
- sequential: ``many`` with ``page_concurrency=1``, one page after the other (for information, no target);
- delayed:    ``many`` with the 50 ms added on top of the sandbox's work (its ``delay`` fault), for information.

Printed: the median wall time of each, and many/one (target at most 1.6) as the median of the per-round ratios,
with PASS or FAIL; for information, the floor: the ratio a client doing no work at all would reach against the same
baselines (10 rounds of 4 pages after the first page, 50 ms each, on top of the baseline), and how many ms above it
many is. The floor falls as Ansible starts faster (a faster baseline): at a 0.87 s baseline it is 1.575. Every run
is checked: all the tickets, in the API's order (newest first), the API's count, and as many GET /tickets as there
are pages. Exit status 1 when the target is missed or a run is wrong.

    PYTHONPATH=tests/sandbox python tests/bench/bench_paging.py [--runs 9] [--delay 0.05] [--json]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_module import bench_env, paired_ratio, tool  # noqa: E402 pylint: disable=wrong-import-position

from upsun_sandbox.process import SandboxProcess  # noqa: E402 pylint: disable=import-error,wrong-import-position

TARGET = 1.6
TICKETS = 200
# The default page_concurrency (plugins/module_utils/client.py: DEFAULT_PAGE_CONCURRENCY), which 'many' runs with.
CONCURRENCY = 4
PAGE_SIZES = {'many': 5, 'one': TICKETS, 'sequential': 5, 'delayed': 5}
# The fault each command runs under: see the module docstring.
FAULTS = {'many': 'latency', 'one': 'latency', 'sequential': 'latency', 'delayed': 'delay'}


def seed(sandbox, count):
    return [sandbox.add_ticket(subject='Bench ticket {0}'.format(index), description='Seeded by bench_paging.py')['ticket_id']
            for index in range(count)]


def run_once(name, sandbox, expected, env, delay, cwd):  # pylint: disable=too-many-arguments
    """One ad hoc run with every request answered ``delay`` late (``FAULTS``); its wall time. A wrong result is an error."""
    sandbox.clear_faults()
    sandbox.clear_journal()
    sandbox.fault('/*', FAULTS[name], delay=delay, count=1000)
    command = [tool('ansible'), 'localhost', '-m', 'upsun.support.ticket_info', '-a', 'fetch=tickets']
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            check=False)
    elapsed = time.perf_counter() - started
    sandbox.clear_faults()
    if result.returncode != 0:
        raise RuntimeError('{0} failed (exit status {1}):\n{2}{3}'.format(name, result.returncode, result.stdout[-3000:],
                                                                          result.stderr[-3000:]))
    match = re.search(r'^localhost \| SUCCESS => ', result.stdout, re.MULTILINE)
    data = json.loads(result.stdout[match.end():]) if match else {}
    got = [ticket.get('ticket_id') for ticket in data.get('tickets') or []]
    gets = len(sandbox.journal(method='GET', path='/tickets'))
    pages = -(-len(expected) // PAGE_SIZES[name])
    if got != expected or data.get('count') != len(expected) or gets != pages:
        raise RuntimeError('{0}: expected the {1} tickets newest first over {2} requests, got {3} tickets (count {4}) '
                           'over {5} requests'.format(name, len(expected), pages, len(got), data.get('count'), gets))
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=9, help='rounds: timed runs of each command (default 9)')
    parser.add_argument('--delay', type=float, default=0.05, help='seconds added to each request (default 0.05)')
    parser.add_argument('--json', action='store_true', help='print the results as JSON')
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix='bench-paging-') as tmp, \
            SandboxProcess('--page-size', str(PAGE_SIZES['many']), '--quiet') as many_sandbox, \
            SandboxProcess('--page-size', str(PAGE_SIZES['one']), '--quiet') as one_sandbox:
        workdir = Path(tmp)
        ids = sorted(seed(many_sandbox, TICKETS), reverse=True)
        if sorted(seed(one_sandbox, TICKETS), reverse=True) != ids:
            raise RuntimeError('the two sandboxes did not number their tickets alike')
        expected = {'many': ids, 'one': ids, 'sequential': ids, 'delayed': ids}
        sandboxes = {'many': many_sandbox, 'one': one_sandbox, 'sequential': many_sandbox, 'delayed': many_sandbox}
        envs = {
            'many': bench_env(many_sandbox, workdir / 'home-many'),
            'one': bench_env(one_sandbox, workdir / 'home-one'),
            'sequential': dict(bench_env(many_sandbox, workdir / 'home-sequential'), UPSUN_SUPPORT_PAGE_CONCURRENCY='1'),
            'delayed': bench_env(many_sandbox, workdir / 'home-delayed'),
        }
        order = ('many', 'one', 'sequential', 'delayed')
        times = dict((name, []) for name in order)
        for name in order:  # warm-up: caches, .pyc files, the sandboxes' validators
            run_once(name, sandboxes[name], expected[name], envs[name], args.delay, workdir)
        for round_number in range(args.runs):
            for name in (order if round_number % 2 == 0 else order[::-1]):
                times[name].append(run_once(name, sandboxes[name], expected[name], envs[name], args.delay, workdir))
    load = (load_before, os.getloadavg()[0])
    medians = dict((name, statistics.median(values)) for name, values in times.items())
    ratio = paired_ratio(times, 'many', 'one')
    sequential = paired_ratio(times, 'sequential', 'one')
    delayed = paired_ratio(times, 'delayed', 'one')
    passed = ratio <= TARGET
    # Even with no work at all, 'many' waits for the first page, then for ceil(39 / 4) = 10 rounds of concurrent
    # pages, each a round trip of `delay`, on top of what 'one' waits for: the lowest ratio this baseline allows.
    rounds = -(-(TICKETS // PAGE_SIZES['many'] - 1) // CONCURRENCY)
    floor = statistics.median((one + rounds * args.delay) / one for one in times['one'])
    above_floor = statistics.median((many - one - rounds * args.delay) * 1000 for many, one in zip(times['many'], times['one']))

    if args.json:
        print(json.dumps({'runs': args.runs, 'delay': args.delay, 'times': times, 'medians': medians,
                          'load_average': load, 'cpus': os.cpu_count(),
                          'ratio': ratio, 'sequential_ratio': sequential, 'delayed_ratio': delayed, 'target': TARGET, 'passed': passed,
                          'floor': floor, 'above_floor_ms': above_floor}, indent=2))
    else:
        print('upsun.support.ticket_info, ad hoc, {0} tickets, every request answered {1:g} ms after it arrived (sandbox latency fault): '
              '{2} rounds (after a warm-up run)'.format(TICKETS, args.delay * 1000, args.runs))
        print('  1-minute load average {0:.1f} before, {1:.1f} after, on {2} CPUs'.format(load[0], load[1], os.cpu_count()))
        pages = TICKETS // PAGE_SIZES['many']
        labels = {
            'many': '{0} pages of {1} (page_concurrency {2}, the default)'.format(pages, PAGE_SIZES['many'], CONCURRENCY),
            'one': 'one page of {0}: the baseline'.format(PAGE_SIZES['one']),
            'sequential': '{0} pages of {1}, page_concurrency 1 (one page after the other)'.format(pages, PAGE_SIZES['many']),
            'delayed': '{0} pages of {1}, the {2:g} ms on top of the sandbox work (delay fault)'.format(
                pages, PAGE_SIZES['many'], args.delay * 1000),
        }
        for name in order:
            print('  {0:<10} median {1:6.3f} s  (min {2:.3f}, max {3:.3f})  {4}'.format(
                name, medians[name], min(times[name]), max(times[name]), labels[name]))
        print('{0}  many/one = {1:.3f} (target <= {2:.2f}; median of the per-round ratios; the ratio of the medians is '
              '{3:.3f})'.format('PASS' if passed else 'FAIL', ratio, TARGET, medians['many'] / medians['one']))
        print('  for information: sequential/one = {0:.3f}; delayed/one = {1:.3f}'.format(sequential, delayed))
        print('  for information: the floor at these baselines is {0:.3f}: after the first page, {1} rounds of {2} pages '
              'at once, each one {3:g} ms round trip, and no work at all; many takes {4:.0f} ms more than that per '
              'run (median: the client\'s and the sandbox\'s work on the {5} requests, {6} of them in a row)'.format(
                  floor, rounds, CONCURRENCY, args.delay * 1000, above_floor, pages + 1, rounds + 2))
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
