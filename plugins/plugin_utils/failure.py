# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One failed or unreachable host of a report: where it failed and its error, redacted and cut."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.result_errors import HIDDEN, whole_error
from ansible_collections.upsun.support.plugins.plugin_utils.text_bounds import bounded, cut

MAX_ERROR_CHARS = 4000


class Failure:
    """One failed or unreachable host: where it failed and its error, redacted."""

    FIELDS = ('host', 'kind', 'play', 'task', 'action', 'error', 'hidden', 'task_uuid', 'delegate_to', 'reported')

    def __init__(self, host, kind='failed', play=None, task='unknown task', action='unknown action', error='',
                 hidden=False, task_uuid=None, delegate_to=None, reported=False):
        self.host = host
        self.kind = kind
        self.play = play
        self.task = task
        self.action = action
        self.error = error
        self.hidden = hidden
        self.task_uuid = task_uuid
        self.delegate_to = delegate_to
        self.reported = reported

    @classmethod
    def from_result(cls, host, result, redact, task=None, action=None, no_log=None, kind='failed', max_chars=MAX_ERROR_CHARS,
                    **fields):
        """A failure from a task result: its error redacted (before it is cut, so no secret is cut in two)."""
        return cls.from_error(host, whole_error(result, redact, no_log), redact, task=task, action=action, kind=kind,
                              max_chars=max_chars, **fields)

    @classmethod
    def from_error(cls, host, error, redact, task=None, action=None, kind='failed', max_chars=MAX_ERROR_CHARS, **fields):
        """A failure from its ``whole_error`` (already redacted), cut to ``max_chars``."""
        return cls(host, kind=kind, task=redact(bounded(task or action or 'unnamed task')), action=action or 'unknown action',
                   error=cut(error, max_chars), hidden=error == HIDDEN, **fields)

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in self.FIELDS)

    @classmethod
    def from_dict(cls, data):
        return cls(**dict((name, data.get(name)) for name in cls.FIELDS if name in data))
