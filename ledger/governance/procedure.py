"""Whether a steward may change the rules of the commons directly, or must make a proposal.

The rules of retribution and the colleges of a vote follow the same rule: only under the
`steward` procedure does a steward change them alone.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ledger.commons.models import Commons
from ledger.errors import Forbidden
from ledger.governance.models import Procedure
from ledger.rounds.rules import rules_in_force


def direct_change_allowed(commons: Commons) -> bool:
    rules = rules_in_force(commons.id)
    return rules is None or rules.decision_procedure == Procedure.STEWARD


def require_direct_change_allowed(commons: Commons) -> None:
    """Under `consent` or `vote` nobody changes the rules or the colleges alone, not even a
    steward or an administrator: the change is a proposal."""
    if not direct_change_allowed(commons):
        rules = rules_in_force(commons.id)
        raise Forbidden(
            _l("In %(commons)s the rules are changed by consent or vote: make a proposal instead.", commons=commons.name),
            code="decided_by_" + rules.decision_procedure,
        )
