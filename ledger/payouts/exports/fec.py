"""The FEC (fichier des écritures comptables, SPEC 4.4) of one commons over a date range.

Every ledger transaction with a posting on one of the commons' accounts is exported with *all*
its postings, so each ``EcritureNum`` balances: the solidarity fund's accounts map to a liaison
account (see ``ledger.payouts.fec_accounts``). Écritures are numbered 1, 2, 3 … in the file in
date then ledger order; ``PieceRef`` names the ledger transaction (``L<seq>``) so any line can be
traced to the public, signed ledger. People appear as auxiliary accounts under their pseudonym
and the name they agreed to show — never their email.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.money import format_euros
from ledger.commons.models import Commons
from ledger.commons.service import can_steward
from ledger.errors import Forbidden, field_error
from ledger.extensions import db
from ledger.payouts.exports.signing import SignedExport, record, sign
from ledger.payouts.fec_accounts import account_for, configured_accounts
from ledger.payouts.models import Cae
from ledger.people.models import ROLE_CAE_ACCOUNTANT, Person

COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
# Money that moves through the commons' bank goes to the bank journal; the rest is "diverse".
JOURNALS = {"income": ("BQ", "Banque"), "payout": ("BQ", "Banque")}
OTHER_JOURNAL = ("OD", "Opérations diverses")
NEWLINE = "\r\n"


def may_export(person: Person, commons: Commons) -> bool:
    """Admins, stewards of the commons and CAE accountants (the FEC holds no personal data)."""
    return can_steward(commons, person) or person.has_role(ROLE_CAE_ACCOUNTANT)


def require_may_export(person: Person, commons: Commons) -> None:
    if not may_export(person, commons):
        raise Forbidden(f"Only a steward of {commons.name}, an accountant or an admin may export its FEC.")


def _clean(text: str) -> str:
    """A FEC field never holds the separator or a line break."""
    return " ".join((text or "").replace("\t", " ").split())


def _ymd(value: date) -> str:
    return value.strftime("%Y%m%d")


def _auxiliary(account: Account) -> tuple[str, str]:
    if account.kind == "payable:person" and account.person_id is not None:
        person = db.session.get(Person, account.person_id)
        return person.pseudonym, person.public_name
    if account.kind == "payable:cae" and account.cae_id is not None:
        cae = db.session.get(Cae, account.cae_id)
        return cae.code, cae.name
    return "", ""


def rows(commons: Commons, start: date, end: date) -> list[tuple[str, ...]]:
    """The FEC rows (18 text fields each) for the commons between ``start`` and ``end`` inclusive."""
    if end < start:
        raise field_error("to", "must be on or after 'from'")
    touches_commons = (
        select(Posting.id)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.transaction_id == LedgerTransaction.id, Account.commons_id == commons.id)
        .correlate(LedgerTransaction)
        .exists()
    )
    transactions = db.session.scalars(
        select(LedgerTransaction)
        .where(LedgerTransaction.occurred_on >= start, LedgerTransaction.occurred_on <= end, touches_commons)
        .options(selectinload(LedgerTransaction.postings).selectinload(Posting.account))
        .order_by(LedgerTransaction.occurred_on, LedgerTransaction.seq)
    ).all()
    accounts = configured_accounts()
    out = []
    for number, tx in enumerate(transactions, start=1):
        journal_code, journal_lib = JOURNALS.get(tx.kind, OTHER_JOURNAL)
        label = _clean(tx.memo or tx.kind)
        valid = tx.recorded_at[:10].replace("-", "")
        for posting in tx.postings:
            compte_num, compte_lib = account_for(posting.account.kind, accounts)
            aux_num, aux_lib = _auxiliary(posting.account)
            amount = posting.amount_cents
            out.append(
                (
                    journal_code,
                    journal_lib,
                    str(number),
                    _ymd(tx.occurred_on),
                    compte_num,
                    _clean(compte_lib),
                    _clean(aux_num),
                    _clean(aux_lib),
                    f"L{tx.seq}",
                    _ymd(tx.occurred_on),
                    label,
                    format_euros(max(amount, 0)),
                    format_euros(max(-amount, 0)),
                    "",
                    "",
                    valid,
                    "",
                    "",
                )
            )
    return out


def render(fec_rows: list[tuple[str, ...]]) -> bytes:
    """Tab-separated, header first, CRLF line ends, UTF-8."""
    lines = ["\t".join(COLUMNS), *("\t".join(row) for row in fec_rows)]
    return (NEWLINE.join(lines) + NEWLINE).encode("utf-8")


def export(commons: Commons, start: date, end: date, actor: Person | None) -> SignedExport:
    """Build, sign and record the FEC of a commons; the caller checks access."""
    signed = sign(
        render(rows(commons, start, end)),
        filename=f"{commons.slug}-FEC{_ymd(end)}.txt",
        media_type="text/tab-separated-values; charset=utf-8",
    )
    record(signed, "fec", f"commons={commons.slug};from={start.isoformat()};to={end.isoformat()}", actor)
    return signed
