# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options of the spool module (module_utils/spool.py), as AnsibleModule checks them (the spool itself:
tests/unit/plugins/plugin_utils/test_spool.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES
from ansible_collections.upsun.support.plugins.module_utils.spool import (
    DEFAULT_SPOOL_DIR,
    SPOOL_ARGUMENT_SPEC,
    SPOOL_REQUIRED_IF,
)


def validated(**params):
    return ArgumentSpecValidator(SPOOL_ARGUMENT_SPEC, required_if=SPOOL_REQUIRED_IF).validate(params)


def test_the_defaults_spool_to_the_user_s_directory():
    result = validated(ticket={'subject': 's', 'description': 'd'})
    assert not result.error_messages
    params = result.validated_parameters
    assert params['state'] == 'spooled' and params['may_exist'] is False
    assert params['directory'].endswith('/.ansible/upsun_support_spool') and DEFAULT_SPOOL_DIR.startswith('~/')
    # None: ledger.may_exist_wait decides (UPSUN_SUPPORT_MAY_EXIST_HOLD, then its default), one rule for both waits.
    assert params['may_exist_wait'] is None
    assert params['redaction'] is None


def test_spooling_needs_a_ticket():
    result = validated()
    assert [str(error) for error in result.errors] == ['state is spooled but all of the following are missing: ticket']


def test_a_flush_needs_no_ticket():
    assert not validated(state='flushed').error_messages


def test_an_unknown_state_is_refused_naming_the_choices():
    result = validated(state='filed', ticket={})
    assert 'value of state must be one of: spooled, flushed, got: filed' in ' '.join(result.error_messages)


def test_redaction_options_get_their_defaults():
    params = validated(state='flushed', redaction={'patterns': ['x+']}).validated_parameters
    assert params['redaction'] == {'patterns': ['x+'], 'disable': [], 'replacement': '[REDACTED]'}


@pytest.mark.parametrize('name', CONNECTION_NAMES)
def test_the_connection_options_are_those_of_the_other_modules(name):
    assert name in SPOOL_ARGUMENT_SPEC
