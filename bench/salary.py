"""The salary-lines export of one month for a CAE of many people.

The month holds one finalized round per commons routed to the CAE, written in bulk as
finalization writes them (allocation lines, a payout batch, its lines). Baseline, same run: the
export's own query alone (its rows fetched, nothing decrypted, summed or formatted).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select

from bench import generate
from bench.common import Figure, fresh_database, make_app, say, stopwatch

NAME = "salary"


def build(connection, people: int) -> str:
    """A CAE with ``people`` CESA employees paid by one round this month; returns the period."""
    from ledger.crypto import encrypt
    from ledger.payouts.models import Cae, CaeMembership, PayoutBatch, PayoutLine
    from ledger.rounds.models import AllocationLine, Round, RuleVersion

    now = datetime.now(UTC)
    cae_id = connection.execute(
        insert(Cae)
        .values(code="OXALIS", name="CAE Oxalis", contribution_rate="0.10", employer_rate="0.42", created_at=now)
        .returning(Cae.id)
    ).scalar()
    ids = generate.people(connection, people)
    commons = generate.commons(connection, 1, ids[0])
    rule = connection.scalar(select(RuleVersion.id).where(RuleVersion.commons_id == commons[0]))
    generate.memberships(connection, commons, ids, route="cae", cae_id=cae_id, second_every=0)
    generate.insert_all(
        connection,
        CaeMembership.__table__,
        (
            {
                "cae_id": cae_id,
                "person_id": pid,
                "employee_ref_encrypted": encrypt(f"EMP-{pid:06d}"),
                "contract_type": "CESA",
                "first_name": "Camille",
                "last_name": f"Martin {pid}",
                "created_at": now,
            }
            for pid in ids
        ),
        len(ids),
        "CAE members",
    )
    round_id = connection.execute(
        insert(Round)
        .values(
            commons_id=commons[0],
            rule_version_id=rule,
            period_start=date(2025, 1, 1),
            period_end=date(2025, 1, 31),
            envelope_cents=people * 30_000,
            state="finalized",
            review_starts_on=date(2025, 2, 6),
            allocation_on=date(2025, 2, 13),
            created_at=now,
            finalized_at=now,
        )
        .returning(Round.id)
    ).scalar()
    generate.insert_all(
        connection,
        AllocationLine.__table__,
        (
            {
                "round_id": round_id,
                "person_id": pid,
                "hours": "20.00",
                "weighted_hours": "20.0000",
                "claim_cents": 30_000,
                "gross_cents": 30_000,
                "levy_cents": 1_500,
                "topup_cents": 0,
                "net_cents": 28_500,
                "route": "cae",
                "cae_id": cae_id,
                "cae_contribution_cents": 2_850,
                "salary_budget_cents": 25_650,
                "explanation": "[]",
            }
            for pid in ids
        ),
        len(ids),
        "allocation lines",
    )
    batch_id = connection.execute(
        insert(PayoutBatch)
        .values(round_id=round_id, route="cae", cae_id=cae_id, state="pending", created_at=now)
        .returning(PayoutBatch.id)
    ).scalar()
    lines = connection.execute(
        select(AllocationLine.id, AllocationLine.person_id).where(AllocationLine.round_id == round_id)
    ).all()
    generate.insert_all(
        connection,
        PayoutLine.__table__,
        (
            {
                "batch_id": batch_id,
                "allocation_line_id": line_id,
                "person_id": pid,
                "amount_cents": 28_500,
                "cae_contribution_cents": 2_850,
                "salary_budget_cents": 25_650,
            }
            for line_id, pid in lines
        ),
        len(lines),
        "payout lines",
    )
    return now.strftime("%Y-%m")


def run(scale: generate.Scale, workdir: Path, engines: list[str]) -> list[Figure]:
    from ledger.extensions import db
    from ledger.payouts.exports import salary_lines
    from ledger.payouts.models import PayoutBatch, PayoutLine
    from ledger.payouts.service import get_cae
    from ledger.rounds.models import AllocationLine as Line
    from ledger.rounds.models import Round

    figures = []
    for engine in engines:
        app = make_app(fresh_database(engine, "salary", workdir), workdir)
        with app.app_context():
            say(f"[salary/{engine}] a CAE of {scale.cae_people:,} people")
            with db.engine.begin() as connection:
                period = build(connection, scale.cae_people)
            generate.settle(db.engine)
            cae = get_cae("OXALIS")
            start, end = salary_lines.parse_period(period)
            with stopwatch() as baseline:
                rows = db.session.execute(
                    select(PayoutLine, Line, PayoutBatch)
                    .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
                    .join(Line, Line.id == PayoutLine.allocation_line_id)
                    .join(Round, Round.id == PayoutBatch.round_id)
                    .where(PayoutBatch.cae_id == cae.id, Round.finalized_at >= start, Round.finalized_at < end)
                ).all()
            db.session.rollback()
            cae = get_cae("OXALIS")
            with stopwatch() as exported:
                signed = salary_lines.export(cae, period, None)
            lines = signed.content.count(b"\n") - 1
            db.session.rollback()
            assert lines == scale.cae_people == len(rows), (lines, len(rows))
            figures.append(
                Figure(
                    f"salary-lines export, {engine}: {lines:,} people",
                    exported.seconds,
                    "s",
                    baseline=baseline.seconds,
                    baseline_label="the export's query alone",
                    target="< 2 s",
                    met=exported.seconds < 2,
                )
            )
            db.engine.dispose()
    return figures
