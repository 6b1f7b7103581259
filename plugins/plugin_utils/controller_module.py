# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The action plugins of ticket and ticket_comment: a task that would run its module on the controller runs its code here.

A module task on a local connection (``localhost``, ``delegate_to: localhost``,
ad hoc) would start a new Python on the controller, as the same user, after
Ansible has packed the module and every file it imports (AnsiballZ). Their
work needs nothing of that process: ``ModuleAction`` runs the module's
own ``execute`` in the task's worker instead, with ``ControllerModule`` standing
in for ``AnsibleModule``. Elsewhere (another host, ``become``, ``async``, no
``requests`` here) the module runs as any module does.

Both paths run the same code on the same values: the options are checked by the
validator ``AnsibleModule`` uses, the task's ``environment`` is the process
environment while the module's code runs, and the result is masked with the
module's ``no_log`` values as ``exit_json`` masks it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import os

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash


class ModuleFailed(Exception):
    """``fail_json`` of a ``ControllerModule``: carries the failed result."""

    def __init__(self, result):
        super(ModuleFailed, self).__init__(result.get('msg'))
        self.result = result


class ControllerModule:
    """What the collection's module code uses of ``AnsibleModule``, for a run in the controller's worker.

    ``args``: the task's arguments (``module_defaults`` included), as plain
    Python values. An invalid one raises ``ModuleFailed`` with the message
    ``AnsibleModule`` gives. ``invocation``: whether results carry the
    arguments, as ``exit_json`` adds them.
    """

    def __init__(self, name, argument_spec, args, check_mode=False, diff=False, rules=None, invocation=True):
        self.check_mode = check_mode
        self._diff = diff
        self._invocation = invocation
        self.warnings = []
        self.params = dict(args)
        validation = ArgumentSpecValidator(argument_spec, **(rules or {})).validate(args)
        self.params.update(validation.validated_parameters)
        self.no_log_values = set(validation._no_log_values)  # pylint: disable=protected-access
        if validation.error_messages:
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = 'Unsupported parameters for ({0}) module: {1}'.format(name, msg)
            self.fail_json(msg=msg)

    def warn(self, warning):
        self.warnings.append(warning)

    def fail_json(self, msg, **kwargs):
        raise ModuleFailed(self.result(dict(kwargs, failed=True, msg=msg)))

    def result(self, result):
        """``result`` as ``exit_json`` returns it: with the invocation and the warnings, and no ``no_log`` value."""
        result = dict(result)
        if self._invocation:
            result['invocation'] = dict(module_args=self.params)
        if self.warnings:
            result['warnings'] = self.warnings
        return remove_values(result, self.no_log_values)


def plain(value):
    """``value`` as the module's process would receive it: plain Python types, vaulted values decrypted."""
    if isinstance(value, dict):
        return dict((str(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return value.decode('utf-8', 'surrogateescape')
    # Text, tagged text, and a vaulted value (whose text is the decrypted value).
    return str(value)


@contextlib.contextmanager
def process_environment(values):
    """``os.environ`` with ``values`` set while the block runs, as a module's process would have them; restored after."""
    saved = dict(os.environ)
    os.environ.update((str(name), str(value)) for name, value in values.items())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_in_worker(name, module, args, check_mode=False, diff=False, invocation=True):
    """The result of the module ``name`` (its Python module ``module``) run here on ``args``, as its process gives it."""
    try:
        runner = ControllerModule(name, module.ARGUMENT_SPEC, args, check_mode=check_mode, diff=diff,
                                  rules=getattr(module, 'SPEC_RULES', None), invocation=invocation)
        return runner.result(module.execute(runner, given=args))
    except ModuleFailed as failed:
        return failed.result


class ModuleAction(ActionBase):
    """The action plugin of an API module: ``MODULE`` names the module (its file has ``execute`` and ``ARGUMENT_SPEC``).

    The module's code (and requests) is imported only for a run here: a task on
    another host does not pay for it in every worker.
    """

    MODULE = None
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ModuleAction, self).run(tmp, task_vars)
        del tmp
        if not self._runs_on_controller():
            wrap_async = self._task.async_val and not self._connection.has_native_async
            result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        environment = {}
        self._compute_environment_string(environment)
        args = plain(self._task.args)
        with process_environment(environment):
            module = importlib.import_module('ansible_collections.upsun.support.plugins.modules.' + self.MODULE)
            result.update(run_in_worker(self._task.resolved_action or self._task.action, module, args,
                                        check_mode=bool(self._task.check_mode), diff=bool(self._task.diff),
                                        invocation=_invocation_wanted(task_vars)))
        return result

    def _runs_on_controller(self):
        """Whether the module would run on the controller, as this user and at once: then its code runs here."""
        if self._connection.transport != 'local' or self._play_context.become or self._task.async_val:
            return False
        from ansible_collections.upsun.support.plugins.module_utils import client  # pylint: disable=import-outside-toplevel
        return client.HAS_REQUESTS


def _invocation_wanted(task_vars):
    """Whether a module would add its invocation: always before ansible-core 2.21, then when INJECT_INVOCATION is on."""
    try:
        return bool(C.config.get_config_value('INJECT_INVOCATION', variables=task_vars))
    except AnsibleError:
        # No such setting: an older ansible-core, whose modules always add it.
        return True
