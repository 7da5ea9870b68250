"""How stored codes (round states, payout routes, allocation methods) read to people, in their language."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

# Distinct wording from the contribution statuses: in French a round and a contribution differ in gender.
ROUND_LABELS = {
    "open": _l("open for declarations"),
    "review": _l("in review"),
    "allocated": _l("allocation computed"),
    "finalized": _l("finalized"),
    "paid": _l("paid out"),
}

METHOD_LABELS = {
    "time": _l("time (hours × hourly value)"),
    "self": _l("self (each states their amount)"),
    "peer": _l("peer (points from members)"),
    "hybrid": _l("hybrid (time and points)"),
}

# The long form answers "where should my money go?" in the route form; the short one fits a table cell.
ROUTE_LABELS = {
    "cae": _l("Through a CAE (salary)"),
    "invoice": _l("I invoice"),
    "waive": _l("Left to the commons"),
    "fund": _l("Given to the solidarity fund"),
}
ROUTE_SHORT_LABELS = {"cae": _l("CAE"), "invoice": _l("invoice"), "waive": _l("waived"), "fund": _l("to the fund")}


# A context keeps "paid" apart from a contribution's "paid": French agrees the word with the noun.
BATCH_LABELS = {
    "pending": _lp("payout batch", "pending"),
    "exported": _lp("payout batch", "exported"),
    "paid": _lp("payout batch", "paid"),
}


def template_labels() -> dict:
    return {
        "round_labels": ROUND_LABELS,
        "method_labels": METHOD_LABELS,
        "route_labels": ROUTE_SHORT_LABELS,
        "batch_labels": BATCH_LABELS,
    }
