# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Request validation against the sandbox's own OpenAPI description (openapi.yaml), with openapi-core.

openapi-core takes most of a second to import, so it is loaded once, on first use or by warm_up() in a
background thread right after the server starts listening: startup stays fast and the first request waits
at most for the end of the load.
"""

import base64
import binascii
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .messages import Incoming, Reply, problem

SPEC_PATH = Path(__file__).with_name("openapi.yaml")

# openapi-core needs an absolute URL; the description's only server is "/", so any origin matches.
_ORIGIN = "http://sandbox.invalid"

# Longest rendering of a rejected value in an error message (attachments can be megabytes).
_MAX_VALUE_TEXT = 60


@dataclass
class Checked:
    """The outcome of validating one request: an error reply, or the unmarshalled parameters."""

    error: Reply | None = None
    query: dict = field(default_factory=dict)
    path: dict = field(default_factory=dict)


def is_base64(value) -> bool:
    """Strict base64 (standard alphabet, padding, no whitespace), for the OpenAPI "byte" format.

    Replaces openapi-schema-validator's own check, which raises instead of answering False on non-ASCII text.
    """
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return False
    return True


class _OpenAPIRequest:
    """The openapi_core.protocols.Request view of an Incoming request."""

    def __init__(self, incoming: Incoming) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = _ORIGIN
        self.path = incoming.path
        self.method = incoming.method.lower()
        self.body = incoming.body or None
        self.content_type = (incoming.headers.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(incoming.query),
            header=Headers(list(incoming.headers.items())),
        )


# How validation errors are answered: "list" (422 with "errors", the sandbox's own) or "detail" (400 whose "detail"
# is an object of field -> message, as the live API answers).
VALIDATION_ERROR_STYLES = ("list", "detail")


class Validator:
    """Validates requests against openapi.yaml; thread-safe, loads openapi-core once."""

    def __init__(self, spec_path: Path = SPEC_PATH, style: str = "list") -> None:
        if style not in VALIDATION_ERROR_STYLES:
            raise ValueError(f"the validation error style must be one of {', '.join(VALIDATION_ERROR_STYLES)}")
        self.spec_path = spec_path
        self.style = style
        self._lock = threading.Lock()
        self._openapi = None

    def _load(self):
        # Called with the lock held.
        if self._openapi is None:
            from openapi_core import Config, OpenAPI

            # spec_validator_cls=None: the description is checked by the tests, not at every start (saves 0.1 s).
            config = Config(extra_format_validators={"byte": is_base64}, spec_validator_cls=None)
            self._openapi = OpenAPI.from_file_path(str(self.spec_path), config=config)
        return self._openapi

    def warm_up(self) -> None:
        """Load openapi-core and the description now (meant for a background thread)."""
        with self._lock:
            self._load()

    def check(self, incoming: Incoming) -> Checked:
        """Validate a request; an error reply is 422 (415 for a wrong media type, 400 for a malformed body)."""
        request = _OpenAPIRequest(incoming)
        with self._lock:
            result = self._load().unmarshal_request(request)
        if result.errors:
            return Checked(error=error_reply(result.errors, self.style))
        return Checked(query=dict(result.parameters.query), path=dict(result.parameters.path))


def error_reply(errors, style: str = "list") -> Reply:
    """A problem reply whose "error" text names every offending field (style "list"), or whose "detail" maps each
    offending field to its message (style "detail": 400 {"error": "Bad Request", "detail": {field: message}})."""
    from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound

    details = []
    status = 422
    for error in errors:
        cause = error.__cause__
        if isinstance(cause, MediaTypeNotFound):
            return problem(415, f"Unsupported Content-Type; expected {', '.join(cause.availableMimetypes)}")
        if isinstance(cause, MediaTypeDeserializeError):
            return problem(400, "The request body is not valid JSON")
        details.extend(_details(error))
    if style == "detail":
        return problem(400, "Bad Request", detail={item["field"]: item["message"] for item in details})
    text = "; ".join(f"{item['field']}: {item['message']}" for item in details)
    return problem(status, f"Invalid request: {text}", errors=details)


def _details(error) -> list[dict]:
    from openapi_core.casting.schemas.exceptions import CastError
    from openapi_core.validation.request.exceptions import (
        MissingRequestBodyError,
        ParameterValidationError,
        RequestBodyValidationError,
    )

    cause = error.__cause__
    if isinstance(error, ParameterValidationError):
        base = [error.name]
        if isinstance(cause, CastError):
            return [{"field": error.name, "message": f"{_show(cause.value)} is not a valid {cause.type}"}]
    elif isinstance(error, MissingRequestBodyError):
        return [{"field": "body", "message": "a JSON request body is required"}]
    elif isinstance(error, RequestBodyValidationError):
        base = []
    else:
        return [{"field": "request", "message": str(error)}]
    schema_errors = getattr(cause, "schema_errors", None)
    if not schema_errors:
        return [{"field": _field(base), "message": str(cause or error)}]
    return [_schema_detail(base, item) for item in schema_errors]


def _schema_detail(base: list, item) -> dict:
    """One jsonschema error as {"field": "attachments[0].data", "message": "..."}."""
    where = base + list(item.absolute_path)
    kind = item.validator
    if kind == "required":
        names = re.findall(r"'([^']*)' is a required property", item.message)
        return {"field": _field(where + names[:1]), "message": "is required"}
    if kind == "additionalProperties":
        names = re.findall(r"'([^']*)'", item.message)
        return {"field": _field(where + names[:1]), "message": "is not a known field"}
    if kind == "enum":
        allowed = ", ".join(str(value) for value in item.validator_value)
        return {"field": _field(where), "message": f"{_show(item.instance)} is not one of: {allowed}"}
    if kind == "format":
        wanted = "base64-encoded data" if item.validator_value == "byte" else f"a valid {item.validator_value}"
        return {"field": _field(where), "message": f"{_show(item.instance)} is not {wanted}"}
    if kind == "type":
        return {"field": _field(where), "message": f"{_show(item.instance)} is not of type {item.validator_value}"}
    if kind == "minLength" and item.validator_value == 1:
        return {"field": _field(where), "message": "must not be empty"}
    return {"field": _field(where), "message": item.message[:200]}


def _field(parts) -> str:
    """["attachments", 0, "data"] as "attachments[0].data"; the whole body is "body"."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_TEXT else text[:_MAX_VALUE_TEXT - 3] + "..."
