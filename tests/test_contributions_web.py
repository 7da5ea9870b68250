"""The contribution pages, through the test client: forms, errors beside fields, languages, review."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution, Objection
from ledger.extensions import db
from ledger.timeutil import today
from tests.factories import login

YESTERDAY = today() - timedelta(days=1)


def count_contributions() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(Contribution.id)))


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" type="hidden" value="([^"]+)"', html).group(1)


@pytest.fixture
def people(client, make_person, make_commons):
    steward, member, contributor = make_person("Steward"), make_person("Member"), make_person("Léa Contributrice")
    make_commons(steward, "velo", name="La Roue Libre", members={"member": member, "contributor": contributor})
    return {"steward": steward, "member": member, "contributor": contributor}


def form(**overrides) -> dict:
    data = {
        "commons": "velo",
        "nonce": "n-1",
        "date": YESTERDAY.isoformat(),
        "hours": "1,5",
        "category": "welcoming",
        "description": "Accueil de deux nouvelles personnes",
        "evidence_url": "",
    }
    data.update(overrides)
    return data


def test_pages_need_a_login(client):
    response = client.get("/contributions/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_form_is_french_by_default_and_shows_the_rules_in_force(client, people):
    login(client, people["contributor"])
    html = client.get("/contributions/new").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Déclarer une contribution" in html and "Réclamer ce qui vous revient est légitime" in html
    assert "Règles, version 1" in html and "15,00\xa0€" in html and "Confiance a priori" in html
    assert "5\xa0%" in html and "Soin (care)" in html and "Accueil des nouvelles personnes" in html
    for name in ("date", "hours", "category", "description", "evidence_url"):
        assert f'<label for="{name}">' in html, name


def test_english_on_request(client, people):
    login(client, people["contributor"])
    client.get("/lang/en")
    html = client.get("/contributions/new").get_data(as_text=True)
    assert '<html lang="en">' in html and "Declare a contribution" in html and "Claiming what is due to you is legitimate" in html
    assert "Rules version 1" in html and "Welcoming newcomers" in html


def test_declaring_with_a_french_comma_lists_it_with_its_status(client, people):
    login(client, people["contributor"])
    response = client.post("/contributions/new", data=form())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre contribution est enregistrée" in page
    assert "Accueil de deux nouvelles personnes" in page and "1,5" in page and "déclarée" in page
    assert "pas encore dans un tour" in page
    stored = db.session.scalar(select(Contribution))
    assert str(stored.hours) == "1.50" and stored.category == "welcoming"


def test_errors_are_shown_beside_their_fields_and_summarized_and_nothing_is_stored(client, people):
    login(client, people["contributor"])
    response = client.post(
        "/contributions/new",
        data=form(
            hours="1,3", description="x", evidence_url="javascript:alert(1)", date=(today() + timedelta(days=2)).isoformat()
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    for name in ("hours", "description", "evidence_url", "date"):
        assert f'id="{name}-error"' in html, name
        assert f'href="#{name}"' in html, name
    assert "quarts d&#39;heure" in html or "quarts d'heure" in html
    # What was typed is kept, safely escaped.
    assert 'value="1,3"' in html and "javascript:alert(1)" in html
    assert count_contributions() == 0


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01"])
def test_the_form_refuses_work_dated_before_the_commons_started(client, people, day):
    """Issue 16 item 3, through the form: the error stands beside the date field and nothing is stored."""
    login(client, people["contributor"])
    response = client.post("/contributions/new", data=form(date=day))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="date-error"' in html and "2020-01-01" in html
    assert count_contributions() == 0


def test_a_double_submit_creates_one_contribution(client, people):
    login(client, people["contributor"])
    nonce = nonce_of(client.get("/contributions/new").get_data(as_text=True))
    first = client.post("/contributions/new", data=form(nonce=nonce))
    second = client.post("/contributions/new", data=form(nonce=nonce))
    assert first.status_code == second.status_code == 302
    assert count_contributions() == 1
    assert "pas été enregistrée deux fois" in client.get("/contributions").get_data(as_text=True)


def test_user_text_is_escaped(client, people):
    login(client, people["contributor"])
    client.post("/contributions/new", data=form(description="<script>alert('x')</script> réparé"))
    html = client.get("/contributions").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_weekly_care_message_is_shown_after_saving(client, people):
    login(client, people["contributor"])
    monday = today() - timedelta(days=today().weekday() + 7)
    for offset in range(4):
        assert (
            client.post(
                "/contributions/new",
                data=form(nonce=f"w{offset}", hours="12", date=(monday + timedelta(days=offset)).isoformat()),
            ).status_code
            == 302
        )
    client.get("/contributions")  # consume the flashes so far
    client.post("/contributions/new", data=form(nonce="w5", hours="2", date=(monday + timedelta(days=4)).isoformat()))
    html = client.get("/contributions").get_data(as_text=True)
    assert "Prenez soin de vous" in html and "50.00" in html
    assert count_contributions() == 5


def test_edit_and_withdraw_from_my_contributions(client, people):
    login(client, people["contributor"])
    client.post("/contributions/new", data=form())
    contribution_id = db.session.scalar(select(Contribution.id))
    edit_page = client.get(f"/contributions/{contribution_id}/edit").get_data(as_text=True)
    assert 'value="1,5"' in edit_page
    bad = client.post(f"/contributions/{contribution_id}/edit", data=form(hours="30"))
    assert bad.status_code == 422 and 'id="hours-error"' in bad.get_data(as_text=True)
    assert client.post(f"/contributions/{contribution_id}/edit", data=form(hours="2")).status_code == 302
    assert '<td class="num">2</td>' in client.get("/contributions").get_data(as_text=True)
    assert "Retirer cette contribution" in client.get(f"/contributions/{contribution_id}/withdraw").get_data(as_text=True)
    assert client.post(f"/contributions/{contribution_id}/withdraw").status_code == 302
    db.session.remove()
    assert db.session.get(Contribution, contribution_id).status == "withdrawn"
    assert "retirée" in client.get("/contributions").get_data(as_text=True)


def test_nobody_edits_someone_elses_contribution(client, people):
    login(client, people["contributor"])
    client.post("/contributions/new", data=form())
    contribution_id = db.session.scalar(select(Contribution.id))
    client.post("/logout")
    login(client, people["member"])
    assert client.post(f"/contributions/{contribution_id}/edit", data=form(hours="8")).status_code == 403
    assert client.post(f"/contributions/{contribution_id}/withdraw").status_code == 403
    db.session.remove()
    assert str(db.session.get(Contribution, contribution_id).hours) == "1.50"


def test_a_person_without_commons_is_told_what_to_do(client, make_person):
    lonely = make_person("Lonely")
    login(client, lonely)
    assert "Vous ne faites encore partie d" in client.get("/contributions/new").get_data(as_text=True)


def test_review_page_object_answer_and_vote_down(client, people):
    login(client, people["contributor"])
    client.post("/contributions/new", data=form(hours="6", description="Inventaire des pièces détachées"))
    contribution_id = db.session.scalar(select(Contribution.id))
    # The author sees no review form on their own contribution.
    own = client.get(f"/contributions/{contribution_id}").get_data(as_text=True)
    assert "Je me porte garant" not in own and "Faire objection" not in own
    client.post("/logout")

    login(client, people["member"])
    review = client.get("/commons/velo/review").get_data(as_text=True)
    assert "Inventaire des pièces détachées" in review and f"/contributions/{contribution_id}" in review
    empty = client.post(f"/contributions/{contribution_id}/object", data={"reason": ""})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.get_data(as_text=True)
    assert (
        client.post(f"/contributions/{contribution_id}/object", data={"reason": "Six heures pour un inventaire ?"}).status_code
        == 302
    )
    objection_id = db.session.scalar(select(Objection.id))
    assert client.post(f"/contributions/{contribution_id}/vouch").status_code == 302
    client.post("/logout")

    login(client, people["contributor"])
    page = client.get(f"/contributions/{contribution_id}").get_data(as_text=True)
    assert "Six heures pour un inventaire ?" in page and "Envoyer ma réponse" in page
    answered = client.post(
        f"/objections/{objection_id}/answer",
        data={f"o{objection_id}a-answer": "C'était long", f"o{objection_id}a-amended_hours": "5,5"},
    )
    assert answered.status_code == 302
    client.post("/logout")

    login(client, people["member"])
    # Two eligible voters (steward and member), quorum 0.5: one vote decides.
    assert client.post(f"/objections/{objection_id}/vote", data={f"o{objection_id}v-vote": "reject"}).status_code == 302
    db.session.remove()
    objection = db.session.get(Objection, objection_id)
    assert objection.state == "upheld" and objection.answer == "C'était long" and str(objection.amended_hours) == "5.50"
    assert "rejetée" in client.get(f"/contributions/{contribution_id}").get_data(as_text=True)


def test_review_pages_are_for_people_of_the_commons(client, people, make_person):
    outsider = make_person("Outsider")
    login(client, outsider)
    assert client.get("/commons/velo/review").status_code == 403
