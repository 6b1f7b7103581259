# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one check of the private directories (private_dir.py): what it refuses and why, and what it creates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.upsun.support.plugins.module_utils import private_dir
from ansible_collections.upsun.support.plugins.module_utils.private_dir import ensure_private_directory, private_directory_problem


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_a_directory_of_this_user_that_only_it_can_write_is_private(tmp_path):
    directory = tmp_path / 'spool'
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)  # others may read, not write
    assert private_directory_problem(str(directory)) is None


def test_a_missing_directory_cannot_be_used(tmp_path):
    problem = private_directory_problem(str(tmp_path / 'missing'))
    assert problem.startswith('it cannot be used (') and 'No such file or directory' in problem


def test_a_symlink_is_refused_even_to_a_private_directory(tmp_path):
    (tmp_path / 'real').mkdir(mode=0o700)
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    assert private_directory_problem(str(tmp_path / 'link')) == 'it is a symlink, which could point anywhere'


def test_a_file_is_not_a_directory(tmp_path):
    (tmp_path / 'file').write_text('x')
    assert private_directory_problem(str(tmp_path / 'file')) == 'it is not a directory'


@pytest.mark.parametrize('mode', [0o770, 0o707, 0o777, 0o720])
def test_a_directory_others_can_write_is_refused_with_its_mode(tmp_path, mode):
    directory = tmp_path / 'shared'
    directory.mkdir()
    directory.chmod(mode)
    assert private_directory_problem(str(directory)) == 'it can be written by other users (mode {0:04o})'.format(mode)


def test_a_directory_of_another_user_is_refused_naming_both_uids(tmp_path, monkeypatch):
    directory = tmp_path / 'theirs'
    directory.mkdir(mode=0o700)
    mine = os.geteuid()
    monkeypatch.setattr(private_dir.os, 'geteuid', lambda: mine + 1)
    assert private_directory_problem(str(directory)) == (
        'it belongs to another user (uid {0}, this user is uid {1})'.format(mine, mine + 1))


def test_a_missing_directory_is_created_0700_with_its_parents(tmp_path):
    directory = tmp_path / 'home' / '.ansible' / 'spool'
    assert ensure_private_directory(str(directory)) is None
    assert directory.is_dir() and mode_of(directory) == 0o700


def test_a_created_directory_is_0700_whatever_the_umask(tmp_path):
    directory = tmp_path / 'spool'
    old = os.umask(0o177)  # mkdir alone would make it 0600: not even its owner could enter it
    try:
        assert ensure_private_directory(str(directory)) is None
    finally:
        os.umask(old)
    assert mode_of(directory) == 0o700


def test_a_missing_directory_is_not_created_when_told_not_to(tmp_path):
    problem = ensure_private_directory(str(tmp_path / 'spool'), create=False)
    assert problem.startswith('it cannot be used (')
    assert not (tmp_path / 'spool').exists()


def test_an_existing_directory_is_never_chmod_ed(tmp_path):
    directory = tmp_path / 'shared'
    directory.mkdir()
    directory.chmod(0o777)
    assert ensure_private_directory(str(directory)) == 'it can be written by other users (mode 0777)'
    assert mode_of(directory) == 0o777


def test_a_directory_that_cannot_be_created_says_so(tmp_path):
    (tmp_path / 'file').write_text('x')
    problem = ensure_private_directory(str(tmp_path / 'file' / 'home' / 'spool'))
    assert problem == 'it cannot be created (Not a directory)'


def test_a_dangling_symlink_is_refused_not_followed(tmp_path):
    (tmp_path / 'link').symlink_to(tmp_path / 'nowhere')
    assert ensure_private_directory(str(tmp_path / 'link')) == 'it is a symlink, which could point anywhere'
    assert not (tmp_path / 'nowhere').exists()
