# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What identifies a failure: the project, from the user's name or from where the run comes from."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.upsun.support.plugins.plugin_utils.identity import (
    failure_keys,
    location,
    normalize_remote,
    project_identity,
)


def checkout(root, remote=None, worktree=False):
    """A git checkout at ``root`` (only the files the identity reads), with ``site.yml`` and ``inventory/hosts``."""
    (root / 'inventory').mkdir(parents=True)
    (root / 'site.yml').write_text('- hosts: all\n')
    (root / 'inventory' / 'hosts').write_text('web1\n')
    config = '[core]\n\tbare = false\n'
    if remote:
        config += '[remote "upstream"]\n\turl = https://example.com/someone/else.git\n'
        config += '[remote "origin"]\n\turl = {0}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'.format(remote)
    if worktree:
        common = root.parent / (root.name + '-main.git')
        (common / 'worktrees' / 'wt').mkdir(parents=True)
        (common / 'config').write_text(config)
        (common / 'worktrees' / 'wt' / 'commondir').write_text('../..\n')
        (root / '.git').write_text('gitdir: {0}\n'.format(common / 'worktrees' / 'wt'))
    else:
        (root / '.git').mkdir()
        (root / '.git' / 'config').write_text(config)
    return root


def identity(root, project=None):
    return project_identity(project, [str(root / 'site.yml')], [str(root / 'inventory' / 'hosts')])


@pytest.mark.parametrize('url', [
    'https://github.com/acme/shop.git',
    'https://gitlab-ci-token:glcbt-SECRET-64c1f0@GitHub.com/acme/shop',
    'git@github.com:acme/shop.git',
    'ssh://git@github.com:22/acme/shop.git/',
])
def test_clones_of_one_repository_by_any_url_agree_and_credentials_are_dropped(url):
    assert normalize_remote(url) == 'github.com/acme/shop'


def test_a_local_remote_is_kept_as_it_is():
    assert normalize_remote('/srv/git/shop.git/') == '/srv/git/shop.git'


@pytest.mark.parametrize('url', ['https://user:pa/ss-SECRET@example.com/acme/shop', 'weird:user:SECRET@example.com'])
def test_an_odd_remote_never_keeps_what_stands_before_an_at_sign(url):
    assert 'SECRET' not in normalize_remote(url)


def test_two_checkouts_of_one_repository_share_the_identity(tmp_path):
    # Two CI runners: different workspaces, one with HTTPS and a token, one with SSH.
    first = checkout(tmp_path / 'runner-a' / 'builds' / 'shop', 'https://ci:token-SECRET@github.com/acme/shop.git')
    second = checkout(tmp_path / 'runner-b' / 'work', 'git@github.com:acme/shop.git', worktree=True)
    assert identity(first) == identity(second)
    assert identity(first) == 'where=github.com/acme/shop:site.yml;inventory=github.com/acme/shop:inventory/hosts'
    assert 'SECRET' not in identity(first)


def test_two_repositories_with_the_same_playbook_and_inventory_names_do_not(tmp_path):
    shop = checkout(tmp_path / 'shop', 'git@github.com:acme/shop.git')
    blog = checkout(tmp_path / 'blog', 'git@github.com:acme/blog.git')
    assert identity(shop) != identity(blog)


def test_without_a_remote_the_checkout_directory_names_the_repository(tmp_path):
    root = checkout(tmp_path / 'shop')
    assert location(str(root / 'playbooks')) == 'shop:playbooks'
    assert location(str(root)) == 'shop:'


def test_outside_git_the_real_paths_identify_the_project(tmp_path):
    first, second = tmp_path / 'a', tmp_path / 'b'
    for root in (first, second):
        (root / 'inventory').mkdir(parents=True)
        (root / 'site.yml').write_text('- hosts: all\n')
    link = tmp_path / 'link'
    os.symlink(str(first), str(link))
    assert identity(first) != identity(second)
    # A symlink to the same directory is the same project.
    assert identity(link) == identity(first)
    assert str(first / 'site.yml') in identity(first)


def test_the_project_name_replaces_the_locations(tmp_path):
    assert identity(tmp_path / 'a', project=' shop ') == identity(tmp_path / 'b', project='shop') == 'project=shop'
    assert identity(tmp_path / 'a', project='  ') != 'project='


def test_a_host_list_counts_as_written():
    assert project_identity(None, [], ['web1,web2,']) == 'where=unknown;inventory=web1,web2,'


def test_an_unreadable_git_config_falls_back_to_the_directory_name(tmp_path):
    root = tmp_path / 'shop'
    root.mkdir()
    (root / '.git').write_text('not a pointer\n')
    assert location(str(root)) == 'shop:'


def test_the_keys_do_not_depend_on_the_order_of_the_failed_tasks():
    dedupe, recovery = failure_keys('callback', 'project=shop', ['site.yml'], ['Migrate', 'Deploy', 'Migrate'])
    assert dedupe == 'ticket_on_failure|project=shop|site.yml|Deploy|Migrate'
    assert recovery == 'ticket_on_failure|project=shop|site.yml'
    assert failure_keys('role', 'project=shop', ['Deploy shop', 'prod'], ['B', 'A']) == (
        'deploy_failure_ticket|project=shop|Deploy shop|prod|A|B', 'deploy_failure_ticket|project=shop|Deploy shop|prod')
