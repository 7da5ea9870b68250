"""WTForms validators the page forms share with the API's field types."""

from __future__ import annotations

from wtforms.validators import StopValidation

from ledger.text import is_blank, text_problem


class PlainText:
    """The page equivalent of ``ledger.api.fields.Text``: no control or bidirectional control
    characters, and something visible when the field is required."""

    def __init__(self, *, required: bool = False):
        self.required = required

    def __call__(self, form, field):
        from flask_babel import gettext as _

        value = field.data or ""
        if problem := text_problem(value):
            raise StopValidation(problem)
        if self.required and is_blank(value):
            raise StopValidation(_("Write something visible here."))
