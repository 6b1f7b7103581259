# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Makes the sandbox fixtures available to the sandbox's own tests, with an API client on them."""

import pytest

from upsun_sandbox import Sandbox, SandboxClient
from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory
from sandbox_api import Api

__all__ = ["sandbox", "sandbox_factory"]


@pytest.fixture
def api(sandbox):
    return Api(sandbox)


@pytest.fixture(scope="module")
def shared_sandbox():
    """One in-process sandbox for the many parametrized validation cases (a child process each is slow)."""
    with Sandbox() as server:
        yield SandboxClient(server.url, server.api_token)


@pytest.fixture
def quick(shared_sandbox):
    """The shared sandbox, reset, and an Api on it: (control client, api)."""
    shared_sandbox.reset()
    return shared_sandbox, Api(shared_sandbox)
