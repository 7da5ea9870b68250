"""What a person's roles open to them, asked once for the menus (the pages still check each act)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.commons.models import Commons, Membership
from ledger.extensions import db
from ledger.people.models import Person


@dataclass(frozen=True)
class Reach:
    member_of: list[Commons] = field(default_factory=list)
    stewarded: list[Commons] = field(default_factory=list)
    cae_codes: list[str] = field(default_factory=list)
    fund_manager: bool = False
    admin: bool = False

    @property
    def contributes(self) -> bool:
        """Declaring and "my money" concern members of some commons."""
        return bool(self.member_of)


def reach_of(person: Person | None) -> Reach:
    if person is None:
        return Reach()
    rows = db.session.execute(
        select(Commons, Membership.role)
        .join(Membership, Membership.commons_id == Commons.id)
        .where(Membership.person_id == person.id)
        .order_by(Commons.name)
    ).all()
    return Reach(
        member_of=[c for c, _ in rows],
        stewarded=[c for c, role in rows if role == "steward"],
        cae_codes=sorted({r.cae.code for r in person.roles if r.role == "cae_accountant" and r.cae_id}),
        fund_manager=person.has_role("fund_manager"),
        admin=person.is_admin,
    )
