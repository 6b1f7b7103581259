# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A plugin's settings read one by one, so that one bad setting falls back to its default instead of the plugin.

Ansible's ``set_options`` fails whole on the first setting it cannot read
(a bad ``ini`` value, an environment variable of the wrong type): a callback
would then be disabled for the run, and its ticket lost. A callback based on
``CallbackWithFallbackOptions`` reads its settings with ``get_option`` as any
other, and keeps them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

from ansible_collections.upsun.support.plugins.module_utils.settings import CONNECTION_NAMES, resolve_connection

# The origin of a setting that could not be read and stands at its default: given as such to resolve_connection, so
# that the environment variable it could not read is not read again there.
IGNORED = 'its default, the setting could not be read'


def options_one_by_one(plugin_type, plugin_name, warn, secret_names=(), **sources):
    """``(options, origins)`` of the plugin, each setting read on its own; one that cannot be read is its default.

    ``sources`` are ``set_options``' ``keys``, ``variables`` and ``direct``;
    ``warn`` is told of each setting replaced, without the value of a secret one.
    """
    options, origins = {}, {}
    try:
        definitions = C.config.get_configuration_definitions(plugin_type=plugin_type, name=plugin_name) or {}
    except Exception as exc:  # pylint: disable=broad-except
        warn('cannot read its settings ({0}); using the defaults.'.format(type(exc).__name__))
        definitions = {}
    for name, definition in definitions.items():
        try:
            options[name], origins[name] = C.config.get_config_value_and_origin(
                name, plugin_type=plugin_type, plugin_name=plugin_name, **sources)
        except Exception as exc:  # pylint: disable=broad-except
            options[name], origins[name] = definition.get('default'), IGNORED
            detail = '' if name in secret_names else ': {0}'.format(exc)
            warn('ignored the {0} setting{1}; using its default ({2!r}).'.format(
                name, detail, None if name in secret_names else definition.get('default')))
    return options, origins


def origin_text(name, origin):
    """Where setting ``name`` came from, for messages: ``env: VARIABLE``, the ini file, or ``None`` for a default."""
    origin = str(origin or 'default')
    if origin == IGNORED:
        return origin
    if origin.startswith('env: ') or origin in ('default', 'direct', 'Direct'):
        return origin if origin.startswith('env: ') else None
    return '{0} in the [upsun_support] section of {1}'.format(name, origin)


class CallbackWithFallbackOptions(CallbackBase):
    """A callback whose ``set_options`` falls back to ``options_one_by_one`` when Ansible's fails; ``_warn`` says why.

    Its connection settings are resolved by ``_connection_settings``, with
    where each came from (for messages naming the token's source).
    """

    # The settings whose value a warning never shows.
    SECRET_OPTIONS = ()

    def set_options(self, task_keys=None, var_options=None, direct=None):
        try:
            super(CallbackWithFallbackOptions, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        except Exception:  # pylint: disable=broad-except
            warnings = []
            self._plugin_options, self._origins = options_one_by_one(
                self.plugin_type, self._load_name, warnings.append, self.SECRET_OPTIONS, keys=task_keys,
                variables=var_options, direct=direct)
            # Given once the settings are in place: a callback's warnings may read them (to redact the credentials).
            for warning in warnings:
                self._warn(warning)

    def _warn(self, message):
        self._display.warning(message)

    def _connection_settings(self):
        values = dict((name, self.get_option(name)) for name in CONNECTION_NAMES)
        origins = dict((name, self._origin_text(name)) for name in CONNECTION_NAMES)
        return resolve_connection(values, dict((name, origin) for name, origin in origins.items() if origin))

    def _origin_text(self, name):
        # Recorded by set_options (2.19+, or the fallback), else asked of the configuration (2.16 to 2.18).
        origin = (getattr(self, '_origins', None) or {}).get(name)
        if origin is None:
            try:
                dummy, origin = self.get_option_and_origin(name)
            except (KeyError, AttributeError):
                origin = None
        return origin_text(name, origin)
