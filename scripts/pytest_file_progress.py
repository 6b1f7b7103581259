"""A pytest plugin that prints one line per test file as its last test finishes (``-p pytest_file_progress``).

``make e2e`` and ``make release`` load it (scripts/ on PYTHONPATH): a few hundred tests that each run
ansible-playbook take minutes, which pytest's quiet output shows as dots only. Each line names the file, how its
tests ended, how many of all have finished and the time so far. With pytest-xdist it runs on the controller, from the
workers' reports.
"""

from __future__ import annotations

import collections
import time

import pytest


class FileProgress:
    """Counts the finished tests of each file and writes a line when a file is done."""

    def __init__(self, config):
        self.config = config
        self.started = time.monotonic()
        self.expected = collections.Counter()
        self.finished = collections.defaultdict(collections.Counter)
        self.failed = set()
        self.skipped = set()

    def expect(self, nodeids):
        # Every xdist worker collects the same tests: the first list counts.
        if nodeids and not self.expected:
            self.expected.update(_file_of(nodeid) for nodeid in nodeids)

    @pytest.hookimpl
    def pytest_collection_finish(self, session):
        self.expect([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):  # pylint: disable=unused-argument
        self.expect(ids)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(report.nodeid)
        elif report.skipped:
            self.skipped.add(report.nodeid)
        if report.when != 'teardown':
            return
        outcome = 'failed' if report.nodeid in self.failed else 'skipped' if report.nodeid in self.skipped else 'passed'
        name = _file_of(report.nodeid)
        self.finished[name][outcome] += 1
        if sum(self.finished[name].values()) == self.expected[name]:
            self.write(name)

    def write(self, name):
        counts = ', '.join('{0} {1}'.format(count, outcome) for outcome, count in sorted(self.finished[name].items()))
        done = sum(sum(counter.values()) for counter in self.finished.values())
        seconds = int(time.monotonic() - self.started)
        reporter = self.config.pluginmanager.get_plugin('terminalreporter')
        if reporter is not None:
            # after the dots of the line in progress, if any
            if getattr(reporter._tw, 'width_of_current_line', 0):  # pylint: disable=protected-access
                reporter.write('\n')
            reporter.write_line('{0}: {1} ({2}/{3} tests, {4} min {5:02d} s)'.format(
                name, counts, done, sum(self.expected.values()), seconds // 60, seconds % 60))


def _file_of(nodeid):
    return nodeid.split('::', 1)[0]


def pytest_configure(config):
    config.pluginmanager.register(FileProgress(config), 'file_progress')
