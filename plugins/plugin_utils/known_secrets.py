# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The values Ansible itself treats as secret in a run, and the one redactor that masks them.

A value known to be secret is masked whatever text surrounds it, so the
redactor of a run is given, besides its rules, the values of the run's
vault-encrypted variables, of the results of ``no_log`` tasks, and the
collection's credentials from every source (options, ``module_defaults``, the
environment, a password in a URL). ``KnownSecrets`` collects them from
variables without templating anything; ``shared_redactor`` builds one
``Redactor`` per settings and values in a process and hands the same one to
every caller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from collections import ChainMap
from collections.abc import Mapping
from urllib.parse import urlsplit

try:  # ansible-core 2.19+: vaulted values are EncryptedString, or a str tagged VaultedValue once decrypted
    from ansible.parsing.vault import VaultHelper
except ImportError:  # ansible-core 2.16 to 2.18: AnsibleVaultEncryptedUnicode, marked __ENCRYPTED__
    VaultHelper = None

from ansible_collections.upsun.support.plugins.module_utils.settings import SECRET_NAMES, SETTINGS_BY_NAME
from ansible_collections.upsun.support.plugins.plugin_utils.redaction import REPLACEMENT, Redactor

# Shorter values (yes, true, a port) would blank ordinary words everywhere; a secret worth the name is longer.
MIN_SECRET_CHARS = 6
# A line of a multi-line secret (a key file) long enough to be masked on its own when a log shows only part of it.
MIN_SECRET_LINE_CHARS = 16
# Bounds of one collection: a run's variables are walked once, never without end.
MAX_NODES = 200000
MAX_SECRET_CHARS = 65536
NO_LOG_KEY = '_ansible_no_log'
# The settings whose URLs may carry a user:password@.
URL_NAMES = ('api_url', 'auth_url', 'token_url')
_BOOLEAN_WORDS = frozenset(('true', 'false', 'yes', 'no', 'none', 'null', 'on', 'off'))


def vault_plaintext(value):
    """The decrypted text of a vault-encrypted value, else ``None`` (also when it cannot be decrypted)."""
    try:
        if getattr(value, '__ENCRYPTED__', False) is True:
            return str(value.data)
        if VaultHelper is not None and VaultHelper.get_ciphertext(value, with_tags=False):
            return str(value)
    except Exception:  # pylint: disable=broad-except
        # Not decryptable here (no vault password for it): Ansible cannot show it either.
        return None
    return None


def _raw(value):
    # ansible-core 2.19 keeps a variable's raw value in a _LazyValue until it is used: read it without templating.
    if type(value).__name__ == '_LazyValue':
        return getattr(value, 'value', None)
    return value


def _truthy(value):
    return value is True or str(value).strip().lower() in ('1', 'true', 'yes', 'on')


def url_password(url):
    """The password of a ``scheme://user:password@host`` URL, else ``None``."""
    if not isinstance(url, str) or '@' not in url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class KnownSecrets:
    """The secret values found so far; ``collect`` walks variables (dicts, lists, Ansible's lazy containers) for them."""

    def __init__(self):
        self.values = set()
        self._seen = {}
        self._nodes = 0

    def add(self, value):
        """Keep ``value`` when it is text long enough to be a secret, and each long line of a multi-line one."""
        if not isinstance(value, str):
            return
        value = str(value).strip()
        if len(value) < MIN_SECRET_CHARS or len(value) > MAX_SECRET_CHARS or value.lower() in _BOOLEAN_WORDS:
            return
        self.values.add(value)
        if '\n' in value:
            self.values.update(line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_SECRET_LINE_CHARS)

    def collect(self, data, hidden=False):
        """Add the vault-encrypted values inside ``data``, and every text of a result a ``no_log`` task registered.

        Nothing is templated or copied; each container is read once (the
        variables of several hosts share most of theirs), and the walk stops
        after ``MAX_NODES`` values.
        """
        stack = [(data, hidden)]
        while stack and self._nodes < MAX_NODES:
            value, hidden = stack.pop()
            value = _raw(value)
            self._nodes += 1
            plaintext = vault_plaintext(value)
            if plaintext is not None:
                self.add(plaintext)
            elif isinstance(value, str):
                if hidden:
                    self.add(value)
            elif isinstance(value, (dict, list, tuple, ChainMap)) and id(value) not in self._seen:
                # Holding the container keeps its id from being reused by another one during this collection.
                self._seen[id(value)] = value
                inner = hidden or (isinstance(value, dict) and _truthy(dict.get(value, NO_LOG_KEY)))
                stack.extend((item, inner) for item in _children(value))
        return self

    def credentials(self, values=None, environ=None):
        """Add the collection's credentials: ``values`` (setting name to value), their variables, URL passwords."""
        environ = os.environ if environ is None else environ
        values = values or {}
        for name in SECRET_NAMES:
            self.add(values.get(name))
            for variable in SETTINGS_BY_NAME[name].env:
                self.add(environ.get(variable))
        for name in URL_NAMES:
            self.add(url_password(values.get(name)))
            for variable in SETTINGS_BY_NAME[name].env:
                self.add(url_password(environ.get(variable)))
        return self

    def module_defaults(self, module_defaults, template=None):
        """Add the credentials set in ``module_defaults`` for this collection's modules (templated by ``template``)."""
        for entry in module_defaults if isinstance(module_defaults, (list, tuple)) else []:
            if not isinstance(entry, Mapping):
                continue
            for action, arguments in entry.items():
                if 'upsun' not in str(action) or not isinstance(arguments, Mapping):
                    continue
                for name in SECRET_NAMES + URL_NAMES:
                    value = arguments.get(name)
                    if value is None:
                        continue
                    try:
                        value = template(value) if template is not None else value
                    except Exception:  # pylint: disable=broad-except
                        # A template that does not render here is not sent either.
                        continue
                    self.add(url_password(value) if name in URL_NAMES else vault_plaintext(value) or value)
        return self

    def failed_hosts(self, failed):
        """Add the secrets in reach of each failed ``(host, play, task)``: its variables and its module_defaults."""
        for host, play, task in failed:
            try:
                try:
                    variables = play.get_variable_manager().get_vars(play=play, host=host, include_hostvars=False)
                except Exception:  # pylint: disable=broad-except
                    # Variables that cannot be read whole here (a vars file gone): the play's own still are.
                    variables = play.get_vars()
                self.collect(variables)
                template = _templater(play, variables)
                self.module_defaults(getattr(play, 'module_defaults', None), template)
                self.module_defaults(getattr(task, 'module_defaults', None), template)
            except Exception:  # pylint: disable=broad-except
                # What this host's variables would add is lost; the rules and the other values still apply.
                continue
        return self


def _templater(play, variables):
    # Renders a module_defaults value with the host's variables, as the task that used it did.
    from ansible.template import Templar  # pylint: disable=import-outside-toplevel
    templar = Templar(loader=play.get_loader(), variables=variables)
    return templar.template


def _children(value):
    # The raw items: dict.values and list iteration, not the lazy containers' own, which would template them.
    if isinstance(value, ChainMap):
        return value.maps
    if isinstance(value, dict):
        return list(dict.values(value))
    if isinstance(value, list):
        return list(list.__iter__(value))
    return list(tuple.__iter__(value))


_REDACTORS = {}
# Distinct settings a process keeps redactors for (a run has one or two).
_MAX_REDACTORS = 8


def shared_redactor(patterns=None, disable=None, replacement=REPLACEMENT, secrets=()):
    """The ``Redactor`` for these settings and known ``secrets``, built once in this process and then shared.

    Raises ``RedactionError`` for a bad pattern or rule name, like ``Redactor``.
    """
    secrets = frozenset(secrets or ())
    key = (repr(patterns), repr(disable), repr(replacement), secrets)
    redactor = _REDACTORS.get(key)
    if redactor is None:
        if len(_REDACTORS) >= _MAX_REDACTORS:
            _REDACTORS.clear()
        redactor = Redactor(patterns, disable, replacement, secrets=sorted(secrets))
        _REDACTORS[key] = redactor
    return redactor
