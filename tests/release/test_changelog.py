# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CHANGELOG.rst is antsibull-changelog's rendering of changelogs/changelog.yaml, and covers galaxy.yml's version.

- changelogs/changelog.yaml has a release for the version in galaxy.yml, with a release summary;
- CHANGELOG.rst is exactly what ``antsibull-changelog generate`` renders from it (never edited by hand, never
  stale), and has that version's section.

The release itself is one command, in tests/release/README.md. The tarball shipping CHANGELOG.rst is checked by
check_release.sh.
"""

import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)


def galaxy_version():
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        return str(yaml.safe_load(handle)['version'])


@pytest.fixture(scope='module')
def changelog():
    with open(os.path.join(REPO, 'changelogs', 'changelog.yaml')) as handle:
        return yaml.safe_load(handle) or {}


def work_tree_files():
    output = subprocess.check_output(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                                     cwd=REPO)
    return [name for name in output.decode('utf-8').split('\0') if name and os.path.isfile(os.path.join(REPO, name))]


def test_changelog_yaml_has_this_version_with_a_release_summary(changelog):
    releases = changelog.get('releases') or {}
    assert galaxy_version() in releases, (
        'changelogs/changelog.yaml has no release {0} (releases: {1}): run the release command of '
        'tests/release/README.md'.format(galaxy_version(), sorted(releases)))
    release = releases[galaxy_version()]
    assert str((release.get('changes') or {}).get('release_summary') or '').strip(), 'no release summary'
    assert release.get('release_date')


def test_changelog_rst_is_the_rendering_of_changelog_yaml(tmp_path):
    path = os.path.join(REPO, 'CHANGELOG.rst')
    assert os.path.isfile(path), 'no CHANGELOG.rst: run the release command of tests/release/README.md'
    copy = tmp_path / 'ansible_collections' / 'upsun' / 'support'
    for name in work_tree_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(REPO, name), str(target))
    (copy / 'CHANGELOG.rst').unlink()
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('ANSIBLE_'))
    env.update(PATH=BIN + os.pathsep + env.get('PATH', ''), ANSIBLE_COLLECTIONS_PATH=str(tmp_path),
               ANSIBLE_HOME=str(tmp_path / 'ansible-home'))
    result = subprocess.run([os.path.join(BIN, 'antsibull-changelog'), 'generate'], cwd=str(copy), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout
    with open(path) as handle:
        committed = handle.read()
    assert (copy / 'CHANGELOG.rst').read_text() == committed, (
        'CHANGELOG.rst is not what antsibull-changelog generate renders from changelogs/changelog.yaml: '
        'do not edit it by hand; run antsibull-changelog generate')
    heading = 'v{0}'.format(galaxy_version())
    assert '\n{0}\n{1}\n'.format(heading, '=' * len(heading)) in committed, 'CHANGELOG.rst has no {0} section'.format(
        heading)
