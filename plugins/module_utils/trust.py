# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the client checks TLS certificates: the trust store, read once per client, and the adapter that uses it.

The trust store comes from the options and the environment (``trust_store``),
never from the process's global SSL state; the sessions' adapter checks
certificates against it alone, on watched connection pools (``watchdog``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import ssl

from ansible_collections.upsun.support.plugins.module_utils.errors import InputError
from ansible_collections.upsun.support.plugins.module_utils.settings import CA_BUNDLE_ENV, SSL_CERT_DIR_ENV, SSL_CERT_FILE_ENV
from ansible_collections.upsun.support.plugins.module_utils.watchdog import watch_pools

try:
    from requests.adapters import HTTPAdapter
except ImportError:
    # Lets the class below be defined; it is never used without requests.
    HTTPAdapter = object


class WatchedAdapter(HTTPAdapter):
    """requests' adapter, without retries of its own, on watched connection pools.

    With ``ssl_context``, certificates are checked against that context's
    trust store only (this session's, not the process's: nothing global is
    changed, unlike ``truststore.inject_into_ssl()``).
    """

    def __init__(self, ssl_context=None):
        # Set first: requests' __init__ makes the pool manager.
        self._ssl_context = ssl_context
        super(WatchedAdapter, self).__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        if self._ssl_context is not None:
            kwargs['ssl_context'] = self._ssl_context
        super(WatchedAdapter, self).init_poolmanager(*args, **kwargs)
        watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        if self._ssl_context is not None:
            proxy_kwargs['ssl_context'] = self._ssl_context
        return watch_pools(super(WatchedAdapter, self).proxy_manager_for(proxy, **proxy_kwargs))

    def cert_verify(self, conn, url, verify, cert):
        super(WatchedAdapter, self).cert_verify(conn, url, verify, cert)
        if self._ssl_context is not None and verify is True:
            # requests would add its own bundle (certifi) to the context: the context alone decides.
            conn.ca_certs = None
            conn.ca_cert_dir = None


def trust_store(validate_certs, ca_path, environ=None):
    """How certificates are checked: ``(verify, ssl_context, what is trusted)``, in this order of precedence.

    ``validate_certs`` false; ``ca_path``; ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` (as requests reads them); ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` (as OpenSSL and the Upsun CLI read them); the operating
    system's store where the ``truststore`` package is importable (as pip
    does); else requests' own bundle (certifi).
    """
    environ = os.environ if environ is None else environ
    if not validate_certs:
        return False, None, 'nothing'
    if ca_path:
        return ca_path, None, 'the CA bundle of ca_path ({0})'.format(ca_path)
    for name in CA_BUNDLE_ENV:
        if environ.get(name):
            return environ[name], None, 'the CA bundle of {0} ({1})'.format(name, environ[name])
    cafile, capath = environ.get(SSL_CERT_FILE_ENV) or None, environ.get(SSL_CERT_DIR_ENV) or None
    if cafile or capath:
        names = ' and '.join('{0} ({1})'.format(name, value) for name, value in (
            (SSL_CERT_FILE_ENV, cafile), (SSL_CERT_DIR_ENV, capath)) if value)
        try:
            context = ssl.create_default_context(cafile=cafile, capath=capath)
        except (OSError, ValueError) as exc:
            raise InputError('Cannot load the CA certificates of {0}: {1}. Set it to a PEM file (SSL_CERT_FILE) or a '
                             'hashed directory (SSL_CERT_DIR) of CA certificates, or unset it.'.format(names, exc))
        return True, context, 'the CA certificates of {0}'.format(names)
    context = _system_context()
    if context is not None:
        return True, context, "the operating system's trust store (truststore)"
    return True, None, "requests' CA bundle (certifi)"


def _system_context():
    """An SSL context on the operating system's trust store, or None when truststore is not importable."""
    try:
        import truststore  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
