# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filing from the controller, for the ticket_on_failure callback: the API session, and the spool when it fails.

The callback files a ticket when a run fails, and solves the tickets of
earlier failures when one succeeds: both through one ``ApiSession``. A ticket
that cannot be filed, or a run stopped by a signal, is spooled instead, for the
``upsun.support.flush_spool`` playbook to file later.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.module_utils.ledger import Ledger
from ansible_collections.upsun.support.plugins.plugin_utils.run_context import utc_now
from ansible_collections.upsun.support.plugins.plugin_utils.spool import (
    DEFAULT_SPOOL_DIR, FLUSH_COMMAND, SpoolError, make_record, write_record)


class ApiSession:
    """The client and the ledger of one filing or solving: ``with ApiSession(...) as session:``; closed at the end.

    ``settings`` is a function giving the resolved connection settings, called
    once requests is known to be there. ``public()`` is what a spool record may
    keep of them, also when the session failed.
    """

    def __init__(self, settings, warn, ledger_dir):
        self._resolve = settings
        self._warn = warn
        self._ledger_dir = ledger_dir
        self.settings = self.client = self.ledger = None

    def __enter__(self):
        # Imported only now: requests would cost every run, most of which never call the API, a tenth of a second.
        from ansible_collections.upsun.support.plugins.module_utils import client
        if not client.HAS_REQUESTS:
            raise UpsunError(missing_required_lib('requests') + ' (on the controller, in the Python that runs Ansible)')
        self.settings = self._resolve()
        self.settings.validate()
        self.client = client.client_from_settings(self.settings, warn=self._warn)
        try:
            self.ledger = Ledger(self._ledger_dir, self.client.api_url, self._warn)
        except BaseException:
            self.client.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.client.close()

    def public(self):
        return self.settings.public() if self.settings else {}


def error_text(exc):
    """What went wrong, for a warning or a spool record: the collection's own message, else the exception's."""
    return exc.msg if isinstance(exc, UpsunError) else '{0}: {1}'.format(type(exc).__name__, exc)


def flush_command(directory):
    """The command that files what was spooled in ``directory``."""
    return FLUSH_COMMAND if directory == DEFAULT_SPOOL_DIR else '{0} -e upsun_support_spool_dir={1}'.format(
        FLUSH_COMMAND, directory)


def spool_ticket(directory, ticket, error, may_exist, connection, redact):
    """Write ``ticket`` (the callback's) to the spool in ``directory``; its path. ``SpoolError``, ``OSError``."""
    record = make_record(ticket, 'callback', utc_now(), error=error, may_exist=may_exist, connection=connection,
                         redact=redact)
    return write_record(directory, record)


def spool_unfiled(directory, ticket, error, may_exist, connection, redact, warn):
    """Spool ``ticket``, which could not be filed (``error``); ``warn`` says where, or gives the ticket itself."""
    try:
        path = spool_ticket(directory, ticket, error, may_exist, connection, redact)
    except (SpoolError, OSError) as exc:
        warn('could not file the Upsun ticket for this failed run ({0}), nor spool it: {1}. Here it is, to file by '
             'hand:\n{2}\n\n{3}'.format(error, exc, ticket['subject'], ticket['description']))
        return
    warn('could not file the Upsun ticket for this failed run{0}: {1} It was written to {2}; file it later with "{3}".'.format(
        ' (it may have been filed: the flush checks first)' if may_exist else '', error, path, flush_command(directory)))
