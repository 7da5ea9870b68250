"""Numbers, amounts, percentages and dates as the reader writes them (French and English), forms
that read French decimals, and an allocation table whose columns and totals add up and whose
explanations speak to the right person and name the limit that bound.

Ana declares 100 hours and Mathis 2 at 15 € an hour (claims 1 500 € and 30 €) in a round whose
envelope is 100 €; the solidarity fund covers half of a shortfall, at most 80 € a person a month.
Ana's top-up (half of 1 401,96 €) is held at the 80 € cap; Mathis's is half his shortfall.
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.service import balance
from ledger.commons.models import Income
from ledger.extensions import db
from ledger.people.models import Person
from ledger.rounds.models import AllocationLine, Round, RuleVersion
from tests.factories import login, make_world
from tests.rounds_support import advance, declare, make_fund_manager, open_round

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.fixture
def world(app, client, make_person, make_commons):
    world = make_world(make_person, make_commons, ana="member", mathis="member")
    manager = make_person("Fund manager")
    make_fund_manager(manager)
    world.people["manager"] = manager
    return world


def fund_holds(client, world, cents: int) -> None:
    """The solidarity fund receives ``cents`` and covers half of a shortfall, 80 € a person a month at most."""
    manager = world.people["manager"]
    for url, body in (
        ("/api/v1/solidarity-fund/donations", {"amount_cents": cents, "donor": "Fondation", "date": "2026-01-02"}),
        ("/api/v1/solidarity-fund/rules", {"reason": "half, 80 € at most", "topup_ratio": "0.5", "per_person_cap_cents": 8_000}),
    ):
        assert client.post(url, json=body, headers=manager.headers).status_code == 201


def allocate(client, world) -> int:
    for day in range(5, 10):
        declare(world, world.people["ana"], "20", date(2026, 1, day))
    declare(world, world.people["mathis"], "2", date(2026, 1, 5))
    round_id = open_round(client, world, "2026-01-01", "2026-01-31", 10_000)["id"]
    advance(client, world, round_id, times=2)
    return round_id


@pytest.fixture
def allocated(client, world):
    fund_holds(client, world, 1_000_000)
    return allocate(client, world)


@pytest.fixture
def allocated_with_a_poor_fund(client, world):
    fund_holds(client, world, 1_000)
    return allocate(client, world)


def read(client, url: str, **kwargs):
    """GET ``url`` in the language it asks for: the tests share one application context, where
    Flask-Babel keeps the locale of the previous request unless refreshed."""
    refresh()
    response = client.get(url, **kwargs)
    return response.get_json() if url.startswith("/api/") else response.get_data(as_text=True)


def cells(page: str, person_id: int | str) -> list[str]:
    """The text of a row of the allocation table (a person's, or "totals")."""
    marker = 'class="totals">' if person_id == "totals" else f'data-person="{person_id}">'
    row = page.split(marker, 1)[1].split("</tr>", 1)[0]
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def explanation(page: str, person_id: int) -> str:
    after = page.split(f'data-person="{person_id}">', 1)[1]
    return unescape(re.search(r"<details[^>]*><summary>[^<]*</summary><p>(.*?)</p>", after, re.S).group(1))


def public_name(actor) -> str:
    return db.session.get(Person, actor.id).public_name


def test_the_round_page_writes_money_hours_percentages_and_dates_in_french_and_in_english(client, world, allocated):
    ana = world.people["ana"]
    login(client, ana)
    french = read(client, f"/rounds/{allocated}?lang=fr")
    assert "1 janvier 2026 – 31 janvier 2026" in french
    assert f"<dd>100,00{NBSP}€</dd>" in french  # the envelope
    # Ana's row: 100 hours, claim 1 500 €, gross 98,04 €, levy 4,90 €, net 93,14 €, top-up 80 €, paid 173,14 €.
    assert cells(french, ana.id)[1:8] == [
        "100",
        f"1{NNBSP}500,00{NBSP}€",
        f"98,04{NBSP}€",
        f"4,90{NBSP}€",
        f"93,14{NBSP}€",
        f"80,00{NBSP}€",
        f"173,14{NBSP}€",
    ]
    assert "(6,54 %)" in explanation(french, ana.id)  # the envelope's share of the claims
    english = read(client, f"/rounds/{allocated}?lang=en")
    assert "January 1, 2026 – January 31, 2026" in english and "<dd>€100.00</dd>" in english
    assert cells(english, ana.id)[1:3] == ["100", "€1,500.00"]
    assert "(6.54%)" in explanation(english, ana.id)
    assert not re.search(r"\b2026-01-\d\d\b", french + english)  # no ISO date left on the page


def test_the_table_adds_top_up_and_total_paid_and_its_totals_are_the_rows_and_the_ledger(client, world, allocated):
    ana, mathis = world.people["ana"], world.people["mathis"]
    login(client, ana)
    page = read(client, f"/rounds/{allocated}?lang=en")
    header = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    assert re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', header) == [
        "Person", "Hours", "Claim", "Gross", "Levy", "Net", "Top-up", "Total paid", "Route",
    ]  # fmt: skip
    lines = {line.person_id: line for line in db.session.scalars(select(AllocationLine))}
    assert (lines[ana.id].topup_cents, lines[mathis.id].topup_cents) == (8_000, 1_402)
    assert cells(page, mathis.id)[5:8] == ["€1.86", "€14.02", "€15.88"]  # net 1.96 − 0.10, + half of 28.04
    assert cells(page, "totals")[1:8] == [
        "102", "€1,530.00", "€100.00", "€5.00", "€95.00", "€94.02", "€189.02",
    ]  # fmt: skip
    # The totals row is the sum of the rows, column by column.
    euros = lambda text: int(text.replace("€", "").replace(",", "").replace(".", ""))  # noqa: E731
    rows = [cells(page, ana.id), cells(page, mathis.id)]
    assert [euros(total) for total in cells(page, "totals")[2:8]] == [sum(euros(r[i]) for r in rows) for i in range(2, 8)]
    # Once finalized, what the ledger owes each person is their "total paid", net and top-up.
    client.post("/logout")
    login(client, "steward@example.org")
    assert client.post(f"/rounds/{allocated}/finalize").status_code == 302
    db.session.expire_all()
    owed = {
        actor.id: -(balance(chart.person_payable(actor.id, world.commons).code) + balance(chart.fund_payable(actor.id).code))
        for actor in (ana, mathis)
    }
    assert owed == {ana.id: 17_314, mathis.id: 1_588} and sum(owed.values()) == 18_902
    assert -balance(chart.fund_payable(ana.id).code) == 8_000


def test_each_person_reads_their_own_row_as_you_and_the_others_by_name(client, world, allocated):
    ana, mathis = world.people["ana"], world.people["mathis"]
    login(client, ana)
    page = read(client, f"/rounds/{allocated}?lang=fr")
    mine, theirs = explanation(page, ana.id), explanation(page, mathis.id)
    assert mine.startswith("Vous avez déclaré 100 heures de travail compté dans ce tour.")
    assert theirs.startswith(f"{public_name(mathis)} a déclaré 2 heures de travail compté dans ce tour.")
    assert "Vous" not in theirs and "vous" not in theirs and f"{public_name(mathis)} facture 15,88" in theirs
    # The same through the API: Mathis's token reads his own line in the second person.
    lines = read(client, f"/api/v1/rounds/{allocated}/allocation", headers={**mathis.headers, "Accept-Language": "en"})["lines"]
    by_person = {line["person_id"]: line["explanation"] for line in lines}
    assert by_person[mathis.id].startswith("You declared 2 hours")
    assert by_person[ana.id].startswith(f"{public_name(ana)} declared 100 hours")


def test_the_capped_top_up_names_the_funds_cap_and_the_others_the_funds_share(client, world, allocated):
    ana, mathis = world.people["ana"], world.people["mathis"]
    login(client, ana)
    page = read(client, f"/rounds/{allocated}?lang=en")
    assert (
        "The envelope fell €1,401.96 short of your claim. The solidarity fund gives one person at most €80.00 a month "
        "across all commons: that cap holds the top-up at €80.00."
    ) in explanation(page, ana.id)
    assert (
        f"The envelope fell €28.04 short of the claim of {public_name(mathis)}; the solidarity fund covers 50% of a "
        "shortfall, so it adds €14.02."
    ) in explanation(page, mathis.id)
    french = read(client, f"/rounds/{allocated}?lang=fr")
    assert f"au plus 80,00{NBSP}€ par personne et par mois" in explanation(french, ana.id)


def test_the_funds_means_are_named_when_they_bound(client, world, allocated_with_a_poor_fund):
    round_id, mathis = allocated_with_a_poor_fund, world.people["mathis"]
    login(client, mathis)
    page = read(client, f"/rounds/{round_id}?lang=en")
    # Half of the shortfalls is €715.00; the fund has €10.00: split by shortfall, Mathis gets €0.20.
    assert (
        "The envelope fell €28.04 short of your claim. The solidarity fund covers 50% of a shortfall, €715.00 for "
        "this round, but it had only €10.00 available: shared by shortfall, it adds €0.20."
    ) in explanation(page, mathis.id)


def test_stored_explanations_are_compact_steps_rendered_when_shown(client, world, allocated):
    stored = db.session.scalar(select(AllocationLine.explanation).where(AllocationLine.person_id == world.people["ana"].id))
    assert stored.startswith('[["hours",{"hours":"100"}],') and "declared" not in stored


@pytest.mark.parametrize(
    ("lang", "typed", "cents"),
    [("fr", "18,5", 1_850), ("fr", "1 000,00", 100_000), ("en", "18.5", 1_850), ("en", "1,000.00", 100_000)],
)
def test_an_amount_typed_the_readers_way_is_read_exactly(client, world, lang, typed, cents):
    login(client, "steward@example.org")
    refresh()
    response = client.post(
        f"/commons/velo/rounds?lang={lang}", data={"period_start": "2026-02-01", "period_end": "2026-02-28", "envelope": typed}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Round.envelope_cents)) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("18,005", "Écrivez un montant en centimes entiers, au plus deux décimales, par exemple 18,01."),
        ("18.005", "Écrivez un montant en centimes entiers, au plus deux décimales, par exemple 18,01."),
        ("dix-huit", "Écrivez un montant en euros, par exemple 18,01."),
        ("1,2,3", "Écrivez un montant en euros, par exemple 18,01."),
    ],
)
def test_a_sub_cent_or_unreadable_amount_is_refused_beside_its_field_and_nothing_is_stored(client, world, typed, message):
    login(client, "steward@example.org")
    response = client.post(
        "/commons/velo/rounds?lang=fr", data={"period_start": "2026-02-01", "period_end": "2026-02-28", "envelope": typed}
    )
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and 'id="envelope-error"' in page and message in page
    assert db.session.scalar(select(func.count(Round.id))) == 0


def test_the_rules_form_shows_and_reads_french_decimals(client, world):
    login(client, "steward@example.org")
    page = read(client, "/commons/velo/rules?lang=fr")
    assert re.search(r'name="hourly_value"[^>]*value="15,00"', page) and re.search(r'name="levy_percent"[^>]*value="5"', page)
    form = {
        "reason": "un peu plus",
        "allocation_method": "time",
        "hourly_value": "18,5",
        "cap": "",
        "levy_percent": "5,5",
        "category_weights": "",
        "min_vouches": "0",
        "cadence": "monthly",
        "declaration_days": "5",
        "review_days": "7",
        "effective_from": date.today().isoformat(),
    }
    refused = client.post("/commons/velo/rules?lang=fr", data={**form, "levy_percent": "5,555"})
    assert "Écrivez au plus 2 décimales." in unescape(refused.get_data(as_text=True))
    refused = client.post("/commons/velo/rules?lang=fr", data={**form, "levy_percent": "cinq"})
    assert "Écrivez un nombre, par exemple 12,5." in unescape(refused.get_data(as_text=True))
    assert db.session.scalar(select(func.count(RuleVersion.id))) == 1
    assert client.post("/commons/velo/rules?lang=fr", data=form).status_code == 302
    version = db.session.scalar(select(RuleVersion).where(RuleVersion.version == 2))
    assert (version.hourly_value_cents, version.levy_rate) == (1_850, "0.055")


def test_an_income_typed_in_french_is_recorded_in_cents(client, world):
    login(client, "steward@example.org")
    before = db.session.scalar(select(func.count(Income.id)))
    response = client.post(
        "/commons/velo/income?lang=fr",
        data={"amount": "1 234,56", "source": "grant", "funder": "Région", "received_on": "2026-02-01", "earmark": ""},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    assert db.session.scalar(select(Income.amount_cents).order_by(Income.id.desc())) == 123_456
    assert db.session.scalar(select(func.count(Income.id))) == before + 1


def test_a_college_weight_typed_in_french_is_stored_plainly_and_shown_in_french(client, world):
    from ledger.governance.models import College

    login(client, "steward@example.org")
    refresh()
    response = client.post(
        "/commons/velo/colleges?lang=fr",
        data={"which": "college", "college-code": "workers", "college-name": "Workers", "college-weight": "1,5"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(College.weight).where(College.code == "workers")) == "1.5"
    assert "<td>1,5</td>" in read(client, "/commons/velo/colleges?lang=fr")
