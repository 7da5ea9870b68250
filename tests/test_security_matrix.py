"""Authorization matrix: every role against every API endpoint that changes or reveals something.

One table: a row per endpoint, a column per role, the expected status in each cell. Each row
runs on a fresh installation and asks as every role in turn (refused roles first, so that a
success cannot hide a refusal); a refused request must also leave the database unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from ledger.accounts.models import LedgerTransaction
from ledger.commons.models import Commons, Income, Membership
from ledger.contributions.models import Contribution, Vouch
from ledger.extensions import db
from ledger.people.models import PersonRole
from ledger.rounds.models import Round, RuleVersion
from ledger.timeutil import today
from tests.payouts_support import add_cae_member, create_cae, grant_accountant
from tests.rounds_support import World, fund_commons, open_round

ROLES = (
    "anonymous",
    "contributor",
    "member",
    "other_steward",
    "steward",
    "other_accountant",
    "accountant",
    "fund_manager",
    "admin",
)


@pytest.fixture
def installation(app, client, make_person, make_commons):
    """Two commons, two CAEs, a fund manager, an admin, and a contribution under way in velo."""
    actor = lambda name, **kw: make_person(name, password=None, **kw)  # noqa: E731 (no password hashing: fast)
    people = {role: actor(role.replace("_", " ").title()) for role in ROLES if role not in ("anonymous", "admin")}
    people["admin"] = actor("Admin", admin=True)
    make_commons(people["steward"], "velo", members={"member": people["member"], "contributor": people["contributor"]})
    make_commons(people["other_steward"], "atelier")
    world = World("velo", people["steward"], people)
    fund_commons(world, 500_000)
    create_cae(client, people["admin"], code="OXALIS")
    create_cae(client, people["admin"], code="ECOTONE")
    grant_accountant(client, people["admin"], "OXALIS", people["accountant"])
    grant_accountant(client, people["admin"], "ECOTONE", people["other_accountant"])
    add_cae_member(client, people["accountant"], "OXALIS", people["contributor"], "EMP-1")
    db.session.add(PersonRole(person_id=people["fund_manager"].id, role="fund_manager"))
    db.session.commit()
    round_ = open_round(
        client, world, (today() - timedelta(days=20)).isoformat(), (today() + timedelta(days=5)).isoformat(), 50_000
    )
    declared = client.post(
        "/api/v1/contributions",
        headers=people["contributor"].headers,
        json={
            "commons": "velo",
            "date": (today() - timedelta(days=1)).isoformat(),
            "hours": "3",
            "category": "care",
            "description": "welcomed two newcomers",
        },
    )
    assert declared.status_code == 201, declared.get_json()
    # People not in any commons yet, one per role, for requests that add someone.
    newcomers = {role: actor(f"Newcomer for {role}") for role in ROLES}
    db.session.commit()
    return SimpleNamespace(
        people=people,
        round=round_["id"],
        contribution=declared.get_json()["id"],
        newcomers=newcomers,
        contributor_id=people["contributor"].id,
    )


def footprint() -> tuple:
    """Row counts a refused request must leave as they were."""
    counted = (Commons, Contribution, Vouch, Membership, Income, Round, RuleVersion, LedgerTransaction, PersonRole)
    found = tuple(db.session.scalar(select(func.count()).select_from(model)) for model in counted)
    descriptions = tuple(db.session.scalars(select(Contribution.description).order_by(Contribution.id)))
    standing = tuple(db.session.scalars(select(Commons.fund_status).order_by(Commons.id)))
    db.session.rollback()
    return found, descriptions, standing


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # formatted with the installation's ids
    expected: tuple[int, ...]  # in the order of ROLES
    body: Callable[[SimpleNamespace, str], dict] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def e(anonymous, contributor, member, other_steward, steward, other_accountant, accountant, fund_manager, admin):
    return (anonymous, contributor, member, other_steward, steward, other_accountant, accountant, fund_manager, admin)


def period(role: str) -> dict:
    month = ROLES.index(role) + 1
    return {"period_start": f"2021-{month:02d}-01", "period_end": f"2021-{month:02d}-28", "envelope_cents": 0}


RULES = {
    "reason": "matrix",
    "allocation_method": "time",
    "hourly_value_cents": 1500,
    "levy_rate": "0.05",
    "cap_cents": None,
    "min_vouches": 0,
    "cadence": "manual",
}

MATRIX = [
    # Contributions: the author, the people of the commons, admins.
    Row("GET", "/api/v1/contributions?commons=velo", e(401, 200, 200, 403, 200, 403, 403, 403, 200)),
    Row("GET", "/api/v1/contributions/{contribution}", e(401, 200, 200, 403, 200, 403, 403, 403, 200)),
    Row(
        "PATCH",
        "/api/v1/contributions/{contribution}",
        e(401, 200, 403, 403, 403, 403, 403, 403, 403),
        lambda w, role: {"description": f"changed by {role}"},
    ),
    Row("DELETE", "/api/v1/contributions/{contribution}", e(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row(
        "POST",
        "/api/v1/contributions",
        e(401, 201, 201, 403, 201, 403, 403, 403, 403),
        lambda w, role: {
            "commons": "velo",
            "date": (today() - timedelta(days=2)).isoformat(),
            "hours": "1",
            "category": "production",
            "description": f"work of {role}",
        },
    ),
    # Peer review: members and stewards, never on their own work.
    Row("POST", "/api/v1/contributions/{contribution}/vouches", e(401, 403, 201, 403, 201, 403, 403, 403, 403)),
    Row(
        "POST",
        "/api/v1/contributions/{contribution}/objections",
        e(401, 403, 201, 403, 201, 403, 403, 403, 403),
        lambda w, role: {"reason": f"{role} saw no trace of this work"},
    ),
    Row("GET", "/api/v1/commons/velo/review", e(401, 200, 200, 403, 200, 403, 403, 403, 200)),
    # The commons' stewards (and admins) run it.
    Row(
        "POST",
        "/api/v1/commons/velo/members",
        e(401, 403, 403, 403, 201, 403, 403, 403, 201),
        lambda w, role: {"email": w.newcomers[role].email, "role": "member"},
    ),
    Row(
        "POST",
        "/api/v1/commons/velo/income",
        e(401, 403, 403, 403, 201, 403, 403, 403, 201),
        lambda w, role: {"amount_cents": 1000, "source": "donation", "funder": "Friends", "date": today().isoformat()},
    ),
    Row("POST", "/api/v1/commons/velo/rules", e(401, 403, 403, 403, 201, 403, 403, 403, 201), lambda w, role: RULES),
    Row(
        "POST",
        "/api/v1/commons/velo/categories",
        e(401, 403, 403, 403, 201, 403, 403, 403, 201),
        lambda w, role: {"code": f"cat_{role}", "label": f"Category of {role}"},
    ),
    Row("POST", "/api/v1/commons/velo/rounds", e(401, 403, 403, 403, 201, 403, 403, 403, 201), lambda w, role: period(role)),
    # The round's declaration window is still open: moving it on needs a reason.
    Row(
        "POST",
        "/api/v1/rounds/{round}/advance",
        e(401, 403, 403, 403, 200, 403, 403, 403, 200),
        lambda w, role: {"reason": f"early, asked by {role}"},
    ),
    Row("GET", "/api/v1/commons/velo/payout-batches", e(401, 403, 403, 403, 200, 403, 403, 403, 200)),
    Row("GET", "/api/v1/rounds/{round}/self-requests", e(401, 200, 200, 403, 200, 403, 403, 403, 200)),
    # A payout route: the person themself, or a steward of the commons.
    Row(
        "PUT",
        "/api/v1/commons/velo/members/{contributor_id}/route",
        e(401, 200, 403, 403, 200, 403, 403, 403, 200),
        lambda w, role: {"route": "waive"},
    ),
    Row("GET", "/api/v1/commons/velo/members/{contributor_id}/route", e(401, 200, 403, 403, 200, 403, 403, 403, 200)),
    # CAEs: their own accountants; the salary lines not even to admins.
    Row("GET", "/api/v1/caes/OXALIS/members", e(401, 403, 403, 403, 403, 403, 200, 403, 200)),
    Row(
        "POST",
        "/api/v1/caes/OXALIS/members",
        e(401, 403, 403, 403, 403, 403, 201, 403, 201),
        lambda w, role: {"email": w.newcomers[role].email, "employee_ref": f"EMP-{role}", "contract_type": "CESA"},
    ),
    Row("GET", "/api/v1/caes/OXALIS/batches", e(401, 403, 403, 403, 403, 403, 200, 403, 200)),
    Row("GET", "/api/v1/exports/salary-lines?cae=OXALIS&period=2026-01", e(401, 403, 403, 403, 403, 403, 200, 403, 403)),
    Row(
        "POST",
        "/api/v1/caes",
        e(401, 403, 403, 403, 403, 403, 403, 403, 201),
        lambda w, role: {"code": f"C{ROLES.index(role)}", "name": "A CAE", "contribution_rate": "0.1", "employer_rate": "0.4"},
    ),
    Row(
        "POST",
        "/api/v1/caes/OXALIS/accountants",
        e(401, 403, 403, 403, 403, 403, 403, 403, 201),
        lambda w, role: {"email": w.newcomers[role].email},
    ),
    # The solidarity fund: its manager and admins.
    Row(
        "POST",
        "/api/v1/solidarity-fund/donations",
        e(401, 403, 403, 403, 403, 403, 403, 201, 201),
        lambda w, role: {"amount_cents": 500, "donor": "A neighbour", "date": today().isoformat()},
    ),
    Row(
        "POST",
        "/api/v1/solidarity-fund/rules",
        e(401, 403, 403, 403, 403, 403, 403, 201, 201),
        lambda w, role: {"reason": "matrix", "topup_ratio": "0.5", "per_person_cap_cents": None},
    ),
    # The fund-drain story (issue 16): only an administrator creates a commons, only the fund
    # manager (or an administrator) admits one to the fund; see tests/test_fund_drain.py.
    Row(
        "POST",
        "/api/v1/commons",
        e(401, 403, 403, 403, 403, 403, 403, 403, 201),
        lambda w, role: {"slug": f"new-{role.replace('_', '-')}", "name": f"New {role}"},
    ),
    Row(
        "PUT",
        "/api/v1/solidarity-fund/commons/atelier",
        e(401, 403, 403, 403, 403, 403, 403, 200, 200),
        lambda w, role: {"status": "suspended", "reason": f"decided as {role}"},
    ),
    # Anyone authenticated.
    Row("GET", "/api/v1/me", e(401, 200, 200, 200, 200, 200, 200, 200, 200)),
]


@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_authorization_matrix(client, installation, row: Row):
    path = row.path.format(
        contribution=installation.contribution, round=installation.round, contributor_id=installation.contributor_id
    )
    # Refusals first: a role allowed to act may change what the next role would see.
    order = sorted(range(len(ROLES)), key=lambda i: row.expected[i] < 400)
    got = {}
    for i in order:
        role = ROLES[i]
        headers = {} if role == "anonymous" else installation.people[role].headers
        before = footprint()
        kwargs = {"json": row.body(installation, role)} if row.body else {}
        if row.method in ("POST", "PUT", "PATCH") and not kwargs:
            kwargs = {"json": {}}
        response = client.open(path, method=row.method, headers=headers, **kwargs)
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.get_json()["error"]["code"], f"{role}: no error envelope"
            assert footprint() == before, f"{role} was refused but something was stored"
    expected = dict(zip(ROLES, row.expected))
    assert got == expected, {role: (got[role], expected[role]) for role in ROLES if got[role] != expected[role]}


# The pages: the same roles, logged in by session. A browser that is not logged in is sent to the
# login page (302); a refused role gets 403; an accepted form redirects (302) or renders (200).
def page_body(fields: dict) -> Callable[[SimpleNamespace, str], dict]:
    return lambda w, role: {k: (v(w, role) if callable(v) else v) for k, v in fields.items()}


def velo_membership_id(w: SimpleNamespace, role: str) -> int:
    """The id that prefixes a person's route form for velo; 0, as the page uses, for a non-member."""
    person = w.people.get(role)
    if person is None:
        return 0
    found = db.session.scalar(
        select(Membership.id).join(Commons).where(Commons.slug == "velo", Membership.person_id == person.id)
    )
    db.session.rollback()
    return found or 0


PAGE_MATRIX = [
    Row("GET", "/account", e(302, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/account/money", e(302, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/account/password", e(302, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/password/forgot", e(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/keys/signing.pem", e(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/commons/new", e(302, 403, 403, 403, 403, 403, 403, 403, 200)),
    Row(
        "POST",
        "/commons/new",
        e(302, 403, 403, 403, 403, 403, 403, 403, 302),
        page_body({"slug": lambda w, role: f"page-{role.replace('_', '-')}", "name": "New"}),
    ),
    Row("GET", "/commons/velo/manage", e(302, 403, 403, 403, 200, 403, 403, 403, 200)),
    Row(
        "POST",
        "/commons/velo/invite",
        e(302, 403, 403, 403, 302, 403, 403, 403, 302),
        page_body({"email": lambda w, role: f"invited-{role}@example.org", "name": "Invited", "role": "contributor"}),
    ),
    Row(
        "POST",
        "/commons/velo/members/{contributor_id}/role",
        e(302, 403, 403, 403, 302, 403, 403, 403, 302),
        lambda w, role: {f"m{w.contributor_id}-role": "member"},
    ),
    Row(
        "POST",
        "/commons/velo/categories",
        e(302, 403, 403, 403, 302, 403, 403, 403, 302),
        page_body({"code": lambda w, role: f"page_{role}", "label": "A category"}),
    ),
    Row(
        "POST",
        "/commons/velo/income",
        e(302, 403, 403, 403, 302, 403, 403, 403, 302),
        page_body({"amount": "10", "source": "grant", "funder": "City", "received_on": "2025-01-02"}),
    ),
    # The FEC holds no personal data: stewards of the commons, any CAE accountant, admins.
    Row("GET", "/commons/velo/fec", e(302, 403, 403, 403, 200, 200, 200, 403, 200)),
    Row("GET", "/rounds/{round}/finalize", e(302, 403, 403, 403, 302, 403, 403, 403, 302)),
    Row("POST", "/rounds/{round}/finalize", e(302, 403, 403, 403, 302, 403, 403, 403, 302)),
    Row(
        "POST",
        "/rounds/{round}/advance",
        e(302, 403, 403, 403, 302, 403, 403, 403, 302),
        lambda w, role: {"reason": f"early, asked by {role}"},
    ),
    Row(
        "POST",
        "/caes/OXALIS/members",
        e(302, 403, 403, 403, 403, 403, 302, 403, 302),
        lambda w, role: {"email": w.newcomers[role].email, "employee_ref": f"P-{role}", "contract_type": "CESA"},
    ),
    Row("GET", "/fund/manage", e(302, 403, 403, 403, 403, 403, 403, 200, 200)),
    Row(
        "POST",
        "/fund/donations",
        e(302, 403, 403, 403, 403, 403, 403, 302, 302),
        lambda w, role: {"amount": "25", "donor": f"Donor {role}", "received_on": "2025-05-01"},
    ),
    Row(
        "POST",
        "/fund/rules",
        e(302, 403, 403, 403, 403, 403, 403, 302, 302),
        lambda w, role: {"reason": f"set by {role}", "topup_percent": "40", "cap": ""},
    ),
    Row(
        "POST",
        "/caes/OXALIS/accountants",
        e(302, 403, 403, 403, 403, 403, 403, 403, 302),
        lambda w, role: {"email": w.newcomers[role].email},
    ),
    # The CAE's own pages: its accountant (and an admin, who sets the CAE up, without the
    # employee references); the salary lines, which decrypt them, for its accountant alone
    # (an empty month sends her back to the page with a message).
    Row("GET", "/caes/OXALIS", e(302, 403, 403, 403, 403, 403, 200, 403, 200)),
    Row("GET", "/caes/OXALIS/reconciliation", e(302, 403, 403, 403, 403, 403, 200, 403, 200)),
    Row("GET", "/caes/OXALIS/salary-lines?period=2020-01&form=file", e(302, 403, 403, 403, 403, 403, 302, 403, 403)),
    Row("GET", "/commons/velo/payouts", e(302, 403, 403, 403, 200, 403, 403, 403, 200)),
    # Each person's own pages.
    Row("GET", "/", e(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/account/payouts", e(302, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/account/tokens", e(302, 200, 200, 200, 200, 200, 200, 200, 200)),
    # Members choose their own route; someone outside velo has no membership to set it on (404).
    Row(
        "POST",
        "/account/payouts/velo",
        e(302, 302, 302, 404, 302, 404, 404, 404, 404),
        lambda w, role: {f"m{velo_membership_id(w, role)}-route": "fund"},
    ),
]


def page_footprint() -> tuple:
    from ledger.commons.models import Commons
    from ledger.contributions.models import Category
    from ledger.fund.models import FundDonation, FundRuleVersion
    from ledger.payouts.models import CaeMembership
    from ledger.people.links import AccountLink
    from ledger.people.models import Person
    from ledger.rounds.models import RoundEvent

    extra = tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Commons, Category, AccountLink, Person, RoundEvent, CaeMembership, FundDonation, FundRuleVersion)
    )
    roles = tuple(db.session.scalars(select(Membership.role).order_by(Membership.id)))
    db.session.rollback()
    return footprint(), extra, roles


@pytest.mark.parametrize("row", PAGE_MATRIX, ids=str)
def test_page_authorization_matrix(client, installation, row: Row):
    path = row.path.format(round=installation.round, contributor_id=installation.contributor_id)
    order = sorted(range(len(ROLES)), key=lambda i: row.expected[i] < 400 and ROLES[i] != "anonymous")
    got = {}
    for i in order:
        role = ROLES[i]
        with client.session_transaction() as session:
            session.clear()
            if role != "anonymous":
                session["person_id"] = installation.people[role].id
        before = page_footprint()
        data = row.body(installation, role) if row.body else {}
        response = client.open(path, method=row.method, data=data if row.method == "POST" else None)
        got[role] = response.status_code
        if response.status_code >= 400 or role == "anonymous":
            assert page_footprint() == before, f"{role} was refused but something was stored"
        if role == "anonymous" and response.status_code == 302:
            assert "/login" in response.headers["Location"]
    expected = dict(zip(ROLES, row.expected))
    assert got == expected, {role: (got[role], expected[role]) for role in ROLES if got[role] != expected[role]}
