"""Form fields for the pages: amounts typed in euros, read exactly as integer cents, and decimal
numbers (percentages, hours) typed the reader's way ("18,5" in French, "18.5" in English).

Both show their value as the reader types it (``ledger.formatting.amount_input`` and
``number_input``) and read it back without any float.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from wtforms import StringField

from ledger import formatting
from ledger.accounts.money import AmountError, parse_euros
from ledger.formatting import money


class EurosField(StringField):
    """An amount in euros typed by a person; ``data`` is integer cents (None when left empty).

    Read in the reader's language (``formatting.plain_number``: "1 200,50", "1,200.50" in English)
    then by ``ledger.accounts.money.parse_euros`` (no float anywhere): 18.005 is refused with a
    message, never rounded, and the bounds are compared in cents (a 0.01 € cap is 1 cent).
    """

    def __init__(self, label=None, validators=None, *, minimum_cents: int = 0, maximum_cents: int = 1_000_000_000, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum_cents, self.maximum_cents = minimum_cents, maximum_cents

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            cents = parse_euros(formatting.plain_number(text.strip("€ \xa0\u202f")))
        except (AmountError, ValueError) as error:
            example = formatting.amount_input(1801)
            if getattr(error, "reason", None) == "cents":
                raise ValueError(
                    _("Write an amount in whole cents, at most two decimals, such as %(example)s.", example=example)
                ) from error
            raise ValueError(_("Write an amount in euros, such as %(example)s.", example=example)) from error
        if not self.minimum_cents <= cents <= self.maximum_cents:
            raise ValueError(
                _(
                    "Must be between %(low)s and %(high)s.",
                    low=money(self.minimum_cents),
                    high=money(self.maximum_cents),
                )
            )
        self.data = cents

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        # Typed back as read: "18,50" in French, "18.50" in English (no grouping: what parse_euros reads).
        return "" if self.data is None else formatting.amount_input(self.data)


class DecimalNumberField(StringField):
    """A decimal number (a percentage, hours) typed in the reader's language; ``data`` is a
    ``Decimal`` (None when left empty), with at most ``places`` decimals and within the bounds.

    Replaces WTForms' ``DecimalField``, which reads only a point and shows "15.00" in French.
    """

    def __init__(self, label=None, validators=None, *, places: int = 2, minimum=0, maximum=100, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places, self.minimum, self.maximum = places, Decimal(minimum), Decimal(maximum)

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            value = formatting.parse_number(text)
        except ValueError as error:
            raise ValueError(
                _("Write a number, such as %(example)s.", example=formatting.number_input(Decimal("12.5")))
            ) from error
        if value != formatting.rounded(value, self.places):
            raise ValueError(_("Write at most %(n)s decimals.", n=self.places))
        if not self.minimum <= value <= self.maximum:
            raise ValueError(
                _(
                    "Must be between %(low)s and %(high)s.",
                    low=formatting.number(self.minimum),
                    high=formatting.number(self.maximum),
                )
            )
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else formatting.number_input(self.data, self.places)
