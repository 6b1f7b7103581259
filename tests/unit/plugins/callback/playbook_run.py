# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A playbook run fed to the ticket_on_failure callback by hand, and the fake API it files to.

Events carry real ansible Task/Block objects (loaded from a play) and real play stats; the API is the fake one
of tests/unit/conftest.py, reached through the real client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import yaml

from ansible.executor.stats import AggregateStats
from ansible.inventory.host import Host
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.block import Block
from ansible.playbook.play import Play
from ansible.vars.manager import VariableManager

from ansible_collections.upsun.support.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.upsun.support.plugins.callback import ticket_on_failure as plugin
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference
from ansible_collections.upsun.support.plugins.plugin_utils.identity import failure_keys, project_identity


def _documentation():
    """The callback's docs with its doc fragments merged in, as Ansible reads them."""
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    for part in ('DOCUMENTATION', 'PLUGINS'):
        for name, spec in yaml.safe_load(getattr(ModuleDocFragment, part))['options'].items():
            doc['options'].setdefault(name, {}).update(spec)
    return doc


DOC = _documentation()
PLAY = dict(name='Deploy web', hosts='all', gather_facts=False, tasks=[
    dict(name='Check', debug=dict(msg='ok')),
    dict(name='Deploy', command='/usr/local/bin/deploy'),
    dict(name='Read secret', command='cat /secret', no_log=True),
    dict(name='Guarded', block=[
        dict(name='Risky', fail=dict(msg='risky failed')),
        dict(name='Nested', block=[dict(name='Deep', fail=None)], always=[dict(name='Inner always', debug=None)]),
    ], rescue=[dict(name='Recover', fail=dict(msg='recovery failed'))], always=[dict(name='Cleanup', debug=None)]),
    dict(name='Unguarded', block=[dict(name='Bare', fail=None)], always=[dict(name='Bare always', debug=None)]),
])


def _load_tasks():
    loader = DataLoader()
    play = Play.load(PLAY, variable_manager=VariableManager(loader=loader), loader=loader)
    tasks = {}

    def walk(items):
        for item in items:
            if isinstance(item, Block):
                walk(item.block)
                walk(item.rescue)
                walk(item.always)
            elif item.name:
                tasks[item.name] = item
    walk(play.compile())
    return play, tasks


THE_PLAY, TASKS = _load_tasks()


class Result:
    """What ansible-core 2.19 passes to callbacks: ``host``, ``task``, ``result``."""

    def __init__(self, host, task, data):
        self.host = Host(host)
        self.task = task
        self.result = data


class LegacyResult:
    """What ansible-core 2.16 to 2.18 pass: ``_host``, ``_task``, ``_result``."""

    def __init__(self, host, task, data):
        self._host = Host(host)
        self._task = task
        self._result = data


def defaults():
    return dict((name, spec.get('default')) for name, spec in DOC['options'].items())


def warnings(callback):
    return [call.args[0] for call in callback._display.warning.call_args_list]


def displayed(callback):
    return [call.args[0] for call in callback._display.display.call_args_list]


def stats_for(**hosts):
    """Play stats: ``web1=dict(failures=1, rescued=1)``; every host also gets one ok."""
    stats = AggregateStats()
    for host, counts in hosts.items():
        stats.increment('ok', host)
        for what, count in counts.items():
            for dummy in range(count):
                stats.increment(what, host)
    return stats


def fail(callback, host, task, ignore_errors=False, result_class=Result, **data):
    data.setdefault('failed', True)
    callback.v2_runner_on_failed(result_class(host, TASKS[task], data), ignore_errors=ignore_errors)


def accept_tickets(api, existing=None):
    """The fake API: token exchange, a search answering ``existing``, and a create that echoes the ticket."""
    api.allow_exchange()
    api.on('GET', '/tickets', (200, {'count': len(existing or []), 'tickets': existing or [], '_links': {}}))

    def created(call):
        ticket = dict(call.json(), ticket_id=4242, status='new', zd_ticket_url='https://support.example/tickets/4242')
        return 200, ticket
    api.on('POST', '/tickets', created)


def filed_ticket(callback, api, **stats):
    """Ends the run with play ``stats`` (as ``stats_for`` takes them); the one ticket it filed."""
    callback.v2_playbook_on_stats(stats_for(**stats))
    [body] = posted(api)
    return body


def posted(api):
    return [call.json() for call in api.requests('POST', '/tickets')]


def spool_files(spool_dir):
    if not os.path.isdir(spool_dir):
        return []
    return [os.path.join(spool_dir, name) for name in sorted(os.listdir(spool_dir))]


def keys(*tasks):
    """The callback's ``(dedupe key, recovery key)`` for site.yml of the checkout of these tests, as 1.1.0 builds them."""
    inventory = plugin.context.CLIARGS.get('inventory') or plugin.C.DEFAULT_HOST_LIST or []
    project = project_identity(None, ['/ci/checkout/site.yml'], [inventory] if isinstance(inventory, str) else inventory)
    return failure_keys('callback', project, ['site.yml'], tasks)


def failed_run(make_callback):
    callback = make_callback()
    fail(callback, 'web1', 'Deploy', msg='x')
    return callback


def reference():
    return dedupe_reference(keys('Deploy')[0])


def spooled(spool_dir):
    [path] = spool_files(spool_dir)
    with open(path) as handle:
        text = handle.read()
    return path, text, json.loads(text)
