# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The exception hierarchy (errors.py): what each error gives fail_json, and no credential of a URL in any of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    DeadlineError,
    DedupeLockError,
    InputError,
    ResponseLostError,
    TicketMayExistError,
    TransportError,
    UpsunError,
    mask_userinfo,
)


@pytest.mark.parametrize('text, expected', [
    ('https://user:pa55@api.example.com/tickets', 'https://***@api.example.com/tickets'),
    ('proxy http://me@proxy:3128 refused', 'proxy http://***@proxy:3128 refused'),
    ('HTTPS://A:B@host and socks5h://c:d@other/x', 'HTTPS://***@host and socks5h://***@other/x'),
    ('https://api.example.com/tickets?user=a@b', 'https://api.example.com/tickets?user=a@b'),
    ('mail me at ops@example.com', 'mail me at ops@example.com'),
])
def test_mask_userinfo_hides_the_credentials_of_every_url(text, expected):
    assert mask_userinfo(text) == expected


@pytest.mark.parametrize('value', [None, 42, b'https://u:p@host'])
def test_mask_userinfo_leaves_what_is_not_text(value):
    assert mask_userinfo(value) is value


def test_to_result_holds_only_what_is_known():
    assert UpsunError('went wrong').to_result() == {'msg': 'went wrong'}
    assert ApiError('refused', status=422, url='https://api.upsun.com/tickets', api_error='bad priority').to_result() == {
        'msg': 'refused', 'status': 422, 'url': 'https://api.upsun.com/tickets', 'api_error': 'bad priority'}


def test_the_message_url_and_api_error_are_masked():
    error = TransportError('cannot reach https://u:secret1@api.example.com', url='https://u:secret2@api.example.com/x',
                           api_error='echo https://u:secret3@host')
    result = error.to_result()
    assert 'secret' not in repr(result) and 'secret' not in str(error)
    assert result['url'] == 'https://***@api.example.com/x'


def test_a_ticket_that_may_exist_says_so_with_its_reference():
    assert TicketMayExistError('lost', status=502).to_result() == {'msg': 'lost', 'status': 502, 'may_exist': True}
    assert TicketMayExistError('lost', reference='upsundedupeabc').to_result() == {
        'msg': 'lost', 'may_exist': True, 'dedupe_reference': 'upsundedupeabc'}


@pytest.mark.parametrize('error, parents', [
    (InputError, (UpsunError,)),
    (AuthenticationError, (ApiError, UpsunError)),
    (DeadlineError, (TransportError, UpsunError)),
    (ResponseLostError, (TransportError, UpsunError)),
    (DedupeLockError, (UpsunError,)),
    (TicketMayExistError, (UpsunError,)),
])
def test_every_error_is_an_upsun_error_of_its_kind(error, parents):
    # main() of each module catches UpsunError; the client tells transport faults from API refusals by their class.
    assert all(issubclass(error, parent) for parent in parents)
