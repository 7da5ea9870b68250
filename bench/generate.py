"""Federation-scale data, written fast with bulk inserts, showing its progress.

The rows are what the service itself would write: people, commons with rule versions and
members, contributions over twelve months, and a ledger whose transactions form a valid hash
chain signed with the installation's key (the real format-3 ``content_hash``, ``sequence_link`` and signing functions, in bulk),
so that ``ledger verify`` and the dashboards see a genuine ledger.

``python -m bench.generate --scale full --url sqlite:///instance/bench.db`` fills a database by
hand; the benchmarks call the functions below on their own databases.
"""

from __future__ import annotations

import argparse
import base64
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from ledger.accounts import chart, checkpoints, merkle, monthly
from ledger.accounts.chain import GENESIS, PostingData, TransactionData, content_hash, sequence_link
from ledger.accounts.models import Account, Checkpoint, LedgerTransaction, Posting, SigningKeyRecord
from ledger.accounts.signing import SigningKey, raw_public_key
from ledger.backup import reset_sequences
from ledger.commons.models import Commons, Membership
from ledger.contributions.models import DEFAULT_CATEGORIES, Category, Contribution
from ledger.people.models import Person
from ledger.rounds.models import RuleVersion

BATCH = 5000
ORIGIN = "localhost/ledger"  # the default LEDGER_ORIGIN: the origin line of generated checkpoints
CATEGORIES = ("production", "production", "maintenance", "care", "governance", "welcoming", "coordination", "mutual_help")
HOURS = tuple(Decimal(h) for h in ("0.5", "1", "1.5", "2", "2.5", "3", "4", "6"))


@dataclass(frozen=True)
class Scale:
    people: int
    commons: int
    contributions: int
    months: int
    transactions: int  # ledger transactions (about 2.5 postings each)
    round_people: int
    round_contributions: int
    cae_people: int
    dashboard_postings: int


SCALES = {
    "tiny": Scale(
        people=120,
        commons=4,
        contributions=1_200,
        months=12,
        transactions=1_000,
        round_people=60,
        round_contributions=1_200,
        cae_people=60,
        dashboard_postings=2_000,
    ),
    "small": Scale(
        people=2_000,
        commons=20,
        contributions=20_000,
        months=12,
        transactions=20_000,
        round_people=1_000,
        round_contributions=20_000,
        cae_people=1_000,
        dashboard_postings=50_000,
    ),
    "full": Scale(
        people=40_000,
        commons=300,
        contributions=1_000_000,
        months=12,
        transactions=1_000_000,
        round_people=10_000,
        round_contributions=200_000,
        cae_people=10_000,
        dashboard_postings=1_000_000,
    ),
}


class Progress:
    """Prints ``label: done/total (pct, rate)`` about every tenth of the way, to stderr."""

    def __init__(self, label: str, total: int):
        from bench.common import say

        self.say, self.label, self.total, self.done = say, label, max(total, 1), 0
        self.began = time.perf_counter()
        self.next_report = self.total / 10

    def add(self, count: int) -> None:
        self.done += count
        if self.done >= self.next_report or self.done >= self.total:
            elapsed = time.perf_counter() - self.began
            self.say(
                f"  {self.label}: {self.done:,}/{self.total:,} ({100 * self.done / self.total:.0f}%, "
                f"{self.done / elapsed if elapsed else 0:,.0f}/s)"
            )
            self.next_report += self.total / 10


def insert_all(connection: Connection, table, rows: Iterable[dict], total: int, label: str) -> int:
    """executemany in batches, with progress; returns the number of rows."""
    progress = Progress(label, total)
    batch: list[dict] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            connection.execute(insert(table), batch)
            count += len(batch)
            progress.add(len(batch))
            batch = []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
        progress.add(len(batch))
    return count


def next_id(connection: Connection, model) -> int:
    return (connection.scalar(select(func.max(model.id))) or 0) + 1


def people(connection: Connection, n: int, tag: str = "p") -> list[int]:
    """``n`` people (no password: they would log in with tokens); returns their ids."""
    first = next_id(connection, Person)
    now = datetime.now(UTC)
    rows = (
        {
            "id": first + i,
            "email": f"{tag}{first + i}@bench.example",
            "display_name": f"Person {first + i}",
            "pseudonym": f"{tag}-{first + i}",
            "show_name_publicly": i % 3 == 0,
            "password_hash": None,
            "is_admin": False,
            "created_at": now,
        }
        for i in range(n)
    )
    insert_all(connection, Person.__table__, rows, n, "people")
    return list(range(first, first + n))


def commons(connection: Connection, n: int, author_id: int, tag: str = "c") -> list[int]:
    """``n`` commons, each with a first rule version (manual cadence, the default `time` method) and
    the default categories, as ``create_commons`` gives them."""
    first = next_id(connection, Commons)
    now = datetime.now(UTC)
    insert_all(
        connection,
        Commons.__table__,
        (
            {
                "id": first + i,
                "slug": f"{tag}{first + i}",
                "name": f"Commons {first + i}",
                "description": "",
                "created_at": now,
                "started_on": date(2000, 1, 1),
                # Admitted, so that the measured rounds write top-ups as a real federation's do.
                "fund_status": "admitted",
            }
            for i in range(n)
        ),
        n,
        "commons",
    )
    insert_all(
        connection,
        RuleVersion.__table__,
        (
            {
                "commons_id": first + i,
                "version": 1,
                "author_id": author_id,
                "reason": "generated",
                "effective_from": date(2000, 1, 1),
                "created_at": now,
                "cadence": "manual",
                "declaration_days": 5,
                "review_days": 7,
                "allocation_method": "time",
                "hourly_value_cents": 1500,
                "cap_cents": None,
                "category_weights": {"care": "1.5"},
                "min_vouches": 0,
                "objection_procedure": "vote",
                "quorum": "0.5",
                "levy_rate": "0.05",
                "hybrid_time_weight": "0.5",
                "weekly_hours_threshold": 48,
            }
            for i in range(n)
        ),
        n,
        "rule versions",
    )
    insert_all(
        connection,
        Category.__table__,
        (
            {"commons_id": first + i, "code": code, "label": label, "invisible": invisible, "active": True}
            for i in range(n)
            for code, label, invisible in DEFAULT_CATEGORIES
        ),
        n * len(DEFAULT_CATEGORIES),
        "categories",
    )
    return list(range(first, first + n))


def memberships(
    connection: Connection,
    commons_ids: list[int],
    people_ids: list[int],
    *,
    route: str = "invoice",
    cae_id: int | None = None,
    second_every: int = 4,
) -> list[tuple[int, int]]:
    """Each person in one commons (round robin), every ``second_every``-th in a second one too."""
    pairs = [(commons_ids[i % len(commons_ids)], pid) for i, pid in enumerate(people_ids)]
    if len(commons_ids) > 1 and second_every:
        pairs += [(commons_ids[(i + 1) % len(commons_ids)], pid) for i, pid in enumerate(people_ids) if i % second_every == 0]
    now = datetime.now(UTC)
    insert_all(
        connection,
        Membership.__table__,
        (
            {"commons_id": c, "person_id": p, "role": "member", "payout_route": route, "payout_cae_id": cae_id, "joined_at": now}
            for c, p in pairs
        ),
        len(pairs),
        "memberships",
    )
    return pairs


def contributions(
    connection: Connection,
    n: int,
    pairs: list[tuple[int, int]],
    *,
    start: date,
    days: int,
    round_id: int | None = None,
    seed: int = 7,
) -> int:
    """``n`` declared contributions by the members ``pairs`` (commons, person), dated over ``days``."""
    rng = random.Random(seed)
    now = datetime.now(UTC)

    def rows() -> Iterator[dict]:
        for i in range(n):
            commons_id, person_id = pairs[i % len(pairs)]
            yield {
                "person_id": person_id,
                "commons_id": commons_id,
                "round_id": round_id,
                "date": start + timedelta(days=rng.randrange(days)),
                "hours": rng.choice(HOURS),
                "category": rng.choice(CATEGORIES),
                "description": "generated work",
                "status": "declared",
                "created_at": now,
                "updated_at": now,
            }

    return insert_all(connection, Contribution.__table__, rows(), n, "contributions")


def ledger(
    connection: Connection,
    n: int,
    commons_ids: list[int],
    people_ids: list[int],
    key: SigningKey,
    *,
    start: date = date(2025, 1, 1),
    seed: int = 11,
) -> int:
    """Append ``n`` balanced, chained transactions (income and retributions) in bulk, signed by checkpoints.

    The same hashes as ``ledger.accounts.service.post`` computes, without its per-transaction
    round trips; one signed checkpoint per batch of ``BATCH``, as if each batch were a commit;
    the postings are about 2.5 per transaction.
    """
    rng = random.Random(seed)
    accounts = _accounts(connection, commons_ids, people_ids)
    owners = {
        row.code: row
        for row in connection.execute(
            select(Account.code, Account.type, Account.kind, Account.person_id, Account.commons_id, Account.cae_id)
        )
    }
    totals = defaultdict(lambda: [0, 0])  # the ledger's monthly totals, as post_many keeps them
    checkpoint = _Checkpointer(connection, key)
    last = connection.execute(
        select(LedgerTransaction.seq, LedgerTransaction.hash).order_by(LedgerTransaction.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    tx_id, posting_id = next_id(connection, LedgerTransaction), next_id(connection, Posting)
    progress = Progress("ledger transactions", n)
    transactions, postings = [], []
    for i in range(n):
        seq += 1
        commons_id = commons_ids[i % len(commons_ids)]
        on = start + timedelta(days=rng.randrange(365))
        amount = rng.randrange(1_000, 500_000)
        if i % 3 == 0:
            kind, legs = (
                "income",
                [(f"commons:{commons_id}:treasury", amount, "income"), (f"commons:{commons_id}:income:grant", -amount, "income")],
            )
        else:
            person = people_ids[rng.randrange(len(people_ids))]
            levy = (amount * 5 + 50) // 100
            kind, legs = (
                "round:retribution",
                [
                    (f"commons:{commons_id}:retributions", amount, "gross retribution"),
                    (f"commons:{commons_id}:payable:{person}", -(amount - levy), "net retribution"),
                    (f"commons:{commons_id}:treasury", -levy, "solidarity levy"),
                    ("fund:treasury", levy, "solidarity levy"),
                    ("fund:levies", -levy, "solidarity levy"),
                ],
            )
        recorded_at = datetime(on.year, on.month, on.day, 12, tzinfo=UTC).isoformat(timespec="microseconds")
        data = TransactionData(
            seq=None,
            kind=kind,
            memo=f"generated {seq}",
            occurred_on=on.isoformat(),
            recorded_at=recorded_at,
            commons_id=commons_id,
            round_id=None,
            reverses_seq=None,
            ref=None,
            postings=tuple(
                PostingData(code, cents, memo, o.type, o.person_id, o.commons_id, o.cae_id)
                for code, cents, memo in legs
                for o in (owners[code],)
            ),
            format=3,
        )
        content = content_hash(data)
        digest = sequence_link(seq, prev, content)
        transactions.append(
            {
                "id": tx_id,
                "seq": seq,
                "kind": kind,
                "memo": data.memo,
                "occurred_on": on,
                "recorded_at": recorded_at,
                "commons_id": commons_id,
                "round_id": None,
                "reverses_id": None,
                "ref": None,
                "prev_hash": prev,
                "hash": digest,
                "content_hash": content,
                "signature": "",
                "key_id": "",
                "format": 3,
            }
        )
        checkpoint.frontier.append(merkle.leaf_hash(bytes.fromhex(digest)))
        for code, cents, memo in legs:
            total = totals[(monthly.month_of(on), commons_id, owners[code].kind, kind)]
            total[0] += cents
            total[1] += 1
            postings.append(
                {"id": posting_id, "transaction_id": tx_id, "account_id": accounts[code], "amount_cents": cents, "memo": memo}
            )
            posting_id += 1
        prev, tx_id = digest, tx_id + 1
        if len(transactions) >= BATCH:
            _flush(connection, transactions, postings)
            checkpoint.write(digest)
            progress.add(len(transactions))
            transactions, postings = [], []
    if transactions:
        _flush(connection, transactions, postings)
        checkpoint.write(prev)
        progress.add(len(transactions))
    monthly.add(totals, connection)
    if connection.dialect.name == "postgresql":
        reset_sequences(connection)
    return n


class _Checkpointer:
    """Signed checkpoints for a generated ledger, extending the latest stored one."""

    def __init__(self, connection: Connection, key: SigningKey):
        self.connection, self.key = connection, key
        last = connection.execute(
            select(Checkpoint.size, Checkpoint.frontier, Checkpoint.hash).order_by(Checkpoint.size.desc()).limit(1)
        ).first()
        self.frontier = (
            merkle.Frontier(last.size, [bytes.fromhex(h) for h in last.frontier.split()]) if last else merkle.Frontier()
        )
        self.prev = last.hash if last else checkpoints.GENESIS
        known = connection.execute(select(SigningKeyRecord.id).where(SigningKeyRecord.key_id == key.key_id)).first()
        if known is None:
            connection.execute(
                insert(SigningKeyRecord.__table__).values(
                    key_id=key.key_id,
                    public_key=base64.b64encode(raw_public_key(key)).decode(),
                    added_at=datetime.now(UTC).isoformat(timespec="seconds"),
                )
            )

    def write(self, chain_head: str) -> None:
        row = checkpoints.checkpoint_row(self.frontier, chain_head, self.prev, self.key, ORIGIN)
        self.connection.execute(insert(Checkpoint.__table__).values(**row))
        self.prev = row["hash"]


def _flush(connection: Connection, transactions: list[dict], postings: list[dict]) -> None:
    connection.execute(insert(LedgerTransaction.__table__), transactions)
    connection.execute(insert(Posting.__table__), postings)


def _accounts(connection: Connection, commons_ids: list[int], people_ids: list[int]) -> dict[str, int]:
    """Every account the generated ledger uses, created once; code → id."""
    existing = dict(connection.execute(select(Account.code, Account.id)).all())
    specs = [chart.fund_treasury(), chart.fund_levies()]
    for commons_id in commons_ids:
        c = _Named(commons_id)
        specs += [chart.commons_treasury(c), chart.commons_income(c, "grant"), chart.commons_retributions(c)]
        specs += [chart.person_payable(p, c) for p in people_ids]
    wanted = {s.code: s for s in specs if s.code not in existing}
    first = next_id(connection, Account)
    rows = [
        {
            "id": first + i,
            "code": s.code,
            "name": s.name,
            "type": s.type,
            "kind": s.kind,
            "commons_id": s.commons_id,
            "person_id": s.person_id,
            "cae_id": s.cae_id,
        }
        for i, s in enumerate(wanted.values())
    ]
    insert_all(connection, Account.__table__, rows, len(rows), "accounts")
    existing.update({row["code"]: row["id"] for row in rows})
    return existing


@dataclass(frozen=True)
class _Named:
    """Enough of a commons for the chart of accounts (its id and a name)."""

    id: int

    @property
    def name(self) -> str:
        return f"Commons {self.id}"


def settle(engine: Engine) -> None:
    """Leave PostgreSQL's tables as a running installation has them: autovacuum vacuums and
    analyzes a freshly loaded table only some time after the load, and a benchmark started at once
    would time query plans made without statistics and counts that cannot use index-only scans
    (the public ledger page's p95 was 330 ms then, 196 ms after ANALYZE alone). SQLite keeps no
    statistics unless told, and the service never tells it, so it is left as it is."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")


def federation(connection: Connection, scale: Scale, key: SigningKey) -> dict:
    """The whole federation of ``scale``: people, commons, memberships, contributions, a ledger."""
    ids = people(connection, scale.people)
    commons_ids = commons(connection, scale.commons, ids[0])
    pairs = memberships(connection, commons_ids, ids)
    end = date.today() - timedelta(days=1)
    contributions(connection, scale.contributions, pairs, start=end - timedelta(days=30 * scale.months), days=30 * scale.months)
    # Payables for a sample of people keep the chart of accounts realistic without 12 million accounts.
    ledger(connection, scale.transactions, commons_ids, ids[: max(1, min(len(ids), 2_000))], key)
    return {"people": len(ids), "commons": len(commons_ids), "memberships": len(pairs)}


def main() -> None:
    from bench.common import make_app, say
    from ledger.accounts.signing import current_key
    from ledger.extensions import db
    from ledger.migrate import upgrade

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--url", required=True, help="database URL (created and migrated if needed)")
    parser.add_argument("--workdir", default="instance/bench", help="where the keys go")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    upgrade(args.url)
    app = make_app(args.url, workdir)
    with app.app_context():
        began = time.perf_counter()
        with db.engine.begin() as connection:
            summary = federation(connection, SCALES[args.scale], current_key())
        settle(db.engine)
        say(f"generated {summary} in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
