"""Form fields for the pages: amounts typed in euros, read exactly as integer cents."""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms import StringField

from ledger.accounts.money import AmountError, format_euros, parse_euros
from ledger.formatting import money


class EurosField(StringField):
    """An amount in euros typed by a person; ``data`` is integer cents (None when left empty).

    Parsed by ``ledger.accounts.money.parse_euros`` (no float anywhere): 18.005 is refused with a
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
            cents = parse_euros(text)
        except AmountError as error:
            if error.reason == "cents":
                raise ValueError(_("Write an amount in whole cents, at most two decimals (for example 18.01).")) from error
            raise ValueError(_("Write an amount in euros, for example 18.50.")) from error
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
        # Typed back as read: "18.50", the form parse_euros accepts (display formatting is elsewhere).
        return "" if self.data is None else format_euros(self.data, decimal_sep=".")
