# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The example execution environment (docs/execution-environment.yml) and the collection's EE metadata.

No container can be built here (no container engine), so this runs what can run without one:

- ``ansible-builder create`` on the example, next to a freshly built tarball, as its comments tell users to do;
- checks that the build context names the collection (its requirements.yml installs the tarball that the
  context carries) and that the tarball declares its Python requirements in meta/execution-environment.yml;
- the image build's own dependency step: the context's introspect.py, run on the collection installed from the
  context's tarball, must list ``requests`` for upsun.support. This fails when meta/execution-environment.yml
  or requirements.txt stops declaring it.

Needs ansible-core and ansible-builder in the venv running pytest (or ANSIBLE_BUILDER=/path/to/ansible-builder).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
EE_EXAMPLE = os.path.join(REPO, 'docs', 'execution-environment.yml')
BIN = os.path.dirname(sys.executable)


def tool(name, env_name=None):
    path = os.environ.get(env_name) if env_name else None
    path = path or shutil.which(name, path=BIN) or shutil.which(name)
    if not path:
        pytest.fail('{0} not found next to {1} or on PATH: install it in the venv that runs these tests '
                    '(tests/requirements/tools.in lists it)'.format(name, sys.executable))
    return path


def isolated_env(tmp_path, **extra):
    """An environment with no user Ansible configuration or installed collections."""
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_'))
    env.update(ANSIBLE_HOME=str(tmp_path / 'ansible-home'), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
               ANSIBLE_NOCOLOR='1')
    env.update(extra)
    return env


def run(args, tmp_path, cwd=None, **env):
    result = subprocess.run(args, cwd=cwd, env=isolated_env(tmp_path, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, check=False)
    assert result.returncode == 0, '{0} failed ({1}):\n{2}'.format(' '.join(args), result.returncode, result.stdout)
    return result.stdout


def galaxy_version():
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        return yaml.safe_load(handle)['version']


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    """The collection as released: ansible-galaxy collection build of the work tree."""
    tmp_path = tmp_path_factory.mktemp('dist')
    run([tool('ansible-galaxy'), 'collection', 'build', '--force', '--output-path', str(tmp_path), REPO], tmp_path)
    path = tmp_path / 'upsun-support-{0}.tar.gz'.format(galaxy_version())
    assert path.is_file()
    return path


@pytest.fixture(scope='module')
def context(tarball, tmp_path_factory):
    """ansible-builder create on the example, with the tarball next to it as its comments say."""
    tmp_path = tmp_path_factory.mktemp('ee')
    shutil.copy(EE_EXAMPLE, str(tmp_path / 'execution-environment.yml'))
    shutil.copy(str(tarball), str(tmp_path))
    run([tool('ansible-builder', 'ANSIBLE_BUILDER'), 'create', '--file', 'execution-environment.yml',
         '--context', 'context', '--output-filename', 'Containerfile', '-v', '3'], tmp_path, cwd=str(tmp_path))
    return tmp_path / 'context'


def test_example_is_schema_3_and_names_the_current_version():
    with open(EE_EXAMPLE) as handle:
        definition = yaml.safe_load(handle)
    assert definition['version'] == 3
    names = [entry['name'] for entry in definition['dependencies']['galaxy']['collections']]
    assert 'collections/upsun-support-{0}.tar.gz'.format(galaxy_version()) in names, (
        'docs/execution-environment.yml must install the tarball of galaxy.yml\'s version {0}'.format(galaxy_version()))


def test_build_context_names_the_collection(context):
    with open(str(context / '_build' / 'requirements.yml')) as handle:
        requirements = yaml.safe_load(handle)
    [entry] = requirements['collections']
    assert entry == {'name': 'collections/upsun-support-{0}.tar.gz'.format(galaxy_version()), 'type': 'file'}
    # The galaxy stage runs from /build, where the context's _build/ is copied.
    shipped = context / '_build' / entry['name']
    assert shipped.is_file(), 'the build context does not carry {0}'.format(entry['name'])
    with tarfile.open(str(shipped)) as tar:
        manifest = json.load(tar.extractfile('MANIFEST.json'))
    info = manifest['collection_info']
    assert (info['namespace'], info['name'], info['version']) == ('upsun', 'support', galaxy_version())

    containerfile = (context / 'Containerfile').read_text()
    assert re.search(r'ansible-galaxy collection install .*-r requirements\.yml', containerfile)
    assert 'introspect.py introspect' in containerfile


def test_tarball_declares_requests_as_ee_python_requirement(context):
    shipped = context / '_build' / 'collections' / 'upsun-support-{0}.tar.gz'.format(galaxy_version())
    with tarfile.open(str(shipped)) as tar:
        metadata = yaml.safe_load(tar.extractfile('meta/execution-environment.yml'))
        python_file = (metadata.get('dependencies') or {}).get('python')
        assert python_file, 'meta/execution-environment.yml declares no dependencies.python file'
        requirements = tar.extractfile(python_file).read().decode('utf-8')
    names = [re.split(r'[\s<>=!~;\[]', line.strip(), 1)[0].lower() for line in requirements.splitlines()
             if line.strip() and not line.strip().startswith('#')]
    assert 'requests' in names, '{0} does not list requests'.format(python_file)
    system_file = (metadata.get('dependencies') or {}).get('system')
    if system_file:
        assert system_file in tar_names(shipped), 'meta/execution-environment.yml names {0}, not in the tarball'.format(
            system_file)


def tar_names(path):
    with tarfile.open(str(path)) as tar:
        return tar.getnames()


def test_image_build_introspection_finds_requests(context, tmp_path):
    """What the builder stage of the image runs, on the collection as the galaxy stage installs it."""
    collections = tmp_path / 'collections'
    collections.mkdir()
    shipped = context / '_build' / 'collections' / 'upsun-support-{0}.tar.gz'.format(galaxy_version())
    run([tool('ansible-galaxy'), 'collection', 'install', '--offline', '-p', str(collections), str(shipped)], tmp_path,
        ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_GALAXY_DISABLE_GPG_VERIFY='1')
    assert (collections / 'ansible_collections' / 'upsun' / 'support' / 'MANIFEST.json').is_file()

    pip_file = tmp_path / 'requirements.txt'
    output = run([sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect',
                  str(collections), '--write-pip', str(pip_file)], tmp_path)
    assert pip_file.is_file(), 'introspection found no Python requirement:\n' + output
    lines = [line for line in pip_file.read_text().splitlines() if line.strip()]
    assert any(re.match(r'requests\b.*# from collection upsun\.support$', line) for line in lines), (
        'the image would not get requests for upsun.support; introspection wrote:\n' + '\n'.join(lines))
