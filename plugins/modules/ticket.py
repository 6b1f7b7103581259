#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ticket
short_description: File an Upsun support ticket, or update one
version_added: 1.0.0
description:
  - Without O(ticket_id), files a new Upsun support ticket with C(POST /tickets) and returns it.
  - With O(ticket_id), sets the O(status) and O(collaborator_ids) of an existing ticket with
    C(PATCH /tickets/{ticket_id}), only when they differ from what the ticket has.
  - Every option is checked against the API's rules (choices, UUIDs, URLs, attachment sizes) before any request is
    sent, and an invalid value fails with a message that names the option and what is allowed.
  - With O(dedupe_key), a ticket is filed only if no unsolved ticket carries the same key, so that the same failure
    re-run many times files one ticket.
  - The module talks to the API from the host it runs on; run it on the controller with C(delegate_to) set to
    C(localhost) and C(run_once), so that a failure seen on many hosts files one ticket.
author:
  - upsun.support maintainers (@upsun)
extends_documentation_fragment:
  - upsun.support.connection
  - upsun.support.connection.action_group
  - upsun.support.connection.action
attributes:
  check_mode:
    description:
      - Filing a ticket sends nothing, not even the token exchange, and returns the payload that would be sent.
      - With O(dedupe_key), filing searches for the tickets that carry the key (reads only), so that check mode tells
        what the real run would do. When an unsolved ticket carries it, the result is that ticket with
        RV(ignore:changed=false), as the real run files nothing; otherwise the payload that would be sent, with the
        O(followup_tid) of the newest solved ticket carrying the key, if any.
      - With O(repeat_comment), when an unsolved ticket carries the key, the result says that a comment would be added
        (RV(ignore:changed=true)) and RV(payload) is the comment that would be sent; nothing is sent.
      - An update reads the ticket to know what would change, and changes nothing.
      - Solving by key searches for the tickets that carry it, says which would be solved, and sends no update.
    support: full
  diff_mode:
    description: Shows the ticket that would be filed, the status and collaborators before and after an update, or the
      status of each ticket before and after solving by key.
    support: full
options:
  subject:
    description:
      - The title of the ticket. Required to file a ticket; cannot be changed on an existing one.
    type: str
  description:
    description:
      - The body of the ticket. Required to file a ticket; cannot be changed on an existing one.
    type: str
  priority:
    description:
      - The priority of the ticket. The API applies its own default when this is not set.
    type: str
    choices: [low, normal, high, urgent]
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
  requester_id:
    description:
      - UUID of the Upsun user the ticket is filed for. Defaults to the user behind the token.
    type: str
  subscription_id:
    description:
      - The subscription (project) the ticket is about.
    type: str
  organization_id:
    description:
      - The organization the ticket is about.
    type: str
  affected_url:
    description:
      - The URL that shows the problem, as an absolute C(http://) or C(https://) URL.
    type: str
  followup_tid:
    description:
      - The id of an earlier ticket this one follows up on.
    type: str
  collaborator_ids:
    description:
      - UUIDs of Upsun users to add to the ticket as collaborators.
      - On an existing ticket (O(ticket_id)), they are added to the ticket's collaborators, or replace them when
        O(collaborators_replace=true).
    type: list
    elements: str
  attachments:
    description:
      - Files to attach to a new ticket, as a list of dicts, each giving exactly one of O(attachments.path),
        O(attachments.content) or O(attachments.data), and O(attachments.filename) where needed.
      - The module base64-encodes the files; their decoded sizes together may not exceed O(max_attachment_size).
      - "The module checks the list itself (the option's type is C(raw)), so that a value of the wrong type, such as
        C(attachments: file.log), fails with a message naming O(attachments); write C(attachments: [{path: file.log}])."
    type: raw
    suboptions:
      path:
        description:
          - A regular file on the host that runs the module. O(attachments.filename) defaults to its base name.
          - C(~) and environment variables are expanded, and symbolic links are followed. A file under C(/proc),
            C(/sys) or C(/dev) is refused (such files can hold secrets, for example the environment of a process),
            and so is anything that is not a regular file (a directory, a FIFO, a device).
          - At most what is left of O(max_attachment_size) plus one byte is read, and the size is judged by what was
            read, not by what C(stat) reports (which can be 0 for a file that has content).
        type: path
      content:
        description:
          - Text to attach, encoded as UTF-8. Requires O(attachments.filename).
        type: str
      data:
        description:
          - Content that is already base64-encoded. Requires O(attachments.filename).
        type: str
      filename:
        description:
          - The name the attachment gets in the ticket, without a directory.
          - A name with a path separator (C(/) or C(\\)), C(..) or a control character (a line break, a tab, an
            escape sequence) is refused, whether given here or taken from O(attachments.path).
        type: str
  max_attachment_size:
    description:
      - The largest total size of O(attachments) in one ticket, decoded, in bytes or with a unit such as C(10M).
      - The API documents no limit; this one keeps a runaway log from being posted whole.
    type: bytes
    default: 20M
  dedupe_key:
    description:
      - Any string that names the failure, for example the play, the environment and the failed task.
      - Before filing, the module searches for tickets that carry the key. If one is still being worked on
        (status C(new), C(open), C(pending) or C(hold)), it is returned with RV(ignore:changed=false) and nothing is
        filed. If the newest one is solved or closed, the new ticket is filed as a follow-up of it
        (O(followup_tid)) unless O(followup_tid) is set.
      - "The key is recorded as a digest in the footer at the end of the ticket's description
        (C(Dedupe reference: upsundedupe...)), which the API's search finds again."
      - Runs on the same host with the same key take turns, so that parallel runs file one ticket; each holds a lock
        named after the digest, while it searches and files, in a directory private to the user, which is
        C(upsun-support-locks-<uid>) under the temporary directory (E(TMPDIR)), or, when another user owns or can write
        to that one, C(~/.ansible/upsun_support_locks), then C(upsun-support-locks) under E(XDG_RUNTIME_DIR). A run
        waits for the lock as long as its O(deadline) allows, then fails saying which process holds it. A run that
        crashed holds nothing.
      - When the answer to the create request is lost (a timeout after sending, a connection reset after the
        headers or in the body, or a server error C(500), C(502) or C(504)), nothing is posted again. The module
        searches for the key again, after 0 s, 1 s, 2 s, 4 s, then every 8 s, for 30 s at most (never past
        O(deadline)), because the server may still be at work. If a ticket carries the key, it is returned as filed;
        if not, the module fails saying the ticket may exist, with RV(ignore:may_exist) and
        RV(ignore:dedupe_reference) in the result.
      - An empty or blank key is refused.
    type: str
  recovery_key:
    description:
      - "Any string that names what recovers when the failure is over, such as the deploy (play and environment) or
        the playbook, whatever task failed. Recorded as a digest in the footer of the ticket filed
        (C(Recovery reference: upsunrecovery...))."
      - With O(status=solved) and no O(ticket_id), solves every unsolved ticket that carries it (one search, one
        update per ticket); nothing is sent after the search when there is none. This is how a deploy that works
        again closes the tickets of its earlier failures.
    type: str
    version_added: 1.0.0
  repeat_comment:
    description:
      - With O(dedupe_key), what to say on the ticket that already covers this failure when it fails again.
      - When an unsolved ticket carries O(dedupe_key) (so nothing is filed), this text is added to it as one comment,
        with the O(attachments), for example when it failed again, where, and the new error. When no such ticket
        exists, the ticket is filed as usual and no comment is sent. The result says so in RV(comment).
      - "The credentials in use are masked in it, as in a ticket. It may hold 65536 bytes of UTF-8, less the line the
        module ends it with, C(Repeat reference: upsunrepeat...), a digest of the text."
      - The comment is added once. The ledger (O(ledger_dir)) records each attempt before it is sent; a run that sends
        the same text again (a retry, the C(upsun.support.flush_spool) playbook filing a spooled request) first looks
        for its repeat reference in the ticket's conversation, and so does a run whose answer was lost.
      - The comment endpoints are those of the Upsun Console, which the API does not promise to other clients. When
        the API refuses them (HTTP 404, 403 or 405), a warning says so, the ticket is returned as without this option,
        and RV(comment) is empty. Another error fails the module, naming the ticket.
      - An empty or blank text is refused, and so is this option without O(dedupe_key).
      - The P(upsun.support.deploy_failure_ticket#role) role and the P(upsun.support.ticket_on_failure#callback)
        callback set it, unless told not to.
    type: str
    version_added: 2.0.0
  ticket_id:
    description:
      - The id of an existing ticket to update instead of filing a new one. A positive number; V(0) or less is refused
        before any request.
      - Only O(status), O(collaborator_ids) and O(collaborators_replace) can be changed.
    type: int
  status:
    description:
      - The status to set on the ticket O(ticket_id). V(solved) marks it solved, V(open) reopens it.
      - A ticket that is already V(closed) counts as solved.
      - Without O(ticket_id), V(solved) with O(dedupe_key) or O(recovery_key) solves every unsolved ticket that
        carries that key (status V(new), V(open), V(pending) or V(hold)); none found is RV(ignore:changed=false).
    type: str
    choices: [open, solved]
  collaborators_replace:
    description:
      - With O(ticket_id), whether O(collaborator_ids) replaces the ticket's collaborators instead of being added to them.
    type: bool
    default: false
  filed_by:
    description:
      - "Which part of the collection files the ticket, as the footer at the end of its description says
        (C(Filed by Ansible: the upsun.support.ticket module.)), so that automation reading tickets can tell."
      - The P(upsun.support.deploy_failure_ticket#role) role and the C(upsun.support.flush_spool) playbook set it; leave
        the default otherwise.
    type: str
    choices: [module, role, callback]
    default: module
  ledger_dir:
    description:
      - The ticket ledger on the controller, a private directory (mode C(0700)) beside the spool, where each run
        records the tickets it files or updates (id, dedupe and recovery references, status, per O(api_url)) and each
        create whose answer was lost.
      - The API's listings show a new or changed ticket only minutes later. With the ledger, a re-run with the same
        O(dedupe_key), solving by key and O(ticket_id) updates on the same controller see what it filed at once; a
        ticket it filed stands in for the listings for an hour after it was filed.
      - After a create whose answer was lost, no run posts again for that O(dedupe_key) until its ticket shows in the
        listings or O(may_exist_wait) seconds have passed; the run fails saying the ticket may exist, with
        RV(ignore:may_exist).
      - Of several unsolved tickets that carry one O(dedupe_key) (filed by controllers that could not see each other's
        ticket yet), the oldest is kept and returned; the others are solved, with a warning naming the ticket they
        duplicate.
      - Entries expire after 7 days; the file is kept under 256 KiB. A directory that is a symlink, belongs to another
        user or is open to others is not used (a warning says so), nor is it changed.
      - The module runs on the controller (C(delegate_to=localhost)), so the ledger is that of the controller's user.
      - When not set, the E(UPSUN_SUPPORT_LEDGER_DIR) environment variable is used, then the default.
    type: path
    default: ~/.ansible/upsun_support_ledger
    version_added: 1.0.0
  may_exist_wait:
    description:
      - After a create whose answer was lost, how many seconds no run on this controller posts again for its
        O(dedupe_key), unless its ticket shows in the listings first (see O(ledger_dir)). The API's listings can take
        minutes to show a new ticket.
      - V(0) posts again as soon as a search does not find the ticket (for an API whose listings do not lag). At most
        V(604800) (7 days, when the ledger forgets the lost create).
      - One wait with O(upsun.support.spool#module:may_exist_wait), which a flush passes on to this module.
      - When not set, the E(UPSUN_SUPPORT_MAY_EXIST_HOLD) environment variable is used, then V(900) (15 minutes).
    type: float
    version_added: 2.0.0
notes:
  - "Ad hoc from a shell, with the token in E(UPSUN_CLI_TOKEN):
    C(ansible localhost -m upsun.support.ticket -a 'subject=\"Deploy failed\" description=\"...\" priority=high')."
  - The API has no endpoint to read one ticket, so updates look the ticket up with the C(ticket_id) filter of
    C(GET /tickets) first. When that listing does not show it yet (it lags), the update is sent directly with
    C(PATCH /tickets/{ticket_id}), which acts on the ticket itself; a C(404) answer means the ticket does not exist.
seealso:
  - module: upsun.support.ticket_info
    description: Look tickets up, list them, and list the categories and priorities an account may use.
'''

EXAMPLES = r'''
# The connection options can be set once for the play:
#   module_defaults:
#     group/upsun.support.upsun:
#       api_token: "{{ vault_upsun_api_token }}"

- name: Deploy, or tell Upsun support
  block:
    - name: Deploy the release
      ansible.builtin.command: /usr/local/bin/deploy --release 42
      changed_when: true
  rescue:
    - name: File one ticket for the failure
      upsun.support.ticket:
        subject: "Deploy of release 42 failed on {{ inventory_hostname }}"
        description: "{{ ansible_failed_result.msg | default('no message') }}"
        priority: high
        category: incident_outage
        subscription_id: "123456"
        affected_url: https://shop.example.com/
        dedupe_key: deploy-release-42
        attachments:
          - path: /var/log/deploy.log
          - filename: failed-task.txt
            content: "{{ ansible_failed_task.name }}"
      delegate_to: localhost
      run_once: true
      register: upsun_ticket

    - name: Show the ticket
      ansible.builtin.debug:
        msg: "{{ upsun_ticket.msg }}: {{ upsun_ticket.ticket.zd_ticket_url }}"
      run_once: true

- name: Mark the ticket solved once the deploy is fixed
  upsun.support.ticket:
    ticket_id: 1234
    status: solved
  delegate_to: localhost

# File with a recovery key when the deploy fails, solve by it when the deploy works again
- name: Deploy, and close the loop
  block:
    - name: Deploy the release
      ansible.builtin.command: /usr/local/bin/deploy --release 42
      changed_when: true

    - name: Solve the tickets that earlier failures of this deploy filed
      upsun.support.ticket:
        status: solved
        recovery_key: deploy-shop-production
      delegate_to: localhost
      run_once: true
      register: solved
  rescue:
    - name: File one ticket for the failure
      upsun.support.ticket:
        subject: Deploy of the shop to production failed
        description: "{{ ansible_failed_result.msg | default('no message') }}"
        dedupe_key: "deploy-shop-production-{{ ansible_failed_task.name }}"
        recovery_key: deploy-shop-production
      delegate_to: localhost
      run_once: true

- name: Add a colleague to the ticket
  upsun.support.ticket:
    ticket_id: 1234
    collaborator_ids:
      - 3c90c3cc-0d44-4b50-8888-8dd25736052a
  delegate_to: localhost

- name: See what would be filed, without sending anything
  upsun.support.ticket:
    subject: Test
    description: Nothing is sent in check mode.
  check_mode: true
  delegate_to: localhost
'''

RETURN = r'''
solved:
  description: With O(status=solved) and a key, the ids of the tickets solved (or that would be, in check mode).
  returned: when solving by key
  type: list
  elements: int
  sample: [1234]
tickets:
  description: With O(status=solved) and a key, the tickets solved, as the API returned them after the update.
  returned: when solving by key
  type: list
  elements: dict
  sample: []
may_exist:
  description:
    - V(true) when the module failed after sending the create request without learning whether the ticket was filed
      (its answer was lost). Look for the ticket before filing it again.
  returned: on failure, when the ticket may exist
  type: bool
  sample: true
dedupe_reference:
  description:
    - The dedupe reference of O(dedupe_key) that the ticket carries if it was filed, to search for it with
      M(upsun.support.ticket_info) (O(upsun.support.ticket_info#module:search)).
  returned: on failure, when the ticket may exist and O(dedupe_key) is set
  type: str
  sample: upsundedupe3f1c2b9a0d4e5f6a7b8c
comment:
  description:
    - With O(repeat_comment), when an unsolved ticket carries O(dedupe_key), the comment added to it, as the API
      answered it (C(comment_id), C(ticket_id), C(created_at), C(body), C(author_id), C(public), C(attachments)), or
      as found in the ticket's conversation when an earlier attempt added it.
    - Empty in check mode, and when the API refuses the comment endpoints.
  returned: when O(repeat_comment) is set and an unsolved ticket carries O(dedupe_key)
  type: dict
  version_added: 2.0.0
  sample:
    comment_id: 5002
    ticket_id: 1234
    body: "This failure happened again at 2026-12-07T19:31:00Z ..."
    public: true
msg:
  description: What the module did, for example C(Filed Upsun ticket 1234 (priority high)).
  returned: always
  type: str
  sample: Filed Upsun ticket 1234 (priority high)
payload:
  description:
    - In check mode when filing, the exact body that would be sent to C(POST /tickets), with each attachment's data
      replaced by its size in bytes.
    - With O(repeat_comment), when an unsolved ticket carries O(dedupe_key), the body that would be sent to
      C(POST /comments) instead (C(ticket_id), C(body), C(attachments)).
  returned: check mode, when filing a ticket
  type: dict
  sample:
    subject: Deploy of release 42 failed
    description: "TASK [Deploy the release] failed: ..."
    priority: high
    attachments:
      - filename: deploy.log
        size: 2048
ticket:
  description:
    - The ticket exactly as the API returned it.
    - In check mode, the ticket as it would be after the update; empty when a ticket would be filed.
  returned: success
  type: dict
  contains:
    ticket_id:
      description: The id of the ticket.
      type: int
      sample: 1234
    created:
      description: When the ticket was created (ISO 8601).
      type: str
      sample: "2026-11-27T05:31:56Z"
    updated:
      description: When the ticket was last updated (ISO 8601).
      type: str
      sample: "2026-11-27T05:31:56Z"
    type:
      description: The type of the ticket, one of V(problem), V(task), V(incident), V(question).
      type: str
      sample: problem
    subject:
      description: The title of the ticket.
      type: str
      sample: Deploy of release 42 failed
    description:
      description: The body of the ticket.
      type: str
      sample: "TASK [Deploy the release] failed on web1: exit code 1"
    priority:
      description: The priority, one of V(low), V(normal), V(high), V(urgent).
      type: str
      sample: high
    followup_tid:
      description: The id of the ticket this one follows up on.
      type: str
      sample: "1200"
    status:
      description: The status, one of V(closed), V(deleted), V(hold), V(new), V(open), V(pending), V(solved).
      type: str
      sample: new
    recipient:
      description: Email address of the ticket recipient.
      type: str
      sample: support@upsun.com
    requester_id:
      description: UUID of the ticket requester.
      type: str
      sample: 3c90c3cc-0d44-4b50-8888-8dd25736052a
    submitter_id:
      description: UUID of the ticket submitter.
      type: str
      sample: 3c90c3cc-0d44-4b50-8888-8dd25736052a
    assignee_id:
      description: UUID of the support engineer the ticket is assigned to.
      type: str
      sample: 5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11
    organization_id:
      description: The organization the ticket is about.
      type: str
      sample: 01HZXJ5N5V2K8Q7M3T9W4Y6R1P
    collaborator_ids:
      description: UUIDs of the ticket's collaborators.
      type: list
      elements: str
      sample: [3c90c3cc-0d44-4b50-8888-8dd25736052a]
    has_incidents:
      description: Whether the ticket has incidents.
      type: bool
      sample: false
    due:
      description: When the ticket is due (ISO 8601).
      type: str
      sample: "2026-11-28T05:31:56Z"
    tags:
      description: Tags assigned to the ticket.
      type: list
      elements: str
      sample: [deploy]
    subscription_id:
      description: The subscription the ticket is about.
      type: str
      sample: "123456"
    ticket_group:
      description: The request group.
      type: str
      sample: support
    support_plan:
      description: The support plan of the ticket.
      type: str
      sample: standard
    affected_url:
      description: The URL that shows the problem.
      type: str
      sample: https://shop.example.com/
    queue:
      description: The queue the ticket is in.
      type: str
      sample: support
    issue_type:
      description: The issue type of the ticket.
      type: str
      sample: incident_outage
    resolution_time:
      description: The resolution time (ISO 8601).
      type: str
      sample: "2026-11-27T09:00:00Z"
    response_time:
      description: The time from request to first reply (ISO 8601).
      type: str
      sample: "2026-11-27T06:00:00Z"
    project_url:
      description: The URL of the project in the Upsun console.
      type: str
      sample: https://console.upsun.com/acme/shop
    region:
      description: The region of the project.
      type: str
      sample: eu-5.platform.sh
    category:
      description: The category of the ticket.
      type: str
      sample: incident_outage
    environment:
      description: The environment type, one of V(env_development), V(env_staging), V(env_production).
      type: str
      sample: env_production
    ticket_sharing_status:
      description: Where the ticket stands with the platform team, for example V(ts_sent_to_platform).
      type: str
      sample: ts_sent_to_platform
    application_ticket_url:
      description: URL of the related application ticket.
      type: str
      sample: https://support.example.com/tickets/1
    infrastructure_ticket_url:
      description: URL of the related infrastructure ticket.
      type: str
      sample: https://support.example.com/tickets/2
    jira:
      description: JIRA issues related to the ticket, each with C(id), C(ticket_id), C(issue_id), C(issue_key),
        C(created_at) and C(updated_at).
      type: list
      elements: dict
      sample: []
    zd_ticket_url:
      description: The URL of the ticket for the customer; open it to follow the ticket.
      type: str
      sample: https://support.upsun.com/hc/requests/1234
'''

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.upsun.support.plugins.module_utils.module_client import module_client
from ansible_collections.upsun.support.plugins.module_utils.constants import CATEGORIES, PRIORITIES, SETTABLE_STATUSES
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.upsun.support.plugins.module_utils.filing import file_prepared, prepare_create
from ansible_collections.upsun.support.plugins.module_utils.footer import SOURCES, dedupe_reference, recovery_reference
from ansible_collections.upsun.support.plugins.module_utils.ledger import DEFAULT_LEDGER_DIR, LEDGER_ENV, Ledger
from ansible_collections.upsun.support.plugins.module_utils.payload import CREATE_FIELDS, check_not_blank, check_ticket_id, check_uuids
from ansible_collections.upsun.support.plugins.module_utils.repeats import check_repeat_comment, repeat_payload
from ansible_collections.upsun.support.plugins.module_utils.settings import SECRET_NAMES, connection_argument_spec
from ansible_collections.upsun.support.plugins.module_utils.tickets import find_by_reference, get_ticket, open_duplicate, update_ticket

ARGUMENT_SPEC = connection_argument_spec(
    subject=dict(type='str'),
    description=dict(type='str'),
    priority=dict(type='str', choices=list(PRIORITIES)),
    category=dict(type='str', choices=list(CATEGORIES)),
    requester_id=dict(type='str'),
    subscription_id=dict(type='str'),
    organization_id=dict(type='str'),
    affected_url=dict(type='str'),
    followup_tid=dict(type='str'),
    collaborator_ids=dict(type='list', elements='str'),
    # raw: checked by payload.check_attachments, whose messages name the option (ansible-core's do not).
    attachments=dict(type='raw'),
    max_attachment_size=dict(type='bytes', default='20M'),
    dedupe_key=dict(type='str', no_log=False),
    recovery_key=dict(type='str', no_log=False),
    repeat_comment=dict(type='str'),
    ticket_id=dict(type='int'),
    status=dict(type='str', choices=list(SETTABLE_STATUSES)),
    collaborators_replace=dict(type='bool', default=False),
    filed_by=dict(type='str', choices=list(SOURCES), default='module'),
    ledger_dir=dict(type='path', fallback=(env_fallback, [LEDGER_ENV]), default=DEFAULT_LEDGER_DIR),
    # None: ledger.may_exist_wait reads the environment, then its default.
    may_exist_wait=dict(type='float'),
)


def run(module, client):
    """File, update or solve tickets; return ``(changed, ticket, diff, extra result keys)``."""
    params = module.params
    ledger = Ledger(params['ledger_dir'], client.api_url, module.warn, wait=params['may_exist_wait'])
    if params['ticket_id'] is not None:
        check_ticket_id(params['ticket_id'])
        return update(module, client, ledger)
    if params['status'] == 'solved' and (params['dedupe_key'] or params['recovery_key']):
        return solve(module, client, ledger)
    return create(module, client, ledger)


def solve(module, client, ledger):
    """Solve the unsolved tickets carrying the dedupe or recovery key: one search, one PATCH per ticket."""
    params = module.params
    given = [name for name in CREATE_FIELDS + ('attachments', 'repeat_comment') if params.get(name) is not None]
    if given:
        raise InputError('{0} cannot be given with status=solved and a dedupe_key or recovery_key, which solves the '
                         'tickets carrying the key; leave out status to file a ticket instead.'.format(', '.join(given)))
    if params['dedupe_key'] and params['recovery_key']:
        raise InputError('give either dedupe_key or recovery_key to solve the tickets that carry it, not both.')
    name = 'dedupe_key' if params['dedupe_key'] else 'recovery_key'
    key = params[name]
    check_not_blank(name, key)
    reference = dedupe_reference(key) if name == 'dedupe_key' else recovery_reference(key)
    # Imported here: only this state needs it, and a module run compiles what it imports.
    from ansible_collections.upsun.support.plugins.module_utils.recovery import solve_carrying  # pylint: disable=import-outside-toplevel
    results = solve_carrying(client, reference, check_mode=module.check_mode, ledger=ledger)
    if not results:
        return False, {}, dict(before={}, after={}), dict(
            tickets=[], solved=[], msg='No unsolved Upsun ticket carries this {0}: nothing to solve.'.format(name))
    ids = [before['ticket_id'] for before, after in results]
    diff = dict(before=dict(tickets=[dict(ticket_id=before['ticket_id'], status=before.get('status')) for before, dummy in results]),
                after=dict(tickets=[dict(ticket_id=after['ticket_id'], status=after.get('status')) for dummy, after in results]))
    verb = 'Would solve' if module.check_mode else 'Solved'
    return True, results[0][1], diff, dict(
        tickets=[after for dummy, after in results], solved=ids,
        msg='{0} Upsun ticket(s) {1} carrying this {2}{3}.'.format(
            verb, ', '.join(str(ticket_id) for ticket_id in ids), name, ' (check mode: nothing was sent)' if module.check_mode else ''))


def create(module, client, ledger):
    params = module.params
    if params['status'] is not None:
        raise InputError('status can only be set on an existing ticket: give ticket_id too (a new ticket starts as new), '
                         'or status=solved with dedupe_key or recovery_key to solve the tickets that carry it.')
    check_repeat_comment(params)
    # The credentials in use are the module's no_log values too, wherever they were read from (the environment).
    prepared = prepare_create(params, secrets=[params[name] for name in SECRET_NAMES] + sorted(module.no_log_values))
    diff = dict(before={}, after=prepared.summary)
    if module.check_mode:
        return predict_create(client, prepared, diff, ledger)
    created, ticket = file_prepared(client, prepared, module.warn, ledger)
    if not created:
        msg = 'Upsun ticket {0} (status {1}) already carries this dedupe_key: filed nothing'.format(
            ticket['ticket_id'], ticket.get('status'))
        if prepared.repeat is None:
            return False, ticket, dict(before=ticket, after=ticket), dict(msg=msg + '.')
        repeat = prepared.repeat
        if repeat.refused:
            said = ', and the API refused the repeat comment (see the warning).'
        else:
            said = '; {0} comment {1} saying it failed again.'.format(
                'added' if repeat.added else 'it already has', repeat.comment.get('comment_id'))
        return repeat.added, ticket, dict(before=ticket, after=ticket), dict(msg=msg + said, comment=repeat.comment)
    return True, ticket, diff, dict(msg='Filed Upsun ticket {0} (priority {1})'.format(
        ticket['ticket_id'], ticket.get('priority') or prepared.payload.get('priority') or 'default'))


def predict_create(client, prepared, diff, ledger):
    """What filing would do, in check mode: with a dedupe reference, one search (read only) tells; nothing is sent."""
    if prepared.reference:
        # What this controller filed and the listings may not show yet counts too (the ledger, read only).
        earlier = ledger.merge(prepared.reference, find_by_reference(client, prepared.reference))
        duplicate = open_duplicate(earlier)
        if duplicate is not None and prepared.repeat_comment:
            dummy, summary = repeat_payload(prepared.repeat_comment, prepared)
            return True, duplicate, dict(before=duplicate, after=duplicate), dict(
                comment={}, payload=dict(summary, ticket_id=duplicate['ticket_id']),
                msg='Upsun ticket {0} (status {1}) already carries this dedupe_key: would file nothing, and would add a '
                    'comment saying it failed again (check mode): nothing was sent.'.format(
                        duplicate['ticket_id'], duplicate.get('status')))
        if duplicate is not None:
            return False, duplicate, dict(before=duplicate, after=duplicate), dict(
                msg='Upsun ticket {0} (status {1}) already carries this dedupe_key: would file nothing (check mode).'.format(
                    duplicate['ticket_id'], duplicate.get('status')))
        if earlier and 'followup_tid' not in prepared.summary:
            prepared.summary['followup_tid'] = str(earlier[0]['ticket_id'])
    return True, {}, diff, dict(payload=prepared.summary, msg='Would file an Upsun ticket (check mode): nothing was sent.')


def update(module, client, ledger):
    params = module.params
    fixed = [name for name in CREATE_FIELDS + ('attachments', 'dedupe_key', 'recovery_key', 'repeat_comment')
             if name != 'collaborator_ids' and params.get(name) is not None]
    if fixed:
        raise InputError('{0} cannot be changed on an existing ticket: the API only updates status and collaborator_ids. '
                         'Remove {0}, or leave out ticket_id to file a new ticket.'.format(', '.join(fixed)))
    if params['collaborator_ids'] is not None:
        params['collaborator_ids'] = check_uuids('collaborator_ids', params['collaborator_ids'])
    if params['status'] is None and params['collaborator_ids'] is None:
        raise InputError('Nothing to update on ticket {0}: set status and/or collaborator_ids.'.format(params['ticket_id']))

    try:
        ticket = ledger.fresher(get_ticket(client, params['ticket_id']))
    except InputError as exc:
        return update_unlisted(module, client, ledger, exc)
    body, wanted = changes(ticket, params['status'], params['collaborator_ids'], params['collaborators_replace'])
    before = dict((name, ticket.get(name)) for name in wanted)
    if not body:
        return False, ticket, dict(before=before, after=before), dict(
            msg='Upsun ticket {0} already has the requested status and collaborators.'.format(ticket['ticket_id']))
    diff = dict(before=before, after=wanted)
    if module.check_mode:
        after = dict(ticket)
        after.update(wanted)
        return True, after, diff, dict(msg='Would update Upsun ticket {0} (check mode): nothing was sent.'.format(ticket['ticket_id']))
    updated = update_ticket(client, ticket['ticket_id'], body)
    if updated is None:
        return False, ticket, dict(before=before, after=before), dict(
            msg='The API did not update Upsun ticket {0} (HTTP 204).'.format(ticket['ticket_id']))
    ledger.record_ticket(updated)
    return True, updated, diff, dict(msg='Updated Upsun ticket {0}: {1}.'.format(
        ticket['ticket_id'], ', '.join(sorted(k for k in body if k != 'collaborators_replace'))))


def update_unlisted(module, client, ledger, not_listed):
    """Update a ticket the listings do not show (they lag): PATCH it directly; a 404 raises ``not_listed``.

    ``PATCH /tickets/{id}`` acts on the ticket itself. What the ticket had is
    known only from the ledger, if this controller filed it.
    """
    params = module.params
    ticket_id = params['ticket_id']
    known = ledger.snapshot(ticket_id)
    body = {}
    if params['status'] is not None:
        body['status'] = params['status']
    if params['collaborator_ids'] is not None:
        # The current collaborators are not known: all are sent, and the API adds those missing (or replaces).
        body['collaborator_ids'] = list(dict.fromkeys(params['collaborator_ids']))
        body['collaborators_replace'] = params['collaborators_replace']
    wanted = dict((name, value) for name, value in body.items() if name != 'collaborators_replace')
    before = dict((name, (known or {}).get(name)) for name in wanted)
    diff = dict(before=before, after=wanted)
    if module.check_mode:
        if known is None:
            raise not_listed
        return True, dict(known, **wanted), diff, dict(
            msg='Would update Upsun ticket {0} (check mode): nothing was sent.'.format(ticket_id))
    try:
        updated = update_ticket(client, ticket_id, body)
    except ApiError as exc:
        if exc.status != 404:
            raise
        ledger.forget_ticket(ticket_id)
        raise not_listed
    if updated is None:
        return False, known or dict(ticket_id=ticket_id), dict(before=before, after=before), dict(
            msg='The API did not update Upsun ticket {0} (HTTP 204): it already had the requested status and '
                'collaborators.'.format(ticket_id))
    ledger.record_ticket(updated)
    return True, updated, diff, dict(msg='Updated Upsun ticket {0}: {1} (sent directly, as the listings do not show '
                                         'the ticket yet).'.format(ticket_id, ', '.join(sorted(k for k in body if k != 'collaborators_replace'))))


def changes(ticket, status, collaborator_ids, replace):
    """The PATCH body needed to reach the wanted state, and that state (both empty when nothing changes)."""
    body = {}
    wanted = {}
    current_status = ticket.get('status')
    if status is not None and not (status == current_status or (status == 'solved' and current_status == 'closed')):
        body['status'] = wanted['status'] = status
    if collaborator_ids is not None:
        current = list(ticket.get('collaborator_ids') or [])
        if replace:
            target = list(dict.fromkeys(collaborator_ids))
            if sorted(target) != sorted(current):
                body['collaborator_ids'] = target
                body['collaborators_replace'] = True
                wanted['collaborator_ids'] = target
        else:
            missing = [c for c in dict.fromkeys(collaborator_ids) if c not in current]
            if missing:
                body['collaborator_ids'] = missing
                body['collaborators_replace'] = False
                wanted['collaborator_ids'] = current + missing
    return body, wanted


def execute(module, given=None):
    """The module's result: from ``main``, or from the action plugin with the arguments the task ``given``."""
    with module_client(module, given) as client:
        changed, ticket, diff, extra = run(module, client)
    result = dict(changed=changed, ticket=ticket, **extra)
    if module._diff:
        result['diff'] = diff
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**execute(module))


if __name__ == '__main__':
    main()
