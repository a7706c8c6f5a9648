"""mailcatch.shapes says what web/openapi.py says: the same keys, all required, of the same types."""

from __future__ import annotations

import types
import typing
from typing import Any, ForwardRef, Literal, Union, get_args, get_origin

import pytest

from mailcatch import shapes
from mailcatch.web.openapi import document

SCHEMAS: dict[str, Any] = document()["components"]["schemas"]

# Each shape and the schema it describes (a schema nested in another is reached by its path of keys).
PAIRS = [
    (shapes.AddressJSON, ("Address",)),
    (shapes.PartJSON, ("Attachment",)),
    (shapes.ChecksumsJSON, ("Attachment", "Checksums")),
    (shapes.ListUnsubscribeJSON, ("ListUnsubscribe",)),
    (shapes.CalendarPartJSON, ("CalendarPart",)),
    (shapes.EnvelopeJSON, ("Envelope",)),
    (shapes.MessageSummary, ("MessageSummary",)),
    (shapes.MessagesPage, ("MessagesSummary",)),
    (shapes.SearchPage, ("SearchSummary",)),
    (shapes.MessageJSON, ("Message",)),
    (shapes.TranscriptJSON, ("Transcript",)),
    (shapes.TranscriptSession, ("Transcript", "Session")),
    (shapes.TranscriptEnvelope, ("Transcript", "Envelope")),
    (shapes.TranscriptTransaction, ("Transcript", "Transaction")),
    (shapes.MailHogPath, ("MailHogPath",)),
    (shapes.MailHogContent, ("MailHogContent",)),
    (shapes.MailHogMIME, ("MailHogContent", "MIME")),
    (shapes.MailHogMessage, ("MailHogMessage",)),
    (shapes.MailHogRaw, ("MailHogMessage", "Raw")),
    (shapes.MailHogPage, ("MailHogMessages",)),
]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        found: dict[str, Any] = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
        return found
    return schema


def _schema_at(path: tuple[str, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = SCHEMAS[path[0]]
    for key in path[1:]:
        schema = _resolve(schema["properties"][key])
    return schema


def _is_typeddict(hint: Any) -> bool:
    return isinstance(hint, type) and typing.is_typeddict(hint)


def _check(hint: Any, schema: dict[str, Any], where: str, seen: set[tuple[Any, int]]) -> None:
    """Fail unless values of type `hint` are what `schema` describes."""
    schema = _resolve(schema)
    args = get_args(hint)
    if get_origin(hint) in (Union, types.UnionType) and type(None) in args:
        assert schema.get("nullable"), f"{where}: None is allowed, the schema says not nullable"
        (hint,) = (arg for arg in args if arg is not type(None))
        args = get_args(hint)
    else:
        assert not schema.get("nullable"), f"{where}: the schema allows null, the shape does not"
    origin = get_origin(hint)
    if _is_typeddict(hint):
        if (hint, id(schema)) not in seen:  # MailHog's content holds parts that are contents
            _check_fields(hint, schema, where, seen)
    elif origin is list:
        assert schema["type"] == "array", where
        _check(args[0], schema["items"], f"{where}[]", seen)
    elif origin is dict:
        assert schema["type"] == "object" and args[0] is str, where
        _check(args[1], schema["additionalProperties"], f"{where}{{}}", seen)
    elif origin is Literal:
        assert schema["type"] == "string" and set(schema["enum"]) == set(args), where
    else:
        assert schema["type"] == {str: "string", int: "integer", bool: "boolean"}[hint], where


def _hints(shape: Any) -> dict[str, Any]:
    """The shape's field types (typing.get_type_hints recurses forever through MailHog's recursive shapes)."""
    return {
        key: eval(hint.__forward_arg__ if isinstance(hint, ForwardRef) else hint, vars(shapes))
        if isinstance(hint, (str, ForwardRef))
        else hint
        for key, hint in shape.__annotations__.items()
    }


def _check_fields(shape: Any, schema: dict[str, Any], where: str, seen: set[tuple[Any, int]]) -> None:
    assert schema["type"] == "object", where
    seen.add((shape, id(schema)))
    hints = _hints(shape)
    assert list(hints) == list(schema["properties"]), f"{where}: keys differ"
    assert shape.__required_keys__ == frozenset(schema["required"]) == frozenset(hints), f"{where}: not all required"
    for key, hint in hints.items():
        _check(hint, schema["properties"][key], f"{where}.{key}", seen)


@pytest.mark.parametrize(("shape", "path"), PAIRS, ids=[shape.__name__ for shape, _ in PAIRS])
def test_shape_matches_its_schema(shape: Any, path: tuple[str, ...]) -> None:
    _check_fields(shape, _schema_at(path), ".".join(path), set())


def test_every_shape_is_checked() -> None:
    defined = {value for value in vars(shapes).values() if _is_typeddict(value)}
    assert defined == {shape for shape, _ in PAIRS} | {shapes.TranscriptLineJSON}  # the line: in Transcript.Lines
