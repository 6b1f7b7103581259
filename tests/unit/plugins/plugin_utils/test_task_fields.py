# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a failure report reads of a task: its name, where it was delegated, its variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.playbook.task import Task

from ansible_collections.upsun.support.plugins.plugin_utils.task_fields import delegate_to, task_name, task_vars


def task(**attributes):
    """A ``Task`` with these attributes, as the strategy hands it to the callback (no module lookup needed)."""
    made = Task()
    for name, value in attributes.items():
        setattr(made, name, value)
    return made


def test_a_task_is_named_by_its_name_else_its_action():
    assert task_name(task(name=' Migrate ', action='ansible.builtin.command')) == 'Migrate'
    assert task_name(task(action='ansible.builtin.command')) == 'ansible.builtin.command'
    assert task_name(None) == 'unknown task'

    class Broken:
        name = 'Fallback'

        def get_name(self):
            raise RuntimeError('no name')
    assert task_name(Broken()) == 'Fallback'


def test_delegate_to_is_kept_only_when_it_is_a_host_name():
    assert delegate_to(task(delegate_to='db1')) == 'db1'
    assert delegate_to(task()) is None
    assert delegate_to(type('Task', (), {'delegate_to': ['not', 'a', 'name']})()) is None


def test_the_variables_of_a_task_or_of_the_dict_of_ansible_failed_task():
    assert task_vars(task(vars={'reported': True})) == {'reported': True}
    assert task_vars({'vars': {'check': 'ping'}}) == {'check': 'ping'}
    assert task_vars({'vars': 'not a dict'}) == {} and task_vars(None) == {}
