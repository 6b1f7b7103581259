#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: spool
short_description: Keep an Upsun ticket that could not be filed, or file the kept ones
version_added: 1.0.0
description:
  - With O(state=spooled), writes O(ticket) (the options of M(upsun.support.ticket)) to the spool O(directory) on the
    controller, so that a ticket that could not be filed (API down, token refused, timeout) is never lost. The
    P(upsun.support.deploy_failure_ticket#role) role does this; the P(upsun.support.ticket_on_failure#callback)
    callback writes the same records.
  - With O(state=flushed), files every ticket of the spool with M(upsun.support.ticket) and removes each record once
    its ticket is filed (or found already open by its dedupe key). A record whose ticket cannot be filed now stays, with
    the new error, and the task fails naming it. The C(upsun.support.flush_spool) playbook does this.
  - A record is data, never instructions. The flush files with its own connection options (or their environment
    variables) only. A record holds the ticket's options, its attachments as their redacted content (never a path to
    read), why it was spooled, and the API URL it was spooled against, without a user name or password. Never a
    credential. A record spooled against another API than the flush's is kept, not sent, and the task fails naming
    the record and both URLs.
  - The text of the ticket is redacted again before it is written, with the same rules as the role and the callback.
  - The spool directory is created with mode C(0700). An existing one that is a symlink, belongs to another user or
    can be written by others is refused with a message that says so; the module never changes the mode of a
    directory it did not create.
  - Each record is claimed (an exclusive lock) before it is filed, so two flushes at once file it once.
  - The flush trusts nothing it reads. A record file is opened without following a symlink and without blocking, and
    read only if it is a regular file of at most 64 MiB; each record is checked on its own (UTF-8 JSON, known fields,
    the type of each). One that cannot be read, or that the API refuses for good (an HTTP C(4xx) answer other than
    C(401), C(408) and C(429)), is set aside in the C(rejected) folder of the spool directory with its reason in
    C(<name>.reason) next to it, named in RV(set_aside), and never blocks the others; the task fails. Records the API
    refuses for now (C(401), C(408), C(429), C(5xx), unreachable) stay for the next flush.
  - Every record carries a reference by which a later flush finds its ticket, which is its C(dedupe_key) or one
    generated when it is spooled (or, for a record written without one, before it is first sent).
  - When the answer to the request that files a record's ticket is lost, the record is kept marked C(may_exist).
    Every later flush first searches for the ticket by its reference; the ticket is only posted again when the search
    still does not find it O(may_exist_wait) seconds after the answer was lost, as the API's search can take minutes
    to show a new ticket. A record marked C(may_exist) without a dedupe key (the ticket was sent without a
    reference) stays, for a person to check.
  - This module runs on the controller only (an action plugin).
author:
  - upsun.support maintainers (@upsun)
extends_documentation_fragment:
  - upsun.support.connection
  - upsun.support.connection.action_group
attributes:
  action:
    description: Runs on the controller, through an action plugin of the same name.
    support: full
  check_mode:
    description: Writes and files nothing, and says what it would write or file.
    support: full
  diff_mode:
    description: There is no diff.
    support: none
options:
  state:
    description:
      - V(spooled) writes O(ticket) to the spool; V(flushed) files the spooled tickets.
    type: str
    choices: [spooled, flushed]
    default: spooled
  directory:
    description:
      - The spool directory on the controller.
    type: path
    default: ~/.ansible/upsun_support_spool
  ticket:
    description:
      - With O(state=spooled), the options of M(upsun.support.ticket) that file the ticket (C(subject),
        C(description), C(priority), C(category), C(dedupe_key), C(filed_by), ..., and C(attachments) as C(filename)
        and C(content)). Connection options are not part of it.
    type: dict
  error:
    description:
      - With O(state=spooled), why the ticket could not be filed, kept in the record.
    type: str
  may_exist:
    description:
      - With O(state=spooled), whether the ticket may have been filed after all (its answer was lost).
    type: bool
    default: false
  may_exist_wait:
    description:
      - With O(state=flushed), how many seconds after a lost answer a ticket that may exist, and that a search does not
        find, is posted again. Until then, each flush searches for it and keeps the record.
      - V(0) posts it again as soon as a search does not find it. At most V(604800) (7 days).
      - One wait with O(upsun.support.ticket#module:may_exist_wait), which the flush passes on to the ticket module, so
        that this controller's ticket ledger holds a lost create back for as long as the record does.
      - When not set, the E(UPSUN_SUPPORT_MAY_EXIST_HOLD) environment variable is used, then V(900) (15 minutes).
    type: float
    version_added: 1.0.0
  redaction:
    description:
      - The redaction settings, as for P(upsun.support.redact_secrets#filter).
    type: dict
    suboptions:
      patterns:
        description: Regular expressions of your own.
        type: list
        elements: str
        default: []
      disable:
        description: Names of built-in rules to switch off.
        type: list
        elements: str
        default: []
      replacement:
        description: What replaces a secret.
        type: str
        default: "[REDACTED]"
notes:
  - The connection options are used by O(state=flushed). Given explicitly (or with C(module_defaults)) they win over
    the environment variables. The settings a record was spooled with are never used.
seealso:
  - module: upsun.support.ticket
'''

EXAMPLES = r'''
- name: Keep a ticket that could not be filed
  upsun.support.spool:
    ticket:
      subject: Deploy of release 42 failed
      description: "{{ ansible_failed_result.msg }}"
      dedupe_key: deploy-release-42
    error: "{{ filed.msg }}"

- name: File the spooled tickets
  upsun.support.spool:
    state: flushed
  register: flushed
'''

RETURN = r'''
path:
  description: The record written.
  returned: O(state=spooled), not in check mode
  type: str
  sample: /home/ci/.ansible/upsun_support_spool/ticket-20261201T101500Z-k3j2h1.json
filed:
  description: The ids of the tickets filed from the spool.
  returned: O(state=flushed)
  type: list
  elements: int
  sample: [1001]
already_open:
  description:
    - The ids of the unsolved tickets that already carried a record's dedupe key, and of the tickets found by their
      reference after a lost answer (nothing filed for them).
  returned: O(state=flushed)
  type: list
  elements: int
  sample: []
commented:
  description:
    - The ids of the tickets of RV(already_open) that got the repeat comment a record carried
      (O(upsun.support.ticket#module:repeat_comment)), added once, or found already added.
  returned: O(state=flushed)
  type: list
  elements: int
  sample: []
  version_added: 2.0.0
kept:
  description: The records left in the spool, each with C(path) and C(error).
  returned: O(state=flushed)
  type: list
  elements: dict
  sample: []
waiting:
  description:
    - The records whose ticket may exist (its answer was lost) and was not found yet, each with C(path) and C(error);
      they stay, and are posted again after O(may_exist_wait).
  returned: O(state=flushed)
  type: list
  elements: dict
  sample: []
set_aside:
  description:
    - The records set aside in the C(rejected) folder of the spool directory, each with C(path) (where it was),
      C(moved_to) and C(reason).
  returned: O(state=flushed)
  type: list
  elements: dict
  sample: []
busy:
  description: The records another flush was filing meanwhile.
  returned: O(state=flushed)
  type: list
  elements: str
  sample: []
would_file:
  description: In check mode, the records that would be filed.
  returned: O(state=flushed), check mode
  type: list
  elements: str
  sample: []
msg:
  description: What was done.
  returned: always
  type: str
  sample: "Filed 1 spooled ticket(s) (1001), 0 already open; 0 left in /home/ci/.ansible/upsun_support_spool."
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.upsun.support.plugins.module_utils.spool import SPOOL_ARGUMENT_SPEC, SPOOL_REQUIRED_IF


def main():
    module = AnsibleModule(argument_spec=SPOOL_ARGUMENT_SPEC, required_if=SPOOL_REQUIRED_IF, supports_check_mode=True)
    module.fail_json(msg='upsun.support.spool runs on the controller, through its action plugin; it cannot run as a module.')


if __name__ == '__main__':
    main()
