"""The commons front page: public facts for anyone, the right links for each role."""

import pytest

from tests.factories import login


@pytest.fixture
def velo(client, make_person, make_commons):
    steward = make_person("Camille Morel", show_name_publicly=True)
    contributor = make_person("Léa Fontaine")
    make_commons(steward, "velo", name="La Roue Libre", members={"contributor": contributor})
    client.post(
        "/api/v1/commons/velo/income",
        json={"amount_cents": 123_456, "source": "grant", "funder": "Métropole", "date": "2026-01-10"},
        headers=steward.headers,
    )
    return steward, contributor


def test_anyone_sees_the_commons_its_treasury_and_rules_but_no_member_actions(client, velo):
    html = client.get("/commons/velo").get_data(as_text=True)
    assert "La Roue Libre" in html and "1\u202f234,56\xa0€" in html
    assert "/commons/velo/rules" in html and "/transparency/velo" in html
    assert "/contributions/new" not in html and "/commons/velo/payouts" not in html
    assert "Version 1" in html or "version 1" in html


def test_a_contributor_gets_declaring_and_review_links_and_a_steward_the_payouts(client, velo):
    steward, contributor = velo
    login(client, contributor)
    html = client.get("/commons/velo").get_data(as_text=True)
    assert "/contributions/new?commons=velo" in html and "/commons/velo/review" in html
    assert "/commons/velo/payouts" not in html
    login(client, steward)
    assert "/commons/velo/payouts" in client.get("/commons/velo").get_data(as_text=True)


def test_home_page_links_every_commons_to_its_page(client, velo):
    assert 'href="/commons/velo"' in client.get("/").get_data(as_text=True)


def test_unknown_commons_page_is_a_404_page(client):
    response = client.get("/commons/nowhere")
    assert response.status_code == 404 and "nowhere" in response.get_data(as_text=True)
