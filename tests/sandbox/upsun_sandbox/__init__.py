# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An offline stand-in for the Upsun support-ticket API and its OAuth2 token server, on one loopback port.

Run ``PYTHONPATH=tests/sandbox python -m upsun_sandbox --port 0``: it prints ``http://127.0.0.1:<port>``,
then serves until SIGTERM/SIGINT. Point both UPSUN_CLI_AUTH_URL and UPSUN_CLI_API_URL at that URL.
In-process: ``Sandbox(...).start()``; as a child process: ``SandboxProcess``; in pytest: the ``sandbox``
fixture of ``upsun_sandbox.pytest_plugin``. Tests steer it through ``SandboxClient`` (``/_sandbox/``).
With ``--tls-cert``/``--tls-key`` (see ``self_signed_certificate``) it serves HTTPS; ``ForwardProxy`` is a
loopback HTTP proxy for proxy tests.

Choices where the real API's behaviour is not documented:

- ``GET /tickets`` lists newest first (highest ``ticket_id`` first), ``page_size`` tickets a page (5 by
  default), pages numbered from 1; ``_links.next`` only when a further page exists, ``previous`` from page 2.
- ``filter[created]``, ``filter[updated]`` and ``filter[due]`` keep tickets whose time is at or after the
  given one (a ticket without ``due`` never matches ``filter[due]``). Other filters match exactly (UUIDs
  case-insensitively). ``search`` is a case-insensitive substring of the subject or the description.
  ``--date-filter`` picks another meaning (``exactly``, ``same-day``); ``--listing-lag`` makes listings show
  each change only after a while, as Zendesk's search index does (``SandboxClient.catch_up`` ends the wait).
- Requests are validated with openapi-core against ``openapi.yaml``, which is stricter than the
  reference: unknown body fields, empty subject/description, and attachments without filename or with
  data that is not strict base64 are refused with 422.
- A new ticket is ``type`` problem, ``status`` new, ``priority`` normal unless given; fields support staff
  would fill (assignee, due, region, ...) are null, ``requester_id`` and ``submitter_id`` default to
  the fake user ``SANDBOX_USER_ID``, ``zd_ticket_url`` is ``<sandbox URL>/support/tickets/<id>``.
- ``PATCH`` of a closed or deleted ticket that would change something answers 422 (Zendesk refuses it).
- The Console's comment endpoints (``POST /comments``, ``GET /comments/{ticket_id}`` newest first, 50 a page,
  the description as the oldest comment, ``GET /comments/{ticket_id}/attachments``); ``--comments refuse-404``
  (``-403``, ``-405``) refuses them.
"""

import importlib

# Where each public name lives; imported on first use so `python -m upsun_sandbox` loads only the server.
_EXPORTS = {
    "DEFAULT_API_TOKEN": "catalog",
    "ForwardProxy": "proxy",
    "SANDBOX_USER_ID": "catalog",
    "Sandbox": "server",
    "SandboxClient": "control",
    "SandboxError": "control",
    "SandboxProcess": "process",
    "self_signed_certificate": "tls",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
