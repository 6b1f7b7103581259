# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``upsun.support.spool`` action: write a spool record, or file every spooled ticket with the ticket module.

It runs on the controller, where the spool lives, with the spool code of
``plugins/plugin_utils/spool.py``; filing goes through ``upsun.support.ticket``
so that a flushed ticket is checked and deduped exactly like any other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, resolve_connection, set_in_environment
from ansible_collections.upsun.support.plugins.module_utils.spool import SPOOL_ARGUMENT_SPEC, SPOOL_REQUIRED_IF
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import utc_now
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RedactionError, Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.spool import (
    SpoolError,
    claimed,
    make_record,
    record_paths,
    spool_directory,
    write_record,
)

TICKET_MODULE = 'upsun.support.ticket'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(SPOOL_ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=SPOOL_ARGUMENT_SPEC, required_if=SPOOL_REQUIRED_IF)
        # What the task gave (module_defaults included) wins over the environment, which wins over a record's settings.
        given = dict((name, self._task.args[name]) for name in CONNECTION_NAMES if self._task.args.get(name) is not None)
        try:
            settings = resolve_connection(given)
            redaction = params['redaction'] or {}
            redactor = Redactor(redaction.get('patterns'), redaction.get('disable'), redaction.get('replacement'),
                                secrets=settings.secret_values())
        except (UpsunError, RedactionError) as exc:
            return dict(result, failed=True, msg=str(getattr(exc, 'msg', exc)))
        if params['state'] == 'spooled':
            result.update(self._spool(params, settings, redactor))
        else:
            result.update(self._flush(params['directory'], given, task_vars))
        return result

    def _spool(self, params, settings, redactor):
        ticket = params['ticket']
        try:
            record = make_record(ticket, ticket.get('filed_by') or 'module', utc_now(), error=params['error'],
                                 may_exist=params['may_exist'], connection=settings.public(), redact=redactor)
            if self._task.check_mode:
                if _exists(params['directory']):
                    spool_directory(params['directory'], create=False)
                return dict(changed=True, msg='Would spool the ticket "{0}" (check mode).'.format(record['ticket']['subject']))
            path = write_record(params['directory'], record)
        except (SpoolError, OSError) as exc:
            return dict(failed=True, msg='Could not spool the ticket: {0}'.format(redactor(str(exc))))
        return dict(changed=True, path=path, msg='Spooled the ticket to {0}; file it later with ansible-playbook '
                                                 'upsun.support.flush_spool.'.format(path))

    def _flush(self, directory, given, task_vars):
        outcome = dict(filed=[], already_open=[], kept=[], busy=[])
        try:
            paths = record_paths(directory) if _exists(directory) else []
        except SpoolError as exc:
            return dict(outcome, failed=True, msg=str(exc))
        if self._task.check_mode:
            outcome['would_file'] = paths
            return dict(outcome, changed=bool(paths), msg='Would file {0} spooled ticket(s) (check mode).'.format(len(paths)))
        for path in paths:
            try:
                with claimed(path) as claim:
                    if claim is None:
                        outcome['busy'].append(path)
                    else:
                        self._file(claim, given, task_vars, outcome)
            except SpoolError as exc:
                outcome['kept'].append(dict(path=path, error=str(exc)))
        kept = outcome['kept']
        msg = 'Filed {0} spooled ticket(s){1}, {2} already open{3}'.format(
            len(outcome['filed']), _ids(outcome['filed']), len(outcome['already_open']), _ids(outcome['already_open']))
        if kept:
            msg += '; {0} could not be filed and stay in {1}: {2}'.format(len(kept), directory, '; '.join(
                '{0}: {1}'.format(os.path.basename(item['path']), item['error']) for item in kept))
        else:
            msg += '; nothing left in {0}.'.format(directory)
        if outcome['busy']:
            msg += ' {0} were being filed by another flush.'.format(len(outcome['busy']))
        return dict(outcome, changed=bool(outcome['filed']), failed=bool(kept), msg=msg)

    def _file(self, claim, given, task_vars, outcome):
        record = claim.record
        ticket = record['ticket']
        if record['may_exist'] and not ticket.get('dedupe_key'):
            error = ('the ticket may have been filed already (its answer was lost) and has no dedupe key to check: look '
                     'for it in the Upsun console, then delete {0}'.format(claim.path))
            claim.keep(error)
            outcome['kept'].append(dict(path=claim.path, error=error))
            return
        args = dict((name, value) for name, value in record['connection'].items() if not set_in_environment(name))
        args.update(given)
        args.update(ticket)
        filed = self._execute_module(module_name=TICKET_MODULE, module_args=args, task_vars=task_vars)
        if filed.get('failed') or 'ticket_id' not in (filed.get('ticket') or {}):
            error = filed.get('msg') or 'the ticket module failed without a message'
            claim.keep(error)
            outcome['kept'].append(dict(path=claim.path, error=error))
            return
        claim.done()
        outcome['filed' if filed.get('changed') else 'already_open'].append(filed['ticket']['ticket_id'])


def _exists(directory):
    return os.path.lexists(os.path.expanduser(directory))


def _ids(ids):
    return ' ({0})'.format(', '.join(str(ticket_id) for ticket_id in ids)) if ids else ''
