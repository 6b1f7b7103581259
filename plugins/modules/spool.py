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
    its ticket is filed (or found already open by its dedupe key). A record whose ticket cannot be filed stays, with
    the new error, and the task fails naming it. The C(upsun.support.flush_spool) playbook does this.
  - A record holds the ticket's options, its attachments as their redacted content (never a path to read), the
    connection settings that are not secret, and why it was spooled. Never a credential.
  - The text of the ticket is redacted again before it is written, with the same rules as the role and the callback.
  - The spool directory is created with mode C(0700). An existing one that is a symlink, belongs to another user or
    can be written by others is refused with a message that says so; the module never changes the mode of a
    directory it did not create.
  - Each record is claimed (an exclusive lock) before it is filed, so two flushes at once file it once.
  - A record marked C(may_exist) (the answer to the request that filed it was lost) is only filed again with its
    dedupe key, which lets M(upsun.support.ticket) search for it first; without one it stays, for a person to check.
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
    the environment variables, which win over the settings a record was spooled with (such as its C(ca_path)).
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
  description: The ids of the unsolved tickets that already carried a record's dedupe key (nothing filed for it).
  returned: O(state=flushed)
  type: list
  elements: int
  sample: []
kept:
  description: The records left in the spool, each with C(path) and C(error).
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
