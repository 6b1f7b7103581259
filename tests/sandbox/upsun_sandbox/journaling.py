# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the journal keeps of each request the sandbox serves: never a credential."""

from datetime import datetime, timezone
from urllib.parse import parse_qsl

from .messages import FORM, Incoming

# Never journaled: the credentials themselves. Only presence and scheme of Authorization are kept.
_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")
_SECRET_FIELDS = ("api_token", "access_token", "refresh_token", "client_secret", "password")
REDACTED = "<redacted>"


def journal_entry(incoming: Incoming) -> dict:
    """What the journal keeps of a request: never a credential."""
    authorization = incoming.headers.get("Authorization")
    return {
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "connection": incoming.connection,
        "method": incoming.method,
        "path": incoming.path,
        "query": _redacted(_as_dict(incoming.query)),
        "headers": {name: value for name, value in incoming.headers.items() if name.lower() not in _SECRET_HEADERS},
        "auth": {
            "present": authorization is not None,
            "scheme": authorization.strip().split(" ", 1)[0] if authorization and authorization.strip() else None,
        },
        "body": _journal_body(incoming),
        "status": None,
        "fault": None,
    }


def _journal_body(incoming: Incoming):
    if not incoming.body:
        return None
    if incoming.content_type == FORM:
        return _redacted(_as_dict(parse_qsl(incoming.body.decode("utf-8", "replace"), keep_blank_values=True)))
    try:
        return _redacted(incoming.json())
    except ValueError:
        return incoming.body.decode("utf-8", "replace")


def _as_dict(pairs) -> dict:
    """Query or form pairs as a dict; a repeated name maps to the list of its values."""
    result: dict = {}
    for name, value in pairs:
        if name in result:
            previous = result[name]
            result[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            result[name] = value
    return result


def _redacted(value):
    if isinstance(value, dict):
        return {name: REDACTED if name in _SECRET_FIELDS else item for name, item in value.items()}
    return value
