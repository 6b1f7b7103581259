# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one masking of known values: each form a value takes in text, base64 with the whole word, many values at once,
the credentials of URLs in messages, and the modules' requests (a ticket, a comment) masked with it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.upsun.support.plugins.module_utils.comments import prepare_comment
from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.module_utils.filing import prepare_create
from ansible_collections.upsun.support.plugins.module_utils.masking import KnownValues, mask_known, mask_userinfo

KNOWN = 'p@ss w0rd/"quoted"+more'
FORMS = [KNOWN, json.dumps(KNOWN)[1:-1], json.dumps(json.dumps(KNOWN)[1:-1])[1:-1], quote(KNOWN, safe=''), quote(KNOWN),
         quote_plus(KNOWN), quote(KNOWN, safe='').lower()]
FORM_IDS = ['plain', 'json', 'json-in-json', 'percent', 'percent-keeping-slash', 'plus', 'lower-percent']


@pytest.mark.parametrize('form', FORMS, ids=FORM_IDS)
def test_a_known_secret_is_masked_in_its_encodings_whatever_surrounds_it(form):
    assert mask_known('prefix{0}suffix and again:{0}'.format(form), [KNOWN]) == 'prefix[REDACTED]suffix and again:[REDACTED]'


@pytest.mark.parametrize('form', [base64.b64encode(KNOWN.encode()).decode(), base64.urlsafe_b64encode(KNOWN.encode()).decode()],
                         ids=['base64', 'base64url'])
def test_a_known_secret_is_masked_in_base64_with_the_whole_base64_word(form):
    assert mask_known('cached {0} in .env.b64'.format(form), [KNOWN]) == 'cached [REDACTED] in .env.b64'


@pytest.mark.parametrize('user', ['a', 'ab', 'abc', 'deploy', 'x-access-token', 'ci@example.com'])
def test_base64_of_user_and_known_password_is_masked_whoever_the_user(user):
    encoded = base64.b64encode('{0}:{1}'.format(user, KNOWN).encode()).decode()

    assert mask_known('cached {0} (from .docker/config.json)'.format(encoded), [KNOWN]) == 'cached [REDACTED] (from .docker/config.json)'


def test_short_values_are_masked_as_text_but_not_looked_for_in_base64():
    # A 4-character value has no base64 core long enough not to turn up by chance.
    text = base64.b64encode(b'nothing to see here, hold on').decode()
    assert mask_known(text, ['hold']) == text
    assert mask_known('hold on', ['hold']) == '[REDACTED] on'


def test_the_longest_value_wins_and_many_values_are_masked_at_once():
    secrets = ['secret-value-{0:04d}'.format(index) for index in range(500)] + ['secret-value-0001-longer']

    assert mask_known('a secret-value-0001-longer b secret-value-0499 c', secrets) == 'a [REDACTED] b [REDACTED] c'


def test_empty_values_and_no_values_change_nothing_and_the_replacement_can_be_chosen():
    assert mask_known('nothing to hide', []) == 'nothing to hide'
    assert mask_known('nothing to hide', ['', None]) == 'nothing to hide'
    assert KnownValues([]).mask('nothing to hide') == 'nothing to hide'
    assert mask_known('token tok-5ecr3t-value', ['tok-5ecr3t-value'], replacement='***') == 'token ***'


def test_a_few_values_are_looked_for_one_by_one_then_with_the_pattern_the_same_way():
    known = KnownValues(['tok-5ecr3t-value'])

    assert known.mask('a clean text') == 'a clean text'
    assert known.mask('x tok-5ecr3t-value y tok-5ecr3t-value') == 'x [REDACTED] y [REDACTED]'
    assert known.mask('a clean text again') == 'a clean text again'


@pytest.mark.parametrize('text, shown', [
    ('GET https://bob:hunter2@api.example.test/v1 failed', 'GET https://***@api.example.test/v1 failed'),
    ('proxy HTTP://ghp_abc@proxy:3128 refused', 'proxy HTTP://***@proxy:3128 refused'),
    ('mail bob@example.test about https://api.example.test/', 'mail bob@example.test about https://api.example.test/'),
])
def test_the_credentials_of_urls_are_masked_in_messages(text, shown):
    assert mask_userinfo(text) == shown
    assert mask_userinfo(None) is None
    assert UpsunError(text, url=text, api_error=text).to_result() == dict(msg=shown, url=shown, api_error=shown)


# -- the modules' requests are masked with it -------------------------------------------------------------------------

TOKEN = 'tok-5ecr3t\\value/1+x'
# The forms a token takes in a CI log: a JSON dump of the settings, a URL query, a docker config.json.
ENCODED = [json.dumps(json.dumps({'token': TOKEN})), quote(TOKEN, safe=''),
           base64.b64encode(('ci:' + TOKEN).encode()).decode()]


@pytest.mark.parametrize('form', ENCODED, ids=['json-in-json', 'percent', 'base64-user-password'])
def test_a_ticket_masks_the_credentials_in_use_in_their_encodings(form):
    params = dict(subject='deploy failed ' + form, description='log: ' + form, priority='normal', max_attachment_size=1000,
                  attachments=[dict(content='log: ' + form + '\n', filename='deploy.log')])

    prepared = prepare_create(params, secrets=[TOKEN, None])

    attachment = base64.b64decode(prepared.payload['attachments'][0]['data']).decode()
    for text in (prepared.payload['subject'], prepared.payload['description'], attachment):
        assert form not in text and TOKEN not in text and '[REDACTED]' in text


@pytest.mark.parametrize('form', ENCODED, ids=['json-in-json', 'percent', 'base64-user-password'])
def test_a_comment_masks_the_credentials_in_use_in_their_encodings(form):
    params = dict(body='failed with ' + form, max_attachment_size=1000,
                  attachments=[dict(content=form, filename='deploy.log')])

    prepared = prepare_comment(params, secrets={TOKEN, None})

    attachment = base64.b64decode(prepared.payload['attachments'][0]['data']).decode()
    for text in (prepared.payload['body'], attachment):
        assert form not in text and TOKEN not in text and '[REDACTED]' in text
