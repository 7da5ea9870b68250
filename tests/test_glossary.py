"""The glossary: the French terms a newcomer meets (CAE, CESA, CAPE, prélèvement solidaire, tour,
enveloppe) defined on one page under anchors, in both languages, and linked from the pages that
use them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.web.glossary import ANCHORS
from tests.factories import login, make_world

TEMPLATES = Path(__file__).parent.parent / "ledger" / "templates"


@pytest.fixture
def world(app, make_person, make_commons):
    return make_world(make_person, make_commons)


def test_the_glossary_defines_each_term_under_its_anchor_in_french_by_default(client):
    html = client.get("/glossary").get_data(as_text=True)
    assert '<html lang="fr">' in html and "<h1>Glossaire</h1>" in html
    terms = dict(re.findall(r'<dt id="([a-z]+)"><dfn>([^<]+)</dfn>', html))
    assert terms == {
        "cae": "CAE",
        "cesa": "CESA",
        "cape": "CAPE",
        "levy": "Prélèvement solidaire",
        "fund": "Fonds de solidarité",
        "round": "Tour",
        "envelope": "Enveloppe",
    }
    assert set(terms) == ANCHORS
    # An acronym says what it stands for; the definitions are French.
    assert '<span lang="fr">coopérative d&#39;activités et d&#39;emploi</span>' in html
    assert "L'argent qu'un commun engage pour un tour." in html
    assert "contrat d&#39;appui au projet d&#39;entreprise" in html and "lignes de salaire" in html


def test_in_english_each_term_names_the_french_word_people_will_hear(client):
    html = client.get("/glossary?lang=en").get_data(as_text=True)
    assert '<dfn>Solidarity levy</dfn> <span class="hint">(<span lang="fr">prélèvement solidaire</span>)</span>' in html
    assert '<dfn>Round</dfn> <span class="hint">(<span lang="fr">tour (de rétribution)</span>)</span>' in html
    assert "The money a commons commits to one round." in html
    assert 'href="/glossary">Glossary</a>' in html  # from every page's footer


def test_pages_that_use_the_terms_link_to_their_definitions(client, world):
    login(client, world.steward)
    payouts = client.get("/account/payouts").get_data(as_text=True)
    assert "Mots expliqués dans le glossaire :" in payouts
    assert re.findall(r'<a href="/glossary#([a-z]+)">', payouts) == ["cae", "cesa", "cape", "levy"]
    rules = client.get("/commons/velo/rules").get_data(as_text=True)
    links = re.findall(r'<a href="/glossary#([a-z]+)">([^<]+)</a>', rules)
    assert links == [("round", "Tour"), ("envelope", "Enveloppe"), ("levy", "Prélèvement solidaire")]
    # No template links to an anchor the glossary does not have.
    used = {anchor for path in TEMPLATES.rglob("*.html") for anchor in re.findall(r'\("([a-z]+)", _\(', path.read_text())}
    assert used and used <= ANCHORS
