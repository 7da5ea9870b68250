"""Payout batches: a finalized round's lines grouped by route (and by CAE for the `cae` route).

A batch moves ``pending`` → ``exported`` → ``paid``. A `cae` batch is exported with its CAE's
salary lines and marked paid by that CAE's accountant once the CAE has paid; an `invoice` batch
is marked paid by a steward of the round's commons, exported or not. Marking paid writes one
ledger transaction (ref ``batch:{id}:paid``) that settles what the commons and the fund owed each
person. A round becomes ``paid`` once every batch it has is paid (at once if it has none).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.accounts import chart, memos
from ledger.accounts.models import Account, LedgerTransaction, Posting, TransactionKind
from ledger.accounts.service import DuplicateEntry, Leg, post
from ledger.bulk import among, insert_rows
from ledger.commons.models import PayoutRoute
from ledger.commons.service import can_steward
from ledger.errors import Conflict, Forbidden, NotFound, field_error
from ledger.extensions import db
from ledger.formatting import later, money
from ledger.payouts.models import BatchState, PayoutBatch, PayoutLine
from ledger.people.models import ROLE_CAE_ACCOUNTANT, Person
from ledger.rounds.models import AllocationLine, Round, RoundState
from ledger.timeutil import today, utcnow

# Routes whose money leaves the commons and so must be exported and marked paid.
PAYABLE_ROUTES = (PayoutRoute.CAE, PayoutRoute.INVOICE)


def create_batches(round_: Round) -> list[PayoutBatch]:
    """Group the round's payable allocation lines into batches; safe to call twice.

    A few statements whatever the round's size: the lines are read as rows and the payout lines
    inserted in one executemany.
    """
    lines = db.session.execute(
        select(
            AllocationLine.id,
            AllocationLine.person_id,
            AllocationLine.net_cents,
            AllocationLine.topup_cents,
            AllocationLine.route,
            AllocationLine.cae_id,
            AllocationLine.cae_contribution_cents,
            AllocationLine.salary_budget_cents,
        )
        .where(AllocationLine.round_id == round_.id)
        .order_by(AllocationLine.person_id)
    ).all()
    batches: dict[tuple[str, int | None], PayoutBatch] = {
        (b.route, b.cae_id): b for b in db.session.scalars(select(PayoutBatch).where(PayoutBatch.round_id == round_.id))
    }
    existing_lines = set(
        db.session.scalars(select(PayoutLine.allocation_line_id).join(PayoutBatch).where(PayoutBatch.round_id == round_.id))
    )
    payable = [
        (line, (line.route, line.cae_id if line.route == PayoutRoute.CAE else None))
        for line in lines
        if line.route in PAYABLE_ROUTES and line.net_cents + line.topup_cents != 0 and line.id not in existing_lines
    ]
    for _, key in payable:
        if key not in batches:
            batches[key] = PayoutBatch(round_id=round_.id, route=key[0], cae_id=key[1], state=BatchState.PENDING)
            db.session.add(batches[key])
    db.session.flush()
    if payable:
        insert_rows(
            PayoutLine.__table__,
            [
                {
                    "batch_id": batches[key].id,
                    "allocation_line_id": line.id,
                    "person_id": line.person_id,
                    "amount_cents": line.net_cents + line.topup_cents,
                    "cae_contribution_cents": line.cae_contribution_cents,
                    "salary_budget_cents": line.salary_budget_cents,
                }
                for line, key in payable
            ],
        )
        for batch in batches.values():
            db.session.expire(batch, ["lines"])
    settle_round(round_)
    return list(batches.values())


def get_batch(batch_id: int) -> PayoutBatch:
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(_l("No payout batch %(batch_id)s.", batch_id=batch_id))
    return batch


def batch_total(batch: PayoutBatch) -> int:
    """What the batch pays out, in cents."""
    return sum(line.amount_cents for line in batch.lines)


def may_mark_paid(person: Person | None, batch: PayoutBatch) -> bool:
    """The CAE's accountant for a `cae` batch; a steward of the commons (or an admin) for `invoice`."""
    if person is None:
        return False
    if batch.route == PayoutRoute.CAE:
        return person.has_role(ROLE_CAE_ACCOUNTANT, batch.cae_id)
    round_ = db.session.get(Round, batch.round_id)
    return can_steward(round_.commons, person)


def mark_exported(batches: list[PayoutBatch], actor: Person | None, at: datetime | None = None) -> None:
    """Record the first export of each pending batch (later exports keep the first date)."""
    at = at or utcnow()
    for batch in batches:
        if batch.state == BatchState.PENDING:
            batch.state, batch.exported_at = BatchState.EXPORTED, at
            batch.exported_by_id = actor.id if actor else None
    db.session.flush()


def owed_by_the_ledger(round_: Round, person_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(net, top-up) the round's own ledger entries owe each person, in cents.

    Read from the hash-chained entries finalization wrote (refs ``round:{id}:retribution:{p}``
    and ``round:{id}:topup:{p}``), never from allocation or payout rows, which are not chained.
    """
    payable = {chart.person_payable(p, round_.commons).code: p for p in person_ids}
    fund_payable = {chart.fund_payable(p).code: p for p in person_ids}
    refs = [f"round:{round_.id}:{what}:{p}" for p in person_ids for what in ("retribution", "topup")]
    owed = {p: [0, 0] for p in person_ids}
    for condition in among(LedgerTransaction.ref, refs):
        for code, amount in db.session.execute(
            select(Account.code, Posting.amount_cents)
            .join(Posting, Posting.account_id == Account.id)
            .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
            .where(condition, LedgerTransaction.round_id == round_.id)
        ):
            if code in payable:
                owed[payable[code]][0] -= amount  # the entry credits the payable account
            elif code in fund_payable:
                owed[fund_payable[code]][1] -= amount
    return {p: (net, topup) for p, (net, topup) in owed.items()}


def payment_legs(batch: PayoutBatch, round_: Round) -> list[Leg]:
    """Settle what the commons owes each person (net) and what the fund owes them (top-up).

    The amounts are the ledger's; a payout line that says otherwise (a row changed after
    finalization) refuses the payment, naming the person.
    """
    lines = db.session.execute(
        select(PayoutLine.person_id, PayoutLine.amount_cents)
        .where(PayoutLine.batch_id == batch.id)
        .order_by(PayoutLine.person_id)
    ).all()
    owed = owed_by_the_ledger(round_, [person_id for person_id, _ in lines])
    for person_id, amount in lines:
        if amount != sum(owed[person_id]):
            raise Conflict(
                _l(
                    "Payout batch %(batch)s says %(amount)s for person %(person_id)s but the ledger owes them %(owed)s: "
                    "the batch was changed after finalization; nothing was paid.",
                    batch=batch.id,
                    amount=later(money, amount),
                    person_id=person_id,
                    owed=later(money, sum(owed[person_id])),
                )
            )
    legs: list[Leg] = []
    net_total = topup_total = 0
    for person_id, _ in lines:
        net, topup = owed[person_id]
        if net:
            legs.append(Leg(chart.person_payable(person_id, round_.commons), net, f"batch {batch.id}"))
        if topup:
            legs.append(Leg(chart.fund_payable(person_id), topup, f"batch {batch.id}"))
        net_total += net
        topup_total += topup
    if net_total:
        legs.append(Leg(chart.commons_treasury(round_.commons), -net_total, f"batch {batch.id}"))
    if topup_total:
        legs.append(Leg(chart.fund_treasury(), -topup_total, f"batch {batch.id}"))
    return legs


BANK_REFERENCE_MAX = 140


def mark_paid(batch: PayoutBatch, actor: Person, paid_on: date | None, bank_reference: str | None) -> PayoutBatch:
    """Mark a batch paid and write its ledger transaction; a second call answers 409 and writes nothing.

    The payer states the day the money left and the bank's reference of the transfer, so that
    reconciliation can be checked against the bank statement.
    """
    if not may_mark_paid(actor, batch):
        raise Forbidden(
            _l("Only an accountant of the batch's CAE may mark this batch paid.")
            if batch.route == PayoutRoute.CAE
            else _l("Only a steward of the round's commons may mark this batch paid.")
        )
    if batch.state == BatchState.PAID:
        raise Conflict(_l("Payout batch %(batch)s is already paid.", batch=batch.id))
    if batch.route == PayoutRoute.CAE and batch.state != BatchState.EXPORTED:
        raise Conflict(
            _l("Payout batch %(batch)s must be exported to its CAE (salary lines) before it is marked paid.", batch=batch.id)
        )
    if paid_on is None:
        raise field_error("paid_on", _l("the day the payment left the bank is required"))
    if paid_on > today():
        raise field_error("paid_on", _l("cannot be in the future"))
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise field_error("bank_reference", _l("the bank's reference of the payment is required"))
    if len(bank_reference) > BANK_REFERENCE_MAX or not bank_reference.isprintable():
        raise field_error("bank_reference", _l("at most %(max)s printable characters", max=BANK_REFERENCE_MAX))
    round_ = db.session.get(Round, batch.round_id)
    try:
        tx = post(
            TransactionKind.PAYOUT,
            payment_legs(batch, round_),
            occurred_on=paid_on,
            memo=memos.record(TransactionKind.PAYOUT, batch=batch.id, route=batch.route, round=round_.id),
            commons_id=round_.commons_id,
            round_id=round_.id,
            ref=f"batch:{batch.id}:paid",
        )
    except DuplicateEntry as exc:
        raise Conflict(_l("Payout batch %(batch)s is already paid.", batch=batch.id)) from exc
    batch.state, batch.paid_at, batch.paid_by_id, batch.paid_transaction_id = BatchState.PAID, utcnow(), actor.id, tx.id
    batch.paid_on, batch.bank_reference = paid_on, bank_reference
    db.session.flush()
    settle_round(round_)
    return batch


def settle_round(round_: Round) -> bool:
    """Move a finalized round to ``paid`` when all its batches are paid; True if it moved."""
    if round_.state != RoundState.FINALIZED:
        return False
    states = db.session.scalars(select(PayoutBatch.state).where(PayoutBatch.round_id == round_.id)).all()
    if any(state != BatchState.PAID for state in states):
        return False
    round_.state, round_.paid_at = RoundState.PAID, utcnow()
    db.session.flush()
    return True
