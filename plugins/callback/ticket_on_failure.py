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
  repeat_comment:
    description:
      - When an unsolved ticket already covers the failure (same O(dedupe_key)), add one comment to it saying that it
        happened again (when, the playbook, the failed tasks and hosts, each distinct error, redacted like the ticket),
        instead of filing nothing silently; see O(upsun.support.ticket#module:repeat_comment). One comment per run, one
        request more than without it.
      - A comment that cannot be sent is spooled with the ticket request in O(spool_dir); the
        C(upsun.support.flush_spool) playbook adds it once. When the API refuses the comment endpoints (HTTP 404 or
        403), one warning says so and the line printed names the existing ticket.
    type: bool
    default: true
    version_added: 2.0.0
    env:
      - name: UPSUN_TICKET_ON_FAILURE_REPEAT_COMMENT
    ini:
      - section: callback_upsun_support_ticket_on_failure
        key: repeat_comment
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

from ansible_collections.upsun.support.plugins.module_utils.errors import TicketMayExistError
from ansible_collections.upsun.support.plugins.module_utils.filing import file_prepared, prepare_create
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, recovery_reference
from ansible_collections.upsun.support.plugins.module_utils.recovery import solve_carrying
from ansible_collections.upsun.support.plugins.module_utils.settings import SECRET_NAMES
from ansible_collections.upsun.support.plugins.plugin_utils.controller_filing import ApiSession, error_text, spool_unfiled
from ansible_collections.upsun.support.plugins.plugin_utils.failure_report import FailureReport
from ansible_collections.upsun.support.plugins.plugin_utils.identity import project_identity
from ansible_collections.upsun.support.plugins.plugin_utils.interruption import (
    DEFAULT_HUNG_TASK_SECONDS, RunningTasks, SignalHook, hung_task_seconds, signal_name, spool_stopped_run,
    stopped_run_ticket, stopped_ticket)
from ansible_collections.upsun.support.plugins.plugin_utils.known_secrets import URL_NAMES, KnownSecrets, shared_redactor
from ansible_collections.upsun.support.plugins.plugin_utils.plugin_options import CallbackWithFallbackOptions
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import RedactionError
from ansible_collections.upsun.support.plugins.plugin_utils.rendering import default_recovery_key, ticket_request
from ansible_collections.upsun.support.plugins.plugin_utils.recap import recap_lines
from ansible_collections.upsun.support.plugins.plugin_utils.run_context import ci_job_url
from ansible_collections.upsun.support.plugins.plugin_utils.run_failures import RunFailures, in_rescued_block
from ansible_collections.upsun.support.plugins.plugin_utils.task_fields import task_name

NAME = 'upsun.support.ticket_on_failure'
TICKET_OPTIONS = ('priority', 'category', 'subscription_id', 'organization_id')
# The failed hosts whose variables are read for the values known to be secret.
MAX_KNOWN_HOSTS = 200


def _attr(obj, public, private):
    # ansible-core 2.19+ names these result.task, result.host, result.result; older cores use the private names.
    value = getattr(obj, public, None)
    return getattr(obj, private, None) if value is None else value


def _name_of(host):
    return host.get_name() if hasattr(host, 'get_name') else str(host or 'unknown host')


def _guarded(method):
    # Never let an error of the callback reach the run: it becomes a warning.
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            self._warn('internal error in {0} ({1}: {2}); the run itself is not affected.'.format(
                method.__name__, type(exc).__name__, exc))
            return None
    return wrapper


class CallbackModule(CallbackWithFallbackOptions):
    # Records the unhandled failures of a run as they come; builds and files one ticket for them when it ends.

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = NAME
    CALLBACK_NEEDS_ENABLED = True
    SECRET_OPTIONS = SECRET_NAMES

    def __init__(self, display=None, options=None):
        self._playbooks, self._plays, self._play = [], [], None
        self._failures = RunFailures(lambda: self._redactor)
        # Failed host name: (host, play, task), to read the values known to be secret when the run ends.
        self._failed_hosts = {}
        self._running = RunningTasks()
        self._redaction = (None, 0)
        self._signal_hook = None
        self._hung_after = DEFAULT_HUNG_TASK_SECONDS
        self._ended = False
        # The ticket being filed at the end of the run, until that is over: a signal then spools this one.
        self._filing = None
        super(CallbackModule, self).__init__(display=display, options=options)

    # -- events: recorded as they come --------------------------------------

    @_guarded
    def v2_playbook_on_start(self, playbook):
        self._playbooks.append(str(getattr(playbook, '_file_name', None) or 'unknown playbook'))
        self._watch_signals()

    @_guarded
    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._plays.append((play.get_name() or '').strip() or 'unnamed play')

    @_guarded
    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', counted=not ignore_errors)

    @_guarded
    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable', counted=getattr(_attr(result, 'task', '_task'), 'ignore_unreachable', False) is not True)

    # The task each host is running, for a run stopped by a signal (see _on_signal). Not guarded: nothing here raises.
    def v2_runner_on_start(self, host, task):
        self._running.start(_name_of(host), task_name(task), str(getattr(task, 'action', None) or 'unknown action'))

    def v2_runner_on_ok(self, result):
        self._running.done(_name_of(_attr(result, 'host', '_host')))

    v2_runner_on_skipped = v2_runner_on_ok

    @_guarded
    def v2_playbook_on_stats(self, stats):
        if not self._ended:
            self._ended = True
            self._report(stats)
            self._filing = None

    def _record(self, result, kind, counted):
        task, host, data = _attr(result, 'task', '_task'), _attr(result, 'host', '_host'), _attr(result, 'result', '_result')
        self._running.done(_name_of(host))
        if not counted:
            return
        if hasattr(host, 'get_name') and self._play is not None:
            self._failed_hosts.setdefault(host.get_name(), (host, self._play, task))
        self._failures.record(_name_of(host), task, data if isinstance(data, dict) else {}, kind,
                              self._plays[-1] if self._plays else None, kind == 'failed' and in_rescued_block(task))

    # -- settings and output ------------------------------------------------

    def _values(self, names):
        return dict((name, self.get_option(name)) for name in names)

    @property
    def _redactor(self):
        # Built when first needed; again only when failures came since (a warning about a setting came first).
        redactor, hosts = self._redaction
        if redactor is None or hosts != len(self._failed_hosts):
            # The values to mask wherever they appear: the credentials, and the secrets in the failed hosts' variables.
            secrets = KnownSecrets().credentials(self._values(SECRET_NAMES + URL_NAMES)) \
                .failed_hosts(list(self._failed_hosts.values())[:MAX_KNOWN_HOSTS]).values
            try:
                self._redaction = (shared_redactor(self.get_option('redact_patterns'), self.get_option('redact_disable'),
                                                   secrets=secrets), len(self._failed_hosts))
            except RedactionError as exc:
                self._redaction = (shared_redactor(secrets=secrets), len(self._failed_hosts))
                self._warn('{0}; using the built-in redaction rules only.'.format(exc))
        return self._redaction[0]

    def _say(self, message):
        # On stderr when the stdout callback writes JSON, so that its output stays parseable.
        stdout_callback = str(getattr(C, 'DEFAULT_STDOUT_CALLBACK', '') or '')
        self._display.display('{0}: {1}'.format(NAME, self._redactor(message)), stderr=stdout_callback.endswith(('json', 'jsonl')))

    def _warn(self, message):
        try:
            self._display.warning('{0}: {1}'.format(NAME, self._redactor(message)))
        except Exception:  # pylint: disable=broad-except
            self._display.warning('{0}: a warning could not be shown safely.'.format(NAME))

    # -- the end of the run: one report, one ticket -------------------------

    def _report(self, stats):
        counts = getattr(stats, 'failures', None)
        unhandled = self._failures.unhandled(counts if isinstance(counts, dict) else None)
        if self._skips_check_mode(bool(unhandled)):
            return
        if not unhandled:
            if self.get_option('resolve_on_success') and not counts:
                self._solve_earlier_tickets()
            return
        report = FailureReport('callback', unhandled, plays=self._plays, playbooks=self._playbooks, ci_job=ci_job_url(),
                               ansible_version=ANSIBLE_VERSION, project=self._project())
        report.recap = recap_lines(stats, report.hosts())
        ticket, warnings = ticket_request(report, self._redactor, options=self._values(TICKET_OPTIONS),
                                          subject_template=self.get_option('subject'), dedupe_key=self.get_option('dedupe_key'),
                                          repeat_comment=self.get_option('repeat_comment'))
        for warning in warnings:
            self._warn(warning)
        self._file(ticket)

    def _project(self):
        # The inventory sources as ansible-playbook resolved them (paths made absolute), else the configured default.
        inventory = context.CLIARGS.get('inventory') or getattr(C, 'DEFAULT_HOST_LIST', None) or []
        return project_identity(self.get_option('project'), self._playbooks, [inventory] if isinstance(inventory, str) else inventory)

    def _skips_check_mode(self, failed):
        # A --check run changes nothing, and its success proves nothing: no ticket filed or solved, unless asked.
        if not context.CLIARGS.get('check') or self.get_option('file_in_check_mode'):
            return False
        if failed:
            self._say('check mode (--check): filed no Upsun ticket for this failed run (set file_in_check_mode to file '
                      'one in check runs).')
        return True

    def _solve_earlier_tickets(self):
        key = self.get_option('dedupe_key')
        reference = dedupe_reference(key) if key else recovery_reference(
            default_recovery_key(FailureReport('callback', [], playbooks=self._playbooks, project=self._project())))
        try:
            with self._api_session() as session:
                solved = solve_carrying(session.client, reference, ledger=session.ledger)
        except Exception as exc:  # pylint: disable=broad-except
            self._warn('could not solve the tickets of earlier failed runs of this playbook: {0}'.format(error_text(exc)))
            return
        for dummy, ticket in solved:
            self._say('solved Upsun ticket {0}, filed for an earlier failed run of this playbook: {1}'.format(
                ticket.get('ticket_id'), ticket.get('zd_ticket_url') or 'no URL given'))

    def _file(self, ticket):
        self._filing = ticket
        session = self._api_session()
        try:
            with session:
                prepared = prepare_create(ticket, session.settings.secret_values())
                created, filed = file_prepared(session.client, prepared, self._warn, session.ledger)
        except Exception as exc:  # pylint: disable=broad-except
            spool_unfiled(self.get_option('spool_dir'), ticket, error_text(exc), isinstance(exc, TicketMayExistError),
                          session.public(), self._redactor, self._warn)
            return
        url = filed.get('zd_ticket_url') or 'no URL given'
        if created:
            self._say('filed Upsun ticket {0} for this failed run: {1}'.format(filed.get('ticket_id'), url))
        else:
            self._say('Upsun ticket {0} (status {1}) already tracks this failure, filed nothing{2}: {3}'.format(
                filed.get('ticket_id'), filed.get('status'), prepared.repeat.said() if prepared.repeat else '', url))

    def _api_session(self):
        return ApiSession(self._connection_settings, self._warn, self.get_option('ledger_dir'))

    # -- runs stopped by a signal (plugins/plugin_utils/interruption.py) ----

    def _watch_signals(self):
        # Once, in the controller's main thread, after ansible-core set its own handlers (they run after ours).
        if self._signal_hook is not None or not self.get_option('spool_on_interrupt'):
            return
        try:
            self._hung_after = hung_task_seconds(self.get_option('hung_task_seconds'))
        except ValueError as exc:
            self._warn('ignored the {0} setting: {1}; using its default ({2:g}).'.format(
                'hung_task_seconds', exc, DEFAULT_HUNG_TASK_SECONDS))
        self._signal_hook = SignalHook(self._on_signal)
        try:
            self._signal_hook.install()
        except ValueError as exc:
            self._warn('cannot watch for SIGTERM and SIGINT ({0}): a stopped run spools no ticket.'.format(exc))

    def _on_signal(self, signum):
        # Spools the ticket of the run signum stops, if the rule says so: no request, no display (it holds a lock).
        try:
            stopped = None if self._ended and self._filing is None else stopped_ticket(
                signum, self._filing, functools.partial(self._stopped_run_ticket, signum))
            if stopped is None:
                return
            # The end of the run, should it still come, files nothing more: the ticket is spooled here.
            self._ended = True
            message = spool_stopped_run(signum, stopped, self.get_option('spool_dir'), self._public_connection(), self._redactor)
        except Exception as exc:  # pylint: disable=broad-except
            message = 'the run was stopped by {0}, and its ticket could not be spooled: {1}: {2}'.format(
                signal_name(signum), type(exc).__name__, exc)
        os.write(2, '[WARNING]: {0}: {1}\n'.format(NAME, self._redactor(message)).encode('utf-8', 'replace'))

    def _stopped_run_ticket(self, signum):
        return stopped_run_ticket(
            self._failures.unhandled(), self._running.groups(), self._hung_after, signum, self._redactor,
            plays=self._plays, playbooks=self._playbooks, ansible_version=ANSIBLE_VERSION,
            options=self._values(TICKET_OPTIONS), dedupe_key=self.get_option('dedupe_key'))

    def _public_connection(self):
        try:
            return self._connection_settings().public()
        except Exception:  # pylint: disable=broad-except
            return {}
