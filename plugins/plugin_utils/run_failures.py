# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failures of a playbook run as its events report them, and which of them the run left unhandled (the callback).

A ``rescue``, ``ignore_errors`` or ``ignore_unreachable`` handles a failure;
the role's own fail of each host (``REPORTED_VAR``) has its ticket already.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.playbook.block import Block

from ansible_collections.upsun.support.plugins.plugin_utils.failure import MAX_ERROR_CHARS, Failure
from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import memoized
from ansible_collections.upsun.support.plugins.plugin_utils.task_fields import delegate_to, task_name, task_vars

# Set on the task with which the role fails each host again: the callback knows this failure has its ticket.
REPORTED_VAR = '__deploy_failure_ticket_reported'


class RunFailures:
    """The failures of a playbook run as its events report them, and which of them the run left unhandled.

    A failure's text is redacted when ``unhandled`` is asked, at the end of the
    run, with the redactor of the run (``redactor``, a function returning it):
    the values known to be secret are known by then, and the failures a
    ``rescue`` handled are never redacted at all.
    """

    def __init__(self, redactor, max_chars=MAX_ERROR_CHARS):
        self.redactor = redactor
        self.max_chars = max_chars
        self.failures = []
        self._in_rescued_block = {}
        self._results = {}

    def record(self, host, task, result, kind, play, rescued_block):
        """One failed (not ``ignore_errors``) or unreachable (not ``ignore_unreachable``) result."""
        failure = Failure(host, kind=kind, task=task_name(task), action=str(getattr(task, 'action', None) or 'unknown action'),
                          play=play, delegate_to=delegate_to(task), reported=bool(task_vars(task).get(REPORTED_VAR)))
        self._results[id(failure)] = (result, getattr(task, 'no_log', None))
        self._in_rescued_block[id(failure)] = kind == 'failed' and rescued_block
        self.failures.append(failure)

    def _redacted(self, failure, redact):
        result, no_log = self._results.get(id(failure), (None, None))
        if result is None:
            return failure
        return Failure.from_result(failure.host, result, redact, task=failure.task, action=failure.action, no_log=no_log,
                                   kind=failure.kind, max_chars=self.max_chars, play=failure.play,
                                   delegate_to=failure.delegate_to, reported=failure.reported)

    def unhandled(self, counts=None):
        """The recorded failures the run did not handle and that no ticket reported yet, oldest first.

        Per host, the play stats count the failures that were not rescued
        (``counts``; ``ignore_errors`` ones are not in it). Those are the
        failures outside a rescued block; should the block structure disagree
        with the count (an unusual layout), the host's latest failures are
        taken, as an unhandled failure ends the host's run.
        """
        by_host = {}
        for failure in self.failures:
            by_host.setdefault(failure.host, []).append(failure)
        keep = set()
        for host, failures in by_host.items():
            failed = [failure for failure in failures if failure.kind == 'failed']
            unhandled = [failure for failure in failed if not self._in_rescued_block[id(failure)]]
            if counts is not None:
                count = counts.get(host, 0)
                if count <= 0:
                    unhandled = []
                elif len(unhandled) != count:
                    unhandled = failed[-count:]
            keep.update(id(failure) for failure in unhandled)
            keep.update(id(failure) for failure in failures if failure.kind == 'unreachable')
        redact = memoized(self.redactor())
        result = [self._redacted(failure, redact) for failure in self.failures if id(failure) in keep and not failure.reported]
        for host, count in sorted((counts or {}).items()):
            if count > 0 and host not in by_host:
                result.append(Failure(host, error='failed; no detail reached the callback'))
        return result


def in_rescued_block(task):
    """True when a failure of ``task`` is handled by the ``rescue`` of a block around it.

    That is: some enclosing block has a ``rescue`` section, and the task sits in
    that block's ``block`` section (directly, or through nested blocks, includes
    and roles), not in its ``rescue`` or ``always`` sections. Objects are matched
    by ``_uuid``, which copies of tasks and blocks keep.
    """
    chain = set()
    node = task
    for dummy in range(100):
        if node is None:
            break
        if isinstance(node, Block) and chain and node.rescue:
            if any(getattr(item, '_uuid', None) in chain for item in node.block or []):
                return True
        uuid = getattr(node, '_uuid', None)
        if uuid is not None:
            chain.add(uuid)
        node = getattr(node, '_parent', None)
    return False
