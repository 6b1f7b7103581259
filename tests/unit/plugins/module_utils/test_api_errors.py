# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What an API error answer says: the API's own text, redirects, the option a field refusal names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.upsun.support.plugins.module_utils import api_errors
from ansible_collections.upsun.support.plugins.module_utils.errors import ApiError
from ansible_collections.upsun.support.tests.unit.fake_api import TICKET, assert_no_secret


# --- errors -----------------------------------------------------------------------------------------------------------


def test_problem_json_error_is_api_error_with_api_text_status_and_url(api, make_client, tokens):
    api.on('POST', '/tickets', (422, {'error': 'The category is not allowed for this subscription'},
                                {'Content-Type': 'application/problem+json'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    error = info.value
    assert error.api_error == 'The category is not allowed for this subscription'
    assert error.status == 422
    assert error.url == api.url + '/tickets'
    assert 'HTTP 422' in error.msg and 'The category is not allowed for this subscription' in error.msg
    assert error.to_result() == {'msg': error.msg, 'status': 422, 'url': api.url + '/tickets',
                                 'api_error': 'The category is not allowed for this subscription'}


@pytest.mark.parametrize('status', [301, 302, 303, 307, 308])
@pytest.mark.parametrize('method, path', [('POST', '/oauth2/token'), ('POST', '/tickets'), ('GET', '/tickets')])
def test_a_redirect_is_answered_not_followed(api, make_client, tokens, retry_sleeps, method, path, status):
    # Followed, a 307 or 308 sends the form (the API token) or the ticket on to another host, and a 301 or 302
    # turns the POST that files a ticket into a GET.
    elsewhere = api.url.replace('127.0.0.1', 'localhost') + '/elsewhere'
    api.on(method, path, (status, None, {'Location': elsewhere + '?code=from-the-redirect#part'}))
    for other in ('GET', 'POST'):
        api.on(other, '/elsewhere', (200, TICKET))
    client = make_client() if path == '/oauth2/token' else make_client(access_token=tokens.access)

    with pytest.raises(ApiError) as info:
        client.request(method, '/tickets', body={'subject': 's'} if method == 'POST' else None)

    assert [(call.method, call.path) for call in api.calls] == [(method, path)]
    assert retry_sleeps == []
    error = info.value
    assert error.status == status
    assert error.url.endswith(path)
    assert 'with HTTP {0}{1}, a redirect to {2}: it is not followed'.format(
        status, ' for the token exchange' if path == '/oauth2/token' else '', elsewhere) in error.msg
    assert 'from-the-redirect' not in error.msg and 'part' not in error.msg.split(elsewhere)[1]
    assert 'UPSUN_CLI_API_URL' in error.msg and 'UPSUN_CLI_AUTH_URL' in error.msg
    assert_no_secret(error.msg, tokens)


def test_a_redirect_without_location_says_so(api, make_client, tokens):
    api.on('GET', '/tickets', (302, None))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert 'with HTTP 302, a redirect without a Location: it is not followed' in info.value.msg


def test_non_json_error_body_is_carried_as_text(api, make_client, tokens):
    api.on('GET', '/tickets', (404, '<html><body>Not Found</body></html>', {'Content-Type': 'text/html'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 404
    assert info.value.api_error == '<html><body>Not Found</body></html>'
    assert 'Not Found' in info.value.msg


def test_empty_error_body_says_no_detail(api, make_client, tokens):
    api.on('GET', '/tickets', (403, None))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 403
    assert info.value.api_error is None
    assert 'no detail' in info.value.msg


def test_success_with_non_json_body_is_api_error(api, make_client, tokens):
    api.on('GET', '/tickets', (200, 'not json'))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('GET', '/tickets')

    assert info.value.status == 200
    assert 'not JSON' in info.value.msg


# --- the API's messages by field, with the option that sets it (issue 24) ---------------------------------------------


def test_a_400_whose_detail_names_fields_names_the_options(api, make_client, tokens):
    detail = {'requester_id': 'This value is not a valid UUID.', 'attachments[0].filename': 'This value should not be blank.'}
    api.on('POST', '/tickets', (400, {'error': 'Bad Request', 'detail': detail},
                                {'Content-Type': 'application/problem+json'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={'subject': 's'})

    msg = info.value.msg
    assert 'HTTP 400' in msg
    assert 'the requester_id option: This value is not a valid UUID.' in msg
    assert 'the attachments option (attachments[0].filename): This value should not be blank.' in msg
    assert 'Fix them and run again.' in msg
    assert 'check the option the message names' not in msg
    assert info.value.api_error == ('Bad Request: requester_id: This value is not a valid UUID.; '
                                    'attachments[0].filename: This value should not be blank.')


@pytest.mark.parametrize('field, option', [
    ('requester_id', 'requester_id'), ('attachments[0].filename', 'attachments'), ('filter[type]', 'type'),
    ('collaborator_ids[2]', 'collaborator_ids'), ('body.subject', 'body'),
])
def test_option_of_field(field, option):
    assert api_errors.option_of_field(field) == option


def test_a_detail_that_is_text_keeps_the_generic_advice(api, make_client, tokens):
    api.on('POST', '/tickets', (400, {'error': 'Bad Request', 'detail': 'The body could not be read.'}))

    with pytest.raises(ApiError) as info:
        make_client(access_token=tokens.access).request('POST', '/tickets', body={})

    assert 'Bad Request: The body could not be read.' in info.value.msg
    assert 'check the option the message names' in info.value.msg
