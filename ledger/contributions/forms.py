"""Web forms of contributions and their review. They only parse: the service decides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional

from ledger.contributions.validation import DESCRIPTION_LENGTH, EVIDENCE_MAX, REASON_LENGTH


class ContributionFields(FlaskForm):
    date = DateField(_l("Date of the work"), validators=[InputRequired(message=_l("Enter the date of the work."))])
    hours = StringField(_l("Hours"), validators=[InputRequired(message=_l("Enter the number of hours."))])
    category = SelectField(_l("Category"), validators=[InputRequired(message=_l("Choose a category."))], validate_choice=False)
    description = TextAreaField(_l("What did you do?"), validators=[InputRequired(message=_l("Describe what you did."))])
    evidence_url = URLField(_l("Link to a trace of the work (optional)"), validators=[Optional()])


class DeclareForm(ContributionFields):
    # The commons is chosen above the form; the one-time token makes a double submit harmless.
    commons = HiddenField(_l("Commons"))
    nonce = HiddenField()


class EditForm(ContributionFields):
    pass


class ActionForm(FlaskForm):
    """A button-only form (vouch, withdraw): nothing but its CSRF token."""


class ObjectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you object?"),
        validators=[InputRequired(message=_l("Write the reason of your objection.")), Length(max=REASON_LENGTH[1])],
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[Optional(), Length(max=REASON_LENGTH[1])])
    amended_hours = StringField(_l("Amended hours (optional)"), validators=[Optional()])


class VoteForm(FlaskForm):
    vote = RadioField(
        _l("Your vote"),
        choices=[SelectChoice("keep", _l("Keep the contribution")), SelectChoice("reject", _l("Reject the contribution"))],
        validators=[InputRequired(message=_l("Choose keep or reject."))],
    )


class ResolveForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("dismiss", _l("Dismiss the objection: the contribution counts")),
            SelectChoice("uphold", _l("Uphold the objection: the contribution does not count")),
        ],
        validators=[InputRequired(message=_l("Choose a decision."))],
    )
    resolution = TextAreaField(
        _l("Explain the decision"), validators=[InputRequired(message=_l("Explain the decision.")), Length(max=REASON_LENGTH[1])]
    )


HINTS = {
    "hours": _l("For example 1.5 or 1,5 — in quarters of an hour, at most 24 a day across all your commons."),
    "description": _l(
        "Between %(low)s and %(high)s characters. Care, upkeep and welcoming count too.",
        low=DESCRIPTION_LENGTH[0],
        high=DESCRIPTION_LENGTH[1],
    ),
    "evidence_url": _l("A web link (http or https), at most %(n)s characters: a document, a photo, a ticket…", n=EVIDENCE_MAX),
    "date": _l("Not in the future. A late declaration goes to the current open round."),
}
