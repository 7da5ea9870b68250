"""Request bodies checked once, before any view parses them: a JSON body that Python's parser
would choke on (nesting deep enough to exhaust the stack, an integer of thousands of digits) or
that holds text no database can store (a lone UTF-16 surrogate such as "\\ud800") is refused with
the error envelope, instead of failing deep inside a view as a 500."""

from __future__ import annotations

import json

from flask import request
from flask_babel import lazy_gettext as _l

from ledger.errors import LedgerError, ValidationFailed

# More digits than any amount, id or count the contract has: past this, parsing itself is the risk.
MAX_INTEGER_DIGITS = 40
MAX_DEPTH = 64


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


class TooDeep(Exception):
    pass


def _first_invalid_text(value) -> str | None:
    """The path of the first string (key or value) that cannot be encoded as UTF-8, if any;
    raises TooDeep past MAX_DEPTH levels (which views would then recurse through)."""
    stack = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeep
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return where or "_schema"
        elif isinstance(item, dict):
            for key, inner in item.items():
                child = f"{where}.{key}" if where else str(key)
                stack.append((key, child, depth))
                stack.append((inner, child, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}.{i}" if where else str(i), depth + 1) for i, inner in enumerate(item))
    return None


def check_json_body() -> None:
    """Before each request with a JSON body: refuse what would make a view fail."""
    if not request.is_json or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    raw = request.get_data(cache=True, as_text=False)
    if not raw:
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LedgerError(_l("The request body is not valid UTF-8."), fields={"_body": [_l("not valid UTF-8")]}) from exc
    too_deep = LedgerError(
        _l("The JSON body nests deeper than %(max)s levels.", max=MAX_DEPTH),
        fields={"_body": [_l("nested too deeply")]},
    )
    try:
        document = json.loads(text, parse_int=_bounded_int)
        where = _first_invalid_text(document)
    except (RecursionError, TooDeep) as exc:
        raise too_deep from exc
    except ValueError as exc:
        if "digits" in str(exc):
            raise ValidationFailed(
                _l("A number in the request is out of range: %(exc)s.", exc=exc), fields={"_body": [str(exc)]}
            ) from exc
        return  # not JSON at all: the view's parser answers 400 with its own message
    if where is not None:
        raise ValidationFailed(
            _l("%(where)s: is not valid text (a lone surrogate)", where=where), fields={where: [_l("is not valid text")]}
        )
