# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ad hoc runs of the modules against the sandbox for the network tests: a clean environment, timed runs, seeded
tickets, and the requests the sandbox received."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from helpers import adhoc_result, ansible_env, run_adhoc  # pylint: disable=import-error


TICKET = 'upsun.support.ticket'
INFO = 'upsun.support.ticket_info'
NEW = {'subject': 'Nightly deploy failed', 'description': 'disk full on web1', 'priority': 'high'}
# The variables a CI image often sets; each test sets the ones it is about.
TLS_VARIABLES = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR')
PROXY_VARIABLES = ('HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY',
                   'no_proxy')


def environment(sandbox_client, tmp_path, **extra):
    """The run's environment: no TLS or proxy variable of the caller, one TMPDIR per test (the lock directory)."""
    env = ansible_env(sandbox_client, home=tmp_path / 'ansible-home')
    for name in TLS_VARIABLES + PROXY_VARIABLES:
        env.pop(name, None)
    tmpdir = tmp_path / 'tmp'
    tmpdir.mkdir(exist_ok=True)
    env['TMPDIR'] = str(tmpdir)
    env.update((name, str(value)) for name, value in extra.items())
    return env


def timed(module, module_args, env, timeout=120):
    """``(seconds, CompletedProcess)`` of one ad hoc run."""
    started = time.monotonic()
    run = run_adhoc(module, module_args, env, timeout=timeout)
    return time.monotonic() - started, run


def result_of(run):
    return adhoc_result(run.stdout)


def seed(sandbox_client, count, **fields):
    return [sandbox_client.add_ticket(**dict(dict(subject='Seeded {0}'.format(index), description='disk full'), **fields))
            for index in range(count)]


def requests_to(sandbox_client, method, path='/tickets'):
    return sandbox_client.journal(method=method, path=path)
