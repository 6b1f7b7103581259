# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failures of a deploy, read from the facts Ansible sets on each host entering a ``rescue:`` (the role).

``ansible_failed_task`` and ``ansible_failed_result`` of each host; a failure
already reported by an earlier run of the role in the play (``handled``) is
left out, and a host failed by the role's unreachable check is reported
unreachable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.upsun.support.plugins.plugin_utils.failure import MAX_ERROR_CHARS, Failure
from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import memoized, whole_error
from ansible_collections.upsun.support.plugins.plugin_utils.task_fields import task_vars
from ansible_collections.upsun.support.plugins.plugin_utils.text_bounds import as_text

# Set on the task with which the role's unreachable entry point fails a host it cannot reach: the check's action.
UNREACHABLE_VAR = '__deploy_failure_ticket_unreachable'


def failures_from_hostvars(hostvars, hosts, redact, handled=None, max_chars=MAX_ERROR_CHARS, play=None):
    """``(failures, messages)`` from the facts Ansible sets on each host entering a ``rescue:``.

    ``handled`` maps host names to the task uuid of a failure already reported:
    a host whose ``ansible_failed_task`` is still that task (a fact left by an
    earlier rescue) is left out. ``messages`` maps each failed host to the
    deploy's own error, whole (not cut) but redacted (or ``hidden by no_log``),
    to fail it again with.
    """
    handled = handled or {}
    redact = memoized(redact)
    failures = []
    messages = {}
    for host in hosts or []:
        try:
            facts = hostvars[host]
        except KeyError:
            continue
        task = facts.get('ansible_failed_task')
        if not isinstance(task, Mapping):
            continue
        uuid = as_text(task.get('uuid')) or None
        if uuid and handled.get(host) == uuid:
            continue
        result = facts.get('ansible_failed_result')
        action = as_text(task.get('action') or task.get('_resolved_action')) or None
        check = task_vars(task).get(UNREACHABLE_VAR)
        unreachable = bool(check) or isinstance(result, Mapping) and bool(result.get('unreachable'))
        error = whole_error(result, redact, task.get('no_log'))
        failures.append(Failure.from_error(
            host, error, redact, task=as_text(task.get('name')).strip() or None, action=as_text(check) if check else action,
            max_chars=max_chars, play=play, task_uuid=uuid, kind='unreachable' if unreachable else 'failed'))
        messages[host] = error
    return failures, messages
