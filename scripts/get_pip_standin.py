"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into the empty virtualenvs it creates (sanity, units)
by running ``get-pip.py`` fetched from a host that is not a package registry.
It first looks for a cached copy, ``~/.ansible/test/cache/get_pip_<ver>.py``, and
scripts/ansible-test.sh installs this file there, next to ``pip-<ver>/`` holding
the wheels from PyPI that ansible-test asks for (pip, and setuptools and wheel on
older ansible-test releases) and pip's unpacked contents.

Like get-pip.py, it runs a pip that is not installed yet to ``pip install`` what
ansible-test asks for (``pip==<ver>`` and the rest): the unpacked pip, from those
wheels with no index (about 2 s).  Without the unpacked wheel, or if that fails, it falls back to the
interpreter's bundled ``ensurepip`` followed by ``pip install`` from the
configured index (about 10 s).

pip's output goes to ``.build/logs/get-pip.log`` of the checkout that ansible-test
runs in (scripts/ansible-test.sh runs it from a copy under ``.build/``), not to
ansible-test's output; a command that fails is shown whole on stderr with it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

# get-pip.py options that "pip install" does not understand
GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def cached_pip_dir() -> str:
    """Return the directory with the pip wheel matching this file's name (get_pip_24_2.py -> pip-24.2)."""
    here = os.path.dirname(os.path.abspath(__file__))
    match = re.match(r'get_pip_(.+)\.py$', os.path.basename(__file__))
    version = match.group(1).replace('_', '.') if match else ''
    return os.path.join(here, 'pip-%s' % version)


def log_path() -> str | None:
    """``.build/logs/get-pip.log`` of the ``.build`` directory above the working directory, or None (not under one)."""
    directory = os.getcwd()
    while os.path.basename(directory) != '.build':
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return os.path.join(directory, 'logs', 'get-pip.log')


def run(command: list[str], log: str | None) -> int:
    """Run ``command``, its output appended to ``log`` (shown as it comes without one); its exit status."""
    if log is None:
        return subprocess.call(command)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'a', encoding='utf-8') as handle:
        handle.write('$ %s\n%s' % (' '.join(command), result.stdout))
    if result.returncode:
        sys.stderr.write('%sget-pip stand-in: %s failed with exit status %d (log: %s)\n' % (
            result.stdout, ' '.join(command[1:4]), result.returncode, log))
    return result.returncode


def main() -> None:
    """Install pip (and whatever else was requested) into the running interpreter's environment."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    wheel_dir = cached_pip_dir()
    log = log_path()
    unpacked_pip = os.path.join(wheel_dir, 'unpacked', 'pip')

    if os.path.isdir(unpacked_pip):
        command = [sys.executable, unpacked_pip, 'install', '--ignore-installed', '--no-index', '--find-links', wheel_dir] + args
        if run(command, log) == 0:
            return
        sys.stderr.write('get-pip stand-in: offline install from %s failed, falling back to ensurepip\n' % wheel_dir)

    for command in ([sys.executable, '-m', 'ensurepip', '--default-pip'], [sys.executable, '-m', 'pip', 'install'] + args):
        if run(command, log):
            sys.exit(1)


if __name__ == '__main__':
    main()
