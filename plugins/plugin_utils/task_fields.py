# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a failure report reads of a task (an Ansible ``Task``, or the dict of ``ansible_failed_task``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping


def task_name(task):
    """The name a task shows in the output, else its action."""
    if task is None:
        return 'unknown task'
    try:
        name = task.get_name()
    except Exception:  # pylint: disable=broad-except
        name = getattr(task, 'name', None)
    return str(name or getattr(task, 'action', None) or 'unnamed task').strip()


def delegate_to(task):
    value = getattr(task, 'delegate_to', None)
    return value if isinstance(value, str) else None


def task_vars(task):
    # A Task, or the dict of one (ansible_failed_task).
    value = task.get('vars') if isinstance(task, Mapping) else getattr(task, 'vars', None)
    return value if isinstance(value, Mapping) else {}
