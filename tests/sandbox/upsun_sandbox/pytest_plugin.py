# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pytest fixtures for the sandbox; load with `pytest -p upsun_sandbox.pytest_plugin` or from a conftest.

- `sandbox`: a fresh sandbox child process per test; yields its SandboxClient.
- `sandbox_factory`: start(*options, api_tokens=None, tls=False) for sandboxes with other settings
  (e.g. start("--page-size", "2", "--token-lifetime", "1")); all are stopped after the test. With tls=True
  the sandbox serves HTTPS with a fresh self-signed certificate: its path is the client's `ca_file`.
  With start("--listing-lag", "120") the listings lag as the live API's do; `client.catch_up()` ends the wait.
"""

import pytest

from .process import SandboxProcess
from .tls import self_signed_certificate


@pytest.fixture
def sandbox_factory(tmp_path):
    """Start sandboxes with chosen command line options; each child logs to a file under tmp_path."""
    started: list[SandboxProcess] = []

    def start(*options: str, api_tokens=None, tls: bool = False):
        number = len(started) + 1
        if tls:
            cert, key = self_signed_certificate(tmp_path / f"sandbox-{number}-tls")
            options = options + ("--tls-cert", str(cert), "--tls-key", str(key))
        process = SandboxProcess(*options, api_tokens=api_tokens, log_path=tmp_path / f"sandbox-{number}.log")
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def sandbox(sandbox_factory):
    """A fresh sandbox (default settings) for one test: its SandboxClient (url, api_token, hooks)."""
    return sandbox_factory()
