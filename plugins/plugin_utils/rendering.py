# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ticket for a failure report: subject, description, dedupe key and the other ticket options.

Shared by the role and the callback, so that a failed deploy and a failed CI
run read the same way to support. The result is the options of the
``upsun.support.ticket`` module (never a connection option), already redacted:
it is also what is spooled. The module adds the footer when it files it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import string

from ansible_collections.upsun.support.plugins.plugin_utils.identity import failure_keys, project_identity
from ansible_collections.upsun.support.plugins.plugin_utils.text_bounds import bounded, cut

MAX_SUBJECT_CHARS = 250
MAX_LISTED_GROUPS = 50
MAX_SUBJECT_TASKS = 3
SUBJECT_FIELDS = ('playbook', 'playbooks', 'plays', 'environment', 'in_environment', 'hosts', 'host_count', 'task',
                  'tasks', 'failure_count')
DEFAULT_SUBJECTS = {
    'role': 'Deploy failed{in_environment}: {tasks} on {host_count} host(s) ({plays})',
    'callback': 'Ansible run of {playbook} failed on {host_count} host(s): {tasks}',
}
INTRODUCTIONS = {
    'role': 'A deploy failed and Ansible filed this ticket (upsun.support.deploy_failure_ticket role).',
    'callback': 'An Ansible run ended with {count} unhandled failure(s): failed tasks or unreachable hosts that no '
                'rescue, ignore_errors or ignore_unreachable handled (upsun.support.ticket_on_failure callback).',
}
REPEAT_AUTHORS = {
    'role': 'the upsun.support.deploy_failure_ticket role',
    'callback': 'the upsun.support.ticket_on_failure callback',
}
# The longest repeat comment, in characters (4 bytes of UTF-8 at most each, under the 64 KiB a comment holds).
MAX_REPEAT_CHARS = 16000
# The ticket options a report's settings may add, sent when not empty.
TICKET_OPTIONS = ('priority', 'category', 'subscription_id', 'organization_id', 'requester_id', 'affected_url',
                  'collaborator_ids')


def join(names, limit=None):
    names = list(names)
    if limit is not None and len(names) > limit:
        return '{0} and {1} more'.format(', '.join(names[:limit]), len(names) - limit)
    return ', '.join(names)


def subject_fields(report):
    """The fields a subject template may use."""
    playbooks = [os.path.basename(path) for path in report.playbooks] or ['unknown playbook']
    tasks = report.tasks() or ['unknown task']
    hosts = report.hosts()
    environment = report.environment or ''
    return dict(
        playbook=playbooks[0], playbooks=join(playbooks), plays=join(report.plays) or 'unnamed play',
        environment=environment, in_environment=' in ' + environment if environment not in ('', 'default') else '',
        hosts=join(hosts, 10), host_count=len(hosts), task=tasks[0], tasks=join(tasks, MAX_SUBJECT_TASKS),
        failure_count=len(report.failures))


class _FieldFormatter(string.Formatter):
    """``str.format`` limited to plain field names: no attribute or index lookups."""

    def get_field(self, field_name, args, kwargs):
        if field_name not in SUBJECT_FIELDS:
            raise KeyError(field_name)
        return kwargs[field_name], field_name


def render_subject(report, template=None):
    """``(subject, error)``: the one-line subject, from ``template`` or else the default, and why ``template`` was not used."""
    fields = subject_fields(report)
    default = DEFAULT_SUBJECTS[report.source]
    error = None
    try:
        subject = _FieldFormatter().vformat(template or default, (), fields)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        error = 'the subject template {0!r} is not valid ({1}: {2}); allowed fields: {3}. Using the default.'.format(
            template, type(exc).__name__, exc, ', '.join('{' + name + '}' for name in SUBJECT_FIELDS))
        subject = default.format(**fields)
    # On one line, not cut yet: ticket_request cuts it once it is redacted.
    return ' '.join(subject.split()) or default.format(**fields), error


def one_line(text, limit):
    """``text`` on one line, cut to ``limit`` characters (cut last: after redaction, when it is redacted)."""
    text = ' '.join(text.split())
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + '...'
    return text


def redacted_subject(subject, redact):
    """``subject`` bounded, redacted, then on one line and cut (a cut never splits a secret the redaction knows)."""
    return one_line(redact(bounded(str(subject))), MAX_SUBJECT_CHARS)


def render_description(report):
    """The body of the ticket: the context, then each distinct failure with its hosts and error, logs, recap."""
    lines = [INTRODUCTIONS[report.source].format(count=len(report.failures)), '']
    if report.playbooks:
        lines.append('Playbook: {0}'.format(join(report.playbooks)))
    lines.append('Play: {0}'.format(join(report.plays) or 'unnamed play'))
    if report.environment:
        lines.append('Environment: {0}'.format(report.environment))
    for name, value in sorted(report.context.items()):
        if value not in (None, ''):
            lines.append('{0}: {1}'.format(name, value))
    if report.ci_job:
        lines.append('CI job: {0}'.format(report.ci_job))
    lines.append('Failed at (UTC): {0}'.format(report.timestamp))
    failed, unreachable = report.hosts('failed'), report.hosts('unreachable')
    if failed:
        of = ' of {0} in the play'.format(report.play_hosts_count) if report.play_hosts_count else ''
        lines.append('Failed hosts ({0}{1}): {2}'.format(len(failed), of, join(failed, MAX_LISTED_GROUPS)))
    if unreachable:
        lines.append('Unreachable hosts ({0}): {1}'.format(len(unreachable), join(unreachable, MAX_LISTED_GROUPS)))
    if report.ansible_version:
        lines.append('ansible-core: {0}'.format(report.ansible_version))
    lines.extend(failure_lines(report))
    lines.extend(log_lines(report))
    if report.recap:
        lines.extend(['', 'Recap', '====='] + report.recap)
    return '\n'.join(lines)


def failure_lines(report):
    """Each distinct failure with its hosts and error, under a heading."""
    lines = ['', 'What failed', '===========']
    groups = report.groups()
    for number, group in enumerate(groups[:MAX_LISTED_GROUPS], 1):
        count = len(group['hosts'])
        hosts = '{0} host{1}'.format(count, '' if count == 1 else 's')
        where = ' in play "{0}"'.format(group['play']) if group['play'] and len(report.plays) > 1 else ''
        what = ': {0} unreachable'.format(hosts) if group['kind'] == 'unreachable' else ' failed on ' + hosts
        lines.extend([
            '',
            '{0}. Task "{1}" ({2}){3}{4}:'.format(number, group['task'], group['action'], what, where),
            '   ' + join(group['hosts'], MAX_LISTED_GROUPS),
            '   Error:',
        ])
        lines.extend('      ' + line if line else '' for line in group['error'].splitlines() or [''])
    if len(groups) > MAX_LISTED_GROUPS:
        lines.extend(['', '... and {0} more distinct failures.'.format(len(groups) - MAX_LISTED_GROUPS)])
    return lines


def log_lines(report):
    """The log files attached and the notes on those that could not be, under a heading; none without logs."""
    files, notes = report.logs.get('files') or [], report.logs.get('notes') or []
    if not files and not notes:
        return []
    lines = ['', 'Logs', '====']
    for item in files:
        lines.append('- {0}: {1} on {2} ({3} bytes{4}; secrets redacted)'.format(
            item['filename'], item['path'], item['host'], item['size'], ', the end attached' if item.get('truncated') else ''))
    lines.extend('- ' + note for note in notes)
    return lines


def render_repeat_comment(report):
    """The comment for the unsolved ticket that already covers this failure: when and where it failed again, what."""
    lines = ['This failure happened again at {0} (UTC); {1} added this comment instead of filing a new ticket.'.format(
        report.timestamp, REPEAT_AUTHORS[report.source])]
    if report.playbooks:
        lines.append('Playbook: {0}'.format(join(report.playbooks)))
    if report.plays:
        lines.append('Play: {0}'.format(join(report.plays)))
    if report.environment:
        lines.append('Environment: {0}'.format(report.environment))
    if report.ci_job:
        lines.append('CI job: {0}'.format(report.ci_job))
    lines.append('Failed tasks: {0}'.format(join(report.tasks(), MAX_LISTED_GROUPS)))
    for kind in ('failed', 'unreachable'):
        hosts = report.hosts(kind)
        if hosts:
            lines.append('{0} hosts ({1}): {2}'.format(kind.capitalize(), len(hosts), join(hosts, MAX_LISTED_GROUPS)))
    return '\n'.join(lines + failure_lines(report) + log_lines(report))


def failure_scope(report):
    """What recovers, beside the project: the role's play and environment, or the callback's playbook file names."""
    if report.source == 'role':
        return [join(report.plays), report.environment or '']
    return [','.join(os.path.basename(path) for path in report.playbooks) or 'unknown playbook']


def default_dedupe_key(report):
    """Stable across reruns of the same failure, whichever hosts fail: the project, the deploy or playbook, the failed tasks."""
    return failure_keys(report.source, report.project or project_identity(), failure_scope(report), report.tasks())[0]


def default_recovery_key(report):
    """What a successful run of the same deploy or playbook(s) of the same project solves, whatever task failed."""
    return failure_keys(report.source, report.project or project_identity(), failure_scope(report))[1]


def ticket_request(report, redact, options=None, subject_template=None, subject=None, description=None,
                   dedupe_key=None, dedupe=True, attachments=None, max_attachment_size=None, recovery_key=None,
                   repeat_comment=True):
    """``(ticket options, warnings)`` for ``report``: what ``upsun.support.ticket`` files, and what is spooled.

    ``subject`` and ``description``, when given (the role's own templates),
    replace the rendered ones. With ``dedupe`` and ``repeat_comment``, the
    request carries the comment for an unsolved ticket that already covers the
    failure (``render_repeat_comment``). Everything that is text is redacted
    here, last, whatever it came from.
    """
    warnings = []
    if subject is None:
        subject, error = render_subject(report, subject_template)
        if error:
            warnings.append(error)
    request = dict(
        subject=redacted_subject(subject, redact),
        description=redact(render_description(report) if description is None else str(description)),
        filed_by=report.source,
    )
    if dedupe:
        request['dedupe_key'] = dedupe_key or default_dedupe_key(report)
        if repeat_comment:
            request['repeat_comment'] = cut(redact(render_repeat_comment(report)), MAX_REPEAT_CHARS)
    request['recovery_key'] = recovery_key or default_recovery_key(report)
    for name in TICKET_OPTIONS:
        value = (options or {}).get(name)
        if value not in (None, '', []):
            request[name] = value
    if attachments:
        request['attachments'] = [dict(filename=item['filename'], content=redact(item['content'])) for item in attachments]
        if max_attachment_size:
            request['max_attachment_size'] = max_attachment_size
    return request, [redact(warning) for warning in warnings]
