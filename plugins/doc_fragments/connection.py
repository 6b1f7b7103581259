# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection settings of every module and plugin of the collection: plugins/module_utils/settings.py holds
    # the same table in code (a unit test keeps them equal).
    DOCUMENTATION = r'''
options:
  api_token:
    description:
      - An Upsun API token, created in the Upsun console under C(My profile > API tokens). This is a secret.
      - It is exchanged for a short-lived access token at O(token_url) before the first API call, again a minute
        before that access token expires (halfway through its life if it lives less than two minutes), and once more
        when the API answers C(401).
      - If not set, the E(UPSUN_CLI_TOKEN) environment variable is used, then E(PLATFORMSH_CLI_TOKEN), the variables
        the Upsun CLI reads. When both are set, E(UPSUN_CLI_TOKEN) wins.
      - The family of the variable the token came from (E(UPSUN_CLI_*) or E(PLATFORMSH_CLI_*)) is the one the other
        variables of the Upsun CLI are read from (URLs, timeout, skip SSL), so that a token meant for another API is
        never sent to U(https://api.upsun.com). A token given as an option reads the E(UPSUN_CLI_*) family.
      - Whitespace around the token (the last newline of a file or a secret store) is removed. A token with
        whitespace or control characters inside is refused before any request.
      - One of O(api_token) or O(access_token) is required.
    type: str
  access_token:
    description:
      - An access token already obtained from the Upsun auth server, sent as is as a Bearer token. This is a secret.
      - When both are set, O(access_token) is tried first and O(api_token) is used to get a new one if it is refused.
      - If not set, the E(UPSUN_SUPPORT_ACCESS_TOKEN) environment variable is used.
    type: str
  api_url:
    description:
      - Base URL of the Upsun API.
      - A redirect (C(3xx)) from the API or the auth server is not followed. It fails, naming where it points, so
        that neither the API token nor a ticket goes to an address that was not set here.
      - Credentials written in the URL (C(https://user:password@host)) are masked in every message.
      - If not set, the E(UPSUN_CLI_API_URL) environment variable is used, or its config-key spelling
        E(UPSUN_CLI_API_BASE_URL); with a token from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_API_URL) or
        E(PLATFORMSH_CLI_API_BASE_URL) instead.
    type: str
    default: https://api.upsun.com
  auth_url:
    description:
      - Base URL of the Upsun auth server.
      - If not set, the E(UPSUN_CLI_AUTH_URL) environment variable is used, or E(UPSUN_CLI_API_AUTH_URL); with a token
        from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_AUTH_URL) or E(PLATFORMSH_CLI_API_AUTH_URL) instead.
    type: str
    default: https://auth.upsun.com
  token_url:
    description:
      - The OAuth2 token endpoint the API token is exchanged at. Defaults to C({auth_url}/oauth2/token).
      - If not set, the E(UPSUN_CLI_OAUTH2_TOKEN_URL) environment variable is used; with a token from
        E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_OAUTH2_TOKEN_URL) instead.
    type: str
  timeout:
    description:
      - Seconds one HTTP attempt may take, from connecting to the last byte of the answer. An answer that is still
        arriving when it runs out counts as lost, however steadily its bytes trickle in.
      - Each retry is a new attempt with the same timeout, cut to what is left of O(deadline).
      - Above V(0), at most V(3600) seconds.
      - If not set, the E(UPSUN_CLI_DEFAULT_TIMEOUT) environment variable is used, or E(UPSUN_CLI_API_DEFAULT_TIMEOUT);
        with a token from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_DEFAULT_TIMEOUT) or
        E(PLATFORMSH_CLI_API_DEFAULT_TIMEOUT) instead.
    type: float
    default: 30
  validate_certs:
    description:
      - Whether to check the TLS certificates of O(api_url), O(auth_url) and O(token_url). Only turn this off for a
        test server.
      - If not set, it is V(true) unless the E(UPSUN_CLI_SKIP_SSL) environment variable of the Upsun CLI (or
        E(UPSUN_CLI_API_SKIP_SSL); with a token from E(PLATFORMSH_CLI_TOKEN), E(PLATFORMSH_CLI_SKIP_SSL) or
        E(PLATFORMSH_CLI_API_SKIP_SSL)) is set to a true value (V(1), V(true), V(yes), V(on)).
      - When it is V(false), for either reason, a warning says so on every run.
      - What the certificates are checked against, first match wins. V(false) here checks nothing; then O(ca_path);
        then the bundle named by E(REQUESTS_CA_BUNDLE) (or E(CURL_CA_BUNDLE)), as for any program using requests;
        then E(SSL_CERT_FILE) and E(SSL_CERT_DIR), as the Upsun CLI and OpenSSL read them; then the operating
        system's trust store, where the C(truststore) Python package is installed (as pip does); else requests' own
        bundle (certifi).
    type: bool
  ca_path:
    description:
      - A PEM file of CA certificates to check the servers' certificates against, for example behind a TLS-inspecting
        proxy. It wins over E(REQUESTS_CA_BUNDLE), E(CURL_CA_BUNDLE), E(SSL_CERT_FILE), E(SSL_CERT_DIR) and the
        operating system's trust store.
      - Proxies are taken from the usual E(HTTPS_PROXY) (for C(https://) URLs, tunnelled with C(CONNECT)),
        E(HTTP_PROXY) and E(NO_PROXY) variables (also in lower case), as for any program using requests. A
        C(~/.netrc) file is not read.
      - If not set, the E(UPSUN_SUPPORT_CA_PATH) environment variable is used.
    type: path
  retries:
    description:
      - How many times a request is retried after a connection failure, a C(429) or a server error, waiting
        longer each time (0 s, 2 s, 4 s, ...) or as long as the API's C(Retry-After) header asks (60 s at most).
      - Each retry is shown as a warning.
      - A request that files a ticket is only retried when no ticket can have been created (no connection,
        C(429), C(503)). When its answer is lost after it was sent, the module fails and says so instead of
        filing it again, unless the O(upsun.support.ticket#module:dedupe_key) of M(upsun.support.ticket) lets it check
        first. So does an answer that says the ticket was filed but cannot be read (not JSON, not a ticket, longer
        than O(max_response_size)); the result then has C(may_exist=true).
      - A retry whose wait would end after O(deadline) is not made.
      - From V(0) to V(100).
      - If not set, the E(UPSUN_SUPPORT_RETRIES) environment variable is used.
    type: int
    default: 3
  deadline:
    description:
      - Seconds the whole operation may take at most, every attempt and every wait included (token exchange,
        searches, retries, the wait for another run with the same dedupe key, the searches after a lost answer).
      - No request starts after it, each attempt is cut to what is left of it, and a retry whose wait would pass it is
        not made; the module then fails and says so. Nothing can hang a run for longer.
      - Above V(0), at most V(86400) seconds (a day).
      - If not set, the E(UPSUN_SUPPORT_DEADLINE) environment variable is used.
    type: float
    default: 120
  page_limit:
    description:
      - The most pages of C(GET /tickets) one listing or search reads. Paging also stops once the API's C(count) of
        matching tickets is read, at a C(next) link that does not move forward, and at a page with no new ticket;
        it never loops.
      - Stopping at this limit (or at a C(next) link that does not move forward) gives a warning that says how many
        of the matching tickets were read.
      - From V(1) to V(10000).
      - If not set, the E(UPSUN_SUPPORT_PAGE_LIMIT) environment variable is used.
    type: int
    default: 100
  page_concurrency:
    description:
      - How many pages of C(GET /tickets) one listing or search reads at once, once its first page has given the
        API's C(count) of matching tickets. From V(1) (one page after the other) to V(16).
      - The tickets keep the API's order, and the limits of O(page_limit) still hold.
      - A C(429) answer pauses every request of the listing for as long as its C(Retry-After) asks, and the rest of
        the listing reads one page at a time.
      - If not set, the E(UPSUN_SUPPORT_PAGE_CONCURRENCY) environment variable is used.
    type: int
    default: 4
  max_response_size:
    description:
      - The most bytes of one answer, from the API or the auth server, that are read. An answer that is longer
        (whether it announces its length or not) fails as soon as it passes this size, with an error that names this
        option, and is not retried. So an answer that never ends costs neither memory nor time.
      - For a request that files a ticket, such an answer means the ticket may exist (see O(retries)).
      - From V(1024) to V(1073741824) (1 GiB); the default is 10 MiB.
      - If not set, the E(UPSUN_SUPPORT_MAX_RESPONSE_SIZE) environment variable is used.
    type: int
    default: 10485760
requirements:
  - requests >= 2.25 on the host that runs the module (usually the controller, with C(delegate_to) set to C(localhost))
notes:
  - The secrets O(api_token) and O(access_token) are never returned, logged or written to a file by the collection.
'''

    # For plugins (callback, ...): where the Ansible configuration reads the same settings. Environment variables
    # come first, then the [upsun_support] section of ansible.cfg.
    PLUGINS = r'''
options:
  api_token:
    env:
      - name: PLATFORMSH_CLI_TOKEN
      - name: UPSUN_CLI_TOKEN
    ini:
      - section: upsun_support
        key: api_token
  access_token:
    env:
      - name: UPSUN_SUPPORT_ACCESS_TOKEN
    ini:
      - section: upsun_support
        key: access_token
  api_url:
    env:
      - name: PLATFORMSH_CLI_API_BASE_URL
      - name: PLATFORMSH_CLI_API_URL
      - name: UPSUN_CLI_API_BASE_URL
      - name: UPSUN_CLI_API_URL
    ini:
      - section: upsun_support
        key: api_url
  auth_url:
    env:
      - name: PLATFORMSH_CLI_API_AUTH_URL
      - name: PLATFORMSH_CLI_AUTH_URL
      - name: UPSUN_CLI_API_AUTH_URL
      - name: UPSUN_CLI_AUTH_URL
    ini:
      - section: upsun_support
        key: auth_url
  token_url:
    env:
      - name: PLATFORMSH_CLI_OAUTH2_TOKEN_URL
      - name: UPSUN_CLI_OAUTH2_TOKEN_URL
    ini:
      - section: upsun_support
        key: token_url
  timeout:
    env:
      - name: PLATFORMSH_CLI_API_DEFAULT_TIMEOUT
      - name: PLATFORMSH_CLI_DEFAULT_TIMEOUT
      - name: UPSUN_CLI_API_DEFAULT_TIMEOUT
      - name: UPSUN_CLI_DEFAULT_TIMEOUT
    ini:
      - section: upsun_support
        key: timeout
  validate_certs:
    ini:
      - section: upsun_support
        key: validate_certs
  ca_path:
    env:
      - name: UPSUN_SUPPORT_CA_PATH
    ini:
      - section: upsun_support
        key: ca_path
  retries:
    env:
      - name: UPSUN_SUPPORT_RETRIES
    ini:
      - section: upsun_support
        key: retries
  deadline:
    env:
      - name: UPSUN_SUPPORT_DEADLINE
    ini:
      - section: upsun_support
        key: deadline
  page_limit:
    env:
      - name: UPSUN_SUPPORT_PAGE_LIMIT
    ini:
      - section: upsun_support
        key: page_limit
  page_concurrency:
    env:
      - name: UPSUN_SUPPORT_PAGE_CONCURRENCY
    ini:
      - section: upsun_support
        key: page_concurrency
  max_response_size:
    env:
      - name: UPSUN_SUPPORT_MAX_RESPONSE_SIZE
    ini:
      - section: upsun_support
        key: max_response_size
notes:
  - The connection settings can also be set in the C([upsun_support]) section of C(ansible.cfg); the environment
    variables win over it (those of the Upsun CLI's other family than the token's are ignored). Keep the tokens in
    the environment (or your CI's secret store) rather than in a file.
'''

    # For modules in the upsun.support.upsun action group.
    ACTION_GROUP = r'''
attributes:
  action_group:
    description: Use C(group/upsun.support.upsun) in C(module_defaults) to set the connection options once for all
      modules of the collection.
    support: full
    membership:
      - upsun.support.upsun
'''

    # For the API modules, whose action plugin runs the module's code on the controller for a local connection.
    ACTION = r'''
attributes:
  action:
    description:
      - On a local connection (ad hoc on C(localhost), C(delegate_to=localhost), C(connection=local)), the module's code
        runs in the controller's process for the task, as the user running Ansible, with the task's C(environment).
        Ansible then neither packs the module nor starts a Python process for it.
      - Elsewhere (another host, C(become), C(async)), or where C(requests) cannot be imported on the controller, the
        module runs as any module does. Both give the same results.
    support: full
'''
