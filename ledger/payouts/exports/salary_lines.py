"""Salary lines (SPEC 4.3): one row per person, CAE and payroll month, for the CAE's payroll.

The payroll month is the month (UTC) in which the rounds were finalized: every commons and round
finalized that month and routed to the CAE adds up into one row per person. The file is built
from the data alone — no timestamp inside — so exporting the same month twice gives the same
bytes unless something changed.

Estimates (display only; the CAE's payroll computes the real figures):
``estimated_gross_salary = round_half_up(salary_budget / (1 + employer_rate))`` and
``estimated_employer_charges = salary_budget − estimated_gross_salary``. A CAPE contract cannot
receive a salary: its amounts are activity income, so both estimates are 0 and the row says CAPE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.accounts.money import format_euros, round_half_up
from ledger.bulk import among
from ledger.errors import field_error
from ledger.extensions import db
from ledger.payouts.batches import mark_exported
from ledger.payouts.exports.signing import SignedExport, record, sign
from ledger.payouts.models import Cae, CaeMembership, PayoutBatch, PayoutLine
from ledger.payouts.service import employee_ref, member_contribution_rate
from ledger.people.models import Person
from ledger.rounds.models import AllocationLine, Round

HEADER = (
    "period",
    "cae_code",
    "employee_ref",
    "last_name",
    "first_name",
    "contract_type",
    "hours",
    "gross_retribution",
    "solidarity_levy",
    "solidarity_topup",
    "cae_contribution",
    "salary_budget",
    "estimated_employer_charges",
    "estimated_gross_salary",
    "line_count",
    "batch_id",
)
# SPEC 4.3 fixes the columns above, exactly; a CAE that wants each member's analytic code and own
# contribution rate asks for them (``analytic``) and gets them after, so a positional import still works.
ANALYTIC_HEADER = ("analytic_code", "contribution_rate")
BOM = "\ufeff"
NEWLINE = "\r\n"
PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class SalaryLine:
    period: str
    cae_code: str
    employee_ref: str
    last_name: str
    first_name: str
    contract_type: str
    hours: Decimal
    gross_cents: int
    levy_cents: int
    topup_cents: int
    cae_contribution_cents: int
    salary_budget_cents: int
    employer_charges_cents: int
    gross_salary_cents: int
    line_count: int
    batch_ids: tuple[int, ...]
    analytic_code: str = ""
    contribution_rate: str = ""


def parse_period(text: str) -> tuple[datetime, datetime]:
    """'2025-03' → the UTC instants [1 March, 1 April); a 422 on ``period`` otherwise."""
    match = PERIOD_RE.match(text or "")
    if not match or not 2000 <= int(match.group(1)) <= 2999:
        raise field_error("period", _l("must be a month as YYYY-MM"))
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def estimate_salary(salary_budget_cents: int, employer_rate: Decimal, contract_type: str) -> tuple[int, int]:
    """(estimated employer charges, estimated gross salary) of a salary budget; (0, 0) for CAPE."""
    if contract_type == "CAPE":
        return 0, 0
    gross_salary = round_half_up(Fraction(salary_budget_cents) / (1 + Fraction(employer_rate)))
    return salary_budget_cents - gross_salary, gross_salary


def _text(value: str) -> str:
    """A CSV text cell: quoted when needed, and never read as a formula by a spreadsheet."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    if any(ch in value for ch in ';"\r\n'):
        value = '"' + value.replace('"', '""') + '"'
    return value


def _hours(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}".replace(".", ",")


def render(lines: list[SalaryLine], analytic: bool = False) -> bytes:
    """The exact bytes of the file: BOM, header, `;`, decimal comma, CRLF, rows in the given order."""
    rows = [";".join(HEADER + ANALYTIC_HEADER if analytic else HEADER)]
    for line in lines:
        extra = [_text(line.analytic_code), line.contribution_rate.replace(".", ",")] if analytic else []
        rows.append(
            ";".join(
                [
                    line.period,
                    _text(line.cae_code),
                    _text(line.employee_ref),
                    _text(line.last_name),
                    _text(line.first_name),
                    line.contract_type,
                    _hours(line.hours),
                    format_euros(line.gross_cents),
                    format_euros(line.levy_cents),
                    format_euros(line.topup_cents),
                    format_euros(line.cae_contribution_cents),
                    format_euros(line.salary_budget_cents),
                    format_euros(line.employer_charges_cents),
                    format_euros(line.gross_salary_cents),
                    str(line.line_count),
                    "+".join(str(i) for i in line.batch_ids),
                    *extra,
                ]
            )
        )
    return (BOM + NEWLINE.join(rows) + NEWLINE).encode("utf-8")


def collect(cae: Cae, period: str) -> tuple[list[SalaryLine], list[PayoutBatch]]:
    """The month's salary lines for ``cae``, sorted by employee reference then last name, and their batches.

    A fixed number of queries whatever the CAE's size: the payout rows as plain columns, the
    month's batches, and the CAE's memberships all at once (not one lookup per person).
    """
    start, end = parse_period(period)
    in_month = (
        PayoutBatch.route == "cae",
        PayoutBatch.cae_id == cae.id,
        Round.state.in_(("finalized", "paid")),
        Round.finalized_at >= start,
        Round.finalized_at < end,
    )
    rows = db.session.execute(
        select(
            PayoutLine.person_id,
            PayoutLine.salary_budget_cents,
            PayoutLine.cae_contribution_cents,
            AllocationLine.hours,
            AllocationLine.gross_cents,
            AllocationLine.levy_cents,
            AllocationLine.topup_cents,
            PayoutBatch.id.label("batch_id"),
        )
        .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .join(AllocationLine, AllocationLine.id == PayoutLine.allocation_line_id)
        .join(Round, Round.id == PayoutBatch.round_id)
        .where(*in_month)
        .order_by(PayoutLine.person_id, PayoutBatch.id)
    ).all()
    batches = list(
        db.session.scalars(
            select(PayoutBatch).join(Round, Round.id == PayoutBatch.round_id).where(*in_month).order_by(PayoutBatch.id)
        )
    )
    employer_rate = Decimal(cae.employer_rate)
    per_person: dict[int, list] = {}
    for row in rows:
        per_person.setdefault(row.person_id, []).append(row)
    members = {m.person_id: m for m in db.session.scalars(select(CaeMembership).where(CaeMembership.cae_id == cae.id))}
    # A membership removed after the round: still paid, under the person's name, flagged by the empty contract.
    former = [person_id for person_id in per_person if person_id not in members]
    names: dict[int, str] = {}
    for condition in among(Person.id, former):
        names.update(db.session.execute(select(Person.id, Person.display_name).where(condition)).all())
    lines = []
    for person_id, items in per_person.items():
        member = members.get(person_id)
        if member is not None:
            ref, last, first, contract = employee_ref(member), member.last_name, member.first_name, member.contract_type
        else:
            ref, last, first, contract = "", names[person_id], "", ""
        analytic = member.analytic_code if member is not None else ""
        rate = member_contribution_rate(cae, member) if member is not None else ""
        budget = sum(item.salary_budget_cents for item in items)
        charges, gross_salary = estimate_salary(budget, employer_rate, contract)
        lines.append(
            SalaryLine(
                period=period,
                cae_code=cae.code,
                employee_ref=ref,
                last_name=last,
                first_name=first,
                contract_type=contract,
                hours=sum((Decimal(item.hours) for item in items), Decimal(0)),
                gross_cents=sum(item.gross_cents for item in items),
                levy_cents=sum(item.levy_cents for item in items),
                topup_cents=sum(item.topup_cents for item in items),
                cae_contribution_cents=sum(item.cae_contribution_cents for item in items),
                salary_budget_cents=budget,
                employer_charges_cents=charges,
                gross_salary_cents=gross_salary,
                line_count=len(items),
                batch_ids=tuple(sorted({item.batch_id for item in items})),
                analytic_code=analytic,
                contribution_rate=rate,
            )
        )
    lines.sort(key=lambda line: (line.employee_ref, line.last_name, line.first_name))
    return lines, batches


def has_lines(cae: Cae, period: str) -> bool:
    """Whether the month has anything to pay through this CAE (an empty file helps nobody)."""
    lines, _batches = collect(cae, period)
    return bool(lines)


def export(cae: Cae, period: str, actor: Person | None, analytic: bool = False) -> SignedExport:
    """Build and sign the file, mark the month's pending batches exported, record the export.

    The caller checks that ``actor`` is this CAE's accountant: employee references are decrypted here.
    """
    lines, batches = collect(cae, period)
    signed = sign(render(lines, analytic), filename=f"salary-lines-{cae.code}-{period}.csv", media_type="text/csv; charset=utf-8")
    mark_exported(batches, actor)
    record(signed, "salary-lines", f"cae={cae.code};period={period}{';analytic' if analytic else ''}", actor)
    return signed
