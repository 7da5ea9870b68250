"""How a round's state reads to people, in their language."""

from flask_babel import lazy_gettext as _l

# Distinct wording from the contribution statuses: in French a round and a contribution differ in gender.
ROUND_LABELS = {"open": _l("open for declarations"), "review": _l("in review"), "allocated": _l("allocation computed"),
                "finalized": _l("finalized"), "paid": _l("paid out")}
