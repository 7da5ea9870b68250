"""Where each funder's money went: a documented attribution rule, as a pure function.

Money is pooled inside a commons, so no euro can be traced from a funder to a person. The rule
is therefore proportional: each funder's income to a commons (all periods together) is split
across what that commons did with its money, in proportion to the amounts of each use, read from
the ledger's own balances — net retributions paid to contributors, owed to them (finalized, not
yet paid: exported or pending), left to the commons by those who waived them, sent to the
solidarity fund (levies and gifts), and what is otherwise still in its treasury. If a commons
spent more than its recorded income (an opening balance), only its income is attributed and the
treasury share is zero. Earmarks are reported alongside, not used to route money.

Rounding is done once for the whole table (controlled rounding): every cell is within a cent of
its exact share, each funder's parts add up to what it gave, and each use adds up to the
ledger's figure — no per-row rounding error piling up in the totals.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from ledger.accounts.money import split_largest_remainder

USES = ("paid", "owed", "waived", "fund", "treasury")


def controlled_round(row_totals: list[int], column_totals: list[int]) -> list[list[int]]:
    """An integer table with these row and column totals, each cell the floor or ceiling of its exact
    share ``row × column / total``. One always exists; it is found by augmenting paths."""
    total = sum(row_totals)
    if total != sum(column_totals):
        raise ValueError("row and column totals differ")
    rows, columns = range(len(row_totals)), range(len(column_totals))
    if total == 0:
        return [[0 for _ in columns] for _ in rows]
    exact = [[Fraction(r * c, total) for c in column_totals] for r in row_totals]
    cells = [[int(value) for value in row] for row in exact]  # shares are never negative: int() floors
    can = [[exact[i][j] != cells[i][j] for j in columns] for i in rows]
    up = [[False for _ in columns] for _ in rows]
    column_left = [column_totals[j] - sum(cells[i][j] for i in rows) for j in columns]

    def augment(i: int, seen: set[int]) -> bool:
        for j in columns:
            if can[i][j] and not up[i][j] and j not in seen:
                seen.add(j)
                if column_left[j] > 0:
                    column_left[j] -= 1
                    up[i][j] = True
                    return True
                for k in rows:
                    if up[k][j] and augment(k, seen):
                        up[k][j], up[i][j] = False, True
                        return True
        return False

    for i in rows:
        for _ in range(row_totals[i] - sum(cells[i])):
            if not augment(i, set()):
                raise AssertionError("controlled rounding found no augmenting path")
    return [[cells[i][j] + up[i][j] for j in columns] for i in rows]


def uses_of(income_cents: int, spent: dict[str, int]) -> dict[str, int]:
    """What one commons' income went to, per use, adding up to its income."""
    uses = {
        "paid": spent.get("paid", 0),
        "owed": spent.get("owed", 0),
        "waived": spent.get("waived", 0),
        "fund": spent.get("levies", 0) + spent.get("gifts", 0),
    }
    if sum(uses.values()) > income_cents:  # spent from an opening balance: only the income is attributed
        return {**split_largest_remainder(income_cents, uses), "treasury": 0}
    return {**uses, "treasury": income_cents - sum(uses.values())}


def attribute(income: list[dict], spending: dict[int, dict[str, int]]) -> list[dict]:
    """Rows (funder, commons, use, amount_cents) from income rows (commons_id, commons, funder,
    amount_cents) and each commons' spending (paid, owed, waived, levies, gifts in cents).

    Each funder's parts add up exactly to what that funder gave that commons, and each use of a
    commons to the ledger's figure; uses a commons did not have are left out.
    """
    by_commons: dict[int, list[dict]] = defaultdict(list)
    for row in income:
        by_commons[row["commons_id"]].append(row)
    result = []
    for commons_id, rows in by_commons.items():
        uses = uses_of(sum(r["amount_cents"] for r in rows), spending.get(commons_id, {}))
        table = controlled_round([r["amount_cents"] for r in rows], [uses[use] for use in USES])
        for row, parts in zip(rows, table):
            for use, cents in zip(USES, parts):
                if cents:
                    result.append({"funder": row["funder"], "commons": row["commons"], "use": use, "amount_cents": cents})
    return result
