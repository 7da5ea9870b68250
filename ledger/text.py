"""What counts as acceptable text and numbers typed by a person, for the API and the pages alike.

Text shown to others must not carry characters that hide or disguise it: control characters (NUL
cannot even be stored by PostgreSQL), bidirectional embeddings, overrides and isolates (which
make "invoice.pdf" read as something else), nor be made only of spaces and zero-width
characters. Numbers are ASCII digits only: Python also reads "１", "٣" and "1_0" as numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

# Control characters other than tab and newlines.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BIDI_CONTROL_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing: spaces, zero-width spaces and joiners, word joiner, BOM, soft hyphen.
INVISIBLE_RE = re.compile("[\\s\u200b-\u200d\u2060\ufeff\u00ad\u180e]")
DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored and shown, or None."""
    if CONTROL_RE.search(text):
        return _("Remove the invisible control characters from this text.")
    if BIDI_CONTROL_RE.search(text):
        return _("Remove the text direction control characters from this text.")
    return None


def is_blank(text: str) -> bool:
    """Nothing visible: only spaces and zero-width characters (or nothing at all)."""
    return not INVISIBLE_RE.sub("", text)


def parse_decimal(text: str) -> Decimal:
    """A decimal number written with ASCII digits and an optional point; ValueError otherwise."""
    text = text.strip()
    if not DECIMAL_RE.fullmatch(text):
        raise ValueError(text)
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(text) from exc
