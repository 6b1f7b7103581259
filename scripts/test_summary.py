"""Sum up the JUnit reports of the pytest runs (ansible-test units, e2e) for .ci/run.

Prints one line per report and then the closing line
``pytest: N passed, N failed, N skipped``.  Exit status: 0 when at least one
test ran, 1 when a report is unreadable, 5 (pytest's "no tests collected") when
no test ran at all.
"""

from __future__ import annotations

import glob
import os
import sys
import xml.etree.ElementTree as ET

REPORT_GLOBS = (
    '.build/ansible_collections/upsun/support/tests/output/junit/*units*.xml',
    '.build/reports/*.xml',
)
COUNTERS = ('tests', 'failures', 'errors', 'skipped')


def count(path: str) -> dict[str, int]:
    """Return the test counters of one JUnit XML report."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else list(root.iter('testsuite'))
    return {key: sum(int(suite.get(key) or 0) for suite in suites) for key in COUNTERS}


def main() -> int:
    """Print the per-report and total counts."""
    repo_root = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
    reports = sorted(path for pattern in REPORT_GLOBS for path in glob.glob(os.path.join(repo_root, pattern)))
    totals = dict.fromkeys(COUNTERS, 0)
    for path in reports:
        try:
            counts = count(path)
        except (ET.ParseError, OSError, ValueError) as ex:
            print('  %s: unreadable (%s)' % (os.path.relpath(path, repo_root), ex))
            return 1
        for key in COUNTERS:
            totals[key] += counts[key]
        print('  {0}: {1[tests]} tests, {1[failures]} failures, {1[errors]} errors, {1[skipped]} skipped'.format(
            os.path.relpath(path, repo_root), counts))
    failed = totals['failures'] + totals['errors']
    passed = totals['tests'] - failed - totals['skipped']
    print('pytest: {0} passed, {1} failed, {2} skipped'.format(passed, failed, totals['skipped']))
    return 0 if passed + failed else 5


if __name__ == '__main__':
    sys.exit(main())
