"""marshmallow fields for the contract's types: cents, hours, rates, text, days.

API modules import their fields from here (``from ledger.api import fields``): marshmallow's,
except that ``String`` checks text as ``ledger.text`` says (no control or bidirectional control
characters, not blank when required) and ``Date`` refuses days no calendar computation can
handle, each naming its field.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal

from flask_babel import gettext as _
from marshmallow import ValidationError, validate
from marshmallow import fields as ma
from marshmallow.fields import Boolean, DateTime, Dict, Email, Field, Function, Integer, List, Method, Nested, Raw

from ledger.accounts.money import parse_rate
from ledger.formatting import day as format_day
from ledger.text import is_blank, parse_decimal, text_problem

__all__ = ["Boolean", "DateTime", "Dict", "Email", "Field", "Function", "Integer", "List", "Method", "Nested", "Raw"]


class Cents(ma.Integer):
    """An integer number of cents; refuses floats, strings and booleans."""

    def __init__(self, *, minimum: int = 0, maximum: int = 1_000_000_000, **kwargs):
        super().__init__(strict=True, **kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.metadata.setdefault("minimum", minimum)
        self.metadata.setdefault("maximum", maximum)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError(_("must be a whole number of cents"))
        number = super()._deserialize(value, attr, data, **kwargs)
        if not self.minimum <= number <= self.maximum:
            raise ValidationError(
                _("must be between %(minimum)s and %(maximum)s cents", minimum=self.minimum, maximum=self.maximum)
            )
        return number


# The largest id both engines store (a signed 64-bit integer): anything larger cannot exist.
MAX_ID = 2**63 - 1


class Id(ma.Integer):
    """A row id given as input: a positive integer that fits the database."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Hours(ma.Field):
    """Hours as a decimal string or number with at most two decimal places; serialized as "7.25"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "example": "2.5"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value):.2f}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(_("must be a number of hours such as 2.5"))
        try:
            hours = parse_decimal(str(value))
        except ValueError as exc:
            raise ValidationError(_("must be a number of hours such as 2.5")) from exc
        if not hours.is_finite():
            raise ValidationError(_("must be a number of hours such as 2.5"))
        if abs(hours) >= 1_000_000:  # also keeps quantize() below within Decimal's precision
            raise ValidationError(_("is far too many hours"))
        if hours != hours.quantize(Decimal("0.01")):
            raise ValidationError(_("has at most two decimal places"))
        return hours.quantize(Decimal("0.01"))


class Rate(ma.Field):
    """A ratio between 0 and 1 as a decimal string ("0.05")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "example": "0.05"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(_('must be a decimal string such as "0.05"'))
        try:
            return parse_rate(str(value))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class UtcDateTime(ma.DateTime):
    """An ISO date-time with its offset, always. SQLite gives stored times back without their
    time zone; every time the service stores is UTC (``ledger.timeutil.utcnow``), so a naive
    value is UTC — and the OpenAPI `date-time` format requires the offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Text(ma.String):
    """A string a person wrote: trimmed, without control or bidirectional control characters; text
    with nothing visible (spaces, zero-width characters) is empty, so that the field's length rule
    or its service refuses it where text is required."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if problem := text_problem(text):
            raise ValidationError(problem)
        return "" if is_blank(text) else text


String = Text


class Day(ma.Date):
    """A calendar day within years the service can compute with (periods, deadlines, days after)."""

    FIRST, LAST = date(1900, 1, 1), date(2999, 12, 31)

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not self.FIRST <= day <= self.LAST:
            raise ValidationError(
                _("must be between %(first)s and %(last)s", first=format_day(self.FIRST), last=format_day(self.LAST))
            )
        return day


Date = Day
