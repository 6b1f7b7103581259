# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role's arguments: a wrong one is replaced by its default, with a warning, its value never shown."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.upsun.support.plugins.filter import deploy_failure_report as filters

ROLE = os.path.join(os.path.dirname(filters.__file__), '..', '..', 'roles', 'deploy_failure_ticket')
with open(os.path.join(ROLE, 'meta', 'argument_specs.yml')) as handle:
    SPEC = yaml.safe_load(handle)['argument_specs']['main']['options']
SECRET = 'correct-horse-battery-staple-42'


def given(**wrong):
    """Every argument at its default, except ``wrong``, in the spec's order (as the role's lookup gives them)."""
    values = dict((name, option.get('default', 'production')) for name, option in SPEC.items())
    values.update(('deploy_failure_ticket_' + name, value) for name, value in wrong.items())
    return [values[name] for name in SPEC]


def check(values):
    """What ansible.builtin.validate_argument_spec reports for ``values``."""
    return ArgumentSpecValidator(SPEC).validate(dict(zip(SPEC, values))).error_messages


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(filters.Display, 'warning', lambda self, message, *args, **kwargs: shown.append(message))
    return shown


def test_right_arguments_are_kept_and_nothing_is_said(warnings):
    values = given(priority='urgent', logs=['/var/log/deploy.log'], log_tail_kib=8)
    arguments = filters.deploy_failure_arguments(SPEC, values, check(values))
    assert arguments['priority'] == 'urgent' and arguments['logs'] == ['/var/log/deploy.log'] and arguments['log_tail_kib'] == 8
    assert arguments['errors'] == [] and warnings == []


@pytest.mark.parametrize('name, value, default, allowed', [
    ('priority', 'High', 'high', 'must be one of: low, normal, high, urgent'),
    ('error_max_chars', 'lots', 4000, 'unable to convert to int'),
    ('context', ['not', 'a', 'dict'], {}, 'deploy_failure_ticket_context'),
    ('redact_disable', ['no_such_rule'], [], 'must be one or more of: private_key'),
])
def test_a_wrong_argument_is_replaced_by_its_default_with_a_warning_naming_it(warnings, name, value, default, allowed):
    values = given(**{name: value})
    arguments = filters.deploy_failure_arguments(SPEC, values, check(values))
    assert arguments[name] == default
    [error] = arguments['errors']
    assert 'deploy_failure_ticket_' + name in error and allowed in error and 'used its default, {0!r}'.format(default) in error
    assert warnings == ['upsun.support.deploy_failure_ticket: ' + error]
    # The other arguments are untouched.
    assert arguments['category'] == 'incident_outage'


@pytest.mark.parametrize('name, value', [('priority', SECRET), ('log_tail_kib', SECRET), ('logs', {'path': SECRET}),
                                         ('priority', 'ghp_R8t2Kq9VxW4mZ7pL3nB6cD1fG5hJ0sA2eY8u')])
def test_the_wrong_value_is_never_shown(warnings, name, value):
    values = given(**{name: value})
    arguments = filters.deploy_failure_arguments(SPEC, values, check(values))
    assert arguments['errors'] and 'deploy_failure_ticket_' + name in arguments['errors'][0]
    for text in arguments['errors'] + warnings:
        assert SECRET not in text and 'R8t2Kq9VxW4mZ7pL3nB6cD1fG5hJ0sA2eY8u' not in text


def test_an_argument_name_inside_a_longer_one_is_not_mistaken_for_it(warnings):
    values = given(logs_max_total_kib='huge')
    arguments = filters.deploy_failure_arguments(SPEC, values, check(values))
    assert arguments['logs_max_total_kib'] == 4096 and arguments['logs'] == []
    assert len(arguments['errors']) == 1


def test_a_spec_that_is_not_a_mapping_is_refused():
    with pytest.raises(AnsibleFilterError, match="spec must be the options of the role's argument spec, got list"):
        filters.deploy_failure_arguments(['deploy_failure_ticket_priority'], ['high'])
