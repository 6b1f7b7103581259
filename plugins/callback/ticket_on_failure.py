# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: ticket_on_failure
type: notification
short_description: File one Upsun support ticket at the end of a failed playbook run
version_added: 0.1.0
description:
  - Watches a playbook run and, at its end, files B(one) Upsun support ticket when any host failed a task or was
    unreachable. A run with no failure files nothing and sends no request.
  - Failures under C(ignore_errors), unreachable hosts under C(ignore_unreachable), and failures handled by the
    C(rescue) section of a block are not counted.
  - The ticket lists the playbook, the plays, and for each failed host the task name, its action and its error
    message. The error of a task with C(no_log) is written as C(hidden by no_log).
  - The ticket carries a dedupe reference (see O(dedupe_key)), so rerunning the same failure files no second ticket
    while the first one is still being worked on, exactly like the
    O(upsun.support.ticket#module:dedupe_key) option of the ticket module.
  - When the ticket cannot be filed (API down, bad credentials, missing C(requests), ...), it is written to
    O(spool_dir) in the spool format that the C(upsun.support.flush_spool) playbook files later.
  - The callback never changes the outcome of the run it watches. Every problem of its own, including a bad
    setting, becomes a warning; the run's result and exit code stay what they would be without it.
  - It needs enabling, like any notification callback, for example with
    E(ANSIBLE_CALLBACKS_ENABLED=upsun.support.ticket_on_failure) or C(callbacks_enabled) in the C([defaults])
    section of C(ansible.cfg). With ansible-runner, set E(ANSIBLE_CALLBACKS_ENABLED) in C(env/envvars) or in the
    C(envvars) argument of the C(ansible_runner.run) function.
author:
  - upsun.support maintainers (@upsun)
extends_documentation_fragment:
  - upsun.support.connection
  - upsun.support.connection.plugins
options:
  priority:
    description:
      - The priority of the ticket. The API applies its own default when this is not set.
    type: str
    choices: [low, normal, high, urgent]
    env:
      - name: UPSUN_TICKET_ON_FAILURE_PRIORITY
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: priority
  category:
    description:
      - The category of the ticket.
    type: str
    choices:
      - access
      - billing_question
      - complaint
      - compliance_question
      - configuration_change
      - general_question
      - incident_outage
      - bug_report
      - report_a_gui_bug
      - onboarding
      - close_my_account
    env:
      - name: UPSUN_TICKET_ON_FAILURE_CATEGORY
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: category
  subscription_id:
    description:
      - The subscription (project) the ticket is about.
    type: str
    env:
      - name: UPSUN_TICKET_ON_FAILURE_SUBSCRIPTION_ID
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: subscription_id
  organization_id:
    description:
      - The organization the ticket is about.
    type: str
    env:
      - name: UPSUN_TICKET_ON_FAILURE_ORGANIZATION_ID
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: organization_id
  subject:
    description:
      - The subject of the ticket, as a Python format string.
      - "It may use these fields: C({playbook}) (the file name of the first playbook), C({playbooks}),
        C({plays}), C({hosts}) (the failed hosts), C({host_count}), C({task}) (the first failed task),
        C({tasks}) (the failed tasks, three at most) and C({failure_count})."
      - A template with another field or a syntax error is reported as a warning and the default is used.
    type: str
    default: "Ansible run of {playbook} failed on {host_count} host(s): {tasks}"
    env:
      - name: UPSUN_TICKET_ON_FAILURE_SUBJECT
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: subject
  dedupe_key:
    description:
      - Any string that names the failure; see the O(upsun.support.ticket#module:dedupe_key) option of
        M(upsun.support.ticket), whose behaviour this shares.
      - Before filing, the callback looks for tickets that carry the key. If one is still being worked on
        (status C(new), C(open), C(pending) or C(hold)), nothing is filed and its id is shown. If the newest one is
        solved or closed, the new ticket is filed as a follow-up of it.
      - When not set, the key is made of the playbook file names and the names of the failed tasks, so that
        rerunning the same failing playbook files one ticket, whichever hosts fail.
    type: str
    env:
      - name: UPSUN_TICKET_ON_FAILURE_DEDUPE_KEY
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: dedupe_key
  spool_dir:
    description:
      - Where a ticket that could not be filed is written, one JSON file per ticket (mode C(0600)), for the
        C(upsun.support.flush_spool) playbook to file later.
      - A spool file holds the ticket's options (subject, description, priority, category, dedupe key, ...) and the
        error, never a credential.
    type: path
    default: ~/.ansible/upsun_support_spool
    env:
      - name: UPSUN_TICKET_ON_FAILURE_SPOOL_DIR
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: spool_dir
notes:
  - Settings are read, from highest to lowest precedence, from the environment variables, then from the
    C([callback_upsun_support_ticket_on_failure]) section of C(ansible.cfg), then from the defaults.
  - The ticket is filed once, from the controller, when the run ends; the callback sends no request while tasks run.
  - When a ticket is filed, or found already open for the same failure, one line with its id and URL is printed.
seealso:
  - module: upsun.support.ticket
    description: File a ticket from a task, for example in the C(rescue) section of a block.
'''

import datetime
import functools
import json
import os
import string

from ansible import constants as C
from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.callback import CallbackBase

from ansible_collections.upsun.support.plugins.module_utils.client import HAS_REQUESTS, client_from_settings
from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.module_utils.payload import build_create_payload
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, SECRET_NAMES, resolve_connection
from ansible_collections.upsun.support.plugins.module_utils.spool import DEFAULT_SPOOL_DIR, write_spool
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, with_footer
from ansible_collections.upsun.support.plugins.module_utils.tickets import create_deduped

try:
    from ansible.playbook.block import Block
except ImportError:  # pragma: no cover - always there on a controller
    Block = None

NAME = 'upsun.support.ticket_on_failure'
SPOOL_SOURCE = 'ticket_on_failure'
HIDDEN = 'hidden by no_log'
SECRET_OPTIONS = SECRET_NAMES
# Options passed on to the ticket (and to a spool file) as they are.
TICKET_OPTIONS = ('priority', 'category', 'subscription_id', 'organization_id')
DEFAULT_SUBJECT = 'Ansible run of {playbook} failed on {host_count} host(s): {tasks}'
SUBJECT_FIELDS = ('playbook', 'playbooks', 'plays', 'hosts', 'host_count', 'task', 'tasks', 'failure_count')
MAX_SUBJECT_LENGTH = 250
# Limits that keep a run with thousands of failures, or a megabyte of stderr, from making an unreadable ticket.
MAX_ERROR_LENGTH = 2000
MAX_OUTPUT_LINES = 20
MAX_LABEL_LENGTH = 80
MAX_LISTED_FAILURES = 50
MAX_SUBJECT_TASKS = 3
TRUNCATED = ' [...truncated]'
# Where common CI systems say which job is running, to link the ticket to it.
CI_JOB_URL_VARIABLES = ('CI_JOB_URL', 'BUILD_URL', 'CIRCLE_BUILD_URL', 'BUILDKITE_BUILD_URL')


def _attr(obj, public, private):
    """``obj.public`` (ansible-core 2.19+), else ``obj.private`` (older cores)."""
    try:
        value = getattr(obj, public)
    except AttributeError:
        value = None
    if value is None:
        value = getattr(obj, private, None)
    return value


def result_data(result):
    data = _attr(result, 'result', '_result')
    return data if isinstance(data, dict) else {}


def result_task(result):
    return _attr(result, 'task', '_task')


def result_host(result):
    host = _attr(result, 'host', '_host')
    if host is None:
        return 'unknown host'
    get_name = getattr(host, 'get_name', None)
    return str(get_name() if get_name else host)


def task_name(task):
    if task is None:
        return 'unknown task'
    try:
        name = task.get_name()
    except Exception:  # pylint: disable=broad-except
        name = getattr(task, 'name', None)
    return str(name or getattr(task, 'action', None) or 'unnamed task').strip()


def is_censored(task, data):
    """True when ``no_log`` hides this result (a censored result stays censored)."""
    if 'censored' in data or data.get('_ansible_no_log'):
        return True
    return task is not None and getattr(task, 'no_log', None) is True


def in_rescued_block(task):
    """True when a failure of ``task`` is handled by the ``rescue`` of a block around it.

    That is: some enclosing block has a ``rescue`` section, and the task sits in
    that block's ``block`` section (directly, or through nested blocks, includes
    and roles), not in its ``rescue`` or ``always`` sections. Objects are matched
    by ``_uuid``, which copies of tasks and blocks keep.
    """
    if Block is None or task is None:
        return False
    chain = set()
    node = task
    seen = 0
    while node is not None and seen < 100:
        seen += 1
        if isinstance(node, Block) and chain and node.rescue:
            if any(getattr(item, '_uuid', None) in chain for item in node.block or []):
                return True
        uuid = getattr(node, '_uuid', None)
        if uuid is not None:
            chain.add(uuid)
        node = getattr(node, '_parent', None)
    return False


def _text(value):
    if value is None:
        return ''
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _tail(text, lines=MAX_OUTPUT_LINES):
    text = _text(text).strip()
    parts = text.splitlines()
    if len(parts) > lines:
        return '[{0} earlier lines left out]\n'.format(len(parts) - lines) + '\n'.join(parts[-lines:])
    return text


def _cut(text, limit):
    text = _text(text)
    if len(text) > limit:
        return text[:limit - len(TRUNCATED)].rstrip() + TRUNCATED
    return text


def error_text(data, task=None):
    """The error of one failed or unreachable result, for the ticket; ``no_log`` results stay hidden."""
    if is_censored(task, data):
        return HIDDEN
    parts = []
    message = _text(data.get('msg') or data.get('reason') or data.get('message')).strip()
    if message:
        parts.append(message)
    for item in data.get('results') or []:
        if not isinstance(item, dict) or not (item.get('failed') or item.get('unreachable')):
            continue
        if is_censored(None, item):
            parts.append('item: ' + HIDDEN)
            continue
        label = item.get('_ansible_item_label', item.get('item'))
        parts.append('item {0}: {1}'.format(_cut(label, MAX_LABEL_LENGTH), error_text(item).replace('\n', '\n  ')))
    if data.get('rc') not in (None, 0):
        parts.append('rc: {0}'.format(data['rc']))
    stderr = _tail(data.get('stderr'))
    if stderr and stderr not in message:
        parts.append('stderr:\n' + stderr)
    if not parts:
        stdout = _tail(data.get('stdout'))
        parts.append('stdout:\n' + stdout if stdout else 'no error message')
    return _cut('\n'.join(parts), MAX_ERROR_LENGTH)


class _FieldFormatter(string.Formatter):
    """``str.format`` limited to plain field names: no attribute or index lookups."""

    def get_field(self, field_name, args, kwargs):
        if field_name not in SUBJECT_FIELDS:
            raise KeyError(field_name)
        return kwargs[field_name], field_name


def render_subject(template, fields):
    """``(subject, error)``: the subject from ``template``, or from the default with the reason it was not used."""
    error = None
    try:
        subject = _FieldFormatter().vformat(template, (), fields)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        error = 'the subject template {0!r} is not valid ({1}: {2}); allowed fields: {3}. Using the default.'.format(
            template, type(exc).__name__, exc, ', '.join('{' + name + '}' for name in SUBJECT_FIELDS))
        subject = DEFAULT_SUBJECT.format(**fields)
    subject = ' '.join(subject.split())
    if not subject:
        subject = DEFAULT_SUBJECT.format(**fields)
    return _cut(subject, MAX_SUBJECT_LENGTH), error


def _join(names, limit=None):
    names = list(names)
    if limit is not None and len(names) > limit:
        return '{0} and {1} more'.format(', '.join(names[:limit]), len(names) - limit)
    return ', '.join(names)


def _unique(values):
    return list(dict.fromkeys(values))


def default_dedupe_key(playbooks, tasks):
    """Playbook file names and failed task names: stable across reruns of the same failure."""
    return 'ticket_on_failure:{0}:{1}'.format(
        ','.join(os.path.basename(path) for path in playbooks) or 'unknown playbook',
        '|'.join(sorted(set(tasks))))


def ci_job_url(environ=None):
    environ = os.environ if environ is None else environ
    if environ.get('GITHUB_RUN_ID') and environ.get('GITHUB_REPOSITORY'):
        return '{0}/{1}/actions/runs/{2}'.format(
            environ.get('GITHUB_SERVER_URL') or 'https://github.com', environ['GITHUB_REPOSITORY'], environ['GITHUB_RUN_ID'])
    for name in CI_JOB_URL_VARIABLES:
        if environ.get(name):
            return environ[name]
    return None


def _guarded(method):
    """Never let an error of the callback reach the run: it becomes a warning."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            self.warn('internal error in {0} ({1}); the run itself is not affected.'.format(
                method.__name__, self.describe(exc)))
            return None
    return wrapper


class CallbackModule(CallbackBase):
    """Collects the unhandled failures of a run and files one ticket for them when it ends."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = NAME
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        self.playbooks = []
        self.plays = []
        self.current_play = None
        self.failures = []
        self.filed = False
        super(CallbackModule, self).__init__(display=display, options=options)

    # -- settings -------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        """Read the settings; a bad one is reported and replaced by its default instead of disabling the callback."""
        try:
            super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
            return
        except Exception:  # pylint: disable=broad-except
            pass
        options = {}
        origins = {}
        try:
            definitions = C.config.get_configuration_definitions(plugin_type='callback', name=self._load_name) or {}
        except Exception as exc:  # pylint: disable=broad-except
            self.warn('cannot read its settings ({0}); using the defaults.'.format(type(exc).__name__))
            definitions = {}
        for name, definition in definitions.items():
            try:
                options[name], origins[name] = C.config.get_config_value_and_origin(
                    name, plugin_type='callback', plugin_name=self._load_name, keys=task_keys, variables=var_options,
                    direct=direct)
            except Exception as exc:  # pylint: disable=broad-except
                options[name], origins[name] = definition.get('default'), 'default'
                detail = '' if name in SECRET_OPTIONS else ': {0}'.format(exc)
                self.warn('ignored the {0} setting{1}; using its default ({2!r}).'.format(
                    name, detail, None if name in SECRET_OPTIONS else definition.get('default')))
        self._plugin_options, self._origins = options, origins

    def option(self, name, default=None):
        try:
            value = self.get_option(name)
        except KeyError:
            return default
        return default if value is None else value

    def token_source(self):
        """Where the API token came from, by name only, for authentication error messages."""
        # Recorded by set_options() (ansible-core 2.19+, or the fallback above); asked of the configuration otherwise.
        origin = (getattr(self, '_origins', None) or {}).get('api_token')
        if origin is None:
            try:
                dummy, origin = self.get_option_and_origin('api_token')
            except (KeyError, AttributeError):
                origin = None
        origin = str(origin or '')
        if origin.startswith('env: '):
            return 'the {0} environment variable'.format(origin[5:])
        if origin and origin not in ('default', 'direct', 'Direct'):
            return 'api_token in the [upsun_support] section of {0}'.format(origin)
        return 'the api_token setting of the {0} callback'.format(NAME)

    # -- output ---------------------------------------------------------

    def scrub(self, text):
        """``text`` with any secret setting masked, as a last line of defence."""
        text = str(text)
        for name in SECRET_OPTIONS:
            secret = self.option(name)
            if secret and len(str(secret)) >= 4:
                text = text.replace(str(secret), '********')
        return text

    def describe(self, exc):
        if isinstance(exc, UpsunError):
            return self.scrub(exc.msg)
        return self.scrub('{0}: {1}'.format(type(exc).__name__, exc))

    def say(self, message):
        """One line of output; on stderr when the stdout callback writes JSON, so its output stays parseable."""
        stdout_callback = str(getattr(C, 'DEFAULT_STDOUT_CALLBACK', '') or '')
        self._display.display('{0}: {1}'.format(NAME, message), stderr=stdout_callback.endswith(('json', 'jsonl')))

    def warn(self, message):
        try:
            self._display.warning('{0}: {1}'.format(NAME, self.scrub(message)))
        except Exception:  # pylint: disable=broad-except
            pass

    # -- events ---------------------------------------------------------

    @_guarded
    def v2_playbook_on_start(self, playbook):
        name = getattr(playbook, '_file_name', None)
        self.playbooks.append(str(name) if name else 'unknown playbook')

    @_guarded
    def v2_playbook_on_play_start(self, play):
        name = (play.get_name() or '').strip() or 'unnamed play'
        self.current_play = name
        if name not in self.plays:
            self.plays.append(name)

    @_guarded
    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            return
        self.record(result, 'failed')

    @_guarded
    def v2_runner_on_unreachable(self, result):
        task = result_task(result)
        if task is not None and getattr(task, 'ignore_unreachable', False) is True:
            return
        self.record(result, 'unreachable')

    @_guarded
    def v2_playbook_on_stats(self, stats):
        unhandled = self.unhandled_failures(stats)
        if not unhandled or self.filed:
            return
        self.filed = True
        self.file_ticket(self.build_ticket(unhandled, stats))

    def record(self, result, kind):
        task = result_task(result)
        data = result_data(result)
        self.failures.append(dict(
            host=result_host(result),
            kind=kind,
            play=self.current_play,
            task=task_name(task),
            action=str(getattr(task, 'action', None) or 'unknown action'),
            delegate_to=getattr(task, 'delegate_to', None) if isinstance(getattr(task, 'delegate_to', None), str) else None,
            error=error_text(data, task),
            in_rescued_block=kind == 'failed' and in_rescued_block(task),
        ))

    # -- the ticket -----------------------------------------------------

    def unhandled_failures(self, stats=None):
        """The recorded failures the run did not handle, oldest first.

        Per host, the play stats count the failures that were not rescued
        (``failures``; ``ignore_errors`` ones are not in it). Those are the
        failures outside a rescued block; should the block structure disagree
        with the count (an unusual layout), the host's latest failures are
        taken, as an unhandled failure ends the host's run.
        """
        counts = getattr(stats, 'failures', None)
        counts = counts if isinstance(counts, dict) else None
        by_host = {}
        for entry in self.failures:
            by_host.setdefault(entry['host'], []).append(entry)
        keep = set()
        for host, entries in by_host.items():
            failed = [entry for entry in entries if entry['kind'] == 'failed']
            unhandled = [entry for entry in failed if not entry['in_rescued_block']]
            if counts is not None:
                count = counts.get(host, 0)
                if count <= 0:
                    unhandled = []
                elif len(unhandled) != count:
                    unhandled = failed[-count:]
            keep.update(id(entry) for entry in unhandled)
            keep.update(id(entry) for entry in entries if entry['kind'] == 'unreachable')
        result = [entry for entry in self.failures if id(entry) in keep]
        for host, count in sorted((counts or {}).items()):
            if count > 0 and host not in by_host:
                result.append(dict(host=host, kind='failed', play=None, task='unknown task', action='unknown action',
                                   delegate_to=None, error='failed; no detail reached the callback', in_rescued_block=False))
        return result

    def build_ticket(self, unhandled, stats=None):
        """The ``upsun.support.ticket`` options for the failures in ``unhandled``."""
        playbooks = self.playbooks or ['unknown playbook']
        tasks = _unique(entry['task'] for entry in unhandled)
        hosts = _unique(entry['host'] for entry in unhandled)
        fields = dict(
            playbook=os.path.basename(playbooks[0]),
            playbooks=_join(os.path.basename(path) for path in playbooks),
            plays=_join(self.plays),
            hosts=_join(hosts),
            host_count=len(hosts),
            task=tasks[0],
            tasks=_join(tasks, MAX_SUBJECT_TASKS),
            failure_count=len(unhandled),
        )
        subject, error = render_subject(self.option('subject', DEFAULT_SUBJECT), fields)
        if error:
            self.warn(error)
        ticket = dict(
            subject=subject,
            description=self.describe_failures(unhandled, playbooks, hosts, stats),
            dedupe_key=self.option('dedupe_key') or default_dedupe_key(playbooks, tasks),
        )
        for name in TICKET_OPTIONS:
            if self.option(name) is not None:
                ticket[name] = self.option(name)
        return ticket

    def describe_failures(self, unhandled, playbooks, hosts, stats=None):
        failed = _unique(entry['host'] for entry in unhandled if entry['kind'] == 'failed')
        unreachable = _unique(entry['host'] for entry in unhandled if entry['kind'] == 'unreachable')
        lines = [
            'An Ansible run ended with {0} unhandled failure(s): failed tasks or unreachable hosts that no rescue, '
            'ignore_errors or ignore_unreachable handled.'.format(len(unhandled)),
            '',
            'Playbook: {0}'.format(_join(playbooks)),
            'Plays: {0}'.format(_join(self.plays) or 'none'),
        ]
        if failed:
            lines.append('Failed hosts ({0}): {1}'.format(len(failed), _join(failed)))
        if unreachable:
            lines.append('Unreachable hosts ({0}): {1}'.format(len(unreachable), _join(unreachable)))
        job = ci_job_url()
        if job:
            lines.append('CI job: {0}'.format(job))
        lines.append('Finished: {0} (ansible-core {1})'.format(
            datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), ANSIBLE_VERSION))
        lines.extend(['', 'Failures:'])
        for entry in unhandled[:MAX_LISTED_FAILURES]:
            host = entry['host']
            if entry.get('delegate_to') and entry['delegate_to'] != host:
                host = '{0} (delegated to {1})'.format(host, entry['delegate_to'])
            where = 'task "{0}" ({1})'.format(entry['task'], entry['action'])
            if entry.get('play'):
                where += ' in play "{0}"'.format(entry['play'])
            lines.append('- {0}: {1} {2}:'.format(host, 'unreachable at' if entry['kind'] == 'unreachable' else 'failed', where))
            lines.extend('    ' + line for line in entry['error'].splitlines() or [''])
        if len(unhandled) > MAX_LISTED_FAILURES:
            lines.append('- ... and {0} more.'.format(len(unhandled) - MAX_LISTED_FAILURES))
        recap = self.recap(stats, hosts)
        if recap:
            lines.extend(['', 'Recap:'] + recap)
        lines.extend(['', 'Filed by the {0} Ansible callback.'.format(NAME)])
        return '\n'.join(lines)

    @staticmethod
    def recap(stats, hosts):
        summarize = getattr(stats, 'summarize', None)
        processed = getattr(stats, 'processed', None)
        if summarize is None or not isinstance(processed, dict):
            return []
        lines = []
        for host in sorted(processed)[:MAX_LISTED_FAILURES]:
            counts = summarize(host)
            lines.append('  {0}{1}: {2}'.format(host, ' *' if host in hosts else '', ' '.join(
                '{0}={1}'.format(name, counts.get(name, 0))
                for name in ('ok', 'changed', 'unreachable', 'failures', 'skipped', 'rescued', 'ignored'))))
        return lines

    def connection_settings(self):
        values = dict((name, self.option(name)) for name in CONNECTION_NAMES)
        origins = {}
        for name in CONNECTION_NAMES:
            origin = (getattr(self, '_origins', None) or {}).get(name)
            if origin and str(origin) != 'default':
                origins[name] = self.token_source() if name == 'api_token' else str(origin)
        return resolve_connection(values, origins)

    def send(self, ticket):
        """File ``ticket`` (with dedupe); return ``(created, ticket as the API returned it)``."""
        if not HAS_REQUESTS:
            raise UpsunError(missing_required_lib('requests') + ' (on the controller, in the Python that runs Ansible)')
        settings = self.connection_settings()
        settings.validate()
        reference = dedupe_reference(ticket['dedupe_key'])
        payload, dummy = build_create_payload(dict(ticket, description=with_footer(ticket['description'], source='callback', dedupe=reference)))
        client = client_from_settings(settings, warn=self.warn)
        try:
            return create_deduped(client, payload, reference, self.warn)
        finally:
            client.close()

    def file_ticket(self, ticket):
        try:
            created, filed = self.send(ticket)
        except Exception as exc:  # pylint: disable=broad-except
            self.spool(ticket, self.describe(exc))
            return
        url = filed.get('zd_ticket_url') or 'no URL given'
        if created:
            self.say('filed Upsun ticket {0} for this failed run: {1}'.format(filed.get('ticket_id'), url))
        else:
            self.say('Upsun ticket {0} (status {1}) already tracks this failure, filed nothing: {2}'.format(
                filed.get('ticket_id'), filed.get('status'), url))

    def spool(self, ticket, error):
        directory = self.option('spool_dir', DEFAULT_SPOOL_DIR)
        try:
            path = write_spool(directory, ticket, source=SPOOL_SOURCE, error=error)
        except Exception as exc:  # pylint: disable=broad-except
            self.warn('could not file the Upsun ticket for this failed run ({0}), nor write it to the spool directory '
                      '{1} ({2}). The ticket "{3}" is lost.'.format(error, directory, self.describe(exc), ticket['subject']))
            return
        command = 'ansible-playbook upsun.support.flush_spool'
        if directory != DEFAULT_SPOOL_DIR:
            command += ' -e upsun_support_spool_dir={0}'.format(directory)
        self.warn('could not file the Upsun ticket for this failed run: {0} It was written to {1}; file it later with '
                  '"{2}".'.format(error, path, command))
