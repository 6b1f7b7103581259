# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The spool: a safe directory, one record format, crafted records refused, and claims that file a record once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.redaction import Redactor
from ansible_collections.upsun.support.plugins.plugin_utils.spool import (
    SPOOL_FORMAT,
    SpoolError,
    claimed,
    make_record,
    parse_record,
    record_paths,
    spool_directory,
    write_record,
)

TICKET = {'subject': 'Deploy failed', 'description': 'It broke.', 'priority': 'high', 'dedupe_key': 'k', 'filed_by': 'role'}


def record(**ticket):
    return make_record(dict(TICKET, **ticket), 'role', '2026-12-01T10:00:00Z', error='API down',
                       connection={'api_url': 'http://127.0.0.1:9', 'ca_path': '/etc/ca.pem', 'api_token': 'never'})


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_a_missing_directory_is_created_private(tmp_path):
    path = spool_directory(str(tmp_path / 'a' / 'spool'))
    assert mode(path) == 0o700


def test_a_record_is_written_private_and_holds_no_secret(tmp_path):
    path = write_record(str(tmp_path / 'spool'), record())

    assert mode(path) == 0o600
    data = json.loads(open(path).read())
    assert data['format'] == SPOOL_FORMAT and data['source'] == 'role' and data['may_exist'] is False
    assert data['connection'] == {'api_url': 'http://127.0.0.1:9', 'ca_path': '/etc/ca.pem'}
    assert 'never' not in open(path).read()
    assert record_paths(str(tmp_path / 'spool')) == [path]


def test_the_text_of_a_record_is_redacted_when_it_is_made():
    made = make_record(dict(TICKET, description='password=hunter2hunter2',
                            attachments=[{'filename': 'a.log', 'content': 'token: abcdefabcdef'}]),
                       'callback', '2026-12-01T10:00:00Z', error='echoed Bearer abcdefghijkl', redact=Redactor(environ={}))
    assert made['ticket']['description'] == 'password=[REDACTED]'
    assert made['ticket']['attachments'][0]['content'] == 'token: [REDACTED]'
    assert made['error'] == 'echoed Bearer [REDACTED]'


def test_a_symlinked_directory_is_refused(tmp_path):
    (tmp_path / 'real').mkdir(mode=0o700)
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    with pytest.raises(SpoolError, match='is a symlink'):
        write_record(str(tmp_path / 'link'), record())
    assert os.listdir(str(tmp_path / 'real')) == []


def test_a_directory_others_can_write_to_is_refused_and_left_as_it_is(tmp_path):
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    with pytest.raises(SpoolError, match=r'can be written by other users \(mode 0777\)'):
        write_record(str(shared), record())
    assert mode(shared) == 0o777, 'never chmod a directory we did not create'
    assert os.listdir(str(shared)) == []


def test_a_directory_of_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('needs root to give a directory to another user')
    other = tmp_path / 'other'
    other.mkdir(mode=0o700)
    os.chown(str(other), 65534, 65534)
    with pytest.raises(SpoolError, match='belongs to another user'):
        spool_directory(str(other))


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / 'file').write_text('')
    with pytest.raises(SpoolError, match='not a directory'):
        spool_directory(str(tmp_path / 'file'))


@pytest.mark.parametrize('change, words', [
    (dict(format=99), ['unknown spool format 99']),
    (dict(owner='me'), ['unknown field(s) owner']),
    (dict(ticket={'subject': 'S', 'description': 'D', 'attachments': [{'path': '/etc/shadow'}]}),
     ['ticket.attachments[0] is a path to read', '/etc/shadow']),
    (dict(ticket={'subject': 'S', 'description': 'D', 'api_token': 'x'}), ["'api_token', which is not a ticket option"]),
    (dict(ticket={'subject': 'S', 'description': 'D', 'priority': ['high']}), ['ticket.priority has the wrong type']),
    (dict(ticket={'subject': ' ', 'description': 'D'}), ['no subject']),
    (dict(connection={'api_token': 'x'}), ["connection holds 'api_token'"]),
    (dict(connection={'validate_certs': 'no'}), ['connection.validate_certs has the wrong type']),
    (dict(may_exist='yes'), ['may_exist is not true or false']),
])
def test_crafted_records_are_refused_naming_the_file_and_why(tmp_path, change, words):
    data = dict(record(), **change)
    with pytest.raises(SpoolError) as caught:
        parse_record(json.dumps(data), '/spool/ticket-x.json')
    assert '/spool/ticket-x.json was refused' in str(caught.value)
    for word in words:
        assert word in str(caught.value)


def test_not_json_is_refused():
    with pytest.raises(SpoolError, match='not a spool record'):
        parse_record('{', '/spool/x.json')


def test_a_format_1_record_of_the_previous_version_is_read():
    parsed = parse_record(json.dumps({'format': 1, 'created': 'x', 'source': 'deploy_failure_ticket', 'error': 'down',
                                      'ticket': {'subject': 'S', 'description': 'D'}}), '/spool/old.json')
    assert parsed['format'] == SPOOL_FORMAT and parsed['may_exist'] is False and parsed['connection'] == {}
    assert parsed['ticket']['filed_by'] == 'role'


def test_making_a_record_that_would_be_refused_fails_at_once():
    with pytest.raises(SpoolError, match='cannot be spooled'):
        make_record({'subject': 'S', 'description': 'D', 'attachments': [{'path': '/var/log/x'}]}, 'role', 'now')


def test_a_claimed_record_cannot_be_claimed_again_until_released(tmp_path):
    path = write_record(str(tmp_path / 'spool'), record())
    with claimed(path) as first:
        assert first is not None and first.record['ticket']['subject'] == 'Deploy failed'
        with claimed(path) as second:
            assert second is None
    with claimed(path) as third:
        assert third is not None


def test_a_record_filed_meanwhile_is_not_claimed(tmp_path):
    path = write_record(str(tmp_path / 'spool'), record())
    with claimed(path) as first:
        first.done()
    with claimed(path) as again:
        assert again is None
    assert not os.path.exists(path)


def test_a_kept_record_carries_the_new_error_and_stays_private(tmp_path):
    path = write_record(str(tmp_path / 'spool'), record())
    with claimed(path) as claim:
        claim.keep('still down')
    assert json.loads(open(path).read())['error'] == 'still down'
    assert mode(path) == 0o600 and len(record_paths(str(tmp_path / 'spool'))) == 1
