"""Reconciliation: what was finalized, exported and paid, what is late, and what differs.

For a CAE (its `cae` batches) or a commons (the batches of its rounds), it compares the batches
with the ledger: a paid batch must have its payment transaction for the same amount, and what the
ledger still shows as owed to each person (their payable accounts) must equal the lines of the
batches not yet paid. Any mismatch is listed, never silently corrected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.models import Account, Posting
from ledger.accounts.service import balance
from ledger.commons.models import Commons
from ledger.extensions import db
from ledger.payouts.batches import batch_total
from ledger.payouts.models import Cae, PayoutBatch, PayoutLine
from ledger.people.models import Person
from ledger.rounds.models import AllocationLine, Round
from ledger.timeutil import utcnow

DEFAULT_LATE_AFTER_DAYS = 30


@dataclass
class Report:
    scope: dict
    late_after_days: int
    batches: list[dict] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        def total(predicate) -> int:
            return sum(b["total_cents"] for b in self.batches if predicate(b))

        return {
            "finalized_cents": total(lambda b: True),
            "exported_cents": total(lambda b: b["state"] in ("exported", "paid")),
            "paid_cents": total(lambda b: b["state"] == "paid"),
            "outstanding_cents": total(lambda b: b["state"] != "paid"),
            "late_cents": total(lambda b: b["late"]),
        }

    @property
    def late(self) -> list[int]:
        return [b["id"] for b in self.batches if b["late"]]

    def as_dict(self) -> dict:
        return {
            "scope": self.scope,
            "late_after_days": self.late_after_days,
            "totals": self.totals,
            "late": self.late,
            "batches": self.batches,
            "differences": self.differences,
        }


def _aware(value):
    """SQLite hands back naive datetimes for UTC columns."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _paid_amount(tx_id: int) -> int:
    """What a payment transaction paid out: the debits on the payable accounts it settled."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Posting.amount_cents), 0))
            .join(Account)
            .where(
                Posting.transaction_id == tx_id, Posting.amount_cents > 0, Account.kind.in_(("payable:person", "fund:payable"))
            )
        )
        or 0
    )


def _report(scope: dict, batches: list[PayoutBatch], late_after_days: int) -> Report:
    report = Report(scope=scope, late_after_days=late_after_days)
    cutoff = utcnow() - timedelta(days=late_after_days)
    pairs: set[tuple[int, int]] = set()  # (person, commons) whose payable accounts to check
    for batch in batches:
        round_ = db.session.get(Round, batch.round_id)
        cae = db.session.get(Cae, batch.cae_id) if batch.cae_id else None
        finalized_at = _aware(round_.finalized_at)
        total = batch_total(batch)
        report.batches.append(
            {
                "id": batch.id,
                "round_id": round_.id,
                "commons": round_.commons.slug,
                "route": batch.route,
                "cae": cae.code if cae else None,
                "state": batch.state,
                "total_cents": total,
                "line_count": len(batch.lines),
                "finalized_on": finalized_at.date().isoformat() if finalized_at else None,
                "exported_at": _aware(batch.exported_at).isoformat() if batch.exported_at else None,
                "paid_at": _aware(batch.paid_at).isoformat() if batch.paid_at else None,
                "paid_transaction_id": batch.paid_transaction_id,
                "paid_on": batch.paid_on.isoformat() if batch.paid_on else None,
                "bank_reference": batch.bank_reference,
                "late": batch.state != "paid" and finalized_at is not None and finalized_at < cutoff,
            }
        )
        if batch.state == "paid":
            paid = _paid_amount(batch.paid_transaction_id) if batch.paid_transaction_id else 0
            if paid != total:
                report.differences.append(
                    {
                        "kind": "payment",
                        "batch_id": batch.id,
                        "account": None,
                        "person_id": None,
                        "expected_cents": total,
                        "ledger_cents": paid,
                        "message": f"batch {batch.id} is paid but its ledger payment is {paid} cents, not {total}",
                    }
                )
        pairs.update((line.person_id, round_.commons_id) for line in batch.lines)
    report.differences.extend(_payable_differences(pairs))
    return report


def _payable_differences(pairs: set[tuple[int, int]]) -> list[dict]:
    """Ledger balances of each person's payable account against the unpaid batch lines."""
    if not pairs:
        return []
    people = {p for p, _ in pairs}
    unpaid = db.session.execute(
        select(PayoutLine.person_id, Round.commons_id, func.sum(AllocationLine.net_cents))
        .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .join(AllocationLine, AllocationLine.id == PayoutLine.allocation_line_id)
        .join(Round, Round.id == PayoutBatch.round_id)
        .where(PayoutBatch.state != "paid", PayoutLine.person_id.in_(people))
        .group_by(PayoutLine.person_id, Round.commons_id)
    ).all()
    expected: dict[tuple[int, int], int] = defaultdict(int)
    for person_id, commons_id, net in unpaid:
        expected[(person_id, commons_id)] += int(net or 0)
    out = []
    for person_id, commons_id in sorted(pairs):
        commons = db.session.get(Commons, commons_id)
        code = chart.person_payable(person_id, commons).code
        owed = -balance(code)
        if owed != expected[(person_id, commons_id)]:
            person = db.session.get(Person, person_id)
            out.append(
                {
                    "kind": "payable",
                    "batch_id": None,
                    "account": code,
                    "person_id": person_id,
                    "expected_cents": expected[(person_id, commons_id)],
                    "ledger_cents": owed,
                    "message": f"the ledger owes {person.public_name} {owed} cents in {commons.name}, "
                    f"the unpaid batches {expected[(person_id, commons_id)]}",
                }
            )
    return out


def for_cae(cae: Cae, late_after_days: int = DEFAULT_LATE_AFTER_DAYS) -> Report:
    """Every `cae` batch of this CAE, oldest first."""
    batches = db.session.scalars(
        select(PayoutBatch).where(PayoutBatch.route == "cae", PayoutBatch.cae_id == cae.id).order_by(PayoutBatch.id)
    ).all()
    return _report({"cae": cae.code}, list(batches), late_after_days)


def for_commons(commons: Commons, late_after_days: int = DEFAULT_LATE_AFTER_DAYS) -> Report:
    """Every batch of the commons' rounds, oldest first."""
    batches = db.session.scalars(
        select(PayoutBatch)
        .join(Round, Round.id == PayoutBatch.round_id)
        .where(Round.commons_id == commons.id)
        .order_by(PayoutBatch.id)
    ).all()
    return _report({"commons": commons.slug}, list(batches), late_after_days)
