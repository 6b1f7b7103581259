# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``Client`` of a module run: its connection settings read from the task, its errors turned into ``fail_json``.

The one place that joins ``AnsibleModule`` and the transport (``client``), which never sees the module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible.module_utils.basic import _load_params, missing_required_lib

from ansible_collections.upsun.support.plugins.module_utils import client as transport
from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, resolve_connection


@contextlib.contextmanager
def module_client(module, given=None):
    """The ``Client`` of one module run, for a ``with`` block.

    Resolves and checks the connection settings first, turns the collection's
    own errors into ``fail_json`` (anything else is a bug and shows as one), and
    closes the session at the end. ``given``: the arguments the task set, when
    the run is not a module process (the module's action plugin), which reads
    them from its input.
    """
    if not transport.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=transport.REQUESTS_IMPORT_ERROR)
    client = None
    try:
        settings = resolve_connection(*_given_connection(module, given))
        # Values read from the environment are not in the module's parameters: hide them in its output too.
        module.no_log_values.update(settings.secret_values() + settings.url_passwords())
        settings.validate()
        client = transport.client_from_settings(settings, warn=module.warn)
        yield client
    except UpsunError as exc:
        module.fail_json(**exc.to_result())
    finally:
        if client is not None:
            client.close()


def _given_connection(module, given):
    """The connection values the task set (``module_defaults`` included), not the spec's defaults, and their origin."""
    if given is None:
        given = _load_params()
    values = dict((name, module.params.get(name)) for name in CONNECTION_NAMES if given.get(name) is not None)
    return values, dict((name, 'option') for name in values)
