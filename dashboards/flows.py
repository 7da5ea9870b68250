"""Where each funder's money went: a documented attribution rule, as a pure function.

Money is pooled inside a commons, so no euro can be traced from a funder to a person. The rule
is therefore proportional: each funder's income to a commons (all periods together) is split
across what that commons did with its money, in proportion to the amounts of each use —
net retributions paid to contributors, money sent to the solidarity fund (levies and gifts),
and what is still in its treasury (including retributions contributors waived). If a commons
spent more than its recorded income (an opening balance), only its income is attributed and the
treasury share is zero. Earmarks are reported alongside, not used to route money: a commons
records them as intentions, not as separate accounts.
"""

from __future__ import annotations

from collections import defaultdict

from ledger.accounts.money import split_largest_remainder

USES = ("contributors", "fund", "treasury")


def attribute(income: list[dict], spending: dict[int, dict[str, int]]) -> list[dict]:
    """Rows (funder, commons, use, amount_cents) from income rows (commons_id, commons, funder,
    amount_cents) and each commons' spending (contributors, levies, gifts in cents).

    Each funder's parts add up exactly to what that funder gave that commons (largest
    remainder); uses a commons did not have are left out.
    """
    by_commons: dict[int, list[dict]] = defaultdict(list)
    for row in income:
        by_commons[row["commons_id"]].append(row)
    result = []
    for commons_id, rows in by_commons.items():
        spent = spending.get(commons_id, {})
        uses = {"contributors": spent.get("contributors", 0), "fund": spent.get("levies", 0) + spent.get("gifts", 0)}
        uses["treasury"] = max(0, sum(r["amount_cents"] for r in rows) - sum(uses.values()))
        for row in rows:
            parts = split_largest_remainder(row["amount_cents"], uses)
            for use in USES:
                if parts.get(use):
                    result.append({"funder": row["funder"], "commons": row["commons"], "use": use, "amount_cents": parts[use]})
    return result
