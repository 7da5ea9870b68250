"""An independent FEC reader for the tests, written from the official rules, not from the exporter.

Sources: article A47 A-1 of the Livre des procédures fiscales (the 18 fields, in this order; the
file named SirenFECAAAAMMJJ; ASCII, ISO 8859-15 or EBCDIC; separator tab or |), the BOFIP
BOI-CF-IOR-60-40-20 (mandatory fields, balanced écritures, dates AAAAMMJJ, the description that
accompanies the file) and the checks of the DGFiP's Test Compta Demat tool (header line, one
JournalCode and one date per écriture, Debit/Credit both present, auxiliary number and label
together, currency amount and code together). It imports nothing from ``ledger``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

FIELDS = [
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
]
MANDATORY = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "ValidDate",
]
NAME = re.compile(r"^(\d{9})FEC(\d{8})\.txt$")
AMOUNT = re.compile(r"^\d+,\d{2}$")


class FecError(AssertionError):
    pass


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def ymd(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise FecError(f"not a date AAAAMMJJ: {text!r}") from exc


def cents(text: str) -> int:
    if not AMOUNT.match(text):
        raise FecError(f"not an amount with a decimal comma: {text!r}")
    euros, part = text.split(",")
    return int(euros) * 100 + int(part)


@dataclass
class Fec:
    siren: str
    closing: date
    lines: list[dict]
    entries: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def balance(self, prefix: str) -> int:
        """Debit minus credit over every line whose account number starts with ``prefix``."""
        return sum(cents(r["Debit"]) - cents(r["Credit"]) for r in self.lines if r["CompteNum"].startswith(prefix))


def read(name: str, data: bytes, encoding: str = "iso-8859-15") -> Fec:
    """Parse and check a FEC file; raises FecError naming the first rule broken."""
    match = NAME.match(name)
    if not match:
        raise FecError(f"file name {name!r} is not SirenFECAAAAMMJJ.txt")
    siren, closing = match.group(1), ymd(match.group(2))
    if not luhn_ok(siren):
        raise FecError(f"SIREN {siren} fails its checksum")
    if encoding == "iso-8859-15" and any(0x80 <= b <= 0x9F for b in data):
        raise FecError("C1 control bytes: not ISO 8859-15 text (UTF-8 or Windows-1252?)")
    text = data.decode(encoding)
    if not text.endswith("\r\n"):
        raise FecError("the last record does not end with CR LF")
    records = text[:-2].split("\r\n")
    if records[0].split("\t") != FIELDS:
        raise FecError(f"header is not the 18 fields in order: {records[0]!r}")
    lines = []
    for number, record in enumerate(records[1:], start=2):
        values = record.split("\t")
        if len(values) != 18:
            raise FecError(f"record {number} has {len(values)} fields")
        row = dict(zip(FIELDS, values))
        for name_ in MANDATORY:
            if not row[name_].strip():
                raise FecError(f"record {number}: {name_} is empty")
        for name_ in ("EcritureDate", "PieceDate", "ValidDate"):
            ymd(row[name_])
        if row["DateLet"]:
            ymd(row["DateLet"])
        debit, credit = cents(row["Debit"]), cents(row["Credit"])
        if (debit == 0) == (credit == 0):
            raise FecError(f"record {number}: exactly one of Debit and Credit must be non-zero")
        if bool(row["CompAuxNum"]) != bool(row["CompAuxLib"]):
            raise FecError(f"record {number}: CompAuxNum and CompAuxLib go together")
        if bool(row["Montantdevise"]) != bool(row["Idevise"]):
            raise FecError(f"record {number}: Montantdevise and Idevise go together")
        if not re.match(r"^[1-8]\d{2,}", row["CompteNum"]):
            raise FecError(f"record {number}: CompteNum {row['CompteNum']!r} is not a PCG account")
        if ymd(row["EcritureDate"]) > closing:
            raise FecError(f"record {number}: dated after the closing date")
        lines.append(row)
    entries: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in lines:
        entries[(row["JournalCode"], row["EcritureNum"])].append(row)
    journals_of_num = defaultdict(set)
    for (journal, num), rows in entries.items():
        journals_of_num[num].add(journal)
        if sum(cents(r["Debit"]) - cents(r["Credit"]) for r in rows):
            raise FecError(f"écriture {journal} {num} does not balance")
        if len({r["EcritureDate"] for r in rows}) != 1:
            raise FecError(f"écriture {journal} {num} has several dates")
        keys = [(r["CompteNum"], r["CompAuxNum"]) for r in rows]
        debit_keys = {(r["CompteNum"], r["CompAuxNum"]) for r in rows if cents(r["Debit"])}
        credit_keys = {(r["CompteNum"], r["CompAuxNum"]) for r in rows if cents(r["Credit"])}
        if len(keys) != len(set(keys)) or debit_keys & credit_keys:
            raise FecError(f"écriture {journal} {num} has lines that cancel each other out")
    if any(len(j) > 1 for j in journals_of_num.values()):
        raise FecError("an EcritureNum is used in several journals")
    return Fec(siren, closing, lines, dict(entries))
