# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the redactor (plugins/plugin_utils/redaction.py) on a realistic CI log and on hostile input.

Two figures, each with its target:

- throughput: MB/s of ``Redactor.redact`` on a 50 MB CI log, generated the same way every run (a fixed seed): lines of
  Ansible, Docker, npm, pip, pytest, Kubernetes and git output with timestamps, host prefixes, paths, SHAs, UUIDs,
  digests and URLs, and every 250th line a line of tests/data/secret_corpus.yml. The baseline, measured in the same
  run on the same text, is the cheapest redaction worth the name: one case-insensitive regular expression masking
  ``password``, ``token`` or ``secret`` followed by ``=`` or ``:`` and a value (``re.sub``; it misses most of the
  corpus). The figure judged is redactor time / baseline time, both in CPU time (target at most 15): how much the
  full rules cost over one pass of one rule, which moves far less with the machine than MB/s does. MB/s (of CPU
  time) is printed for information, with the time the redactor takes to build (once per run).
- hostile: the CPU time of ``Redactor.redact`` on 1 MB of each of 21 of the unit tests' hostile inputs
  (runs of ``eyJ-``, base64, ``a=``, ``"x":``, backslashes, 100k ``-----BEGIN`` fragments, a long line of every
  trigger...), the slowest one judged (target under 1 s, as in the unit tests; an idle machine takes a fraction of it);
  the baseline's time on the same megabyte is printed for information.

Every run is checked: no secret of the corpus is left in the redacted log, and every harmless line of the log is
still there. Exit status 1 when a target is missed or a check fails. Under a minute on 2 idle CPUs.

    python tests/bench/bench_redaction.py [--megabytes 50] [--runs 1] [--json]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'collections'))

import yaml  # noqa: E402 pylint: disable=wrong-import-position

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor  # noqa: E402 pylint: disable=wrong-import-position

THROUGHPUT_TARGET = 15.0
HOSTILE_TARGET = 1.0
API_TOKEN = 'apitoken-SECRET-7c1e4b2a9f'
SECRET_EVERY = 250
CORPUS = yaml.safe_load((REPO_ROOT / 'tests' / 'data' / 'secret_corpus.yml').read_text())
BASELINE = re.compile(r'(?i)(?:password|token|secret)\s*[=:]\s*(\S+)')
# The hostile inputs of tests/unit/plugins/plugin_utils/test_redaction.py, by name: 1 MB of each unit repeated.
HOSTILE = {
    'jwt-like runs': 'eyJ-', 'jwt-like parts': 'eyJhbGciOi.', 'base64 run': 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldY',
    'assignments': 'a=', 'secret assignments': 'password=', 'json keys': '"x":', 'secret json keys': '"password":',
    'backslashes': '\\', 'escaped quotes': '\\"', 'escaped secret keys': '\\\\\\"password\\\\\\":',
    'begin fragments': '-----BEGIN ', 'end markers': '-----END PRIVATE KEY-----\n', 'key lines': 'A' * 64 + '\n',
    'urls': 'https://a:', 'mysql flags': 'mysql -p', 'tokens': 'ghp_', 'colons': 'token: ', 'xml': '<password>',
    'pgpass': 'h:5432:d:u:', 'php arrays': "'password' => ",
    'mixed': 'password=x token: "secret":"y" eyJ-abc https://u:p@h -----END PRIVATE KEY----- mysql -pX ghp_ ',
}


def benign_line(rng, number):
    """One line of a CI log with nothing secret in it: the kinds of lines support needs to read."""
    host = 'web{0}'.format(rng.randint(1, 40))
    stamp = '2026-12-07T{0:02d}:{1:02d}:{2:02d}.{3:03d}Z'.format(
        number // 3600000 % 24, number // 60000 % 60, number // 1000 % 60, number % 1000)
    sha = '{0:040x}'.format(rng.getrandbits(160))
    uuid = '{0:08x}-{1:04x}-4{2:03x}-a{3:03x}-{4:012x}'.format(rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                                               rng.getrandbits(12), rng.getrandbits(48))
    release = 'releases/2026120{0}-{1}'.format(rng.randint(1, 7), rng.randint(1, 999))
    kinds = (
        'TASK [deploy_app : Run the database migrations] ' + '*' * 40,
        'changed: [{0}] => (item=/srv/app/{1}/config/app.yml)'.format(host, release),
        'ok: [{0}] => {{"changed": false, "path": "/srv/app/{1}", "mode": "0750", "uid": 1001}}'.format(host, release),
        'Step {0}/14 : RUN composer install --no-dev --optimize-autoloader --no-interaction'.format(rng.randint(1, 14)),
        ' ---> Using cache sha256:{0:064x}'.format(rng.getrandbits(256)),
        'npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory',
        'added {0} packages, and audited {1} packages in {2}s'.format(rng.randint(100, 900), rng.randint(900, 1500), rng.randint(5, 60)),
        'Collecting requests==2.32.{0} (from -r requirements.txt (line {1}))'.format(rng.randint(0, 3), rng.randint(1, 40)),
        'tests/unit/test_checkout.py::test_total_with_discount[case{0}] PASSED [{1:3d}%]'.format(rng.randint(1, 99), rng.randint(1, 100)),
        'deployment.apps/shop-web-{0:x} configured; pod/shop-web-{0:x}-x{1}k4p Running'.format(rng.getrandbits(36), rng.randint(1, 9)),
        'HEAD is now at {0} Merge pull request #{1} from acme/feature-{2}'.format(sha[:12], rng.randint(1, 9999), rng.randint(1, 999)),
        'GET https://api.example.com/v1/orders/{0}?expand=items 200 in {1} ms'.format(uuid, rng.randint(3, 900)),
        'request_id={0} commit={1} region=eu-{2}'.format(uuid, sha, rng.randint(1, 5)),
        'rsync -a /home/ci/builds/acme/shop/public/ {0}:/srv/app/{1}/public/'.format(host, release),
        'WARNING: the token expired at {0}; requesting a new one'.format(stamp),
        'Password policy: minimum length 12; password_file=/etc/app/db.pass',
    )
    return '{0} {1} | {2}'.format(stamp, host, rng.choice(kinds))


def secret_lines():
    return [entry['line'].replace('{api_token}', API_TOKEN) for entry in CORPUS['secret_lines']]


def ci_log(megabytes, seed=22):
    """About ``megabytes`` MB of CI log: benign lines, and a corpus line every ``SECRET_EVERY`` lines."""
    rng = random.Random(seed)
    secrets = secret_lines()
    lines = []
    size = 0
    number = 0
    while size < megabytes * 1000000:
        line = secrets[number // SECRET_EVERY % len(secrets)] if number % SECRET_EVERY == 0 else benign_line(rng, number)
        lines.append(line)
        size += len(line) + 1
        number += 1
    return '\n'.join(lines)


def check(log, redacted):
    """What is wrong with the redaction of ``log``: secrets left, harmless lines lost."""
    problems = ['a secret of the corpus is left: {0}'.format(secret[:12] + '...')
                for entry in CORPUS['secret_lines'] for secret in entry['secrets']
                if secret.replace('{api_token}', API_TOKEN) in redacted]
    benign = [line for line in log.split('\n') if ' | ' in line[:40]][:20000]
    kept = set(redacted.split('\n'))
    problems.extend('a harmless line was changed: {0}'.format(line) for line in benign if line not in kept)
    return problems[:10]


def timed(function, text, clock=time.perf_counter):
    started = clock()
    function(text)
    return clock() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--megabytes', type=int, default=50, help='size of the generated CI log (default 50)')
    parser.add_argument('--runs', type=int, default=1, help='timed runs of the redactor and of the baseline (default 1)')
    parser.add_argument('--json', action='store_true', help='print the results as JSON')
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    log = ci_log(args.megabytes)
    megabytes = len(log.encode('utf-8')) / 1e6
    started = time.perf_counter()
    redactor = Redactor(secrets=[API_TOKEN], environ={})
    build_ms = (time.perf_counter() - started) * 1000

    def baseline(text):
        return BASELINE.sub(lambda match: match.group(0).replace(match.group(1), '[REDACTED]'), text)

    # CPU time (this process's), alternating; the fastest of each is kept: other processes on the machine move wall
    # time far more than the work done here.
    redactor_times, baseline_times = [], []
    redacted = None
    for dummy in range(args.runs):
        started = time.process_time()
        redacted = redactor(log)
        redactor_times.append(time.process_time() - started)
        baseline_times.append(timed(baseline, log, time.process_time))
    problems = check(log, redacted)
    ratio = min(redactor_times) / min(baseline_times)

    hostile = {}
    for name, unit in HOSTILE.items():
        text = (unit * ((1 << 20) // len(unit) + 1))[:1 << 20]
        hostile[name] = (timed(redactor, text, time.process_time), timed(baseline, text, time.process_time))
    slowest = max(hostile, key=lambda name: hostile[name][0])
    load = (load_before, os.getloadavg()[0])
    passed = {'throughput': ratio <= THROUGHPUT_TARGET, 'hostile': hostile[slowest][0] < HOSTILE_TARGET, 'checks': not problems}

    if args.json:
        print(json.dumps({'megabytes': megabytes, 'redactor_seconds': redactor_times, 'baseline_seconds': baseline_times,
                          'ratio': ratio, 'throughput_target': THROUGHPUT_TARGET, 'build_ms': build_ms,
                          'hostile_seconds': hostile, 'hostile_target': HOSTILE_TARGET, 'problems': problems,
                          'load_average': load, 'cpus': os.cpu_count(), 'passed': passed}, indent=2))
    else:
        print('upsun.support redaction: a {0:.1f} MB CI log (a corpus line every {1} lines), then 1 MB of each of {2} '
              'hostile inputs'.format(megabytes, SECRET_EVERY, len(HOSTILE)))
        print('  1-minute load average {0:.1f} before, {1:.1f} after, on {2} CPUs'.format(load[0], load[1], os.cpu_count()))
        print('  redactor   {0:6.2f} s of CPU  {1:6.1f} MB/s  (built in {2:.0f} ms, once per run)'.format(
            min(redactor_times), megabytes / min(redactor_times), build_ms))
        print('  baseline   {0:6.2f} s of CPU  {1:6.1f} MB/s  (one regular expression: password|token|secret = value)'.format(
            min(baseline_times), megabytes / min(baseline_times)))
        print('{0}  throughput: redactor/baseline = {1:.1f} (target <= {2:g}); {3:.1f} MB/s'.format(
            'PASS' if passed['throughput'] else 'FAIL', ratio, THROUGHPUT_TARGET, megabytes / min(redactor_times)))
        print('{0}  hostile: the slowest megabyte ({1}) takes {2:.3f} s of CPU (target < {3:g} s; the baseline: {4:.3f} s)'.format(
            'PASS' if passed['hostile'] else 'FAIL', slowest, hostile[slowest][0], HOSTILE_TARGET, hostile[slowest][1]))
        print('  for information, CPU seconds per hostile megabyte: ' + ', '.join(
            '{0} {1:.2f}'.format(name, seconds[0]) for name, seconds in sorted(hostile.items(), key=lambda item: -item[1][0])))
        print('{0}  checks: {1}'.format('PASS' if passed['checks'] else 'FAIL', '; '.join(problems) or
                                        'no secret of the corpus left, every harmless line kept'))
    return 0 if all(passed.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
