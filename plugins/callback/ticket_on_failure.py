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
  - The values Ansible itself treats as secret are masked wherever they appear, whatever text surrounds them. They
    are the vault-encrypted variables and the results of C(no_log) tasks of the failed hosts, and the collection's
    credentials (its options, E(UPSUN_CLI_TOKEN), E(PLATFORMSH_CLI_TOKEN), C(module_defaults) of
    C(group/upsun.support.upsun)).
  - Text is redacted before it is cut (loop item labels, the subject, error messages), so a cut never leaves the start
    of a secret. Each value of a failed result (its message, its output) is kept to its first and last 8 KiB, cut
    between lines, and a run of more than 4096 characters without a space is left out whole, so that a task that
    printed megabytes cannot hold up the end of the run.
  - A failure the role already filed a ticket for (the role failing the host again with the deploy's error) is not
    filed a second time.
  - The ticket carries a dedupe reference (see O(dedupe_key)), so rerunning the same failure files no second ticket
    while the first one is still being worked on, exactly like the
    O(upsun.support.ticket#module:dedupe_key) option of the ticket module.
  - When the ticket cannot be filed (API down, bad credentials, missing C(requests), ...), it is written to
    O(spool_dir) in the spool format that the C(upsun.support.flush_spool) playbook files later.
  - A run stopped by SIGTERM (a CI job killed at its timeout) or SIGINT (Ctrl-C) after a failure, or in the middle of a
    task running for O(hung_task_seconds), leaves a spooled ticket saying so, written at the signal; see
    O(spool_on_interrupt).
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
      - When not set, the key is made of the project, the playbook file names and the names of the failed tasks, so
        that rerunning the same failing playbook files one ticket, whichever hosts fail, and unrelated projects never
        share one.
      - "The project is O(project) when set. Otherwise it is where the run comes from: for each playbook and each
        inventory source, inside a git checkout, the checkout's C(origin) remote (without credentials, scheme or
        C(.git)) or, without a remote, the checkout directory's name, followed by the path inside the checkout;
        outside any checkout, the full real path. Two CI runners that check out the same repository in different
        workspaces share it; outside git, different directories do not (set O(project) then)."
      - Version 1.0.0 made the key of the playbook file names and the failed tasks only, without the project. Tickets
        it filed carry that older key and are not found by later versions, unless this option is set.
    type: str
    env:
      - name: UPSUN_TICKET_ON_FAILURE_DEDUPE_KEY
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: dedupe_key
  project:
    description:
      - A name for the project this run belongs to, part of what identifies its failures (see O(dedupe_key)).
      - Set it when the automatic identity does not fit, for example when the playbooks are not in a git checkout
        and CI runners check them out in different directories, or when one inventory serves several projects.
      - "When set, it replaces the playbook and inventory locations in the identity: the failures of two runs with the
        same project, playbook file names and failed tasks share one ticket, wherever they run."
    type: str
    version_added: 2.0.0
    env:
      - name: UPSUN_TICKET_ON_FAILURE_PROJECT
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: project
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
        for earlier failed runs of the same playbook(s) of the same project (see O(dedupe_key)), whatever task failed
        then, or for the same O(dedupe_key) when one is set. One search, one update per ticket; a line names the
        tickets solved.
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
  spool_on_interrupt:
    description:
      - When SIGTERM (a CI job killed at its timeout, C(kill), C(docker stop)) or SIGINT (Ctrl-C) stops the run, spool
        a ticket for it at once, in O(spool_dir), without any request (there is no time to file; the
        C(upsun.support.flush_spool) playbook files it later, once). It is written within a second of the signal.
      - "The rule: a stopped run is spooled when it had an unhandled failure or unreachable host, or when a task had
        been running for at least O(hung_task_seconds) on some host (the deploy hung). A healthy run stopped between
        tasks, or in a short task, spools nothing."
      - The ticket says which signal stopped the run, the failures seen so far (hosts, tasks, redacted errors), and
        the task each host was running then ("the run hung at task X on 2 host(s)"). Its dedupe key is that of the
        failure with C(|interrupted|) and the running tasks added, unless O(dedupe_key) is set.
      - A signal while the end of the run files its ticket (a slow API) spools that same ticket, marked as one that may
        have been filed; the flush looks for it before it files it. A signal after it was filed spools nothing.
      - The signal then has its usual effect, unchanged (ansible-core stops its workers and ends the run, exit code
        99 for Ctrl-C; killed by SIGTERM); a second signal acts at once.
      - SIGKILL cannot be caught, and nothing is spooled for it. The cancel and timeouts of ansible-runner
        (C(cancel_callback), C(job_timeout), C(idle_timeout)) send SIGKILL to the process group.
    type: bool
    default: true
    version_added: 2.0.0
    env:
      - name: UPSUN_TICKET_ON_FAILURE_SPOOL_ON_INTERRUPT
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: spool_on_interrupt
  hung_task_seconds:
    description:
      - For a run stopped by a signal with no failure (see O(spool_on_interrupt)), how long a task must have been
        running on a host for the run to count as hung and be spooled. V(0) spools every run stopped in a task.
      - From V(0) to V(604800) (a week). Another value is reported as a warning and the default is used.
    type: float
    default: 60
    version_added: 2.0.0
    env:
      - name: UPSUN_TICKET_ON_FAILURE_HUNG_TASK_SECONDS
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: hung_task_seconds
  file_in_check_mode:
    description:
      - Whether a run in check mode (C(--check)) files a ticket for its failures and, with O(resolve_on_success),
        solves tickets when it succeeds.
      - "By default it does neither: a check run changes nothing, and a check run that passes does not prove that the
        deploy works. A line says so when such a run fails."
    type: bool
    default: false
    version_added: 2.0.0
    env:
      - name: UPSUN_TICKET_ON_FAILURE_FILE_IN_CHECK_MODE
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: file_in_check_mode
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
        C(user_password_flag), C(secret_json), C(secret_assignment), C(secret_flag), C(token_format),
        C(credential_files) and C(environment_secrets) (the values of the controller's environment variables whose
        names look secret); see P(upsun.support.redact_secrets#filter) for what each one hides.
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
import os

from ansible import constants as C
from ansible import context
from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.callback import CallbackBase

from ansible_collections.upsun.support.plugins.module_utils.errors import TicketMayExistError, UpsunError
from ansible_collections.upsun.support.plugins.module_utils.filing import file_prepared, prepare_create
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference
from ansible_collections.upsun.support.plugins.module_utils.ledger import DEFAULT_LEDGER_DIR, Ledger
from ansible_collections.upsun.support.plugins.module_utils.recovery import solve_carrying
from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, SECRET_NAMES, resolve_connection
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.identity import project_identity
from ansible_collections.upsun.support.plugins.plugin_utils.interruption import (
    DEFAULT_HUNG_TASK_SECONDS, RunningTasks, SignalHook, hung_task_seconds, signal_name, stopped_run_ticket, stopped_ticket)
from ansible_collections.upsun.support.plugins.plugin_utils.known_secrets import URL_NAMES, KnownSecrets, shared_redactor
from ansible_collections.upsun.support.plugins.plugin_utils.plugin_options import options_one_by_one, origin_text
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RedactionError
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import default_recovery_key, ticket_request
from ansible_collections.upsun.support.plugins.plugin_utils.recap import recap_lines
from ansible_collections.upsun.support.plugins.plugin_utils.run_context import ci_job_url, utc_now
from ansible_collections.upsun.support.plugins.plugin_utils.run_failures import RunFailures, in_rescued_block
from ansible_collections.upsun.support.plugins.plugin_utils.spool import (
    DEFAULT_SPOOL_DIR,
    FLUSH_COMMAND,
    SpoolError,
    make_record,
    write_record,
)
from ansible_collections.upsun.support.plugins.plugin_utils.task_fields import task_name

NAME = 'upsun.support.ticket_on_failure'
SECTION = 'callback_upsun_support_ticket_on_failure'
TICKET_OPTIONS = ('priority', 'category', 'subscription_id', 'organization_id')
# The failed hosts whose variables are read for the values known to be secret.
MAX_KNOWN_HOSTS = 200


def _attr(obj, public, private):
    # ansible-core 2.19+ names these result.task, result.host, result.result; older cores use the private names.
    value = getattr(obj, public, None)
    return getattr(obj, private, None) if value is None else value


def _name_of(host):
    return host.get_name() if hasattr(host, 'get_name') else str(host or 'unknown host')


def _host_name(result):
    return _name_of(_attr(result, 'host', '_host'))


def _flush_command(directory):
    return FLUSH_COMMAND if directory == DEFAULT_SPOOL_DIR else '{0} -e upsun_support_spool_dir={1}'.format(
        FLUSH_COMMAND, directory)


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
        self._redactor_hosts = 0
        self._play_object = None
        # Failed host name: (host, play, task), to read the values known to be secret when the run ends.
        self._failed = {}
        self._origins = {}
        self.running = RunningTasks()
        self._signal_hook = None
        self._hung_after = DEFAULT_HUNG_TASK_SECONDS
        # The ticket being filed at the end of the run, until that is over: a signal then spools this one.
        self.filing = None
        super(CallbackModule, self).__init__(display=display, options=options)

    # -- settings -------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        # A bad setting is reported and replaced by its default, instead of disabling the callback.
        try:
            super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        except Exception:  # pylint: disable=broad-except
            self._plugin_options, self._origins = options_one_by_one(
                'callback', self._load_name, self.warn, SECRET_NAMES, keys=task_keys, variables=var_options, direct=direct)

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
        return origin_text(name, origin)

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
        # Built once, when first needed; again only when failures came since (a warning about a setting came first).
        if self._redactor is None or self._redactor_hosts != len(self._failed):
            # The values to mask wherever they appear: the credentials, and the secrets in the failed hosts' variables.
            secrets = KnownSecrets().credentials(dict((name, self.option(name)) for name in SECRET_NAMES + URL_NAMES)) \
                .failed_hosts(list(self._failed.values())[:MAX_KNOWN_HOSTS]).values
            self._redactor_hosts = len(self._failed)
            try:
                self._redactor = shared_redactor(self.option('redact_patterns'), self.option('redact_disable'), secrets=secrets)
            except RedactionError as exc:
                self._redactor = shared_redactor(secrets=secrets)
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
        self.watch_signals()

    @_guarded
    def v2_playbook_on_play_start(self, play):
        self._play_object = play
        self.play = (play.get_name() or '').strip() or 'unnamed play'
        self.plays.append(self.play)

    @_guarded
    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.running.done(_host_name(result))
        if not ignore_errors:
            self.record(result, 'failed')

    @_guarded
    def v2_runner_on_unreachable(self, result):
        self.running.done(_host_name(result))
        if getattr(_attr(result, 'task', '_task'), 'ignore_unreachable', False) is not True:
            self.record(result, 'unreachable')

    # The task each host is running, for a run stopped by a signal (see on_signal). Not guarded: nothing here raises.
    def v2_runner_on_start(self, host, task):
        self.running.start(_name_of(host), task_name(task), str(getattr(task, 'action', None) or 'unknown action'))

    def v2_runner_on_ok(self, result):
        self.running.done(_host_name(result))

    v2_runner_on_skipped = v2_runner_on_ok

    @_guarded
    def v2_playbook_on_stats(self, stats):
        if not self.finished:
            self.finished = True
            self.finish(stats)
            self.filing = None

    def record(self, result, kind):
        if self._failures is None:
            self._failures = RunFailures(lambda: self.redactor)
        task, host, data = _attr(result, 'task', '_task'), _attr(result, 'host', '_host'), _attr(result, 'result', '_result')
        name = _name_of(host)
        if hasattr(host, 'get_name') and self._play_object is not None:
            self._failed.setdefault(name, (host, self._play_object, task))
        self._failures.record(name, task, data if isinstance(data, dict) else {}, kind, self.play,
                              kind == 'failed' and in_rescued_block(task))

    # -- the ticket -----------------------------------------------------

    def finish(self, stats):
        counts = getattr(stats, 'failures', None)
        unhandled = (self._failures or RunFailures(lambda: self.redactor)).unhandled(counts if isinstance(counts, dict) else None)
        if self.skips_check_mode(bool(unhandled)):
            return
        if not unhandled:
            if self.option('resolve_on_success', False) and not counts:
                self.resolve()
            return
        report = FailureReport('callback', unhandled, plays=self.plays, playbooks=self.playbooks, ci_job=ci_job_url(),
                               ansible_version=ANSIBLE_VERSION, project=self.project())
        report.recap = recap_lines(stats, report.hosts())
        ticket, warnings = ticket_request(
            report, self.redactor, options=dict((name, self.option(name)) for name in TICKET_OPTIONS),
            subject_template=self.option('subject'), dedupe_key=self.option('dedupe_key'))
        for warning in warnings:
            self.warn(warning)
        self.file(ticket)

    def project(self):
        # The inventory sources as ansible-playbook resolved them (paths made absolute), else the configured default.
        inventory = context.CLIARGS.get('inventory') or getattr(C, 'DEFAULT_HOST_LIST', None) or []
        if isinstance(inventory, str):
            inventory = [inventory]
        return project_identity(self.option('project'), self.playbooks, inventory)

    def skips_check_mode(self, failed):
        # A --check run changes nothing, and its success proves nothing: no ticket filed or solved, unless asked.
        if not context.CLIARGS.get('check') or self.option('file_in_check_mode', False):
            return False
        if failed:
            self.say('check mode (--check): filed no Upsun ticket for this failed run (set file_in_check_mode to file '
                     'one in check runs).')
        return True

    def resolve(self):
        key = self.option('dedupe_key')
        reference = dedupe_reference(key) if key else recovery_reference(
            default_recovery_key(FailureReport('callback', [], playbooks=self.playbooks, project=self.project())))
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
        self.filing = ticket
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
        self.warn('could not file the Upsun ticket for this failed run{0}: {1} It was written to {2}; file it later with '
                  '"{3}".'.format(' (it may have been filed: the flush checks first)' if may_exist else '', error, path,
                                  _flush_command(directory)))

    # -- runs stopped by a signal (plugins/plugin_utils/interruption.py) --

    def watch_signals(self):
        # Once, in the controller's main thread, after ansible-core set its own handlers (they run after ours).
        if self._signal_hook is not None or not self.option('spool_on_interrupt', True):
            return
        try:
            self._hung_after = hung_task_seconds(self.option('hung_task_seconds', DEFAULT_HUNG_TASK_SECONDS))
        except ValueError as exc:
            self.warn('ignored the {0} setting: {1}; using its default ({2:g}).'.format(
                'hung_task_seconds', exc, DEFAULT_HUNG_TASK_SECONDS))
        self._signal_hook = SignalHook(self.on_signal)
        try:
            self._signal_hook.install()
        except ValueError as exc:
            self.warn('cannot watch for SIGTERM and SIGINT ({0}): a stopped run spools no ticket.'.format(exc))

    def on_signal(self, signum):
        """Spool the ticket of a run that ``signum`` stops, if the rule says so: no request, no display (its lock)."""
        name = signal_name(signum)
        try:
            stopped = None if self.finished and self.filing is None else stopped_ticket(signum, self.filing, lambda: (
                stopped_run_ticket(
                    (self._failures or RunFailures(lambda: self.redactor)).unhandled(), self.running.groups(),
                    self._hung_after, signum, self.redactor, plays=self.plays, playbooks=self.playbooks,
                    ansible_version=ANSIBLE_VERSION, options=dict((option, self.option(option)) for option in TICKET_OPTIONS),
                    dedupe_key=self.option('dedupe_key'))))
            if stopped is None:
                return
            ticket, may_exist, error = stopped
            # The end of the run, should it still come, files nothing more: the ticket is spooled here.
            self.finished = True
            directory = self.option('spool_dir', DEFAULT_SPOOL_DIR)
            record = make_record(ticket, 'callback', utc_now(), may_exist=may_exist, connection=self.public_connection(),
                                 redact=self.redactor, error=error)
            message = 'the run was stopped by {0}: its ticket was spooled to {1}; file it later with "{2}".'.format(
                name, write_record(directory, record), _flush_command(directory))
        except Exception as exc:  # pylint: disable=broad-except
            message = 'the run was stopped by {0}, and its ticket could not be spooled: {1}: {2}'.format(
                name, type(exc).__name__, exc)
        os.write(2, '[WARNING]: {0}: {1}\n'.format(NAME, self.redactor(message)).encode('utf-8', 'replace'))

    def public_connection(self):
        try:
            return self.connection().public()
        except Exception:  # pylint: disable=broad-except
            return {}
