# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures of the unit tests.

HTTP is faked at the transport level, so that requests and urllib3 (and its
``Retry`` logic) really run:

* ``api``: a local HTTP/1.1 keep-alive server whose routes the test scripts
  (status, body, headers such as ``Retry-After``, delays for read timeouts);
  it records every request with the client port, so connections can be counted.
* ``raw_server``: a raw-socket server for connection faults: ``close`` reads
  the request then closes without answering (lost answer), ``hang`` reads it
  and never answers (read timeout), ``trickle`` answers 200 with headers at
  once and the body one byte every 50 ms, ``trickle_headers`` sends even the
  status line and headers that way, ``reset_after_headers`` and
  ``reset_in_body`` answer 200 and then reset the connection (TCP RST),
  ``close_in_body`` closes it in an orderly way before the end of the body.
  ``endless_chunked``, ``endless_unsized`` (no length: the close would end it) and ``endless_announced`` (a
  Content-Length of 50 MiB) answer ``status`` (200) with a body that never ends, 64 KiB at a time as fast as the
  client reads it, or a byte every ``interval`` seconds when that is set; ``sent`` counts the body bytes written.
  ``closed_port_url`` is refused.
* ``retry_sleeps``: the client's waits (retries, searches, lock polling) are
  recorded instead of slept; the client's clock moves on by what was "slept".
* ``run_module``: runs a module's ``main()`` with given args and returns what
  it passed to ``exit_json``/``fail_json`` (before Ansible's no_log scrubbing),
  plus its warnings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import socket
import threading
import time
import types
from http.server import ThreadingHTTPServer
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible_collections.upsun.support.tests.unit.fake_api import ACCESS_TOKEN, API_TOKEN, EXCHANGED_TOKEN, FakeApi, Handler
from ansible_collections.upsun.support.tests.unit.raw_server import RawServer


try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 has no helper (and no _ANSIBLE_PROFILE)
    @contextlib.contextmanager
    def patch_module_args(args=None):
        serialized = json.dumps(dict(ANSIBLE_MODULE_ARGS=args or {})).encode('utf-8')
        with mock.patch.object(basic, '_ANSIBLE_ARGS', serialized):
            yield


CLEARED_ENV = (
    'UPSUN_CLI_TOKEN', 'PLATFORMSH_CLI_TOKEN', 'UPSUN_CLI_API_URL', 'UPSUN_CLI_AUTH_URL', 'UPSUN_CLI_DEFAULT_TIMEOUT',
    'UPSUN_CLI_OAUTH2_TOKEN_URL', 'UPSUN_CLI_SKIP_SSL', 'UPSUN_SUPPORT_ACCESS_TOKEN', 'UPSUN_SUPPORT_CA_PATH',
    'UPSUN_SUPPORT_RETRIES',
    'UPSUN_CLI_API_BASE_URL', 'UPSUN_CLI_API_AUTH_URL', 'UPSUN_CLI_API_DEFAULT_TIMEOUT', 'UPSUN_CLI_API_SKIP_SSL',
    'PLATFORMSH_CLI_API_URL', 'PLATFORMSH_CLI_AUTH_URL', 'PLATFORMSH_CLI_OAUTH2_TOKEN_URL', 'PLATFORMSH_CLI_SKIP_SSL',
    'PLATFORMSH_CLI_DEFAULT_TIMEOUT', 'PLATFORMSH_CLI_API_BASE_URL', 'PLATFORMSH_CLI_API_AUTH_URL',
    'PLATFORMSH_CLI_API_DEFAULT_TIMEOUT', 'PLATFORMSH_CLI_API_SKIP_SSL', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
    'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE',
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No token, URL or proxy from the environment running the tests leaks in."""
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path_factory, monkeypatch):
    """A temporary directory per test: dedupe locks (under TMPDIR) are never shared between tests running at once."""
    import tempfile

    directory = tmp_path_factory.mktemp('tmpdir')
    monkeypatch.setenv('TMPDIR', str(directory))
    monkeypatch.setattr(tempfile, 'tempdir', None)
    return directory


@pytest.fixture(autouse=True)
def private_ledger(tmp_path_factory, monkeypatch):
    """A ticket ledger per test, never the ledger of the user running the tests."""
    directory = tmp_path_factory.mktemp('ledger') / 'upsun_support_ledger'
    monkeypatch.setenv('UPSUN_SUPPORT_LEDGER_DIR', str(directory))
    return directory


@pytest.fixture(autouse=True)
def retry_sleeps(monkeypatch):
    """The waits the client asks for, in order; nothing is slept, but the client's clock counts them as spent."""
    from ansible_collections.upsun.support.plugins.module_utils import retries

    waits = []
    fake_time = types.SimpleNamespace(sleep=waits.append, time=time.time,
                                      monotonic=lambda: time.monotonic() + sum(waits))
    monkeypatch.setattr(retries, 'time', fake_time)
    return waits


@pytest.fixture
def tokens():
    return types.SimpleNamespace(api=API_TOKEN, access=ACCESS_TOKEN, exchanged=EXCHANGED_TOKEN)


# --- the fake API server ----------------------------------------------------------------------------------------------


@pytest.fixture(scope='session')
def _api_server():
    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    server.api = None
    thread = threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(_api_server):
    """A fresh ``FakeApi`` on the session's local server."""
    fake = FakeApi('http://127.0.0.1:{0}'.format(_api_server.server_address[1]))
    _api_server.api = fake
    yield fake
    _api_server.api = None


# --- connection faults ------------------------------------------------------------------------------------------------


@pytest.fixture
def raw_server():
    """Factory: ``raw_server(mode)`` with a mode of ``RawServer``; stopped after the test."""
    servers = []

    def start(mode):
        server = RawServer(mode)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port_url():
    """A local URL nothing listens on: connection refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'http://127.0.0.1:{0}'.format(port)


# --- clients and modules ----------------------------------------------------------------------------------------------


@pytest.fixture
def warned():
    """Messages given to the client's ``warn`` callback."""
    return []


@pytest.fixture
def make_client(api, warned):
    """Factory for ``Client`` on the fake API (API token, 3 retries, warnings into ``warned``); closed after the test."""
    from ansible_collections.upsun.support.plugins.module_utils.client import Client

    clients = []

    def make(**options):
        kwargs = dict(api_url=api.url, auth_url=api.url, api_token=API_TOKEN, timeout=5.0, retries=3, warn=warned.append)
        kwargs.update(options)
        client = Client(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def module_params(api):
    """Factory for a module's args: the connection options pointing at the fake API, plus ``options``.

    An option given as None is left out, as if the user had not set it.
    """
    def build(**options):
        params = dict(api_url=api.url, auth_url=api.url, api_token=API_TOKEN, timeout=5.0, retries=2, validate_certs=True)
        params.update(options)
        return dict((name, value) for name, value in params.items() if value is not None)
    return build


class ModuleExit(Exception):
    """Raised instead of ``exit_json``/``fail_json`` with what the module returned."""

    def __init__(self, result):
        super(ModuleExit, self).__init__(result)
        self.result = result


def _clear_warnings():
    for name in ('_global_warnings', '_global_deprecations'):
        registry = getattr(ansible_warnings, name, None)
        if registry is not None:
            registry.clear()


def _internal_args(args, check_mode, diff):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    return args


@pytest.fixture
def run_module():
    """``run_module(module, args, check_mode=False, diff=False)``: the module's result dict.

    It holds exactly the keyword arguments the module gave ``exit_json`` (with
    ``changed`` defaulted) or ``fail_json`` (with ``failed: true``), before
    Ansible's no_log filtering, plus ``warnings``: what the module passed to
    ``warn()``, in order (recorded directly: once controller code is imported
    in the test process, ansible-core sends module warnings to the display).
    """
    warnings = []

    def warn(self, warning, *args, **kwargs):
        warnings.append(warning)

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.pop('exception', None)
        kwargs.update(msg=msg, failed=True)
        raise ModuleExit(kwargs)

    def run(module, args, check_mode=False, diff=False):
        del warnings[:]
        with patch_module_args(_internal_args(args, check_mode, diff)):
            with mock.patch.object(basic.AnsibleModule, 'warn', warn):
                with mock.patch.object(basic.AnsibleModule, 'exit_json', exit_json):
                    with mock.patch.object(basic.AnsibleModule, 'fail_json', fail_json):
                        with pytest.raises(ModuleExit) as info:
                            module.main()
        result = dict(info.value.result)
        result['warnings'] = list(warnings)
        return result

    return run


@pytest.fixture
def run_module_output(capsys):
    """``run_module_output(module, args)``: the JSON the module really prints (after Ansible's no_log filtering)."""
    def run(module, args, check_mode=False, diff=False):
        _clear_warnings()
        capsys.readouterr()
        with patch_module_args(_internal_args(args, check_mode, diff)):
            with pytest.raises(SystemExit):
                module.main()
        _clear_warnings()
        return json.loads(capsys.readouterr().out)

    return run


@pytest.fixture
def http_calls(monkeypatch):
    """Every ``requests.Session.request`` call made during the test (they still go through)."""
    import requests

    calls = []
    real = requests.Session.request

    def spy(self, method, url, *args, **kwargs):
        calls.append((method, url))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, 'request', spy)
    return calls
