# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Values fixed by the Upsun ticket API and by the collection itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

COLLECTION_NAME = 'upsun.support'
# Kept equal to galaxy.yml's version (a unit test checks it): it goes into the User-Agent.
COLLECTION_VERSION = '1.0.0'

DEFAULT_API_URL = 'https://api.upsun.com'
DEFAULT_AUTH_URL = 'https://auth.upsun.com'
TOKEN_PATH = '/oauth2/token'
# The public OAuth2 client the Upsun CLI and SDKs use for the API-token grant.
OAUTH_CLIENT_ID = 'platform-api-user'

PRIORITIES = ('low', 'normal', 'high', 'urgent')

CATEGORIES = (
    'access',
    'billing_question',
    'complaint',
    'compliance_question',
    'configuration_change',
    'general_question',
    'incident_outage',
    'bug_report',
    'report_a_gui_bug',
    'onboarding',
    'close_my_account',
)

STATUSES = ('closed', 'deleted', 'hold', 'new', 'open', 'pending', 'solved')
# The only values PATCH /tickets/{ticket_id} accepts.
SETTABLE_STATUSES = ('open', 'solved')
# A ticket in one of these is still being worked on: dedupe reuses it.
UNSOLVED_STATUSES = ('new', 'open', 'pending', 'hold')

TYPES = ('problem', 'task', 'incident', 'question')


def default_token_url(auth_url):
    """Where the API token is exchanged when token_url is not set: TOKEN_PATH on ``auth_url``."""
    return auth_url.rstrip('/') + TOKEN_PATH
