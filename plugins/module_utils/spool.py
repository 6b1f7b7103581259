# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options of the ``upsun.support.spool`` module: shared by its documentation stub and its action plugin.

The spool itself (the record format, writing, claiming) is controller code, in
``plugins/plugin_utils/spool.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.module_utils.masking import REPLACEMENT
from ansible_collections.upsun.support.plugins.module_utils.settings import connection_argument_spec

DEFAULT_SPOOL_DIR = '~/.ansible/upsun_support_spool'

SPOOL_ARGUMENT_SPEC = connection_argument_spec(
    state=dict(type='str', choices=['spooled', 'flushed'], default='spooled'),
    directory=dict(type='path', default=DEFAULT_SPOOL_DIR),
    ticket=dict(type='dict'),
    error=dict(type='str'),
    may_exist=dict(type='bool', default=False),
    # None: ledger.may_exist_wait reads the environment, then its default.
    may_exist_wait=dict(type='float'),
    redaction=dict(type='dict', options=dict(
        patterns=dict(type='list', elements='str', default=[]),
        disable=dict(type='list', elements='str', default=[]),
        replacement=dict(type='str', default=REPLACEMENT),
    )),
)
SPOOL_REQUIRED_IF = [('state', 'spooled', ('ticket',))]
