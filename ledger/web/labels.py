"""How stored codes (round states, payout routes, allocation methods) read to people, in their language."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from ledger.commons.models import PayoutRoute
from ledger.payouts.models import BatchState
from ledger.rounds.models import ROUND_LABELS

METHOD_LABELS = {
    "time": _l("time (hours × hourly value)"),
    "self": _l("self (each states their amount)"),
    "peer": _l("peer (points from members)"),
    "hybrid": _l("hybrid (time and points)"),
}

# The long form answers "where should my money go?" in the route form; the short one fits a table cell.
ROUTE_LABELS = {
    PayoutRoute.CAE: _l("Through a CAE (salary)"),
    PayoutRoute.INVOICE: _l("I invoice"),
    PayoutRoute.WAIVE: _l("Left to the commons"),
    PayoutRoute.FUND: _l("Given to the solidarity fund"),
}
ROUTE_SHORT_LABELS = {
    PayoutRoute.CAE: _l("CAE"),
    PayoutRoute.INVOICE: _l("invoice"),
    PayoutRoute.WAIVE: _l("waived"),
    PayoutRoute.FUND: _l("to the fund"),
}


# A context keeps "paid" apart from a contribution's "paid": French agrees the word with the noun.
BATCH_LABELS = {
    BatchState.PENDING: _lp("payout batch", "pending"),
    BatchState.EXPORTED: _lp("payout batch", "exported"),
    BatchState.PAID: _lp("payout batch", "paid"),
}


def template_labels() -> dict:
    return {
        "round_labels": ROUND_LABELS,
        "method_labels": METHOD_LABELS,
        "route_labels": ROUTE_SHORT_LABELS,
        "batch_labels": BATCH_LABELS,
    }
