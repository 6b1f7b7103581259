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

import datetime
import os

from ansible.plugins.action import ActionBase

from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference
from ansible_collections.upsun.support.plugins.module_utils.ledger import may_exist_wait
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, resolve_connection
from ansible_collections.upsun.support.plugins.module_utils.spool import SPOOL_ARGUMENT_SPEC, SPOOL_REQUIRED_IF
from ansible_collections.upsun.support.plugins.plugin_utils.run_context import utc_now
from ansible_collections.upsun.support.plugins.plugin_utils.known_secrets import KnownSecrets, shared_redactor
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RedactionError
from ansible_collections.upsun.support.plugins.plugin_utils.spool import (
    RecordRefused,
    SpoolError,
    claimed,
    comparable_url,
    make_record,
    new_reference_key,
    parse_time,
    record_api_url,
    record_paths,
    set_aside,
    spool_directory,
    write_record,
)

TICKET_MODULE = 'upsun.support.ticket'
TICKET_INFO_MODULE = 'upsun.support.ticket_info'
# Statuses of POST /tickets after which a record is kept for the next flush; any other 4xx refuses it for good.
RETRIED_CLIENT_ERRORS = (401, 408, 429)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(SPOOL_ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=SPOOL_ARGUMENT_SPEC, required_if=SPOOL_REQUIRED_IF)
        # The flush connects with what the task gave (module_defaults included) and the environment: never with a record's.
        given = dict((name, self._task.args[name]) for name in CONNECTION_NAMES if self._task.args.get(name) is not None)
        warnings = []
        try:
            # One wait for the record and the ticket module's ledger: the option, else the environment, else the default.
            params['may_exist_wait'] = may_exist_wait(params['may_exist_wait'], warnings.append)
            settings = resolve_connection(given)
            redaction = params['redaction'] or {}
            # The same known secrets as the role's other steps: the credentials and the vaulted values in reach.
            known = KnownSecrets().credentials(given).collect(task_vars)
            known.values.update(settings.secret_values())
            redactor = shared_redactor(redaction.get('patterns'), redaction.get('disable'), redaction.get('replacement'),
                                       secrets=known.values)
        except (UpsunError, RedactionError) as exc:
            return dict(result, failed=True, msg=str(getattr(exc, 'msg', exc)))
        if params['state'] == 'spooled':
            result.update(self._spool(params, settings, redactor))
        else:
            result.update(Flush(self, params, given, settings, task_vars).run())
        if warnings:
            result['warnings'] = warnings + result.get('warnings', [])
        return result

    def _spool(self, params, settings, redactor):
        ticket = params['ticket']
        try:
            record = make_record(ticket, ticket.get('filed_by') or 'module', utc_now(), error=params['error'],
                                 may_exist=params['may_exist'], connection=dict(api_url=settings.api_url), redact=redactor)
            if self._task.check_mode:
                if _exists(params['directory']):
                    spool_directory(params['directory'], create=False)
                return dict(changed=True, msg='Would spool the ticket "{0}" (check mode).'.format(record['ticket']['subject']))
            path = write_record(params['directory'], record)
        except (SpoolError, OSError) as exc:
            return dict(failed=True, msg='Could not spool the ticket: {0}'.format(redactor(str(exc))))
        return dict(changed=True, path=path, msg='Spooled the ticket to {0}; file it later with ansible-playbook '
                                                 'upsun.support.flush_spool.'.format(path))


class Flush:
    """One flush of the spool ``directory``: each record claimed, checked, then filed, kept, or set aside.

    Records are filed with the flush's own connection settings (``given``
    and the environment), never with a record's.
    """

    def __init__(self, action, params, given, settings, task_vars):
        self.action = action
        self.directory = params['directory']
        self.wait = params['may_exist_wait']
        self.given = given
        self.settings = settings
        self.api_url = settings.api_url
        self.task_vars = task_vars
        self.outcome = dict(filed=[], already_open=[], commented=[], kept=[], waiting=[], set_aside=[], busy=[])
        self.warnings = []

    def run(self):
        outcome = self.outcome
        try:
            paths = record_paths(self.directory) if _exists(self.directory) else []
        except SpoolError as exc:
            return dict(outcome, failed=True, msg=str(exc))
        if self.action._task.check_mode:
            outcome['would_file'] = paths
            return dict(outcome, changed=bool(paths), msg='Would file {0} spooled ticket(s) (check mode).'.format(len(paths)))
        try:
            if paths:
                # Before any record is touched: a flush without credentials would only rewrite each record's error.
                self.settings.validate()
        except UpsunError as exc:
            return dict(outcome, failed=True, msg=exc.msg)
        for path in paths:
            try:
                with claimed(path) as claim:
                    if claim is None:
                        outcome['busy'].append(path)
                    else:
                        self.file(claim)
            except RecordRefused as exc:
                self.set_aside(path, str(exc))
            except (SpoolError, OSError) as exc:
                outcome['kept'].append(dict(path=path, error=str(exc)))
        result = dict(outcome, changed=bool(outcome['filed'] or outcome['commented'] or outcome['set_aside']),
                      failed=bool(outcome['kept'] or outcome['set_aside']), msg=self.summary())
        if self.warnings:
            result['warnings'] = self.warnings
        return result

    def execute(self, module_name, module_args):
        """Run ``module_name``; its warnings are the flush's."""
        result = self.action._execute_module(module_name=module_name, module_args=module_args, task_vars=self.task_vars)
        self.warnings.extend(result.get('warnings') or [])
        return result

    def summary(self):
        outcome = self.outcome
        msg = 'Filed {0} spooled ticket(s){1}, {2} already open{3}'.format(
            len(outcome['filed']), _ids(outcome['filed']), len(outcome['already_open']), _ids(outcome['already_open']))
        if outcome['commented']:
            msg += ', {0} of them with the repeat comment of its record{1}'.format(
                len(outcome['commented']), _ids(outcome['commented']))
        if outcome['kept']:
            msg += '; {0} could not be filed and stay in {1}: {2}'.format(len(outcome['kept']), self.directory, _listed(outcome['kept']))
        if outcome['waiting']:
            msg += '; {0} may have been filed and stay in {1} while they are searched for: {2}'.format(
                len(outcome['waiting']), self.directory, _listed(outcome['waiting']))
        if not outcome['kept'] and not outcome['waiting']:
            msg += '; nothing left in {0}'.format(self.directory)
        if outcome['set_aside']:
            msg += '; {0} set aside, with the reason next to each: {1}'.format(len(outcome['set_aside']), '; '.join(
                '{0} (now {1}): {2}'.format(item['path'], item['moved_to'], item['reason']) for item in outcome['set_aside']))
        msg += '.'
        if outcome['busy']:
            msg += ' {0} were being filed by another flush.'.format(len(outcome['busy']))
        return msg

    def keep(self, claim, error, **changes):
        claim.keep(error, **changes)
        self.outcome['kept'].append(dict(path=claim.path, error=error))

    def set_aside(self, path, reason, claim=None):
        try:
            moved_to = claim.set_aside(reason) if claim is not None else set_aside(path, reason)
        except FileNotFoundError:
            return
        except SpoolError as exc:
            self.outcome['kept'].append(dict(path=path, error='{0} {1}'.format(reason, exc)))
            return
        self.outcome['set_aside'].append(dict(path=path, moved_to=moved_to, reason=reason))

    def file(self, claim):
        record = claim.record
        record_api = record_api_url(record)
        if comparable_url(record_api) != comparable_url(self.api_url):
            self.keep(claim, '{0} was spooled against the API {1}, not {2}, the API this flush files with: it was kept '
                             'and not sent. Flush it with api_url (or UPSUN_CLI_API_URL) set to {1} and the token of '
                             'that API, or delete it.'.format(claim.path, record_api, self.api_url))
            return
        if record['may_exist'] and not record['ticket'].get('dedupe_key'):
            self.keep(claim, 'the ticket may have been filed already (its answer was lost) and has no dedupe key to '
                             'check: look for it in the Upsun console, then delete {0}'.format(claim.path))
            return
        if not record['ticket'].get('dedupe_key'):
            # A record written without one (not by make_record): its reference is on disk before anything is sent.
            claim.update(dict(record, ticket=dict(record['ticket'], dedupe_key=new_reference_key())))
        if record['may_exist'] and not self.may_post_again(claim):
            return
        self.post(claim)

    def may_post_again(self, claim):
        """For a ticket that may exist: search for it first; ``True`` when it was not found and may be posted again."""
        record = claim.record
        reference = dedupe_reference(record['ticket']['dedupe_key'])
        found = self.execute(TICKET_INFO_MODULE, dict(self.given, search=reference))
        if found.get('failed'):
            self.keep(claim, 'the ticket may have been filed already, and the search for it failed: {0}'.format(
                found.get('msg') or 'no message'))
            return False
        carrying = sorted((ticket for ticket in found.get('tickets') or []
                           if isinstance(ticket, dict) and reference in str(ticket.get('description') or '')),
                          key=lambda ticket: ticket.get('ticket_id') or 0, reverse=True)
        if carrying:
            claim.done()
            self.outcome['already_open'].append(carrying[0].get('ticket_id'))
            return False
        # A time that cannot be read (a record of another writer) does not hold the ticket back.
        lost = parse_time(record.get('lost_at') or record['created'])
        again = lost + datetime.timedelta(seconds=self.wait) if lost else None
        if again is not None and datetime.datetime.now(datetime.timezone.utc) < again:
            error = ('the ticket may have been filed already (its answer was lost at {0}); no ticket carries its '
                     'reference {1} yet, but the API search can take minutes to show a new one: it is searched for '
                     'again by every flush, and posted again from {2} (may_exist_wait) if it is still not found'.format(
                         lost.strftime('%Y-%m-%dT%H:%M:%SZ'), reference, again.strftime('%Y-%m-%dT%H:%M:%SZ')))
            claim.keep(error)
            self.outcome['waiting'].append(dict(path=claim.path, error=error))
            return False
        return True

    def post(self, claim):
        # The ledger's hold on the reference is the same wait as the record's.
        args = dict(self.given, may_exist_wait=self.wait)
        args.update(claim.record['ticket'])
        filed = self.execute(TICKET_MODULE, args)
        if not filed.get('failed') and 'ticket_id' in (filed.get('ticket') or {}):
            claim.done()
            ticket_id = filed['ticket']['ticket_id']
            # A ticket already open gets the record's repeat comment, if it has one (the module adds it once).
            self.outcome['filed' if filed.get('changed') and 'comment' not in filed else 'already_open'].append(ticket_id)
            if (filed.get('comment') or {}).get('comment_id') is not None:
                self.outcome['commented'].append(ticket_id)
            return
        error = filed.get('msg') or 'the ticket module failed without a message'
        if filed.get('may_exist'):
            self.keep(claim, error, may_exist=True, lost_at=utc_now())
        elif self.refused_for_good(filed):
            self.set_aside(claim.path, 'the API refused it (HTTP {0}): {1}'.format(filed['status'], error), claim)
        else:
            self.keep(claim, error)

    def refused_for_good(self, filed):
        """Whether the API refused the ticket itself: a 4xx to POST /tickets, other than 401, 408 and 429."""
        status = filed.get('status')
        return (isinstance(status, int) and 400 <= status < 500 and status not in RETRIED_CLIENT_ERRORS
                and comparable_url(str(filed.get('url') or '')) == comparable_url(self.api_url + '/tickets'))


def _exists(directory):
    return os.path.lexists(os.path.expanduser(directory))


def _listed(items):
    return '; '.join('{0}: {1}'.format(os.path.basename(item['path']), item['error']) for item in items)


def _ids(ids):
    return ' ({0})'.format(', '.join(str(ticket_id) for ticket_id in ids)) if ids else ''
