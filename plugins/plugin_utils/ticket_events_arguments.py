# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The arguments of the ``upsun.support.ticket_events`` event source, checked before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging
import math
import os

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.upsun.support.plugins.module_utils.constants import PRIORITIES, STATUSES, TYPES
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.payload import check_uuid
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, resolve_connection

SOURCE_NAME = 'upsun.support.ticket_events'
LOGGER = logging.getLogger(SOURCE_NAME)

DEFAULT_INTERVAL = 60.0
# Longer than the "few minutes" Zendesk's search index may take to show a change.
DEFAULT_LOOKBACK = 900.0
# 30 days: more says the API is broken, not lagging (and keeps the times within what datetime can hold).
MAX_LOOKBACK = 2592000.0
# The source's own arguments; the connection arguments are the settings table's names.
FILTER_CHOICES = dict(status=STATUSES, priority=PRIORITIES, type=TYPES)
FILTER_NAMES = ('status', 'priority', 'type', 'requester_id')
OWN_NAMES = ('interval', 'include_existing', 'lookback', 'state_file', 'comments') + FILTER_NAMES + ('search',)
ARGUMENT_NAMES = OWN_NAMES + CONNECTION_NAMES
# ansible-rulebook adds arguments of its own (eda_feedback_queue) to every source's.
RULEBOOK_PREFIX = 'eda_'


class Options:
    """The checked arguments of one source: connection settings, interval, filters, look-back, state file, comments."""

    def __init__(self, settings, interval, include_existing, filters, search, lookback=DEFAULT_LOOKBACK,
                 state_file=None, comments=True):
        self.settings = settings
        self.interval = interval
        self.include_existing = include_existing
        self.filters = filters
        self.search = search
        self.lookback = lookback
        self.state_file = state_file
        self.comments = comments


def argument_error(message):
    """The error that stops the source for a bad argument, naming the source."""
    return InputError('{0}: {1}'.format(SOURCE_NAME, message))


def parse_arguments(args, environ=None):
    """Check the rulebook's arguments; raise ``InputError`` naming the first bad one."""
    if not isinstance(args, dict):
        raise argument_error('the arguments must be a mapping, got {0}.'.format(type(args).__name__))
    unknown = sorted(str(name) for name in args if name not in ARGUMENT_NAMES and not str(name).startswith(RULEBOOK_PREFIX))
    if unknown:
        raise argument_error('unknown argument {0}; the arguments are {1}.'.format(
            ', '.join(unknown), ', '.join(sorted(ARGUMENT_NAMES))))
    values = dict((name, args.get(name)) for name in CONNECTION_NAMES)
    origins = dict((name, 'the {0} argument of {1}'.format(name, SOURCE_NAME))
                   for name in CONNECTION_NAMES if args.get(name) is not None)
    try:
        settings = resolve_connection(values, origins, environ)
        settings.validate()
    except InputError as exc:
        raise argument_error(exc.msg)
    return Options(
        settings=settings,
        interval=_seconds('interval', args.get('interval'), DEFAULT_INTERVAL),
        include_existing=_flag('include_existing', args.get('include_existing')),
        filters=_filters(args),
        search=_text('search', args.get('search')),
        lookback=_seconds('lookback', args.get('lookback'), DEFAULT_LOOKBACK, highest=MAX_LOOKBACK),
        state_file=_state_file(args.get('state_file')),
        comments=_flag('comments', args.get('comments'), default=True),
    )


def _seconds(name, value, default, highest=None):
    """A number of seconds above 0, or with ``highest`` from 0 to ``highest``."""
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        seconds = float(value)
    except (TypeError, ValueError):
        raise argument_error('{0} must be a number of seconds, got {1!r}.'.format(name, value))
    if highest is None and not (math.isfinite(seconds) and seconds > 0):
        raise argument_error('{0} must be a number of seconds above 0, got {1!r}.'.format(name, value))
    if highest is not None and not 0 <= seconds <= highest:
        raise argument_error('{0} must be a number of seconds from 0 to {1:.0f}, got {2!r}.'.format(name, highest, value))
    return seconds


def _state_file(value):
    path = _text('state_file', value)
    if path is None:
        return None
    if not path:
        raise argument_error('state_file must be the path of a file, got an empty string.')
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    if os.path.isdir(path):
        raise argument_error('state_file must be the path of a file, {0} is a directory.'.format(path))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
        raise argument_error('state_file {0}: its directory {1} must exist and be writable.'.format(path, directory))
    return path


def _flag(name, value, default=False):
    if value is None:
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise argument_error('{0} must be true or false, got {1!r}.'.format(name, value))


def _text(name, value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise argument_error('{0} must be a string, got {1!r}.'.format(name, value))
    return value


def _filters(args):
    filters = {}
    for name in FILTER_NAMES:
        value = _text(name, args.get(name))
        if value is None:
            continue
        if name in FILTER_CHOICES and value not in FILTER_CHOICES[name]:
            raise argument_error('{0} must be one of {1}, got {2!r}.'.format(
                name, ', '.join(FILTER_CHOICES[name]), value))
        if name == 'requester_id':
            try:
                value = check_uuid(name, value)
            except InputError as exc:
                raise argument_error(exc.msg)
        filters[name] = value
    return filters
