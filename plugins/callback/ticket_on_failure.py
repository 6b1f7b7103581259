# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: ticket_on_failure
type: notification
short_description: File one Upsun support ticket at the end of a failed playbook run
version_added: 1.0.0
description:
  - Watches a playbook run and, at its end, files B(one) Upsun support ticket when any host failed a task or was
    unreachable. A run with no failure files nothing and sends no request.
  - Failures under C(ignore_errors), unreachable hosts under C(ignore_unreachable), and failures handled by the
    C(rescue) section of a block are not counted.
  - The ticket lists the playbook, the plays, and for each failed host the task name, its action and its error
    message. The error of a task with C(no_log) is written as C(hidden by no_log).
  - Secrets are redacted from everything it sends, prints or writes (ticket, warnings, spool file), with the same
    rules as the P(upsun.support.deploy_failure_ticket#role) role; see O(redact_patterns) and O(redact_disable).
  - A failure the role already filed a ticket for (the role failing the host again with the deploy's error) is not
    filed a second time.
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
        C({tasks}) (the failed tasks, three at most), C({failure_count}), C({environment}) and C({in_environment})
        (empty for the callback, which knows no environment)."
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
  ledger_dir:
    description:
      - "The ticket ledger on the controller, shared with M(upsun.support.ticket) (see its
        O(upsun.support.ticket#module:ledger_dir) option): what this controller filed, so that a rerun of the same
        failure and O(resolve_on_success) work before the API's lagging listings show the ticket, and a ticket whose
        answer was lost is not filed again meanwhile."
    type: path
    default: ~/.ansible/upsun_support_ledger
    version_added: 1.0.0
    env:
      - name: UPSUN_SUPPORT_LEDGER_DIR
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: ledger_dir
  resolve_on_success:
    description:
      - Close the loop. When set, a run with no unhandled failure solves the unsolved tickets that the callback filed
        for earlier failed runs of the same playbook(s), whatever task failed then, or for the same O(dedupe_key) when
        one is set. One search, one update per ticket; a line names the tickets solved.
      - When not set, a successful run sends no request at all.
      - Every ticket the callback files records the playbook(s) in its footer (a recovery reference), so that they
        are found with one search.
    type: bool
    default: false
    version_added: 1.0.0
    env:
      - name: UPSUN_TICKET_ON_FAILURE_RESOLVE_ON_SUCCESS
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: resolve_on_success
  redact_patterns:
    description:
      - Regular expressions (Python syntax) of your own, applied after the built-in rules. A match is replaced
        whole, or only its group named C(secret) (or its first group) when it has one.
      - In E(UPSUN_TICKET_ON_FAILURE_REDACT_PATTERNS) or C(ansible.cfg) they are separated by commas; write a comma
        inside a pattern as C(\x2c).
    type: list
    elements: str
    default: []
    env:
      - name: UPSUN_TICKET_ON_FAILURE_REDACT_PATTERNS
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: redact_patterns
  redact_disable:
    description:
      - Names of built-in redaction rules to switch off, for one that hides text support needs. The rules are
        C(private_key), C(authorization_header), C(cookie_header), C(bearer_token), C(url_credentials),
        C(user_password_flag), C(secret_json), C(secret_assignment), C(secret_flag), C(token_format) and
        C(environment_secrets) (the values of the controller's environment variables whose names look secret).
      - The credentials the callback was given are always masked.
    type: list
    elements: str
    default: []
    env:
      - name: UPSUN_TICKET_ON_FAILURE_REDACT_DISABLE
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: redact_disable
notes:
  - Settings are read, from highest to lowest precedence, from the environment variables, then from the
    C([callback_upsun_support_ticket_on_failure]) section of C(ansible.cfg), then from the defaults.
  - The ticket is filed once, from the controller, when the run ends; the callback sends no request while tasks run.
  - The callback never hangs a run. Filing (with its dedupe search, retries and waits) takes at most the O(deadline)
    connection setting (E(UPSUN_SUPPORT_DEADLINE), 120 seconds by default); past it the ticket is spooled and the run
    ends with its own exit code. Lower it in CI to end a failed job sooner when the API is unreachable.
  - When a ticket is filed, or found already open for the same failure, one line with its id and URL is printed.
seealso:
  - module: upsun.support.ticket
    description: File a ticket from a task, for example in the C(rescue) section of a block.
'''

EXAMPLES = r'''
# Enable it for one run, with the token from your CI's secret store:
#   export UPSUN_CLI_TOKEN=...
#   ANSIBLE_CALLBACKS_ENABLED=upsun.support.ticket_on_failure UPSUN_TICKET_ON_FAILURE_PRIORITY=high \
#     ansible-playbook -i inventory deploy.yml

# Or in ansible.cfg:
#   [defaults]
#   callbacks_enabled = upsun.support.ticket_on_failure
#
#   [callback_upsun_support_ticket_on_failure]
#   priority = high
#   category = incident_outage
#   subject = [CI] {playbook}: {tasks} failed on {hosts}
#   redact_patterns = X-Shop-Key:\s*(?P<secret>\S+)
#
#   [upsun_support]
#   ca_path = /etc/ssl/certs/corporate-ca.pem

# With ansible-runner, in <private_data_dir>/env/envvars:
#   ANSIBLE_CALLBACKS_ENABLED: upsun.support.ticket_on_failure
#   UPSUN_TICKET_ON_FAILURE_PRIORITY: high
'''

import functools

from ansible import constants as C
from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.callback import CallbackBase

from ansible_collections.upsun.support.plugins.module_utils.errors import TicketMayExistError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.filing import file_prepared, prepare_create
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference
from ansible_collections.upsun.support.plugins.module_utils.ledger import DEFAULT_LEDGER_DIR, Ledger
from ansible_collections.upsun.support.plugins.module_utils.recovery import solve_carrying
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, SECRET_NAMES, resolve_connection
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import (
    FailureReport,
    RunFailures,
    ci_job_url,
    in_rescued_block,
    recap_lines,
    utc_now,
)
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RedactionError, Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import default_recovery_key, ticket_request
from ansible_collections.upsun.support.plugins.plugin_utils.spool import (
    DEFAULT_SPOOL_DIR,
    FLUSH_COMMAND,
    SpoolError,
    make_record,
    write_record,
)

NAME = 'upsun.support.ticket_on_failure'
SECTION = 'callback_upsun_support_ticket_on_failure'
TICKET_OPTIONS = ('priority', 'category', 'subscription_id', 'organization_id')


def _attr(obj, public, private):
    # ansible-core 2.19+ names these result.task, result.host, result.result; older cores use the private names.
    value = getattr(obj, public, None)
    return getattr(obj, private, None) if value is None else value


def _guarded(method):
    # Never let an error of the callback reach the run: it becomes a warning.
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            self.warn('internal error in {0} ({1}: {2}); the run itself is not affected.'.format(
                method.__name__, type(exc).__name__, exc))
            return None
    return wrapper


class CallbackModule(CallbackBase):
    # Records the unhandled failures of a run; files one ticket for them when it ends.

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = NAME
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        self.playbooks = []
        self.plays = []
        self.play = None
        self.finished = False
        self._failures = None
        self._redactor = None
        self._origins = {}
        super(CallbackModule, self).__init__(display=display, options=options)

    # -- settings -------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        # A bad setting is reported and replaced by its default, instead of disabling the callback.
        try:
            super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
            return
        except Exception:  # pylint: disable=broad-except
            pass
        options, origins = {}, {}
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
                detail = '' if name in SECRET_NAMES else ': {0}'.format(exc)
                self.warn('ignored the {0} setting{1}; using its default ({2!r}).'.format(
                    name, detail, None if name in SECRET_NAMES else definition.get('default')))
        self._plugin_options, self._origins = options, origins

    def option(self, name, default=None):
        try:
            value = self.get_option(name)
        except KeyError:
            return default
        return default if value is None else value

    def origin(self, name):
        # Where a setting came from: recorded by set_options (2.19+, or the fallback), else asked of the configuration.
        origin = self._origins.get(name)
        if origin is None:
            try:
                dummy, origin = self.get_option_and_origin(name)
            except (KeyError, AttributeError):
                origin = None
        origin = str(origin or 'default')
        if origin.startswith('env: ') or origin in ('default', 'direct', 'Direct'):
            return origin if origin.startswith('env: ') else None
        return '{0} in the [upsun_support] section of {1}'.format(name, origin)

    def connection(self):
        values = dict((name, self.option(name)) for name in CONNECTION_NAMES)
        origins = dict((name, self.origin(name)) for name in CONNECTION_NAMES if self.origin(name))
        return resolve_connection(values, origins)

    @staticmethod
    def client_module():
        # Imported only now: requests would cost every run, most of which never call the API, a tenth of a second.
        from ansible_collections.upsun.support.plugins.module_utils import client
        if not client.HAS_REQUESTS:
            raise UpsunError(missing_required_lib('requests') + ' (on the controller, in the Python that runs Ansible)')
        return client

    @property
    def redactor(self):
        if self._redactor is None:
            secrets = [self.option(name) for name in SECRET_NAMES]
            try:
                self._redactor = Redactor(self.option('redact_patterns'), self.option('redact_disable'), secrets=secrets)
            except RedactionError as exc:
                self._redactor = Redactor(secrets=secrets)
                self.warn('{0}; using the built-in redaction rules only.'.format(exc))
        return self._redactor

    # -- output ---------------------------------------------------------

    def say(self, message):
        # On stderr when the stdout callback writes JSON, so that its output stays parseable.
        stdout_callback = str(getattr(C, 'DEFAULT_STDOUT_CALLBACK', '') or '')
        self._display.display('{0}: {1}'.format(NAME, self.redactor(message)), stderr=stdout_callback.endswith(('json', 'jsonl')))

    def warn(self, message):
        try:
            self._display.warning('{0}: {1}'.format(NAME, self.redactor(message)))
        except Exception:  # pylint: disable=broad-except
            self._display.warning('{0}: a warning could not be shown safely.'.format(NAME))

    # -- events ---------------------------------------------------------

    @_guarded
    def v2_playbook_on_start(self, playbook):
        self.playbooks.append(str(getattr(playbook, '_file_name', None) or 'unknown playbook'))

    @_guarded
    def v2_playbook_on_play_start(self, play):
        self.play = (play.get_name() or '').strip() or 'unnamed play'
        self.plays.append(self.play)

    @_guarded
    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self.record(result, 'failed')

    @_guarded
    def v2_runner_on_unreachable(self, result):
        if getattr(_attr(result, 'task', '_task'), 'ignore_unreachable', False) is not True:
            self.record(result, 'unreachable')

    @_guarded
    def v2_playbook_on_stats(self, stats):
        if not self.finished:
            self.finished = True
            self.finish(stats)

    def record(self, result, kind):
        if self._failures is None:
            self._failures = RunFailures(self.redactor)
        task, host, data = _attr(result, 'task', '_task'), _attr(result, 'host', '_host'), _attr(result, 'result', '_result')
        name = host.get_name() if hasattr(host, 'get_name') else str(host or 'unknown host')
        self._failures.record(name, task, data if isinstance(data, dict) else {}, kind, self.play,
                              kind == 'failed' and in_rescued_block(task))

    # -- the ticket -----------------------------------------------------

    def finish(self, stats):
        counts = getattr(stats, 'failures', None)
        unhandled = (self._failures or RunFailures(self.redactor)).unhandled(counts if isinstance(counts, dict) else None)
        if not unhandled:
            if self.option('resolve_on_success', False) and not counts:
                self.resolve()
            return
        report = FailureReport('callback', unhandled, plays=self.plays, playbooks=self.playbooks, ci_job=ci_job_url(),
                               ansible_version=ANSIBLE_VERSION)
        report.recap = recap_lines(stats, report.hosts())
        ticket, warnings = ticket_request(
            report, self.redactor, options=dict((name, self.option(name)) for name in TICKET_OPTIONS),
            subject_template=self.option('subject'), dedupe_key=self.option('dedupe_key'))
        for warning in warnings:
            self.warn(warning)
        self.file(ticket)

    def resolve(self):
        key = self.option('dedupe_key')
        reference = dedupe_reference(key) if key else recovery_reference(
            default_recovery_key(FailureReport('callback', [], playbooks=self.playbooks)))
        try:
            client_module = self.client_module()
            settings = self.connection()
            settings.validate()
            client = client_module.client_from_settings(settings, warn=self.warn)
            try:
                solved = solve_carrying(client, reference, ledger=self.ledger(client))
            finally:
                client.close()
        except Exception as exc:  # pylint: disable=broad-except
            self.warn('could not solve the tickets of earlier failed runs of this playbook: {0}'.format(
                exc.msg if isinstance(exc, UpsunError) else '{0}: {1}'.format(type(exc).__name__, exc)))
            return
        for dummy, ticket in solved:
            self.say('solved Upsun ticket {0}, filed for an earlier failed run of this playbook: {1}'.format(
                ticket.get('ticket_id'), ticket.get('zd_ticket_url') or 'no URL given'))

    def file(self, ticket):
        settings = None
        try:
            client_module = self.client_module()
            settings = self.connection()
            settings.validate()
            prepared = prepare_create(ticket, settings.secret_values())
            client = client_module.client_from_settings(settings, warn=self.warn)
            try:
                created, filed = file_prepared(client, prepared, self.warn, self.ledger(client))
            finally:
                client.close()
        except Exception as exc:  # pylint: disable=broad-except
            error = exc.msg if isinstance(exc, UpsunError) else '{0}: {1}'.format(type(exc).__name__, exc)
            self.spool(ticket, error, isinstance(exc, TicketMayExistError), settings.public() if settings else {})
            return
        url = filed.get('zd_ticket_url') or 'no URL given'
        if created:
            self.say('filed Upsun ticket {0} for this failed run: {1}'.format(filed.get('ticket_id'), url))
        else:
            self.say('Upsun ticket {0} (status {1}) already tracks this failure, filed nothing: {2}'.format(
                filed.get('ticket_id'), filed.get('status'), url))

    def ledger(self, client):
        return Ledger(self.option('ledger_dir', DEFAULT_LEDGER_DIR), client.api_url, self.warn)

    def spool(self, ticket, error, may_exist, connection):
        directory = self.option('spool_dir', DEFAULT_SPOOL_DIR)
        try:
            record = make_record(ticket, 'callback', utc_now(), error=error, may_exist=may_exist, connection=connection,
                                 redact=self.redactor)
            path = write_record(directory, record)
        except (SpoolError, OSError) as exc:
            self.warn('could not file the Upsun ticket for this failed run ({0}), nor spool it: {1}. Here it is, to file '
                      'by hand:\n{2}\n\n{3}'.format(error, exc, ticket['subject'], ticket['description']))
            return
        command = FLUSH_COMMAND
        if directory != DEFAULT_SPOOL_DIR:
            command += ' -e upsun_support_spool_dir={0}'.format(directory)
        self.warn('could not file the Upsun ticket for this failed run{0}: {1} It was written to {2}; file it later with '
                  '"{3}".'.format(' (it may have been filed: the flush checks first)' if may_exist else '', error, path,
                                  command))
