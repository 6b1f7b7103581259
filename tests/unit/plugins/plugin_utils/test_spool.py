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
    GENERATED_KEY_PREFIX,
    MAX_RECORD_BYTES,
    REJECTED_DIR,
    SPOOL_FORMAT,
    RecordRefused,
    SpoolError,
    claimed,
    make_record,
    parse_record,
    record_api_url,
    record_paths,
    set_aside,
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
    # Only the API URL is kept, to be shown and compared: the flush never connects with a record's settings.
    assert data['connection'] == {'api_url': 'http://127.0.0.1:9'}
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


# --- what a record may hold ------------------------------------------------------------------------------------------


def test_a_record_keeps_the_api_url_without_user_name_or_password_and_no_other_setting():
    made = make_record(TICKET, 'role', '2026-12-01T10:00:00Z', connection={
        'api_url': 'https://ci:hunter2@api.example.com/', 'token_url': 'https://evil.example/steal', 'timeout': 3.0})
    assert made['connection'] == {'api_url': 'https://api.example.com/'}
    assert 'hunter2' not in json.dumps(made) and 'evil' not in json.dumps(made)


@pytest.mark.parametrize('name', ['api_url', 'auth_url', 'token_url'])
def test_a_record_whose_urls_hold_credentials_is_not_trusted(name):
    data = dict(record(), connection={name: 'https://user:secret@api.example.com'})
    with pytest.raises(RecordRefused, match='connection.{0} holds a user name or password'.format(name)):
        parse_record(json.dumps(data), '/spool/x.json')


def test_a_record_without_an_api_url_was_spooled_against_the_default_api():
    assert record_api_url(parse_record(json.dumps(dict(record(), connection={})), '/x.json')) == 'https://api.upsun.com'


def test_a_ticket_without_dedupe_key_gets_a_reference_key_of_its_own_unless_it_may_exist():
    ticket = dict(TICKET)
    del ticket['dedupe_key']
    first = make_record(ticket, 'role', '2026-12-01T10:00:00Z')['ticket']['dedupe_key']
    second = make_record(ticket, 'role', '2026-12-01T10:00:00Z')['ticket']['dedupe_key']
    assert first.startswith(GENERATED_KEY_PREFIX) and first != second
    assert make_record(TICKET, 'role', '2026-12-01T10:00:00Z')['ticket']['dedupe_key'] == 'k'
    # Sent without a key: no key made now could find it.
    assert 'dedupe_key' not in make_record(ticket, 'role', '2026-12-01T10:00:00Z', may_exist=True)['ticket']


@pytest.mark.parametrize('change, words', [
    (dict(created=5), 'created has the wrong type'),
    (dict(error=['x']), 'error has the wrong type'),
    (dict(lost_at={}), 'lost_at has the wrong type'),
    (dict(source=1), 'source has the wrong type'),
])
def test_each_field_of_a_record_is_type_checked(change, words):
    with pytest.raises(RecordRefused, match=words):
        parse_record(json.dumps(dict(record(), **change)), '/spool/x.json')


def test_deeply_nested_json_is_refused_not_a_crash():
    with pytest.raises(RecordRefused, match='not JSON'):
        parse_record('[' * 100000 + ']' * 100000, '/spool/x.json')


# --- the reader trusts nothing it reads ------------------------------------------------------------------------------


def spool_with(tmp_path):
    directory = tmp_path / 'spool'
    spool_directory(str(directory))
    return directory


def test_a_record_that_is_not_utf8_is_refused_naming_the_file(tmp_path):
    path = spool_with(tmp_path) / 'ticket-bad.json'
    path.write_bytes(b'{"format": 2, "subject": "\xff\xfe"}')
    with pytest.raises(RecordRefused, match='ticket-bad.json is not UTF-8 text'):
        with claimed(str(path)):
            raise AssertionError('claimed')


def test_a_fifo_is_not_read_and_does_not_block(tmp_path):
    path = spool_with(tmp_path) / 'x.json'
    os.mkfifo(str(path))
    with pytest.raises(RecordRefused, match='x.json is not a regular file \\(a named pipe\\)'):
        with claimed(str(path)):
            raise AssertionError('claimed')


def test_a_symlink_is_not_followed(tmp_path):
    path = spool_with(tmp_path) / 'zero.json'
    path.symlink_to('/dev/zero')
    with pytest.raises(RecordRefused, match='zero.json is a symbolic link'):
        with claimed(str(path)):
            raise AssertionError('claimed')


def test_a_file_over_the_size_cap_is_not_read(tmp_path):
    path = spool_with(tmp_path) / 'huge.json'
    with open(str(path), 'wb') as handle:
        handle.truncate(MAX_RECORD_BYTES + 1)
    with pytest.raises(RecordRefused, match='huge.json is larger than the 64 MiB'):
        with claimed(str(path)):
            raise AssertionError('claimed')


def test_a_record_too_big_to_be_read_back_is_never_written(tmp_path):
    big = make_record(dict(TICKET, attachments=[{'filename': 'a.log', 'content': 'x' * MAX_RECORD_BYTES}]), 'role', 'now')
    with pytest.raises(SpoolError, match='more than the 64 MiB'):
        write_record(str(tmp_path / 'spool'), big)
    assert os.listdir(str(tmp_path / 'spool')) == []


def test_a_record_set_aside_goes_to_rejected_with_its_reason_and_never_overwrites(tmp_path):
    directory = spool_with(tmp_path)
    moved = []
    for text in ('first', 'second'):
        path = directory / 'ticket-x.json'
        path.write_text(text)
        moved.append(set_aside(str(path), 'refused: ' + text))
    assert moved == [str(directory / REJECTED_DIR / 'ticket-x.json'), str(directory / REJECTED_DIR / 'ticket-x.json.2')]
    assert [open(path).read() for path in moved] == ['first', 'second']
    assert [open(path + '.reason').read() for path in moved] == ['refused: first\n', 'refused: second\n']
    assert mode(directory / REJECTED_DIR) == 0o700 and record_paths(str(directory)) == []


def test_an_updated_record_stays_claimed(tmp_path):
    path = write_record(str(tmp_path / 'spool'), record())
    with claimed(path) as claim:
        claim.update(dict(claim.record, may_exist=True))
        with claimed(path) as other:
            assert other is None
    with claimed(path) as again:
        assert again.record['may_exist'] is True
