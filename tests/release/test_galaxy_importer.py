# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""tests/release/galaxy_importer.sh fails on what Galaxy would refuse or warn about.

`make release` runs the script on the real tarball (it must pass there); these tests run it on tarballs of the work
tree with one thing broken each, and check that the script fails and says why. Each broken copy is built from the
files git knows (tracked, or untracked and not ignored), as scripts/build.sh does.
"""

import os
import shutil
import subprocess
import sys

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(REPO, 'tests', 'release', 'galaxy_importer.sh')
VENV = os.environ.get('VENV') or os.path.dirname(os.path.dirname(sys.executable))


def work_tree_files():
    output = subprocess.check_output(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                                     cwd=REPO)
    return [name for name in output.decode('utf-8').split('\0') if name and os.path.isfile(os.path.join(REPO, name))]


def broken_tarball(tmp_path, change):
    """Build the collection from a copy of the work tree that ``change(copy_dir)`` altered."""
    copy = tmp_path / 'ansible_collections' / 'upsun' / 'support'
    for name in work_tree_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(REPO, name), str(target))
    change(copy)
    with open(str(copy / 'galaxy.yml')) as handle:
        version = yaml.safe_load(handle)['version']
    dist = tmp_path / 'dist'
    subprocess.run([os.path.join(VENV, 'bin', 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path',
                    str(dist), str(copy)], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return dist / 'upsun-support-{0}.tar.gz'.format(version)


def run_script(tarball):
    env = dict(os.environ, VENV=VENV)
    return subprocess.run(['bash', SCRIPT, str(tarball)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)


def edit_galaxy_yml(**changes):
    def change(copy):
        path = str(copy / 'galaxy.yml')
        with open(path) as handle:
            data = yaml.safe_load(handle)
        data.update(changes)
        with open(path, 'w') as handle:
            yaml.safe_dump(data, handle)
    return change


def add_bad_playbook(copy):
    """A playbook with ansible-lint findings (unnamed play and task, shell without a need for it)."""
    (copy / 'playbooks' / 'unnamed_shell.yml').write_text('---\n- hosts: localhost\n  tasks:\n    - shell: echo hello\n')


def test_a_version_below_1_0_0_fails(tmp_path):
    result = run_script(broken_tarball(tmp_path, edit_galaxy_yml(version='0.9.0')))
    assert result.returncode != 0, result.stdout
    assert 'requires version to be 1.0.0 or greater' in result.stdout
    assert 'FAILED' in result.stdout


def test_tags_without_a_required_galaxy_tag_fail(tmp_path):
    result = run_script(broken_tarball(tmp_path, edit_galaxy_yml(tags=['upsun', 'tickets'])))
    assert result.returncode != 0, result.stdout
    assert 'At least one tag required from tag list' in result.stdout


def test_an_ansible_lint_finding_fails_as_a_warning(tmp_path):
    """galaxy-importer logs ansible-lint findings as warnings and still completes: the script must fail on them."""
    result = run_script(broken_tarball(tmp_path, add_bad_playbook))
    assert result.returncode != 0, result.stdout
    assert 'Importer processing completed successfully' in result.stdout, 'the import itself should not fail'
    warnings = [line for line in result.stdout.splitlines() if line.strip().startswith('WARNING:')]
    assert any('playbooks/unnamed_shell.yml' in line for line in warnings), result.stdout
    assert 'warning/error line(s)' in result.stdout


def test_a_collection_without_a_changelog_fails(tmp_path):
    def drop_changelog(copy):
        for name in ('CHANGELOG.rst', 'changelogs/changelog.yaml'):
            if (copy / name).exists():
                (copy / name).unlink()

    result = run_script(broken_tarball(tmp_path, drop_changelog))
    assert result.returncode != 0, result.stdout
    assert 'No changelog found' in result.stdout


def test_caller_cannot_relax_the_version_rule(tmp_path, monkeypatch):
    """galaxy-importer takes GALAXY_IMPORTER_<SETTING> from the environment: the script must not let one through."""
    monkeypatch.setenv('GALAXY_IMPORTER_REQUIRE_V1_OR_GREATER', 'false')
    result = run_script(broken_tarball(tmp_path, edit_galaxy_yml(version='0.9.0')))
    assert result.returncode != 0, result.stdout
    assert 'requires version to be 1.0.0 or greater' in result.stdout


def test_caller_cannot_switch_ansible_lint_off(tmp_path, monkeypatch):
    monkeypatch.setenv('GALAXY_IMPORTER_RUN_ANSIBLE_LINT', 'false')
    result = run_script(broken_tarball(tmp_path, add_bad_playbook))
    assert result.returncode != 0, result.stdout
    assert 'playbooks/unnamed_shell.yml' in result.stdout
