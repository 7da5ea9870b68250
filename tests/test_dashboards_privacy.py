"""No personal data on public pages: every dashboard, the public ledger and every CSV are
scanned, on the demo installation, for every email, every non-consenting name and every
payroll detail. The members' view names only people who agreed, and only for members."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dashboards import charts
from ledger.commons.models import Commons, Membership
from ledger.crypto import decrypt
from ledger.demo import PASSWORD
from ledger.extensions import db
from ledger.payouts.models import CaeMembership
from ledger.people.models import Person
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)
from tests.factories import login


@pytest.fixture
def client(demo_app):
    yield demo_app.test_client()
    db.session.rollback()


def public_urls(client) -> list[str]:
    slugs = list(db.session.scalars(select(Commons.slug).order_by(Commons.slug)))
    urls = []
    for prefix in ["/transparency"] + [f"/transparency/{slug}" for slug in slugs]:
        urls.append(prefix)
        urls += [f"{prefix}/{key}.csv" for key in charts.BUILDERS]
    ledger = client.get("/transparency/ledger?lang=en").get_data(as_text=True)
    pages = int(re.search(r"page 1 of (\d+)", ledger).group(1))
    assert pages > 1
    urls += [f"/transparency/ledger?page={n}" for n in range(1, pages + 1)]
    return urls


def secrets() -> list[str]:
    """Everything that must never appear publicly."""
    found = []
    for person in db.session.scalars(select(Person)):
        found.append(person.email)
        if not person.show_name_publicly:
            found.append(person.display_name)
    for member in db.session.scalars(select(CaeMembership)):
        found += [decrypt(member.employee_ref_encrypted), f"{member.first_name} {member.last_name}"]
    return found


def test_no_email_non_consenting_name_or_payroll_detail_on_any_public_page_or_csv(client):
    forbidden = secrets()
    assert any("@" in s for s in forbidden) and len(forbidden) > 30
    urls = public_urls(client)
    assert len(urls) > 40
    for lang in ("fr", "en"):
        for url in urls:
            response = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
            assert response.status_code == 200, url
            text = response.get_data(as_text=True)
            leaks = [s for s in forbidden if s and s in text]
            assert leaks == [], f"{url} shows {leaks}"
            assert "@" not in text.replace("@media", ""), url


def test_public_dashboards_rank_and_name_no_one(client):
    consenting = [p.display_name for p in db.session.scalars(select(Person).where(Person.show_name_publicly.is_(True)))]
    for url in ["/transparency", "/transparency/roue-libre", "/transparency/roue-libre/distribution.csv"]:
        text = client.get(url).get_data(as_text=True)
        # even people who agreed to show their name are not listed next to amounts publicly
        assert [name for name in consenting if name in text] == []
        assert "Retributions by person" not in text and "Rétributions par personne" not in text


def test_members_see_consenting_names_sorted_by_name_and_the_others_counted_together(client):
    commons = db.session.scalar(select(Commons).where(Commons.slug == "roue-libre"))
    member = db.session.scalar(
        select(Person).join(Membership).where(Membership.commons_id == commons.id, Membership.role == "member")
    )
    login(client, member.email, PASSWORD)
    response = client.get("/transparency/roue-libre?lang=en")
    text = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    section = text[text.index('id="title-members"') :]
    members = queries_members(commons.id)
    assert members["named"] and members["others"]["people"]
    names = [row["name"] for row in members["named"]]
    positions = [section.index(f"<td>{name}</td>") for name in names]
    assert positions == sorted(positions) and names == sorted(names, key=str.casefold)
    hidden = db.session.scalars(select(Person).where(Person.show_name_publicly.is_(False))).all()
    assert [p.display_name for p in hidden if p.display_name in text] == []
    assert f"{members['others']['people']} people who prefer not to be named" in section
    assert all(p.email not in text for p in hidden)


def test_a_logged_in_person_of_another_commons_sees_no_names(client):
    commons = db.session.scalar(select(Commons).where(Commons.slug == "roue-libre"))
    members = {m.person_id for m in db.session.scalars(select(Membership).where(Membership.commons_id == commons.id))}
    outsider = next(p for p in db.session.scalars(select(Person).order_by(Person.id)) if p.id not in members and p.password_hash)
    login(client, outsider.email, PASSWORD)
    text = client.get("/transparency/roue-libre?lang=en").get_data(as_text=True)
    assert 'id="title-members"' not in text
    assert 'id="title-members"' not in client.get("/transparency?lang=en").get_data(as_text=True)


def queries_members(commons_id: int) -> dict:
    from dashboards.queries import member_retributions

    return member_retributions(commons_id)
