# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""README.md has the sections Red Hat's certification asks for, and only links that work where it is shown.

Galaxy and Automation Hub show the README of the tarball, away from the repository, so:

- every link is an absolute ``https://`` (or ``mailto:``) URL: a relative one (``docs/x.rst``, ``#testing``) breaks
  there;
- a link to a file of this repository (``https://github.com/upsun/ansible-collection-support/blob/<ref>/<path>``,
  ``/tree/``, ``/raw/`` or raw.githubusercontent.com) names a file the tarball ships: the others (tests, scripts,
  ...) are development files a user of the release does not have;
- the sections are, in this order: Description, Requirements, Installation, Use Cases, Testing, Contributing,
  Support, Release Notes, License Information (others may come between), none empty;
- what they say is checked against the facts: install by name and with a versioned requirements.yml, how to upgrade,
  the requires_ansible floor and why, the ansible-core and Python versions the tests use, the changelog, the licence,
  the issue tracker and the repository of galaxy.yml, and every module, plugin, role and playbook.
"""

import glob
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml
from packaging.specifiers import SpecifierSet

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
README = os.path.join(REPO, 'README.md')
BIN = os.path.dirname(sys.executable)
REQUIRED_SECTIONS = ('Description', 'Requirements', 'Installation', 'Use Cases', 'Testing', 'Contributing',
                     'Support', 'Release Notes', 'License Information')
ALLOWED_SCHEMES = ('https', 'mailto')

FENCE = re.compile(r'^(```|~~~)')
CODE_SPAN = re.compile(r'(`+)(?:(?!\1).)+?\1')
INLINE_LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+["\'(][^)]*)?\)')
REFERENCE_DEFINITION = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$')
AUTOLINK = re.compile(r'<([A-Za-z][A-Za-z0-9+.-]*:[^\s<>]+)>')
HTML_ATTRIBUTE = re.compile(r'''\b(?:href|src)\s*=\s*["']([^"']*)["']''', re.I)


def galaxy():
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        return yaml.safe_load(handle)


def prose_lines(markdown):
    """The lines outside fenced code blocks, with inline code spans blanked out."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(CODE_SPAN.sub('', line))
    return lines


def sections(markdown):
    """[(title, body)] of the level-2 headings, in order; code blocks stay in the bodies."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        if not fenced and line.startswith('## '):
            found.append([line[3:].strip(), []])
        elif found:
            found[-1][1].append(line)
    return [(title, '\n'.join(body).strip()) for title, body in found]


def section(markdown, title):
    matches = [body for name, body in sections(markdown) if name == title]
    assert len(matches) == 1, 'README.md must have one "## {0}" section'.format(title)
    return matches[0]


def links(markdown):
    """Every link target of the Markdown (inline, images, reference definitions, autolinks, HTML), not in code."""
    urls = []
    for line in prose_lines(markdown):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            urls.append(definition.group(1))
            continue
        urls.extend(INLINE_LINK.findall(line))
        urls.extend(AUTOLINK.findall(line))
        urls.extend(HTML_ATTRIBUTE.findall(line))
    return urls


def repository_path(url, repository):
    """(kind, path) when ``url`` names a file or directory of the repository, else None."""
    owner_name = repository.rstrip('/').split('github.com/', 1)[-1]
    url = url.split('#', 1)[0].split('?', 1)[0]
    match = re.match(r'^{0}/(blob|tree|raw)/[^/]+/(.+)$'.format(re.escape(repository.rstrip('/'))), url)
    if match:
        return ('directory' if match.group(1) == 'tree' else 'file'), match.group(2).rstrip('/')
    match = re.match(r'^https://raw\.githubusercontent\.com/{0}/[^/]+/(.+)$'.format(re.escape(owner_name)), url)
    if match:
        return 'file', match.group(1)
    return None


def link_problems(markdown, shipped, repository):
    """What is wrong with the links of ``markdown``, given the file names the tarball ships."""
    problems = []
    for url in links(markdown):
        scheme = url.split(':', 1)[0].lower() if re.match(r'^[A-Za-z][A-Za-z0-9+.-]*:', url) else None
        if scheme is None:
            problems.append('{0!r}: not an absolute URL (it breaks on Galaxy and Automation Hub)'.format(url))
            continue
        if scheme not in ALLOWED_SCHEMES:
            problems.append('{0!r}: use {1}'.format(url, ' or '.join(ALLOWED_SCHEMES)))
            continue
        target = repository_path(url, repository)
        if target:
            kind, path = target
            present = path in shipped if kind == 'file' else any(name.startswith(path + '/') for name in shipped)
            if not present:
                problems.append('{0!r}: {1} is not in the collection tarball'.format(url, path))
    return problems


@pytest.fixture(scope='module')
def readme():
    with open(README) as handle:
        return handle.read()


@pytest.fixture(scope='module')
def shipped(tmp_path_factory):
    """The file names in the tarball of the work tree."""
    dist = tmp_path_factory.mktemp('dist')
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path', str(dist),
                    REPO], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    [tarball] = dist.glob('upsun-support-*.tar.gz')
    with tarfile.open(str(tarball)) as tar:
        return frozenset(member.name for member in tar.getmembers() if member.isfile())


def test_link_checker_finds_what_breaks_on_galaxy():
    """The checker itself: each kind of bad link is reported, good ones and code are not."""
    repository = 'https://github.com/upsun/ansible-collection-support'
    sample = '\n'.join([
        '[relative](docs/docsite/rst/getting_started.rst) and [anchor](#testing)',
        '[plain http](http://example.com/) ![image](images/logo.png)',
        '[not shipped]({0}/blob/main/tests/sandbox/README.md)'.format(repository),
        '[shipped]({0}/blob/main/docs/docsite/rst/getting_started.rst#install)'.format(repository),
        '[a shipped dir]({0}/tree/main/roles/deploy_failure_ticket)'.format(repository),
        '[an unshipped dir]({0}/tree/main/tests/e2e)'.format(repository),
        '<https://www.gnu.org/licenses/gpl-3.0.txt> [issues]({0}/issues)'.format(repository),
        '[ref]: ../COPYING',
        '<a href="scripts/build.sh">html</a>',
        'Code is not a link: `[x](relative.md)`',
        '```markdown',
        '[inside a fence](relative.md)',
        '```',
    ])
    shipped = {'docs/docsite/rst/getting_started.rst', 'roles/deploy_failure_ticket/tasks/main.yml'}
    problems = link_problems(sample, shipped, repository)
    reported = sorted(re.match(r"^'([^']*)'", problem).group(1) for problem in problems)
    assert reported == sorted([
        'docs/docsite/rst/getting_started.rst', '#testing', 'http://example.com/', 'images/logo.png',
        '{0}/blob/main/tests/sandbox/README.md'.format(repository), '{0}/tree/main/tests/e2e'.format(repository),
        '../COPYING', 'scripts/build.sh',
    ]), problems


def test_every_link_is_absolute_and_to_a_shipped_file(readme, shipped):
    problems = link_problems(readme, shipped, galaxy()['repository'])
    assert not problems, 'README.md links that break on Galaxy:\n' + '\n'.join(problems)


def test_required_sections_in_order_and_not_empty(readme):
    titles = [title for title, unused_body in sections(readme)]
    missing = [title for title in REQUIRED_SECTIONS if title not in titles]
    assert not missing, 'README.md lacks the sections {0}; it has {1}'.format(missing, titles)
    order = [title for title in titles if title in REQUIRED_SECTIONS]
    assert order == list(REQUIRED_SECTIONS), 'sections out of order: {0}'.format(order)
    empty = [title for title, body in sections(readme) if title in REQUIRED_SECTIONS and not body]
    assert not empty, 'empty sections: {0}'.format(empty)


def test_description_names_every_module_plugin_role_and_playbook(readme):
    body = section(readme, 'Description')
    names = [os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py'))]
    names += [os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(REPO, 'plugins', 'callback', '*.py'))]
    # Filters are documented one per YAML file, named after the filter.
    names += [os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(REPO, 'plugins', 'filter', '*.yml'))]
    names += [name for name in os.listdir(os.path.join(REPO, 'roles')) if os.path.isdir(os.path.join(REPO, 'roles', name))]
    names += [os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(REPO, 'playbooks', '*.yml'))]
    missing = sorted(name for name in names if not re.search(r'\b{0}\b'.format(re.escape(name)), body))
    assert not missing, 'the Description section does not mention {0}'.format(missing)


def test_installation_by_name_with_a_versioned_requirements_file_and_upgrade(readme):
    body = section(readme, 'Installation')
    assert 'ansible-galaxy collection install upsun.support\n' in body
    assert 'ansible-galaxy collection install -r requirements.yml' in body
    assert re.search(r'ansible-galaxy collection install upsun\.support --upgrade', body)
    blocks = re.findall(r'```ya?ml\n(.*?)```', body, re.S)
    requirements = [yaml.safe_load(block) for block in blocks]
    entries = [entry for data in requirements if isinstance(data, dict)
               for entry in data.get('collections') or [] if isinstance(entry, dict)]
    [entry] = [entry for entry in entries if entry.get('name') == 'upsun.support']
    assert 'version' in entry, 'the requirements.yml example must pin a version'
    assert str(galaxy()['version']) in SpecifierSet(entry['version']), (
        'the requirements.yml example ({0}) does not admit this release {1}'.format(entry['version'], galaxy()['version']))


def test_requirements_state_and_explain_requires_ansible(readme):
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as handle:
        requires_ansible = yaml.safe_load(handle)['requires_ansible']
    floor = re.match(r'^>=\s*(\d+\.\d+)', requires_ansible)
    assert floor, 'meta/runtime.yml requires_ansible {0!r} has no >= floor'.format(requires_ansible)
    body = section(readme, 'Requirements')
    assert 'ansible-core {0} or later'.format(floor.group(1)) in body
    assert requires_ansible in body, 'the Requirements section must quote requires_ansible as it is'
    assert 'Automation Platform' in body and 'upstream' in body, 'say why this floor: Automation Platform and upstream'
    assert 'requests' in body


def matrix_pythons():
    """{'oldest': X.Y, 'newest': X.Y}: the Pythons tests/release/matrix.sh uses."""
    with open(os.path.join(REPO, 'tests', 'release', 'matrix.sh')) as handle:
        script = handle.read()
    found = {}
    for name in ('oldest', 'newest'):
        match = re.search(r'1:{0}\)(.*?);;'.format(name), script, re.S)
        found[name] = re.search(r'find_python (\d+\.\d+)', match.group(1)).group(1)
    return found


def test_testing_names_the_versions_the_tests_use(readme):
    body = section(readme, 'Testing')
    with open(os.path.join(REPO, 'tests', 'requirements', 'tools.txt')) as handle:
        pinned = re.search(r'^ansible-core==(\d+\.\d+)\.', handle.read(), re.M).group(1)
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as handle:
        floor = re.match(r'^>=\s*(\d+\.\d+)', yaml.safe_load(handle)['requires_ansible']).group(1)
    pythons = matrix_pythons()
    rows = [line for line in body.splitlines() if line.startswith('| ')]
    assert any(row.startswith('| {0} '.format(pinned)) and '3.11' in row for row in rows), (
        'no row for the ansible-core {0} of the tool venv on Python 3.11'.format(pinned))
    assert any(row.startswith('| {0},'.format(floor)) and pythons['oldest'] in row for row in rows), (
        'no row for the oldest admitted ansible-core {0} on Python {1}'.format(floor, pythons['oldest']))
    assert any('newest' in row and pythons['newest'] in row for row in rows), (
        'no row for the newest ansible-core on Python {0}'.format(pythons['newest']))


def test_release_notes_link_the_changelog(readme):
    body = section(readme, 'Release Notes')
    assert any(url.split('#')[0].endswith('/CHANGELOG.rst') for url in links(body))


def test_license_links_the_licence(readme):
    body = section(readme, 'License Information')
    assert galaxy()['license'] == ['GPL-3.0-or-later']
    assert 'GNU General Public License v3.0 or later' in body
    assert any(url.endswith('/COPYING') for url in links(body))
    with open(os.path.join(REPO, 'COPYING')) as handle:
        assert 'GNU GENERAL PUBLIC LICENSE' in handle.read(300)


def test_support_links_the_issue_tracker(readme):
    assert galaxy()['issues'] in links(section(readme, 'Support'))


def test_contributing_links_the_repository(readme):
    assert galaxy()['repository'] in links(section(readme, 'Contributing'))
