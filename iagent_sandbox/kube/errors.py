"""The API server's error type, shaped like a metav1.Status so the HTTP layer can send it as is.

It lives in its own module because the store, selectors, validation and patch code all raise it;
``store.ApiError`` is this same class.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .resources import ResourceType

# Go's encoding/json (which the API server's serializer follows) escapes these for HTML safety.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
               "\u2029": "\\u2029"}


def go_json(body: Any) -> bytes:
    """JSON the way the API server writes it: compact, UTF-8, Go's HTML escapes, and the trailing
    newline json.Encoder adds. Clients that compare bodies byte for byte see the same bytes."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return (text + "\n").encode()


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=go_json(body), status=status, headers=headers,
                        content_type="application/json")


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        # A nil details is left out; an empty one is sent as {} (kubectl debug dereferences the
        # details of a 404 without checking, so a missing one crashes it).
        if self.details is not None:
            status["details"] = self.details
        status["code"] = self.status
        return status

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.reason!r}, {self.message!r})"


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.group_resource} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.group_resource} "{name}" already exists',
                    _details(rt, name))


def conflict(rt: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {rt.group_resource} "{name}": {why}',
                    _details(rt, name))


def modified_conflict(rt: ResourceType, name: str) -> ApiError:
    return conflict(rt, name, "the object has been modified; please apply your changes to the "
                              "latest version and try again")


def not_found_path() -> ApiError:
    """A path nothing serves (an unknown subresource among them): the real server's empty details."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource", {})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(rt: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(403, "Forbidden", f'{rt.group_resource} "{name}" is forbidden: {why}',
                    _details(rt, name))


def gone(message: str) -> ApiError:
    # A real API server answers an expired resourceVersion with 410 and reason "Expired";
    # clients (client-go reflectors, kubernetes_asyncio) key on the 410 code.
    return ApiError(410, "Expired", message)


def unsupported_media_type(accepted: tuple[str, ...]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: " + ", ".join(accepted))


class FieldError:
    """One cause of a 422 Invalid, worded like k8s.io/apimachinery's field.Error."""

    def __init__(self, reason: str, field: str, message: str) -> None:
        self.reason = reason  # FieldValueInvalid, FieldValueRequired, ...
        self.field = field
        self.message = message  # "Invalid value: \"x\": ..." (without the field path)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def invalid(rt: ResourceType, name: str, errors: list[FieldError]) -> ApiError:
    text = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    details = _details(rt, name)
    details["kind"] = rt.kind
    details["causes"] = [{"reason": e.reason, "message": e.message, "field": e.field} for e in errors]
    return ApiError(422, "Invalid", f'{rt.group_kind} "{name}" is invalid: {text}', details)
