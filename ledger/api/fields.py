"""marshmallow fields for the contract's types: cents, hours, rates."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields, validate

from ledger.accounts.money import parse_rate


class Cents(fields.Integer):
    """An integer number of cents; refuses floats, strings and booleans."""

    def __init__(self, *, minimum: int = 0, maximum: int = 1_000_000_000, **kwargs):
        super().__init__(strict=True, **kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.metadata.setdefault("minimum", minimum)
        self.metadata.setdefault("maximum", maximum)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be a whole number of cents")
        number = super()._deserialize(value, attr, data, **kwargs)
        if not self.minimum <= number <= self.maximum:
            raise ValidationError(f"must be between {self.minimum} and {self.maximum} cents")
        return number


# The largest id both engines store (a signed 64-bit integer): anything larger cannot exist.
MAX_ID = 2**63 - 1


class Id(fields.Integer):
    """A row id given as input: a positive integer that fits the database."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Hours(fields.Field):
    """Hours as a decimal string or number with at most two decimal places; serialized as "7.25"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "example": "2.5"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value):.2f}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError("must be a number of hours such as 2.5")
        try:
            hours = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValidationError("must be a number of hours such as 2.5") from exc
        if not hours.is_finite():
            raise ValidationError("must be a number of hours such as 2.5")
        if abs(hours) >= 1_000_000:  # also keeps quantize() below within Decimal's precision
            raise ValidationError("is far too many hours")
        if hours != hours.quantize(Decimal("0.01")):
            raise ValidationError("has at most two decimal places")
        return hours.quantize(Decimal("0.01"))


class Rate(fields.Field):
    """A ratio between 0 and 1 as a decimal string ("0.05")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "example": "0.05"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError('must be a decimal string such as "0.05"')
        try:
            return parse_rate(str(value), field=attr or "rate")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class UtcDateTime(fields.DateTime):
    """An ISO date-time with its offset, always. SQLite gives stored times back without their
    time zone; every time the service stores is UTC (``ledger.timeutil.utcnow``), so a naive
    value is UTC — and the OpenAPI `date-time` format requires the offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)
