# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tickets as the API answers them, and module args that need no fake API, for the tests of the modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference, with_footer

CONNECTION = dict(api_url='https://api.upsun.com', api_token='apitoken-SECRET-7c1e4b2a9f')
UUID_A = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
UUID_B = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
UUID_C = '0b6f3c1e-2a4d-4e8f-9c7b-1d2e3f4a5b6c'


CREATED = {
    'ticket_id': 1234,
    'created': '2026-11-27T05:31:56Z',
    'updated': '2026-11-27T05:31:56Z',
    'type': 'problem',
    'subject': 'Deploy of release 42 failed',
    'description': 'TASK [Deploy the release] failed on web1: exit code 1',
    'priority': 'high',
    'followup_tid': None,
    'status': 'new',
    'recipient': 'support@upsun.com',
    'requester_id': UUID_A,
    'submitter_id': UUID_A,
    'assignee_id': None,
    'organization_id': '01HZXJ5N5V2K8Q7M3T9W4Y6R1P',
    'collaborator_ids': [UUID_B],
    'has_incidents': False,
    'due': None,
    'tags': ['deploy'],
    'subscription_id': '123456',
    'ticket_group': 'support',
    'support_plan': 'standard',
    'affected_url': 'https://shop.example.com/',
    'queue': 'support',
    'issue_type': 'incident_outage',
    'resolution_time': None,
    'response_time': None,
    'project_url': 'https://console.upsun.com/acme/shop',
    'region': 'eu-5.platform.sh',
    'category': 'incident_outage',
    'environment': 'env_production',
    'ticket_sharing_status': 'ts_sent_to_platform',
    'application_ticket_url': None,
    'infrastructure_ticket_url': None,
    'jira': [{'id': 1, 'ticket_id': 1234, 'issue_id': 9, 'issue_key': 'OPS-9', 'created_at': None, 'updated_at': None}],
    'zd_ticket_url': 'https://support.upsun.com/hc/requests/1234',
    'an_attribute_the_docs_do_not_list': {'kept': True},
}

NEW = dict(subject='Deploy of release 42 failed', description='TASK [Deploy the release] failed on web1: exit code 1')


def listing(*tickets):
    return 200, {'count': len(tickets), 'tickets': list(tickets), '_links': {'self': {'href': '/tickets'}}}


def existing(ticket_id=1234, **fields):
    result = {'ticket_id': ticket_id, 'subject': 'Deploy failed', 'status': 'open', 'priority': 'high',
              'collaborator_ids': [UUID_A], 'description': 'It broke.'}
    result.update(fields)
    return result


REFERENCE = dedupe_reference('deploy-42')
DEDUPE = dict(NEW, dedupe_key='deploy-42', priority='high')


def carrier(ticket_id, status):
    return existing(ticket_id, status=status, description=with_footer('Earlier failure', dedupe=REFERENCE))


def args(**options):
    """A module's args for tests with spec'd mocks: ``options`` over CONNECTION, those given as None left out."""
    return dict((name, value) for name, value in dict(CONNECTION, **options).items() if value is not None)
