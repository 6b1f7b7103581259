#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ticket_info
short_description: Look up Upsun support tickets, and the categories and priorities an account may use
version_added: 1.0.0
description:
  - Returns one ticket by O(ticket_id), or the tickets that match the filters and O(search), following the pages
    of C(GET /tickets) until the API's C(count) is read, unless O(limit) caps the count.
  - Once the first page has given the C(count), the pages still needed are read O(page_concurrency) at once. The
    tickets keep the API's order.
  - Paging never loops. It also stops at a C(next) link that does not move forward and after O(page_limit) pages,
    with a warning that says how many of the matching tickets were read (RV(tickets) then holds fewer than
    RV(count)).
  - Can also return the ticket categories (C(GET /tickets/category)) and priorities (C(GET /tickets/priority)) the
    account may use, see O(fetch).
  - With O(comments=true), returns each ticket's conversation too, oldest first, in RV(tickets[].comments).
  - Read-only.
author:
  - upsun.support maintainers (@upsun)
extends_documentation_fragment:
  - upsun.support.connection
  - upsun.support.connection.action_group
attributes:
  check_mode:
    description: The module only reads, so it runs the same in check mode.
    support: full
  diff_mode:
    description: The module only reads, so there is no diff.
    support: none
options:
  fetch:
    description:
      - What to return. V(tickets) fills RV(tickets), V(categories) fills RV(categories), V(priorities) fills
        RV(priorities).
    type: list
    elements: str
    choices: [tickets, categories, priorities]
    default: [tickets]
  ticket_id:
    description:
      - Return only this ticket (the API's C(filter[ticket_id])). A positive number; V(0) or less is refused before
        any request.
    type: int
  status:
    description:
      - Only tickets with this status.
    type: str
    choices: [closed, deleted, hold, new, open, pending, solved]
  priority:
    description:
      - Only tickets with this priority.
    type: str
    choices: [low, normal, high, urgent]
  type:
    description:
      - Only tickets of this type.
    type: str
    choices: [problem, task, incident, question]
  requester_id:
    description:
      - Only tickets requested by this user (UUID).
    type: str
  submitter_id:
    description:
      - Only tickets submitted by this user (UUID).
    type: str
  assignee_id:
    description:
      - Only tickets assigned to this user (UUID).
    type: str
  has_incidents:
    description:
      - Only tickets that have (V(true)) or do not have (V(false)) incidents.
    type: bool
  created:
    description:
      - The API's C(filter[created]), an ISO 8601 date-time such as C(2026-11-01T00:00:00Z).
    type: str
  updated:
    description:
      - The API's C(filter[updated]), an ISO 8601 date-time.
    type: str
  due:
    description:
      - The API's C(filter[due]), an ISO 8601 date-time.
    type: str
  search:
    description:
      - Only tickets whose subject or description contains this text.
    type: str
  limit:
    description:
      - Return at most this many tickets; pages are fetched only until it is reached. By default every page is read.
    type: int
  comments:
    description:
      - Return each ticket's conversation in RV(tickets[].comments), read from C(GET /comments/{ticket_id}), every
        page of it (one request per 50 comments of each ticket, one ticket after the other).
      - "C(GET /comments/{ticket_id}) is the endpoint the Upsun Console uses; Upsun's OpenAPI document leaves it
        out. When the API refuses it (HTTP C(404), C(403) or C(405)), the module warns once and returns the tickets
        without RV(tickets[].comments)."
      - V(false) (the default) sends no request for comments.
    type: bool
    default: false
    version_added: 2.0.0
  subscription_id:
    description:
      - With V(categories) or V(priorities) in O(fetch), the subscription to list them for.
    type: str
  organization_id:
    description:
      - With V(categories) in O(fetch), the organization to list them for.
    type: str
  category:
    description:
      - With V(priorities) in O(fetch), the category to list priorities for.
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
seealso:
  - module: upsun.support.ticket
    description: File a ticket, or update its status and collaborators.
'''

EXAMPLES = r'''
- name: Read ticket 1234
  upsun.support.ticket_info:
    ticket_id: 1234
  delegate_to: localhost
  register: found

- name: Show its status
  ansible.builtin.debug:
    msg: "{{ found.tickets[0].status }}"

- name: List the urgent tickets still open
  upsun.support.ticket_info:
    status: open
    priority: urgent
  delegate_to: localhost
  register: urgent

- name: Find the last 10 tickets about a deploy
  upsun.support.ticket_info:
    search: "release 42"
    limit: 10
  delegate_to: localhost

- name: Read ticket 1234 with what support answered
  upsun.support.ticket_info:
    ticket_id: 1234
    comments: true
  delegate_to: localhost
  register: conversation

- name: Show support's last public answer
  ansible.builtin.debug:
    msg: "{{ (conversation.tickets[0].comments | rejectattr('by_requester') | selectattr('public') | last).body }}"

- name: List the categories and priorities this account may use
  upsun.support.ticket_info:
    fetch: [categories, priorities]
    subscription_id: "123456"
  delegate_to: localhost
  register: choices
'''

RETURN = r'''
tickets:
  description:
    - The tickets found, each exactly as the API returns it, newest first as the API orders them.
    - Each item has the keys described for RV(upsun.support.ticket#module:ticket).
  returned: when O(fetch) contains V(tickets)
  type: list
  elements: dict
  sample:
    - ticket_id: 1234
      subject: Deploy of release 42 failed
      status: open
      priority: high
      category: incident_outage
      created: "2026-11-27T05:31:56Z"
      zd_ticket_url: https://support.upsun.com/hc/requests/1234
  contains:
    comments:
      description:
        - With O(comments=true), the ticket's conversation, oldest first (by C(created_at), then C(comment_id)). The
          first comment is the ticket's description.
        - "Each comment as the API gives it: C(comment_id), C(ticket_id), C(created_at), C(body), C(author_id),
          C(public), and C(attachments), an object keyed by file name whose values have C(file_name), C(uri) and
          C(content_type)."
        - Plus C(by_requester), V(true) when the ticket's requester wrote it (its C(author_id) is the ticket's
          C(requester_id)), V(false) for support staff and others.
      returned: when O(comments=true) and the API serves the comment endpoints
      type: list
      elements: dict
      version_added: 2.0.0
      sample:
        - comment_id: 5001
          ticket_id: 1234
          created_at: "2026-11-27T05:31:56Z"
          body: The deploy of release 42 failed.
          author_id: 3c90c3cc-0d44-4b50-8888-8dd25736052a
          public: true
          attachments: {}
          by_requester: true
count:
  description: The number of tickets that match, as the API counts them (may exceed the length of RV(tickets) when O(limit) is set).
  returned: when O(fetch) contains V(tickets)
  type: int
  sample: 1
categories:
  description: The categories the account may use, each with C(id) (the value for O(upsun.support.ticket#module:category)) and C(label).
  returned: when O(fetch) contains V(categories)
  type: list
  elements: dict
  sample:
    - id: incident_outage
      label: Incident / Outage
priorities:
  description: The priorities the account may use, each with C(id), C(label), C(short_description) and C(description).
  returned: when O(fetch) contains V(priorities)
  type: list
  elements: dict
  sample:
    - id: urgent
      label: Urgent
      short_description: Production down
      description: A production site is down or unusable.
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.upsun.support.plugins.module_utils.module_client import module_client
from ansible_collections.upsun.support.plugins.module_utils.comments import CommentsRefusedError, conversation
from ansible_collections.upsun.support.plugins.module_utils.constants import CATEGORIES, PRIORITIES, STATUSES, TYPES
from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.payload import check_date_time, check_ticket_id, check_uuid
from ansible_collections.upsun.support.plugins.module_utils.settings import connection_argument_spec
from ansible_collections.upsun.support.plugins.module_utils.tickets import search_tickets

FILTERS = ('ticket_id', 'status', 'priority', 'type', 'requester_id', 'submitter_id', 'assignee_id', 'has_incidents',
           'created', 'updated', 'due')

ARGUMENT_SPEC = connection_argument_spec(
    fetch=dict(type='list', elements='str', choices=['tickets', 'categories', 'priorities'], default=['tickets']),
    ticket_id=dict(type='int'),
    status=dict(type='str', choices=list(STATUSES)),
    priority=dict(type='str', choices=list(PRIORITIES)),
    type=dict(type='str', choices=list(TYPES)),
    requester_id=dict(type='str'),
    submitter_id=dict(type='str'),
    assignee_id=dict(type='str'),
    has_incidents=dict(type='bool'),
    created=dict(type='str'),
    updated=dict(type='str'),
    due=dict(type='str'),
    search=dict(type='str'),
    limit=dict(type='int'),
    comments=dict(type='bool', default=False),
    subscription_id=dict(type='str'),
    organization_id=dict(type='str'),
    category=dict(type='str', choices=list(CATEGORIES)),
)


def validate(params):
    if params['ticket_id'] is not None:
        check_ticket_id(params['ticket_id'])
    for name in ('requester_id', 'submitter_id', 'assignee_id'):
        if params[name] is not None:
            params[name] = check_uuid(name, params[name])
    for name in ('created', 'updated', 'due'):
        if params[name] is not None:
            check_date_time(name, params[name])
    if params['limit'] is not None and params['limit'] < 1:
        raise InputError('limit must be 1 or more, got {0!r}.'.format(params['limit']))


def run(module, client):
    """Return the result keys for what O(fetch) asks."""
    params = module.params
    result = {}
    if 'tickets' in params['fetch']:
        filters = dict((name, params[name]) for name in FILTERS)
        result['tickets'], result['count'] = search_tickets(client, filters, params['search'], params['limit'])
        if params['comments']:
            add_conversations(client, result['tickets'])
    if 'categories' in params['fetch']:
        query = dict(subscription_id=params['subscription_id'], organization_id=params['organization_id'])
        result['categories'] = client.request('GET', '/tickets/category', params=_present(query))[1] or []
    if 'priorities' in params['fetch']:
        query = dict(subscription_id=params['subscription_id'], category=params['category'])
        result['priorities'] = client.request('GET', '/tickets/priority', params=_present(query))[1] or []
    return result


def add_conversations(client, tickets):
    """Give each ticket its ``comments``; when the API refuses the comment endpoints, warn once and stop."""
    for ticket in tickets:
        if ticket.get('ticket_id') is None:
            # Nothing to ask GET /comments/{ticket_id} for: such a ticket is returned as the API gave it.
            continue
        try:
            ticket['comments'] = conversation(client, ticket)
        except CommentsRefusedError as exc:
            client.warn('{0} The tickets are returned without their comments.'.format(exc.msg))
            for earlier in tickets:
                earlier.pop('comments', None)
            return


def _present(values):
    return dict((name, value) for name, value in values.items() if value is not None)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    with module_client(module) as client:
        validate(module.params)
        result = run(module, client)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
