"""Entries in a Sage-compatible CSV ("import paramétrable" of Sage 100 Comptabilité), beside the FEC.

The columns are those enDI writes for CAEs' Sage imports: one general line (``G``) per FEC line,
and after each line on a class 6 or 7 account an analytic line (``A``) carrying the CAE member's
analytic code when the écriture concerns one member who has one. Same books, numbers and
accounts as the FEC of the period (``ledger.payouts.exports.fec``) without its à-nouveaux, which
Sage carries over itself. ISO 8859-15, ``;`` separators, CRLF, a header line, dates ``JJMMAA``,
amounts with a decimal comma (the other side empty). Signed like every export.
"""

from __future__ import annotations

from datetime import date

from ledger.accounts.money import format_euros
from ledger.legal import Identity
from ledger.payouts.exports import fec
from ledger.payouts.exports.signing import SignedExport, record, sign
from ledger.people.models import Person

HEADER = (
    "Numéro de pièce",
    "Code journal",
    "Date de pièce",
    "N° compte général",
    "Numéro de compte tiers",
    "Libellé d'écriture",
    "Montant débit",
    "Montant crédit",
    "Type de ligne",
    "Numéro analytique",
)
NEWLINE = "\r\n"
ENCODING = "iso-8859-15"
ANALYTIC_CLASSES = "67"


def _text(value: str) -> str:
    """A CSV cell: quoted when it holds the separator or a quote; never read as a formula."""
    if value[:1] in ("=", "+", "-", "@"):
        value = "'" + value
    if any(ch in value for ch in ';"'):
        value = '"' + value.replace('"', '""') + '"'
    return value


def rows(identity: Identity, start: date, end: date) -> list[tuple[str, ...]]:
    """The Sage rows of the entity's entries between ``start`` and ``end`` (no à-nouveaux)."""
    lines = [line for line in fec.entity_lines(identity, start, end) if line.journal != "AN"]
    members: dict[str, set[str]] = {}
    for line in lines:
        if line.analytic_code:
            members.setdefault(line.number, set()).add(line.analytic_code)
    out = []
    for line in lines:
        general = (
            line.number,
            line.journal,
            line.on.strftime("%d%m%y"),
            line.compte[0],
            line.aux[0],
            line.label[:69],
            format_euros(line.amount_cents) if line.amount_cents > 0 else "",
            format_euros(-line.amount_cents) if line.amount_cents < 0 else "",
        )
        out.append((*general, "G", ""))
        codes = members.get(line.number, set())
        if line.compte[0][:1] in ANALYTIC_CLASSES and len(codes) == 1:
            out.append((*general, "A", next(iter(codes))))
    return out


def render(sage_rows: list[tuple[str, ...]]) -> bytes:
    lines = [";".join(HEADER), *(";".join(_text(cell) for cell in row) for row in sage_rows)]
    return fec.encode(NEWLINE.join(lines) + NEWLINE, ENCODING)


def export(identity: Identity, start: date, end: date, actor: Person | None) -> SignedExport:
    """Build, sign and record the Sage entries of an entity; the caller checks access (as for its FEC)."""
    fec.filename(identity, end)  # the same legal identity is needed: refuses clearly without a SIREN
    signed = sign(
        render(rows(identity, start, end)),
        filename=f"{identity.siren}SAGE{start.strftime('%Y%m%d')}-{end.strftime('%Y%m%d')}.csv",
        media_type=f"text/csv; charset={ENCODING}",
    )
    record(signed, "sage", f"entity={identity.entity};from={start.isoformat()};to={end.isoformat()}", actor)
    return signed
