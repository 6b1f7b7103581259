# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of POST /tickets: fields, checks and attachments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import re

import pytest

from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.payload import (
    CREATE_FIELDS,
    build_create_payload,
    check_uuid,
    read_attachments,
)

UUID = '3c90c3cc-0d44-4b50-8888-8dd25736052a'
UUID2 = '5f1d7a8e-7c2b-4f3e-9a1d-2b6c8e4f0a11'
MAX = 20 * 1024 * 1024


def params(**options):
    """Module params as AnsibleModule hands them over: every option present, unset ones None."""
    base = dict((name, None) for name in CREATE_FIELDS)
    base.update(attachments=None, max_attachment_size=MAX, dedupe_key=None, ticket_id=None, status=None,
                collaborators_replace=False, api_token='secret-api-token', access_token='secret-access-token',
                api_url='https://api.upsun.com', auth_url='https://auth.upsun.com', timeout=30.0, retries=3,
                validate_certs=True, ca_path=None)
    base.update(subject='Deploy failed', description='It broke.')
    base.update(options)
    return base


def test_fields_are_copied_as_they_are():
    options = dict(subject='Deploy failed', description='It broke.', requester_id=UUID, priority='high',
                   subscription_id='123456', organization_id='01HZXJ5N5V2K8Q7M3T9W4Y6R1P',
                   affected_url='https://shop.example.com/', followup_tid='1200', category='incident_outage',
                   collaborator_ids=[UUID, UUID2])

    payload, summary = build_create_payload(params(**options))

    assert payload == options
    assert summary == options


def test_none_values_and_other_options_are_dropped():
    payload, summary = build_create_payload(params(priority=None, category=None))

    assert payload == {'subject': 'Deploy failed', 'description': 'It broke.'}
    assert summary == payload


def test_empty_attachment_list_adds_nothing():
    payload, dummy = build_create_payload(params(attachments=[]))

    assert 'attachments' not in payload


def attachment(path=None, content=None, data=None, filename=None):
    return dict(path=path, content=content, data=data, filename=filename)


def test_attachment_from_path_defaults_to_base_name(tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_bytes(b'line 1\nline 2\n')

    payload, summary = build_create_payload(params(attachments=[attachment(path=str(log))]))

    assert payload['attachments'] == [{'filename': 'deploy.log', 'data': base64.b64encode(b'line 1\nline 2\n').decode('ascii')}]
    assert summary['attachments'] == [{'filename': 'deploy.log', 'size': 14}]


def test_attachment_from_path_with_filename(tmp_path):
    log = tmp_path / 'deploy.log'
    log.write_bytes(b'x')

    payload, dummy = build_create_payload(params(attachments=[attachment(path=str(log), filename='release-42.log')]))

    assert payload['attachments'][0]['filename'] == 'release-42.log'


def test_attachment_from_content_is_utf8():
    payload, summary = build_create_payload(params(attachments=[attachment(content=u'caf\u00e9', filename='note.txt')]))

    assert base64.b64decode(payload['attachments'][0]['data']) == u'caf\u00e9'.encode('utf-8')
    assert summary['attachments'] == [{'filename': 'note.txt', 'size': 5}]


def test_attachment_from_data_round_trips():
    raw = bytes(range(256))
    data = base64.b64encode(raw).decode('ascii')

    payload, summary = build_create_payload(params(attachments=[attachment(data=data, filename='dump.bin')]))

    assert payload['attachments'] == [{'filename': 'dump.bin', 'data': data}]
    assert base64.b64decode(payload['attachments'][0]['data']) == raw
    assert summary['attachments'] == [{'filename': 'dump.bin', 'size': 256}]


def test_binary_file_round_trips(tmp_path):
    raw = os.urandom(4096)
    path = tmp_path / 'core.bin'
    path.write_bytes(raw)

    payload, dummy = build_create_payload(params(attachments=[attachment(path=str(path))]))

    assert base64.b64decode(payload['attachments'][0]['data'], validate=True) == raw


def test_summary_replaces_data_by_size_and_payload_is_untouched(tmp_path):
    (tmp_path / 'a.log').write_bytes(b'12345')
    items = [attachment(path=str(tmp_path / 'a.log')), attachment(content='abc', filename='b.txt')]

    payload, summary = build_create_payload(params(attachments=items))

    assert summary['attachments'] == [{'filename': 'a.log', 'size': 5}, {'filename': 'b.txt', 'size': 3}]
    assert [item['filename'] for item in payload['attachments']] == ['a.log', 'b.txt']
    assert all(set(item) == {'filename', 'data'} for item in payload['attachments'])


def test_size_cap_counts_all_attachments_and_names_file_and_size():
    items = [attachment(content='a' * 60, filename='first.txt'), attachment(content='b' * 50, filename='second.txt')]

    with pytest.raises(InputError) as info:
        read_attachments(items, 100)

    msg = info.value.msg
    assert 'attachments[1]' in msg
    assert "'second.txt'" in msg
    assert '50 bytes' in msg
    assert '110 bytes' in msg
    assert 'max_attachment_size' in msg and '100 bytes' in msg


def test_size_cap_exactly_reached_is_allowed():
    result = read_attachments([attachment(content='a' * 100, filename='a.txt')], 100)

    assert result[0][2] == 100


def test_oversize_file_is_refused_before_being_read(tmp_path, monkeypatch):
    big = tmp_path / 'big.log'
    big.write_bytes(b'z' * 2048)

    def no_read(*args, **kwargs):
        raise AssertionError('the file was read')

    monkeypatch.setattr(os, 'open', no_read)

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=str(big))], 1024)

    assert "'big.log' is 2048 bytes" in info.value.msg


def test_missing_file_names_path(tmp_path):
    missing = str(tmp_path / 'nope.log')

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=missing)], MAX)

    assert 'attachments[0].path' in info.value.msg
    assert missing in info.value.msg
    assert 'No such file' in info.value.msg


def test_directory_is_not_a_regular_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_attachments([attachment(content='ok', filename='a.txt'), attachment(path=str(tmp_path))], MAX)

    assert 'attachments[1].path' in info.value.msg
    assert str(tmp_path) in info.value.msg
    assert 'not a regular file' in info.value.msg


def test_fifo_is_not_a_regular_file(tmp_path):
    fifo = str(tmp_path / 'pipe')
    os.mkfifo(fifo)

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=fifo)], MAX)

    assert fifo in info.value.msg
    assert 'not a regular file' in info.value.msg


def test_unreadable_file_names_path(tmp_path, monkeypatch):
    log = tmp_path / 'secret.log'
    log.write_bytes(b'x')

    def refuse(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')

    # chmod 000 does not stop root, so the refusal is simulated where the file is opened.
    monkeypatch.setattr(os, 'open', refuse)

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=str(log))], MAX)

    assert str(log) in info.value.msg
    assert 'Permission denied' in info.value.msg


@pytest.mark.parametrize('data', ['not base64!', 'YWJjZA'])
def test_invalid_base64_names_item_and_filename(data):
    with pytest.raises(InputError) as info:
        read_attachments([attachment(data=data, filename='dump.bin')], MAX)

    assert 'attachments[0].data' in info.value.msg
    assert "'dump.bin'" in info.value.msg
    assert 'base64' in info.value.msg


@pytest.mark.parametrize('filename', ['logs/deploy.log', 'logs\\deploy.log', '/etc/passwd'])
def test_filename_with_directory_is_refused(filename):
    with pytest.raises(InputError) as info:
        read_attachments([attachment(content='x', filename=filename)], MAX)

    assert 'attachments[0].filename' in info.value.msg


def test_blank_filename_is_refused():
    with pytest.raises(InputError) as info:
        read_attachments([attachment(content='x', filename='  ')], MAX)

    assert 'attachments[0].filename' in info.value.msg


@pytest.mark.parametrize('name', ['subject', 'description', 'subscription_id', 'organization_id', 'followup_tid'])
def test_blank_text_field_is_refused(name):
    with pytest.raises(InputError) as info:
        build_create_payload(params(**{name: ' \n\t'}))

    assert info.value.msg.startswith(name + ' ')
    assert 'blank' in info.value.msg


def test_requester_id_must_be_uuid():
    with pytest.raises(InputError) as info:
        build_create_payload(params(requester_id='jane@example.com'))

    assert 'requester_id' in info.value.msg and 'jane@example.com' in info.value.msg


@pytest.mark.parametrize('spelling', [
    UUID.upper(), '{' + UUID + '}', '{' + UUID.upper() + '}', 'urn:uuid:' + UUID, 'URN:UUID:' + UUID.upper(),
    UUID.replace('-', ''), UUID.replace('-', '').upper(), '{' + UUID.replace('-', '') + '}',
])
def test_the_common_spellings_of_a_uuid_are_sent_in_the_form_the_api_takes(spelling):
    payload, summary = build_create_payload(params(requester_id=spelling, collaborator_ids=[spelling, UUID2.upper()]))

    assert payload['requester_id'] == UUID and summary['requester_id'] == UUID
    assert payload['collaborator_ids'] == [UUID, UUID2] and summary['collaborator_ids'] == [UUID, UUID2]


@pytest.mark.parametrize('value', [
    UUID + ' ', ' ' + UUID, '{' + UUID, UUID + '}', 'urn:uuid:{' + UUID + '}', 'uuid:' + UUID, UUID.replace('-', '_'),
    UUID[:8] + UUID[9:], UUID[:-1], UUID + '0', UUID.replace('c', 'g'), '', 'urn:uuid:',
])
def test_other_spellings_of_a_uuid_are_refused_naming_the_option(value):
    with pytest.raises(InputError) as info:
        build_create_payload(params(requester_id=value))
    assert info.value.msg.startswith('requester_id must be a UUID')
    assert repr(value) in info.value.msg

    with pytest.raises(InputError) as info:
        build_create_payload(params(collaborator_ids=[UUID, value]))
    assert info.value.msg.startswith('collaborator_ids[1] must be a UUID')


def test_check_uuid_gives_the_canonical_form():
    assert check_uuid('requester_id', '{' + UUID.upper() + '}') == UUID


def test_collaborator_uuid_error_names_index():
    with pytest.raises(InputError) as info:
        build_create_payload(params(collaborator_ids=[UUID, 'bob']))

    assert 'collaborator_ids[1]' in info.value.msg and "'bob'" in info.value.msg


@pytest.mark.parametrize('url', ['/shop', 'ftp://shop.example.com/', 'https://', 'shop.example.com'])
def test_affected_url_must_be_absolute_http(url):
    with pytest.raises(InputError) as info:
        build_create_payload(params(affected_url=url))

    assert 'affected_url' in info.value.msg
    assert repr(url) in info.value.msg


# --- attachments that must never be read or named ---------------------------------------------------------------------


@pytest.mark.parametrize('path, root', [
    ('/proc/self/environ', '/proc'),
    ('/proc/self/status', '/proc'),
    ('/proc/1/cmdline', '/proc'),
    ('/sys/kernel/notes', '/sys'),
    ('/dev/null', '/dev'),
    ('/dev/shm/../shm/anything', '/dev'),
])
def test_files_of_proc_sys_and_dev_are_refused_naming_the_path(path, root, monkeypatch):
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, 'open', lambda *args, **kwargs: opened.append(args) or real_open(*args, **kwargs))

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=path)], MAX)

    assert 'attachments[0].path' in info.value.msg
    assert repr(path) in info.value.msg
    assert 'under {0}: files under /proc, /sys and /dev are never attached'.format(root) in info.value.msg
    assert opened == []


def test_symlink_into_proc_is_resolved_and_refused(tmp_path):
    link = tmp_path / 'innocent.log'
    link.symlink_to('/proc/self/environ')

    with pytest.raises(InputError) as info:
        build_create_payload(params(attachments=[attachment(path=str(link))]))

    assert repr(str(link)) in info.value.msg
    # /proc/self is itself a link: the message shows where the path really led.
    assert re.search(r"resolves to '/proc/\d+/environ', under /proc:", info.value.msg), info.value.msg


def test_symlink_to_a_directory_of_proc_is_refused(tmp_path):
    (tmp_path / 'self').symlink_to('/proc/self')

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=str(tmp_path / 'self' / 'environ'))], MAX)

    assert 'under /proc:' in info.value.msg


def test_size_is_judged_by_what_was_read_not_by_stat(tmp_path, monkeypatch):
    # A file whose stat size says 0 (as /proc files do, or one still being written) but that has content.
    big = tmp_path / 'growing.log'
    big.write_bytes(b'z' * 100000)
    real_stat, real_fstat = os.stat, os.fstat

    def zero_size(result):
        return os.stat_result((result.st_mode, result.st_ino, result.st_dev, result.st_nlink, result.st_uid,
                               result.st_gid, 0, result.st_atime, result.st_mtime, result.st_ctime))

    monkeypatch.setattr(os, 'stat', lambda *args, **kwargs: zero_size(real_stat(*args, **kwargs)))
    monkeypatch.setattr(os, 'fstat', lambda *args, **kwargs: zero_size(real_fstat(*args, **kwargs)))
    reads = []
    real_fdopen = os.fdopen

    class Recorder:
        def __init__(self, handle):
            self.handle = handle

        def read(self, size=-1):
            reads.append(size)
            return self.handle.read(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

    monkeypatch.setattr(os, 'fdopen', lambda *args, **kwargs: Recorder(real_fdopen(*args, **kwargs)))

    with pytest.raises(InputError) as info:
        read_attachments([attachment(content='a' * 24, filename='a.txt'), attachment(path=str(big))], 1024)

    msg = info.value.msg
    assert 'attachments[1]' in msg and "'growing.log'" in msg
    assert 'more than 1000 bytes' in msg and 'max_attachment_size (1024 bytes)' in msg
    # Never more than what is left under the cap, plus one byte to know it is over.
    assert reads and all(0 <= size <= 1001 for size in reads), reads


def test_file_under_the_cap_is_read_whole_even_if_stat_says_zero(tmp_path, monkeypatch):
    log = tmp_path / 'small.log'
    log.write_bytes(b'0123456789')
    real_fstat = os.fstat

    def zero_size(*args, **kwargs):
        result = real_fstat(*args, **kwargs)
        return os.stat_result((result.st_mode, result.st_ino, result.st_dev, result.st_nlink, result.st_uid,
                               result.st_gid, 0, result.st_atime, result.st_mtime, result.st_ctime))

    monkeypatch.setattr(os, 'fstat', zero_size)

    result = read_attachments([attachment(path=str(log))], 10)

    assert result == [('small.log', base64.b64encode(b'0123456789').decode('ascii'), 10)]


def test_fifo_is_refused_without_blocking(tmp_path):
    import threading

    fifo = str(tmp_path / 'pipe')
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(pytest.raises(InputError, read_attachments, [attachment(path=fifo)], MAX)))
    worker.daemon = True
    worker.start()
    worker.join(5)

    assert not worker.is_alive(), 'reading a FIFO blocked'
    assert 'not a regular file' in outcome[0].value.msg


@pytest.mark.parametrize('filename', ['..', '.', '../deploy.log', 'deploy..log', 'a\x00b.log', 'line\nbreak.log',
                                      'tab\there.log', '\x1b[31mred.log', 'del\x7f.log', 'c1\x85.log'])
def test_given_filename_with_dots_or_control_characters_is_refused(filename):
    with pytest.raises(InputError) as info:
        read_attachments([attachment(content='x', filename=filename)], MAX)

    assert 'attachments[0].filename' in info.value.msg
    assert repr(filename) in info.value.msg


def test_file_name_from_the_path_is_checked_too(tmp_path):
    odd = tmp_path / 'deploy\x1b[2J.log'
    odd.write_bytes(b'x')

    with pytest.raises(InputError) as info:
        read_attachments([attachment(path=str(odd))], MAX)

    assert 'control characters' in info.value.msg
    # With a clean filename given, the same file may be attached.
    assert read_attachments([attachment(path=str(odd), filename='deploy.log')], MAX)[0][0] == 'deploy.log'


def test_ordinary_filenames_are_kept():
    names = ['deploy.log', 'release-42_web1.tar.gz', u'journal-caf\u00e9.txt', '.env.sample']
    result = read_attachments([attachment(content='x', filename=name) for name in names], MAX)

    assert [item[0] for item in result] == names
