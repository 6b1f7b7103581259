# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every message the collection can give a user is explained in the troubleshooting guide.

The messages are read from the source, not listed by hand, so that a new message without docs fails here:

- Python (plugins/**/*.py): the text given to the collection's exceptions (``InputError``, ``ApiError``,
  ``AuthenticationError``, ``TransportError``, ``TicketMayExistError``, ``ResponseLostError``, ``DeadlineError``,
  ``DedupeLockError``, ``UpsunError``),
  to Ansible's (``AnsibleError``, ``AnsibleFilterError``, ...), to ``fail_json(msg=...)`` and to every
  ``warn(...)``/``warning(...)``/``_warn(...)`` call, plus the strings assigned to module-level ``ADVICE*``
  constants and to variables or dict keys named ``error``, ``msg``, ``message`` or ``advice``;
- YAML (roles/*/tasks, playbooks): the ``msg`` of ``fail`` and ``debug`` tasks, the ``fail_msg`` of ``assert``
  tasks, and the strings in a ``debug`` task's ``vars``.

A message is a template: its placeholders (``{0}``, ``%s``, ``{{ jinja }}``, an f-string's expressions, a call
such as ``missing_required_lib(...)``) split it into constant fragments. The guide must contain its leading
fragment (the first one with at least three words: what a user sees first and would search for), and every
other fragment of at least three words, with whitespace collapsed. A message with no such fragment (``{0} {1}
failed: {2}.``) must be quoted whole, each placeholder written as ``<...>`` (``<METHOD> <URL> failed: <reason>.``).
A call whose message is not a literal (``self.warn(error)``) must be listed in PASS_THROUGH, with where its text
is checked instead.

Run ``python tests/release/test_troubleshooting_coverage.py`` to print every message with its fragments.
"""

import ast
import glob
import os
import re
import sys

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
GUIDE = os.path.join(REPO, 'docs', 'docsite', 'rst', 'troubleshooting.rst')
# The event source's messages (its shared code is in plugins/plugin_utils/ticket_events_*.py) are listed in its own
# guide, to which the troubleshooting guide points.
EDA_GUIDE = os.path.join(REPO, 'docs', 'docsite', 'rst', 'event_driven_ansible.rst')

EXCEPTIONS = frozenset((
    'InputError', 'ApiError', 'AuthenticationError', 'TransportError', 'TicketMayExistError', 'ResponseLostError',
    'DeadlineError', 'DedupeLockError', 'CommentsRefusedError',
    'UpsunError', 'AnsibleError', 'AnsibleFilterError', 'AnsibleActionFail', 'AnsibleOptionsError',
    'AnsibleLookupError', 'AnsibleParserError', 'AnsibleCallbackError', 'SpoolError', 'RedactionError',
))
WARNINGS = frozenset(('warn', '_warn', 'warning', 'deprecate'))
MESSAGE_VARIABLES = re.compile(r'^(?:error|msg|message|advice)$|^ADVICE', re.I)
# Texts that calls insert whole into a message: (what the call looks like, the text it gives).
KNOWN_CALLS = {
    'missing_required_lib': 'Failed to import the required Python library',
}
# Calls that pass on a message made elsewhere: (file, source text of the call) -> where that message is covered.
PASS_THROUGH = {
    ('plugins/callback/ticket_on_failure.py', 'self._warn(warning)'):
        "the warnings of ticket_request(): the subject template error, an 'error' assignment in plugin_utils/rendering.py",
    ('plugins/callback/ticket_on_failure.py', "self._display.warning('{0}: {1}'.format(NAME, self._redactor(message)))"):
        'the wrapper that prefixes every warning of the callback with its name; its callers are extracted',
    ('plugins/plugin_utils/plugin_options.py', 'self._warn(warning)'):
        'the warnings of options_one_by_one(), in the same file, extracted',
    ('plugins/plugin_utils/plugin_options.py', 'self._display.warning(message)'):
        "the default _warn of a callback with fallback options, which shows its callers' messages; they are extracted",
    ('plugins/filter/deploy_failure_report.py', "Display().warning('upsun.support.deploy_failure_ticket: ' + error)"):
        "the 'error' assignment of deploy_failure_arguments just above it, extracted",
    ('plugins/filter/deploy_failure_report.py', 'AnsibleFilterError(str(exc))'):
        'RedactionError and TypeError messages of plugin_utils, extracted from there',
    ('plugins/plugin_utils/ticket_events_arguments.py', "InputError('{0}: {1}'.format(SOURCE_NAME, message))"):
        "argument_error(), which prefixes its callers' messages with the source's name (the EDA guide's Messages)",
    ('plugins/module_utils/client.py', 'self._warn(message)'):
        'Client.warn, which hands on the messages of its callers; their literal messages are extracted',
    ('plugins/plugin_utils/controller_module.py', 'self.fail_json(msg=msg)'):
        "ansible-core's own validation messages (the guide's Invalid options); the one formatted here is extracted",
}
MIN_WORDS = 3


class Message(object):
    def __init__(self, where, fragments, source, pieces=None):
        self.where = where
        self.fragments = fragments
        self.source = source
        # The raw constant pieces, one placeholder between each two: for messages with no fragment of
        # MIN_WORDS words, the guide must quote the whole template, placeholders written as <...>.
        self.pieces = pieces

    def pattern(self):
        return re.compile(r'\s*<[^<>]+>\s*'.join(re.escape(normalize(piece)) for piece in self.pieces))

    def missing_from(self, text):
        """The required fragments (or the quoted template) that ``text`` lacks."""
        if self.required:
            return [fragment for fragment in self.required if fragment not in text]
        if self.pieces is not None and not self.pattern().search(text):
            return ['the whole message, placeholders as <...>: ' + ' <...> '.join(
                normalize(piece) for piece in self.pieces).strip()]
        return []

    @property
    def leading(self):
        for fragment in self.fragments:
            if len(fragment.split()) >= MIN_WORDS:
                return fragment
        return None

    @property
    def required(self):
        return [fragment for fragment in self.fragments if len(fragment.split()) >= MIN_WORDS]

    def __repr__(self):
        return '{0}: {1!r}'.format(self.where, self.fragments)


def normalize(text):
    return ' '.join(text.split())


def clean(fragment):
    """A fragment without the punctuation and quotes that glue it to its placeholders."""
    return normalize(fragment).strip(' \'"()[]:;,.!?-')


PLACEHOLDER = re.compile(r'\{[^{}]*\}|%[-#0 +]*\d*(?:\.\d+)?[sdrifgx]')


def split_template(text):
    """Constant fragments of a str.format / %-format template."""
    text = text.replace('{{', '\x00').replace('}}', '\x01')
    parts = PLACEHOLDER.split(text)
    return [part.replace('\x00', '{').replace('\x01', '}') for part in parts]


class UnresolvedMessage(Exception):
    pass


def fragments_of(node):
    """The constant fragments of the message expression ``node`` (None placeholders between them dropped)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return split_template(node.value)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            parts.extend(fragments_of(value) if isinstance(value, ast.Constant) else [''])
        return parts
    if isinstance(node, ast.FormattedValue):
        return ['']
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == 'format':
            return fragments_of(func.value)
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None)
        if name in KNOWN_CALLS:
            return [KNOWN_CALLS[name]]
        if name in ('to_native', 'to_text', 'str'):
            return fragments_of(node.args[0]) if node.args else ['']
        raise UnresolvedMessage(name)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return fragments_of(node.left) + fragments_of(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return fragments_of(node.left)
    if isinstance(node, ast.IfExp):
        return fragments_of(node.body) + fragments_of(node.orelse)
    raise UnresolvedMessage(type(node).__name__)


def call_name(node):
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def message_argument(node, name):
    if name == 'fail_json':
        for keyword in node.keywords:
            if keyword.arg == 'msg':
                return keyword.value
        return None  # fail_json(**exc.to_result()): the exception's message, extracted where it is raised
    if node.args:
        return node.args[0]
    for keyword in node.keywords:
        if keyword.arg in ('msg', 'message'):
            return keyword.value
    return None


def assigned_name(target):
    """``error`` for ``error = ...`` and for ``entry['error'] = ...``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Index):  # Python < 3.9
            key = key.value
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def python_messages(path):
    rel = os.path.relpath(path, REPO)
    with open(path) as handle:
        source = handle.read()
    tree = ast.parse(source, path)
    found = []
    unresolved = []

    def add(node, expression):
        where = '{0}:{1}'.format(rel, node.lineno)
        snippet = ast.get_source_segment(source, node) or ''
        if (rel, normalize(snippet)) in PASS_THROUGH:
            return
        try:
            pieces = fragments_of(expression)
        except UnresolvedMessage:
            unresolved.append('{0}: {1}'.format(where, normalize(snippet)))
            return
        fragments = [clean(piece) for piece in pieces]
        fragments = [fragment for fragment in fragments if fragment]
        if not fragments:
            unresolved.append('{0}: {1} (no constant text at all)'.format(where, normalize(snippet)))
            return
        found.append(Message(where, fragments, normalize(snippet), pieces))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name in EXCEPTIONS or name in WARNINGS or name == 'fail_json':
                expression = message_argument(node, name)
                if expression is not None:
                    add(node, expression)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            if assigned_name(node.targets[0]) and MESSAGE_VARIABLES.search(assigned_name(node.targets[0])):
                value = node.value
                if isinstance(value, ast.Dict):
                    for item in value.values:
                        add(item, item)
                elif isinstance(value, (ast.Constant, ast.JoinedStr, ast.BinOp)) or (
                        isinstance(value, ast.Call) and call_name(value) == 'format'):
                    if not (isinstance(value, ast.Constant) and not isinstance(value.value, str)):
                        add(node, value)
    return found, unresolved


JINJA = re.compile(r'\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}', re.S)


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def tasks_in(value):
    """Every task dict in a play or task list, blocks and plays included."""
    if isinstance(value, list):
        for item in value:
            yield from tasks_in(item)
    elif isinstance(value, dict):
        yield value
        for key in ('tasks', 'pre_tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always'):
            if key in value:
                yield from tasks_in(value[key])


def action_of(task):
    for key in task:
        short = key.rsplit('.', 1)[-1]
        if short in ('fail', 'debug', 'assert'):
            return short, task[key]
    return None, None


def yaml_messages(path):
    rel = os.path.relpath(path, REPO)
    with open(path) as handle:
        data = yaml.safe_load(handle)
    found = []
    for task in tasks_in(data):
        action, args = action_of(task)
        if action is None or not isinstance(args, dict):
            continue
        texts = []
        if action in ('fail', 'debug'):
            texts.extend(strings_in(args.get('msg')))
        if action == 'assert':
            texts.extend(strings_in(args.get('fail_msg')))
        if action == 'debug':
            texts.extend(strings_in(task.get('vars')))
        for text in texts:
            fragments = [clean(fragment) for fragment in JINJA.split(text)]
            fragments = [fragment for fragment in fragments if fragment]
            if any(len(fragment.split()) >= MIN_WORDS for fragment in fragments):
                found.append(Message('{0} (task "{1}")'.format(rel, task.get('name', '?')), fragments, normalize(text),
                                     JINJA.split(text)))
    return found


def source_files():
    python = sorted(glob.glob(os.path.join(REPO, 'plugins', '**', '*.py'), recursive=True))
    yaml_files = sorted(
        glob.glob(os.path.join(REPO, 'roles', '*', 'tasks', '*.yml'))
        + glob.glob(os.path.join(REPO, 'roles', '*', 'handlers', '*.yml'))
        + glob.glob(os.path.join(REPO, 'playbooks', '*.yml')))
    return python, yaml_files


def all_messages():
    python, yaml_files = source_files()
    messages = []
    unresolved = []
    for path in python:
        found, missed = python_messages(path)
        messages.extend(found)
        unresolved.extend(missed)
    for path in yaml_files:
        messages.extend(yaml_messages(path))
    return messages, unresolved


def guide_text():
    text = ''
    for path in (GUIDE, EDA_GUIDE):
        with open(path) as handle:
            text += handle.read() + '\n'
    # Inline literals and emphasis do not change what a reader sees.
    return normalize(text.replace('``', '').replace('\\', ''))


def test_sources_are_found():
    python, yaml_files = source_files()
    assert any(path.endswith(os.path.join('modules', 'ticket.py')) for path in python)
    messages, dummy = all_messages()
    assert len(messages) > 20


def test_every_message_call_is_understood():
    dummy, unresolved = all_messages()
    assert not unresolved, (
        'These calls give a user a message this test cannot read (not a string literal or template). '
        'Make the message a literal template, or add the call to PASS_THROUGH in {0} saying where its text '
        'is covered:\n  {1}'.format(os.path.relpath(__file__, REPO), '\n  '.join(unresolved)))


def test_every_message_is_in_the_troubleshooting_guide():
    text = guide_text()
    missing = []
    for message in all_messages()[0]:
        absent = message.missing_from(text)
        if absent:
            missing.append('{0}\n      message: {1}\n      not in the guide: {2}'.format(
                message.where, message.source, ' | '.join(repr(fragment) for fragment in absent)))
    assert not missing, (
        'docs/docsite/rst/troubleshooting.rst does not explain {0} message(s); quote each one (placeholders as '
        '<...>) with what it means and what to do:\n  {1}'.format(len(missing), '\n  '.join(missing)))


def test_every_api_status_with_advice_is_in_the_guide():
    """api_errors.py's ADVICE_BY_STATUS: each status it advises on has its own entry."""
    with open(os.path.join(REPO, 'plugins', 'module_utils', 'api_errors.py')) as handle:
        tree = ast.parse(handle.read())
    statuses = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == 'ADVICE_BY_STATUS' and isinstance(node.value, ast.Dict)):
            statuses = [key.value for key in node.value.keys]
    assert statuses
    text = guide_text()
    missing = [status for status in statuses if 'HTTP {0}'.format(status) not in text]
    assert not missing, 'the guide has no "HTTP <status>" entry for: {0}'.format(missing)


if __name__ == '__main__':
    found, missed = all_messages()
    for message in found:
        print('{0}\n    {1}'.format(message.where, ' | '.join(message.required) or 'whole: ' + ' <...> '.join(
            normalize(piece) for piece in message.pieces).strip()))
    for item in missed:
        print('UNRESOLVED ' + item)
    sys.exit(0)
