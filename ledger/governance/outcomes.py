"""How a proposal was decided: stored as a code with its figures, put in words in the reader's language.

The figures are those of the moment of the decision (a member who leaves later does not change
how a past vote reads); only the words are chosen when the proposal is shown.
"""

from __future__ import annotations

from fractions import Fraction

from flask_babel import gettext as _

from ledger.formatting import percent
from ledger.governance.models import Outcome, ProposalState


def stored(code: Outcome, **params) -> tuple[str, dict]:
    """(code, params) as the proposal keeps them: JSON-safe, fractions as exact text ("2/3")."""
    return code.value, {k: str(v) if isinstance(v, Fraction) else v for k, v in params.items()}


def in_words(proposal) -> str | None:
    """The outcome as a sentence in the reader's language; None while the proposal is open."""
    code, params = proposal.outcome_code, proposal.outcome_params or {}
    if code is None:
        return None
    if code == Outcome.WITHDRAWN:
        return _("Withdrawn by its author.")
    if code == Outcome.STEWARD:
        return _("Decided by a steward: %(reason)s", reason=params["reason"])
    if code == Outcome.CONSENT_ADOPTED:
        return _("Adopted by consent: no objection was left unanswered.")
    if code == Outcome.CONSENT_BLOCKED:
        return _("Not adopted: %(n)s objection(s) left unanswered at the deadline.", n=params["unanswered"])
    if code == Outcome.QUORUM_NOT_MET:
        return _(
            "Not adopted: the quorum was not reached (%(cast)s of %(eligible)s voted).",
            cast=params["cast"],
            eligible=params["eligible"],
        )
    return _(
        "%(verdict)s: %(yes)s yes, weighted by college; %(cast)s of %(eligible)s voted.",
        verdict=_("Adopted") if proposal.state == ProposalState.ADOPTED else _("Not adopted"),
        yes=percent(Fraction(params["yes"]), places=1),
        cast=params["cast"],
        eligible=params["eligible"],
    )
