#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ticket_comment
short_description: Add a comment to an Upsun support ticket
version_added: 2.0.0
description:
  - Adds a comment, with attachments if given, to the ticket O(ticket_id), or to the unsolved ticket that carries
    O(dedupe_key) (one filed by M(upsun.support.ticket) with the same key), with C(POST /comments).
  - "C(POST /comments) is the endpoint the Upsun Console uses; Upsun's OpenAPI document leaves it out. When the API
    refuses it (HTTP C(404), C(403) or C(405)), the module fails with a message that says so; add the comment in the
    Upsun console then. The documented ticket endpoints, and so M(upsun.support.ticket), still work."
  - Every option is checked before any request is sent, and an invalid value fails with a message that names the
    option and what is allowed.
  - The credentials in use (the API token, the access token) are replaced with C([REDACTED]) wherever they appear in
    O(body) and in the attachments, also JSON-escaped, percent-encoded or base64-encoded, as in a ticket filed by
    M(upsun.support.ticket).
  - A comment from the ticket's requester (the user behind the API token, for a ticket it filed) reopens a solved
    ticket, as in Zendesk. A closed ticket takes no more comments.
  - The module talks to the API from the host it runs on; run it on the controller with C(delegate_to) set to
    C(localhost) and C(run_once).
author:
  - upsun.support maintainers (@upsun)
extends_documentation_fragment:
  - upsun.support.connection
  - upsun.support.connection.action_group
  - upsun.support.connection.action
attributes:
  check_mode:
    description:
      - With O(ticket_id), sends nothing, not even the token exchange, and returns the body that would be sent
        (RV(payload)).
      - With O(dedupe_key), searches for the ticket that carries it, returns its id and the body that would be sent,
        and sends no comment.
    support: full
  diff_mode:
    description: A comment adds to the ticket and changes no field of it, so there is no diff.
    support: none
options:
  body:
    description:
      - The text of the comment.
      - An empty or blank body is refused, and so is one above 65536 bytes of UTF-8 (Zendesk keeps at most 64 KB of
        a comment); send a long log as an attachment instead.
    type: str
    required: true
  ticket_id:
    description:
      - The ticket to comment on. A positive number such as V(1234), or a string of digits (what a template gives).
      - Anything else (V(0), a negative number, a boolean, a fraction, other text) is refused before any request.
      - Exactly one of O(ticket_id) and O(dedupe_key) is required.
    type: raw
  dedupe_key:
    description:
      - The O(upsun.support.ticket#module:dedupe_key) a ticket was filed with. The comment goes to the newest ticket
        that carries it and is still being worked on (status C(new), C(open), C(pending) or C(hold)); one search of
        C(GET /tickets) finds it.
      - When no unsolved ticket carries it, nothing is sent and the result is RV(ignore:changed=false) with
        RV(ticket_id) null. A ticket filed a few moments ago may not be found yet, because the API's listings lag.
      - An empty or blank key is refused.
    type: str
  attachments:
    description:
      - Files to attach to the comment, as for O(upsun.support.ticket#module:attachments), with the same checks, as a
        list of dicts, each giving exactly one of O(attachments.path), O(attachments.content) or O(attachments.data),
        and O(attachments.filename) where needed.
      - The module base64-encodes the files; their decoded sizes together may not exceed O(max_attachment_size).
    type: raw
    suboptions:
      path:
        description:
          - A regular file on the host that runs the module (C(~) and environment variables expanded); files under
            C(/proc), C(/sys) or C(/dev), and anything that is not a regular file, are refused.
        type: path
      content:
        description:
          - The file's text (sent as UTF-8), with O(attachments.filename).
        type: str
      data:
        description:
          - The file's bytes in base64, with O(attachments.filename).
        type: str
      filename:
        description:
          - The name support sees, without a directory, C(..) or control characters; the base name of
            O(attachments.path) by default.
        type: str
  max_attachment_size:
    description:
      - The largest total size of O(attachments) in one comment, decoded, in bytes or with a unit such as C(10M).
    type: bytes
    default: 20M
notes:
  - "Ad hoc from a shell, with the token in E(UPSUN_CLI_TOKEN):
    C(ansible localhost -m upsun.support.ticket_comment -a 'ticket_id=1234 body=\"Failed again at 05:31\"')."
  - When the answer to C(POST /comments) is lost (a timeout after sending, a reset), the module does not send it
    again and fails saying the comment may have been added; read the conversation with
    M(upsun.support.ticket_info) and O(upsun.support.ticket_info#module:comments=true) before running again.
seealso:
  - module: upsun.support.ticket
    description: File a ticket (with a O(upsun.support.ticket#module:dedupe_key)), or update its status.
  - module: upsun.support.ticket_info
    description: Read tickets and, with O(upsun.support.ticket_info#module:comments=true), their conversations.
'''

EXAMPLES = r'''
- name: Tell support that the deploy failed again
  upsun.support.ticket_comment:
    ticket_id: "{{ filed.ticket.ticket_id }}"
    body: "The deploy of release 42 failed again at {{ now(utc=true).isoformat() }}."
  delegate_to: localhost
  run_once: true

- name: Comment on the open ticket of this failure, with the new log
  upsun.support.ticket_comment:
    dedupe_key: "deploy {{ env_name }} {{ ansible_failed_task.name }}"
    body: The same failure happened again; the new log is attached.
    attachments:
      - path: /var/log/deploy.log
  delegate_to: localhost
  run_once: true
  register: said

- name: Show where it went
  ansible.builtin.debug:
    msg: "{{ said.msg }}"
'''

RETURN = r'''
comment:
  description:
    - The comment as the API answered C(POST /comments). Empty in check mode and when nothing was sent.
    - "Its keys, as the Upsun Console reads them: C(comment_id), C(ticket_id), C(created_at), C(body), C(author_id),
      C(public), and C(attachments), an object keyed by file name whose values have C(file_name), C(uri) and
      C(content_type)."
  returned: always
  type: dict
  sample:
    comment_id: 5002
    ticket_id: 1234
    created_at: "2026-11-27T06:02:11Z"
    body: The deploy of release 42 failed again.
    author_id: 3c90c3cc-0d44-4b50-8888-8dd25736052a
    public: true
    attachments:
      deploy.log:
        file_name: deploy.log
        uri: https://support.upsun.com/attachments/token/deploy.log
        content_type: text/plain
ticket_id:
  description: The ticket commented on (or that would be, in check mode); null when no unsolved ticket carries O(dedupe_key).
  returned: always
  type: int
  sample: 1234
payload:
  description:
    - In check mode, the exact body that would be sent to C(POST /comments), with each attachment's data replaced by
      its size in bytes.
  returned: check mode, when there is a ticket to comment on
  type: dict
  sample:
    ticket_id: 1234
    body: The deploy of release 42 failed again.
    attachments:
      - filename: deploy.log
        size: 5120
msg:
  description: What the module did, for example C(Added comment 5002 to Upsun ticket 1234).
  returned: always
  type: str
  sample: Added comment 5002 to Upsun ticket 1234
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.upsun.support.plugins.module_utils.module_client import module_client
from ansible_collections.upsun.support.plugins.module_utils.comments import CommentsRefusedError, add_comment, prepare_comment
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference
from ansible_collections.upsun.support.plugins.module_utils.payload import check_not_blank, check_ticket_id
from ansible_collections.upsun.support.plugins.module_utils.recovery import unsolved_carrying
from ansible_collections.upsun.support.plugins.module_utils.settings import connection_argument_spec

ARGUMENT_SPEC = connection_argument_spec(
    body=dict(type='str', required=True),
    # raw: checked by ticket_number, so that a boolean or a fraction is refused (type int would take true as 1).
    ticket_id=dict(type='raw'),
    dedupe_key=dict(type='str', no_log=False),
    # raw: checked by payload.check_attachments, whose messages name the option (ansible-core's do not).
    attachments=dict(type='raw'),
    max_attachment_size=dict(type='bytes', default='20M'),
)

_DIGITS = re.compile(r'^[0-9]+$')


def ticket_number(value):
    """The ``ticket_id`` option as a positive int: an int or a string of digits, never a boolean."""
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, bool) or not (isinstance(value, int) or (text and _DIGITS.match(text))):
        raise InputError('ticket_id must be a positive ticket number such as 1234, got the {0} {1!r}.'.format(
            type(value).__name__, value))
    number = int(value)
    check_ticket_id(number)
    return number


def run(module, client):
    """Comment on the ticket; return ``(changed, comment, ticket_id, extra result keys)``."""
    params = module.params
    ticket_id = ticket_number(params['ticket_id']) if params['ticket_id'] is not None else None
    if params['dedupe_key'] is not None:
        check_not_blank('dedupe_key', params['dedupe_key'])
    # The credentials in use are the module's no_log values, wherever they were read from.
    prepared = prepare_comment(params, secrets=module.no_log_values)
    ticket_known = ticket_id is None
    if ticket_id is None:
        found = unsolved_carrying(client, dedupe_reference(params['dedupe_key']))
        if not found:
            return False, {}, None, dict(msg='No unsolved Upsun ticket carries this dedupe_key: no comment was sent.')
        ticket_id = found[0]['ticket_id']
    if module.check_mode:
        return True, {}, ticket_id, dict(payload=dict(prepared.summary, ticket_id=ticket_id),
                                         msg='Would add a comment to Upsun ticket {0} (check mode): nothing was sent.'.format(ticket_id))
    try:
        comment = add_comment(client, ticket_id, prepared.payload, ticket_known=ticket_known)
    except CommentsRefusedError as exc:
        raise CommentsRefusedError(
            '{0} No comment was added to ticket {1}: add it in the Upsun console, or ask Upsun support to open the '
            'comment endpoints to this token.'.format(exc.msg, ticket_id), status=exc.status, url=exc.url,
            api_error=exc.api_error)
    return True, comment, ticket_id, dict(msg='Added comment {0} to Upsun ticket {1}'.format(
        comment.get('comment_id'), ticket_id))


# What AnsibleModule checks beyond the argument spec (the action plugin checks the same).
SPEC_RULES = dict(mutually_exclusive=[('ticket_id', 'dedupe_key')], required_one_of=[('ticket_id', 'dedupe_key')])


def execute(module, given=None):
    """The module's result: from ``main``, or from the action plugin with the arguments the task ``given``."""
    with module_client(module, given) as client:
        changed, comment, ticket_id, extra = run(module, client)
    return dict(changed=changed, comment=comment, ticket_id=ticket_id, **extra)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **SPEC_RULES)
    module.exit_json(**execute(module))


if __name__ == '__main__':
    main()
