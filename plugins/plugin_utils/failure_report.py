# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What failed, for a ticket: the failure report shared by the role and the callback.

A ``FailureReport`` holds the ``Failure`` objects of one deploy (the role,
``rescue_facts``) or run (the callback, ``run_failures``) with the context of
the run, for ``rendering``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.upsun.support.plugins.plugin_utils.failure import Failure
from ansible_collections.upsun.support.plugins.plugin_utils.run_context import utc_now


def unique(values):
    return list(dict.fromkeys(values))


class FailureReport:
    """What failed in one deploy (role) or run (callback), with what support needs to know around it."""

    def __init__(self, source, failures, plays=(), playbooks=(), environment=None, play_hosts_count=None,
                 context=None, logs=None, recap=None, ci_job=None, timestamp=None, ansible_version=None, project=None):
        self.source = source
        # What identifies the project (plugin_utils.identity.project_identity), part of the default keys.
        self.project = project
        self.failures = list(failures)
        self.plays = unique(play for play in plays if play)
        self.playbooks = list(playbooks)
        self.environment = environment
        self.play_hosts_count = play_hosts_count
        self.context = dict(context or {})
        self.logs = logs or dict(files=[], notes=[])
        self.recap = list(recap or [])
        self.ci_job = ci_job
        self.timestamp = timestamp or utc_now()
        self.ansible_version = ansible_version

    def hosts(self, kind=None):
        return unique(failure.host for failure in self.failures if kind is None or failure.kind == kind)

    def tasks(self):
        return unique(failure.task for failure in self.failures)

    def groups(self):
        """One entry per distinct failure (task, action, error, kind), with the hosts that had it, in order."""
        groups = []
        by_signature = {}
        for failure in self.failures:
            signature = (failure.kind, failure.task, failure.action, failure.error, failure.play)
            if signature not in by_signature:
                by_signature[signature] = dict(kind=failure.kind, task=failure.task, action=failure.action,
                                               error=failure.error, hidden=failure.hidden, play=failure.play, hosts=[])
                groups.append(by_signature[signature])
            host = failure.host
            if failure.delegate_to and failure.delegate_to != host:
                host = '{0} (delegated to {1})'.format(host, failure.delegate_to)
            by_signature[signature]['hosts'].append(host)
        return groups

    ATTRIBUTES = ('source', 'plays', 'playbooks', 'environment', 'play_hosts_count', 'context', 'logs', 'recap',
                  'ci_job', 'timestamp', 'ansible_version', 'project')

    def as_dict(self):
        """Plain data (for a fact the role's templates can use); ``from_dict`` reads it back."""
        data = dict((name, getattr(self, name)) for name in self.ATTRIBUTES)
        data.update(failures=[failure.as_dict() for failure in self.failures], groups=self.groups(),
                    failed_hosts=self.hosts(), tasks=self.tasks())
        return data

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, Mapping):
            raise TypeError('a failure report is a dict, got {0}'.format(type(data).__name__))
        return cls(failures=[Failure.from_dict(item) for item in data.get('failures') or []],
                   **dict((name, data.get(name)) for name in cls.ATTRIBUTES if data.get(name) is not None))
