# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What Galaxy and Automation Hub show for each piece of content: no empty entry, every plugin with its examples.

Galaxy builds its documentation pages from ``ansible-doc --json`` of every plugin (galaxy-importer runs it), lists
every Python file under ``plugins/<type>/`` as an entry named after the file, shows a role with the description
of its ``meta/main.yml`` and its README, and lists playbooks by file name. So, for the collection as ansible-doc
sees it (through collections/, see ``make collections-link``):

- every plugin has a short description, a description, an author, examples, and a description for every option
  and return value (suboptions and ``contains`` included);
- its ``version_added`` is the version being released (galaxy.yml) or one already released
  (changelogs/changelog.yaml): the pages say "Added in upsun.support X";
- every Python file under ``plugins/<type>/`` (but ``module_utils``, ``doc_fragments`` and ``plugin_utils``,
  which Galaxy does not show as pages) is documented under its own file name;
- every role has a ``galaxy_info.description``, a README and a documented argument spec for each entry point;
- every playbook explains itself in its leading comment and names each of its plays.

Known gaps are marked ``xfail(strict=True)`` with what must change, in files this test's owners do not edit:
they show as xfailed (never as passed), and once fixed the test XPASSes and fails, so the mark must go.
"""

import functools
import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTION = 'upsun.support'
BIN = os.path.dirname(sys.executable)
# Plugin types ansible-doc documents (as ansible-doc -t names them) and their directory under plugins/.
PLUGIN_TYPES = {
    'module': 'modules', 'callback': 'callback', 'filter': 'filter', 'test': 'test', 'lookup': 'lookup',
    'inventory': 'inventory', 'connection': 'connection', 'become': 'become', 'cache': 'cache', 'vars': 'vars',
    'strategy': 'strategy', 'shell': 'shell', 'httpapi': 'httpapi', 'cliconf': 'cliconf', 'netconf': 'netconf',
}
NOT_PAGES = ('module_utils', 'doc_fragments', 'plugin_utils', 'action', 'terminal')

# (test, entry) -> what is missing and who must fix it.
VERSION_ADDED_GAP = ('version_added is 0.1.0, a version that was never released: set it to 1.0.0 '
                     '(plugin docs, not owned by the release branch)')
KNOWN_GAPS = {}


def ansible_doc(*args):
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_'))
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, 'collections'), ANSIBLE_NOCOLOR='1')
    result = subprocess.run([os.path.join(BIN, 'ansible-doc')] + list(args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=300, check=False)
    if result.returncode != 0:
        raise AssertionError('ansible-doc {0} failed: {1}'.format(' '.join(args), result.stderr))
    if result.stderr.strip():
        raise AssertionError('ansible-doc {0} warned: {1}'.format(' '.join(args), result.stderr))
    return json.loads(result.stdout)


@functools.lru_cache(maxsize=None)
def plugin_docs():
    """{'<type>:<fqcn>': ansible-doc --json data} for every plugin of the collection."""
    if not os.path.isdir(os.path.join(REPO, 'collections', 'ansible_collections', 'upsun', 'support')):
        raise AssertionError('collections/ansible_collections/upsun/support is missing: run make collections-link')
    docs = {}
    for plugin_type, directory in PLUGIN_TYPES.items():
        if not os.path.isdir(os.path.join(REPO, 'plugins', directory)):
            continue
        names = sorted(ansible_doc('-t', plugin_type, '--list', '--json', COLLECTION))
        if names:
            for name, data in ansible_doc('-t', plugin_type, '--json', *names).items():
                docs['{0}:{1}'.format(plugin_type, name)] = data
    return docs


def entry_params(check, entries):
    params = []
    for entry in entries:
        reason = KNOWN_GAPS.get((check, entry))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(entry, id=entry, marks=marks))
    return params


def plugin_files():
    files = []
    for path in sorted(glob.glob(os.path.join(REPO, 'plugins', '*', '*.py'))):
        directory = os.path.basename(os.path.dirname(path))
        if directory not in NOT_PAGES and os.path.basename(path) != '__init__.py':
            files.append(os.path.relpath(path, REPO))
    return files


def role_names():
    return sorted(name for name in os.listdir(os.path.join(REPO, 'roles'))
                  if os.path.isdir(os.path.join(REPO, 'roles', name, 'tasks')))


def playbook_files():
    return sorted(os.path.relpath(path, REPO) for pattern in ('*.yml', '*.yaml')
                  for path in glob.glob(os.path.join(REPO, 'playbooks', pattern)))


def text(value):
    """A description as ansible-doc gives it (a string or a list of strings), as one string."""
    if isinstance(value, list):
        return ' '.join(str(item) for item in value)
    return '' if value is None else str(value)


def undocumented_fields(fields, where, children='suboptions'):
    """Names (dotted) of the options / return values under ``fields`` that have no description."""
    missing = []
    for name, spec in sorted((fields or {}).items()):
        path = '{0}.{1}'.format(where, name)
        if not text((spec or {}).get('description')).strip():
            missing.append(path)
        for key in (children, 'contains', 'options'):
            if isinstance((spec or {}).get(key), dict):
                missing.extend(undocumented_fields(spec[key], path, children))
    return missing


def released_versions():
    with open(os.path.join(REPO, 'changelogs', 'changelog.yaml')) as handle:
        changelog = yaml.safe_load(handle) or {}
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        version = str(yaml.safe_load(handle)['version'])
    return set(str(release) for release in (changelog.get('releases') or {})) | {version}


# Which part of the version the changes of a fragment section bump, by semantic versioning.
MAJOR_SECTIONS = ('major_changes', 'breaking_changes', 'removed_features')
MINOR_SECTIONS = ('minor_changes', 'deprecated_features')


def next_release():
    """The version the pending changelog fragments call for after galaxy.yml's (None when there are none)."""
    sections = set()
    directory = os.path.join(REPO, 'changelogs', 'fragments')
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        with open(os.path.join(directory, name)) as handle:
            sections.update((yaml.safe_load(handle) or {}).keys())
    sections.discard('trivial')
    if not sections:
        return None
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        major, minor, patch = (int(part) for part in str(yaml.safe_load(handle)['version']).split('.')[:3])
    if sections & set(MAJOR_SECTIONS):
        return '{0}.0.0'.format(major + 1)
    if sections & set(MINOR_SECTIONS):
        return '{0}.{1}.0'.format(major, minor + 1)
    return '{0}.{1}.{2}'.format(major, minor, patch + 1)


def test_the_collection_has_plugins():
    """A broken collections/ link or ansible-doc run must not make every other test here vanish."""
    kinds = set(entry.split(':', 1)[0] for entry in plugin_docs())
    assert {'module', 'callback', 'filter'} <= kinds, sorted(plugin_docs())


@pytest.mark.parametrize('entry', entry_params('doc', sorted(plugin_docs())))
def test_plugin_page_has_no_empty_part(entry):
    data = plugin_docs()[entry]
    doc = data.get('doc') or {}
    problems = []
    for key in ('short_description', 'description', 'author'):
        if not text(doc.get(key)).strip():
            problems.append('no {0}'.format(key))
    problems.extend('{0}: no description'.format(name) for name in undocumented_fields(doc.get('options'), 'option'))
    returned = data.get('return') or {}
    problems.extend('{0}: no description'.format(name)
                    for name in undocumented_fields(returned, 'return', children='contains'))
    assert not problems, '{0}: {1}'.format(entry, '; '.join(problems))


@pytest.mark.parametrize('entry', entry_params('examples', sorted(plugin_docs())))
def test_plugin_page_shows_examples(entry):
    examples = plugin_docs()[entry].get('examples')
    assert text(examples).strip(), '{0} has no EXAMPLES'.format(entry)
    # Examples are YAML that users copy: they must at least parse.
    yaml.safe_load(text(examples))


@pytest.mark.parametrize('entry', entry_params('version_added', sorted(plugin_docs())))
def test_version_added_is_a_released_one_or_the_next(entry):
    """A plugin is added in a release, or in the one the pending changelog fragments make next (semantic versioning)."""
    doc = plugin_docs()[entry]['doc']
    assert doc.get('version_added_collection') == COLLECTION, entry
    allowed = released_versions() | set([next_release()] if next_release() else [])
    assert str(doc.get('version_added')) in allowed, '{0}: version_added {1}, releases and the next one {2}'.format(
        entry, doc.get('version_added'), sorted(allowed))


@pytest.mark.parametrize('path', entry_params('file', plugin_files()))
def test_every_plugin_file_is_a_documented_plugin(path):
    directory, filename = path.split('/')[1:]
    plugin_type = dict((value, key) for key, value in PLUGIN_TYPES.items())[directory]
    name = '{0}:{1}.{2}'.format(plugin_type, COLLECTION, os.path.splitext(filename)[0])
    assert name in plugin_docs(), (
        'Galaxy lists {0} as the {1} plugin {2!r}, which has no documentation under that name'.format(
            path, plugin_type, os.path.splitext(filename)[0]))


@pytest.mark.parametrize('role', role_names())
def test_role_page_has_no_empty_part(role):
    with open(os.path.join(REPO, 'roles', role, 'meta', 'main.yml')) as handle:
        galaxy_info = (yaml.safe_load(handle) or {}).get('galaxy_info') or {}
    assert text(galaxy_info.get('description')).strip(), 'roles/{0}/meta/main.yml: no galaxy_info.description'.format(
        role)
    readme = os.path.join(REPO, 'roles', role, 'README.md')
    assert os.path.isfile(readme) and open(readme).read().strip(), 'roles/{0}/README.md is missing or empty'.format(
        role)

    fqcn = '{0}.{1}'.format(COLLECTION, role)
    entry_points = ansible_doc('-t', 'role', '--json', fqcn)[fqcn]['entry_points']
    assert entry_points, '{0} has no argument spec'.format(fqcn)
    problems = []
    for entry_point, spec in sorted(entry_points.items()):
        for key in ('short_description', 'description', 'author'):
            if not text(spec.get(key)).strip():
                problems.append('{0}: no {1}'.format(entry_point, key))
        problems.extend('{0}: no description'.format(name)
                        for name in undocumented_fields(spec.get('options'), entry_point + '.option'))
    assert not problems, '{0}: {1}'.format(fqcn, '; '.join(problems))


@pytest.mark.parametrize('path', playbook_files())
def test_playbook_explains_itself(path):
    with open(os.path.join(REPO, path)) as handle:
        source = handle.read()
    lines = source.splitlines()
    start = 1 if lines and lines[0].strip() == '---' else 0
    comment = []
    for line in lines[start:]:
        if not line.startswith('#'):
            break
        comment.append(line.lstrip('#').strip())
    assert len(' '.join(comment).split()) >= 10, '{0}: no leading comment that says what it does'.format(path)
    plays = yaml.safe_load(source) or []
    assert plays and all(str(play.get('name') or '').strip() for play in plays), '{0}: a play has no name'.format(path)
