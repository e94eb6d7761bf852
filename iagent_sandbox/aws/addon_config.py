"""Validate add-on ``configurationValues`` against the add-on's schema, answering as EKS does:

``InvalidParameterException: ConfigurationValue provided in request is not supported: Json schema
validation failed with error: [$.nodeSelector: is not defined in the schema and the schema does not
allow additional properties]`` (observed text; EKS's validator is networknt's, whose message forms
are reproduced here for the common keywords).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import yaml

from . import eks_errors as err

_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


def _json_type(value: Any) -> str:
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _messages(error: jsonschema.ValidationError) -> list[str]:
    where = _path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema.get("properties") or {}).keys())
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return [
                f"{_path([*error.absolute_path, key])}: is not defined in the schema and the "
                "schema does not allow additional properties"
                for key in extra
            ]
    if error.validator == "type":
        expected = error.validator_value
        expected = ", ".join(expected) if isinstance(expected, list) else expected
        return [f"{where}: {_json_type(error.instance)} found, {expected} expected"]
    if error.validator == "enum":
        return [f"{where}: does not have a value in the enumeration [{', '.join(map(str, error.validator_value))}]"]
    if error.validator == "minimum":
        return [f"{where}: must have a minimum value of {error.validator_value}"]
    return [f"{where}: {error.message}"]


def parse_configuration(text: str | None) -> dict[str, Any]:
    """The add-on configuration as an object; raise InvalidParameter if it is not JSON/YAML."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            detail = f"configuration values are neither valid JSON nor valid YAML ({exc})".replace("\n", " ")
            raise err.InvalidParameter(err.CONFIG_NOT_SUPPORTED.format(detail=detail)) from None
    if not isinstance(value, dict):
        raise err.InvalidParameter(
            err.CONFIG_NOT_SUPPORTED.format(
                detail=f"Json schema validation failed with error: [$: {_json_type(value)} found, object expected]"
            )
        )
    return value


def validate_configuration(text: str | None, schema: dict[str, Any], addon: str) -> dict[str, Any]:
    config = parse_configuration(text)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    messages = [m for e in errors for m in _messages(e)]
    if messages:
        detail = f"Json schema validation failed with error: [{', '.join(messages)}]"
        raise err.InvalidParameter(err.CONFIG_NOT_SUPPORTED.format(detail=detail), addonName=addon)
    return config
