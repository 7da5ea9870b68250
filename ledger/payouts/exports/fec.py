"""The FEC (fichier des écritures comptables, SPEC 4.4) of a commons or of the solidarity fund.

Article A47 A-1 of the LPF and BOI-CF-IOR-60-40-20: 18 tab-separated fields, a header line,
dates ``AAAAMMJJ``, amounts with a decimal comma, every écriture balanced. Each commons and the
fund keep their own books: the file holds the postings on that entity's accounts only, which
balance inside every ledger transaction (checked here, never patched with a liaison line).

- Named ``{SIREN}FEC{AAAAMMJJ}.txt`` (the closing date); no SIREN, no file.
- Opens with one ``AN`` (à-nouveaux) écriture dated the first day: the balances of accounts of
  classes 1 to 5 carried from everything before, the earlier result on 110 or 119.
- ``EcritureNum`` is the number stored when the entry was recorded (``ledger.accounts.numbering``),
  per entity and journal: ``BQ`` when the entity's bank account moves, ``OD`` otherwise.
  ``ValidDate`` is the day it was recorded, ``PieceRef`` the ledger transaction (``L<seq>``).
- People appear as auxiliary accounts under their pseudonym (a CAE member: their analytic code)
  and the name they agreed to show — never their email.
- ISO 8859-15 by default: typographic punctuation the charset lacks is replaced by its plain
  equivalent; any other character it lacks is refused, naming the écriture and the field.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ledger.accounts.models import Account, LedgerTransaction, Posting
from ledger.accounts.money import format_euros
from ledger.accounts.numbering import FUND_ENTITY, FecEntryNumber
from ledger.commons.models import Commons
from ledger.commons.service import can_steward
from ledger.errors import Conflict, Forbidden, field_error
from ledger.extensions import db
from ledger.legal import Identity, fiscal_year
from ledger.payouts.exports.signing import SignedExport, record, sign
from ledger.payouts.fec_accounts import account_for, configured_accounts
from ledger.payouts.models import CaeMembership
from ledger.people.models import ROLE_CAE_ACCOUNTANT, ROLE_FUND_MANAGER, Person
from ledger.rounds.models import AllocationLine, Round

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
JOURNALS = {"AN": "À-nouveaux", "BQ": "Banque", "OD": "Opérations diverses"}
JOURNAL_ORDER = ("AN", "BQ", "OD")
ENCODINGS = ("iso-8859-15", "utf-8")
DEFAULT_ENCODING = "iso-8859-15"
NEWLINE = "\r\n"
# Punctuation ISO 8859-15 lacks, and its plain equivalent: the only characters ever replaced.
PLAIN_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "‑": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "\u202f": " ", "\u2009": " "}
)
BALANCE_CLASSES = "12345"


def may_export(person: Person, commons: Commons) -> bool:
    """Admins, stewards of the commons and CAE accountants (the FEC holds no personal data)."""
    return can_steward(commons, person) or person.has_role(ROLE_CAE_ACCOUNTANT)


def require_may_export(person: Person, commons: Commons) -> None:
    if not may_export(person, commons):
        raise Forbidden(_l("Only a steward of %(commons)s, an accountant or an admin may export its FEC.", commons=commons.name))


def require_may_export_fund(person: Person) -> None:
    """The fund's books: its manager, accountants and admins."""
    if not (person.is_admin or person.has_role(ROLE_FUND_MANAGER) or person.has_role(ROLE_CAE_ACCOUNTANT)):
        raise Forbidden(_l("Only the fund manager, an accountant or an admin may export the solidarity fund's FEC."))


def period(identity: Identity, start: date | None, end: date | None, year: int | None) -> tuple[date, date]:
    """The dates a file covers: ``start``–``end``, or the fiscal year beginning in ``year``."""
    if year is not None:
        if start is not None or end is not None:
            raise field_error("year", _l("give either a fiscal year or 'from' and 'to', not both"))
        if not 1900 <= year <= 9998:
            raise field_error("year", _l("must be a year such as 2025"))
        return fiscal_year(identity.fiscal_year_start, year)
    if start is None:
        raise field_error("from", _l("is required (or give 'year')"))
    if end is None:
        raise field_error("to", _l("is required (or give 'year')"))
    if end < start:
        raise field_error("to", _l("must be on or after 'from'"))
    return start, end


def filename(identity: Identity, end: date) -> str:
    """``{SIREN}FEC{AAAAMMJJ}.txt``; refuses clearly when the entity has no SIREN."""
    if not identity.siren:
        raise field_error(
            "siren",
            _l(
                "%(identity)s has no SIREN, which names its FEC: set it first (`ledger legal set`, or PUT .../legal-identity)",
                identity=identity.name,
            ),
        )
    return f"{identity.siren}FEC{_ymd(end)}.txt"


def _clean(text: str) -> str:
    """A FEC field never holds the separator or a line break."""
    return " ".join((text or "").replace("\t", " ").split())


def _ymd(value: date) -> str:
    return value.strftime("%Y%m%d")


def _entity_accounts(identity: Identity):
    """The condition selecting the accounts of the entity whose books are exported."""
    if identity.entity == FUND_ENTITY:
        return (Account.commons_id.is_(None)) & Account.kind.like("fund:%")
    return Account.commons_id == int(identity.entity.split(":", 1)[1])


@dataclass
class _Auxiliaries:
    """CompAuxNum and CompAuxLib of payable accounts, read once per file."""

    people: dict[int, Person]
    analytic: dict[int, str]

    @classmethod
    def load(cls, identity: Identity, person_ids: set[int]) -> _Auxiliaries:
        people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(person_ids)))} if person_ids else {}
        analytic: dict[int, str] = {}
        if identity.entity != FUND_ENTITY and person_ids:
            # A person once paid through a CAE from this commons appears under their analytic code
            # there (the latest CAE's, if several): the CAE's accountant finds their activity.
            commons_id = int(identity.entity.split(":", 1)[1])
            analytic = dict(
                db.session.execute(
                    select(AllocationLine.person_id, CaeMembership.analytic_code)
                    .join(Round, Round.id == AllocationLine.round_id)
                    .join(
                        CaeMembership,
                        (CaeMembership.cae_id == AllocationLine.cae_id) & (CaeMembership.person_id == AllocationLine.person_id),
                    )
                    .where(Round.commons_id == commons_id, AllocationLine.route == "cae", CaeMembership.analytic_code != "")
                    .order_by(AllocationLine.id)
                ).all()
            )
        return cls(people, analytic)

    def of(self, person_id: int | None) -> tuple[str, str]:
        if person_id is None or person_id not in self.people:
            return "", ""
        person = self.people[person_id]
        return self.analytic.get(person_id, person.pseudonym), person.public_name

    def analytic_code(self, person_id: int | None) -> str:
        return self.analytic.get(person_id, "") if person_id is not None else ""


@dataclass(frozen=True)
class _Line:
    number: str
    journal: str
    on: date
    compte: tuple[str, str]
    aux: tuple[str, str]
    piece_ref: str
    label: str
    amount_cents: int
    valid: str
    analytic_code: str = ""  # the CAE member's code when the line is on their payable account

    def fields(self) -> tuple[str, ...]:
        return (
            self.journal,
            JOURNALS[self.journal],
            self.number,
            _ymd(self.on),
            self.compte[0],
            _clean(self.compte[1]),
            _clean(self.aux[0]),
            _clean(self.aux[1]),
            self.piece_ref,
            _ymd(self.on),
            self.label,
            format_euros(max(self.amount_cents, 0)),
            format_euros(max(-self.amount_cents, 0)),
            "",
            "",
            self.valid,
            "",
            "",
        )


def _net(amounts: dict[tuple, int]) -> list[tuple[tuple, int]]:
    """Lines of one écriture summed per account and auxiliary, zero lines dropped: no pair cancels out."""
    return [(key, amount) for key, amount in amounts.items() if amount]


def _opening(start: date, accounts, auxiliaries: _Auxiliaries, balances) -> list[_Line]:
    """The à-nouveaux: classes 1-5 carried with their auxiliaries, the earlier result on 110/119."""
    carried: dict[tuple, int] = defaultdict(int)
    for kind, person_id, total in balances:
        compte = account_for(kind, accounts)
        if compte[0][:1] in BALANCE_CLASSES:
            carried[(compte, auxiliaries.of(person_id))] += int(total)
    lines = _net(carried)
    result = -sum(amount for _, amount in lines)
    if result:
        compte = accounts["equity"] if result < 0 else accounts["equity:debit"]
        lines.append(((compte, ("", "")), result))
    label = f"À-nouveaux au {start.strftime('%d/%m/%Y')}"
    return [_Line("AN000001", "AN", start, compte, aux, "AN", label, amount, _ymd(start)) for (compte, aux), amount in lines]


def rows(identity: Identity, start: date, end: date) -> list[tuple[str, ...]]:
    """The FEC rows (18 text fields each) of the entity between ``start`` and ``end`` inclusive."""
    return [line.fields() for line in entity_lines(identity, start, end)]


def entity_lines(identity: Identity, start: date, end: date) -> list[_Line]:
    """The FEC's lines, à-nouveaux first, then each journal's écritures in the order of their numbers."""
    if end < start:
        raise field_error("to", _l("must be on or after 'from'"))
    # Entries the sequencer has numbered only: one committed this very second joins the next export.
    mine = _entity_accounts(identity) & LedgerTransaction.seq.is_not(None)
    opening_totals = {
        (kind, person_id): int(total)
        for kind, person_id, total in db.session.execute(
            select(Account.kind, Account.person_id, func.sum(Posting.amount_cents))
            .join(Posting, Posting.account_id == Account.id)
            .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
            .where(mine, LedgerTransaction.occurred_on < start)
            .group_by(Account.kind, Account.person_id)
        )
    }
    postings = db.session.execute(
        select(
            LedgerTransaction.id,
            LedgerTransaction.seq,
            LedgerTransaction.kind.label("tx_kind"),
            LedgerTransaction.memo,
            LedgerTransaction.occurred_on,
            LedgerTransaction.recorded_at,
            FecEntryNumber.journal,
            FecEntryNumber.number,
            Account.kind,
            Account.person_id,
            Posting.amount_cents,
        )
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .outerjoin(
            FecEntryNumber, (FecEntryNumber.transaction_id == LedgerTransaction.id) & (FecEntryNumber.entity == identity.entity)
        )
        .where(mine, LedgerTransaction.occurred_on >= start, LedgerTransaction.occurred_on <= end)
        .order_by(LedgerTransaction.seq, Posting.id)
    ).all()
    person_ids = {p for _, p in opening_totals if p is not None} | {row.person_id for row in postings if row.person_id}
    auxiliaries = _Auxiliaries.load(identity, person_ids)
    accounts = configured_accounts()
    lines = _opening(start, accounts, auxiliaries, [(k, p, t) for (k, p), t in opening_totals.items()])
    by_tx: dict[int, list] = defaultdict(list)
    for row in postings:
        by_tx[row.id].append(row)
    entries = []
    for tx_rows in by_tx.values():
        head = tx_rows[0]
        if head.number is None:
            raise Conflict(
                _l(
                    "Ledger transaction L%(seq)s has no FEC number for %(identity)s; run `ledger init`.",
                    seq=head.seq,
                    identity=identity.name,
                )
            )
        amounts: dict[tuple, int] = defaultdict(int)
        analytic: dict[tuple, str] = {}
        for row in tx_rows:
            key = (account_for(row.kind, accounts), auxiliaries.of(row.person_id))
            amounts[key] += row.amount_cents
            analytic[key] = auxiliaries.analytic_code(row.person_id)
        if sum(amounts.values()):
            raise Conflict(
                _l(
                    "Ledger transaction L%(seq)s does not balance within the books of %(identity)s.",
                    seq=head.seq,
                    identity=identity.name,
                )
            )
        number = f"{head.journal}{head.number:06d}"
        label = _clean(head.memo or head.tx_kind)
        valid = head.recorded_at[:10].replace("-", "")
        entries.append(
            (
                (JOURNAL_ORDER.index(head.journal), head.number),
                [
                    _Line(
                        number,
                        head.journal,
                        head.occurred_on,
                        compte,
                        aux,
                        f"L{head.seq}",
                        label,
                        amount,
                        valid,
                        analytic[(compte, aux)],
                    )
                    for (compte, aux), amount in _net(amounts)
                ],
            )
        )
    for _, entry_lines in sorted(entries, key=lambda item: item[0]):
        lines += entry_lines
    return lines


def encode(text: str, encoding: str, fec_rows: list[tuple[str, ...]] | None = None) -> bytes:
    """``text`` in ``encoding``, plain punctuation replacing what the charset lacks; anything else is refused."""
    if encoding not in ENCODINGS:
        raise field_error("encoding", _l("must be one of %(choices)s", choices=", ".join(ENCODINGS)))
    plain = text.translate(PLAIN_PUNCTUATION) if encoding != "utf-8" else text
    try:
        return plain.encode(encoding)
    except UnicodeEncodeError:
        for row in fec_rows or []:
            for column, value in zip(COLUMNS, row):
                missing = sorted({c for c in value.translate(PLAIN_PUNCTUATION) if not _encodes(c, encoding)})
                if missing:
                    raise field_error(
                        "encoding",
                        _l(
                            "écriture %(entry)s (%(label)s): %(column)s '%(value)s' holds %(characters)s, which %(encoding)s "
                            "cannot write; correct the label or export with encoding utf-8",
                            entry=row[2],
                            label=row[8],
                            column=column,
                            value=value,
                            characters=repr("".join(missing)),
                            encoding=encoding,
                        ),
                    ) from None
        raise field_error(
            "encoding", _l("the file holds characters %(encoding)s cannot write; use utf-8", encoding=encoding)
        ) from None


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def render(fec_rows: list[tuple[str, ...]], encoding: str = DEFAULT_ENCODING) -> bytes:
    """Tab-separated, header first, CRLF line ends, in ``encoding``."""
    lines = ["\t".join(COLUMNS), *("\t".join(row) for row in fec_rows)]
    return encode(NEWLINE.join(lines) + NEWLINE, encoding, fec_rows)


FIELD_NOTES = (
    ("JournalCode", "Alphanumérique", "Code journal : AN (à-nouveaux), BQ (banque), OD (opérations diverses)"),
    ("JournalLib", "Alphanumérique", "Libellé du journal"),
    (
        "EcritureNum",
        "Alphanumérique",
        "Numéro d'écriture : code journal suivi d'un numéro continu par journal, attribué à l'enregistrement",
    ),
    ("EcritureDate", "Date AAAAMMJJ", "Date de comptabilisation (date de l'opération)"),
    ("CompteNum", "Alphanumérique", "Numéro de compte (plan comptable général)"),
    ("CompteLib", "Alphanumérique", "Libellé du compte"),
    ("CompAuxNum", "Alphanumérique", "Compte auxiliaire : pseudonyme du contributeur ou code analytique du membre de CAE"),
    ("CompAuxLib", "Alphanumérique", "Libellé du compte auxiliaire : nom public du contributeur"),
    ("PieceRef", "Alphanumérique", "Référence de la pièce : L<numéro> de la transaction du registre public signé"),
    ("PieceDate", "Date AAAAMMJJ", "Date de la pièce"),
    ("EcritureLib", "Alphanumérique", "Libellé de l'écriture"),
    ("Debit", "Numérique", "Montant au débit, virgule décimale, deux décimales"),
    ("Credit", "Numérique", "Montant au crédit, virgule décimale, deux décimales"),
    ("EcritureLet", "Alphanumérique", "Lettrage (non utilisé, vide)"),
    ("DateLet", "Date AAAAMMJJ", "Date de lettrage (non utilisée, vide)"),
    ("ValidDate", "Date AAAAMMJJ", "Date de validation : jour de l'enregistrement au registre"),
    ("Montantdevise", "Numérique", "Montant en devise (vide : tout est en euros)"),
    ("Idevise", "Alphanumérique", "Identifiant de la devise (vide)"),
)


def description(identity: Identity, start: date, end: date, name: str, encoding: str, fec_rows, content: bytes) -> bytes:
    """The description the BOFIP asks to accompany the file: its fields, the accounting system, the encoding."""
    debit = sum(int(r[11].replace(",", "")) for r in fec_rows)
    comptes = sorted({(r[4], r[5]) for r in fec_rows})
    lines = [
        "Description du fichier des écritures comptables (article A47 A-1 du LPF, BOI-CF-IOR-60-40-20)",
        "",
        f"Fichier : {name}",
        f"SHA-256 : {hashlib.sha256(content).hexdigest()}",
        f"Entité : {identity.legal_name}, SIREN {identity.siren}",
        f"Période : du {start.strftime('%d/%m/%Y')} au {end.strftime('%d/%m/%Y')} "
        f"(exercice commençant le {identity.fiscal_year_start[3:]}/{identity.fiscal_year_start[:2]})",
        "",
        "Système comptable : comptabilité d'engagement en partie double tenue par le logiciel ledger "
        "(budget contributif et corémunération). Le registre est en ajout seul, chaîné par empreintes "
        "SHA-256 et signé (Ed25519) ; une correction est une écriture d'extourne. Chaque commun et le "
        "fonds de solidarité tiennent des livres distincts ; ce fichier ne contient que les comptes de l'entité.",
        "Les écritures d'à-nouveaux (journal AN) reprennent au premier jour les soldes des comptes de "
        "classes 1 à 5 ; le résultat antérieur est porté en 110 ou 119.",
        "",
        f"Codage des caractères : {encoding.upper()}",
        "Séparateur de zones : tabulation ; fin d'enregistrement : CR LF ; première ligne : noms des zones",
        "Dates : AAAAMMJJ ; montants : virgule décimale, deux décimales, sans séparateur de milliers",
        f"Enregistrements : {len(fec_rows)} ; écritures : {len({(r[0], r[2]) for r in fec_rows})} ; "
        f"total débit = total crédit = {format_euros(debit)}",
        "",
        "Zones (18, dans cet ordre) :",
        *(f"{i:2d}. {field} ({kind}) : {note}" for i, (field, kind, note) in enumerate(FIELD_NOTES, start=1)),
        "",
        "Comptes utilisés :",
        *(f"{number} {label}" for number, label in comptes),
    ]
    return encode(NEWLINE.join(lines) + NEWLINE, encoding)


@dataclass(frozen=True)
class FecFiles:
    fec: SignedExport
    description: SignedExport


def export(identity: Identity, start: date, end: date, actor: Person | None, encoding: str = DEFAULT_ENCODING) -> FecFiles:
    """Build, sign and record the FEC of an entity and its description file; the caller checks access."""
    name = filename(identity, end)
    fec_rows = rows(identity, start, end)
    content = render(fec_rows, encoding)
    media_type = f"text/plain; charset={encoding}"
    signed = sign(content, filename=name, media_type=media_type)
    notes = sign(
        description(identity, start, end, name, encoding, fec_rows, content),
        filename=name.removesuffix(".txt") + "_description.txt",
        media_type=media_type,
    )
    params = f"entity={identity.entity};from={start.isoformat()};to={end.isoformat()};encoding={encoding}"
    record(signed, "fec", params, actor)
    return FecFiles(signed, notes)
