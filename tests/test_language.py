"""Every page and every API error reads in French: no English word of the catalogue, no raw code.

The English words are the catalogue's own: every word of a msgid that no French translation
uses too ("round", "steward", "allocated"…, not "production" or "transaction"). Raw codes are
snake_case identifiers, "round:retribution"-like kinds and the stored values of the service's
enumerations. Text inside <code> and <pre> (hashes, signed notes, an HTTP header to type) and
inside an element marked with another language (the "English" link) is not French prose and is
left out.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import refresh
from sqlalchemy import select

from ledger.commons.models import INCOME_SOURCES, ROLES, Commons, PayoutRoute
from ledger.contributions.models import OBJECTION_STATES, STATUSES, Contribution
from ledger.extensions import db
from ledger.governance.models import CommentKind, Procedure, ProposalState, RuleProposal
from ledger.payouts.models import BatchState, Cae, PayoutBatch
from ledger.people.models import Person
from ledger.rounds.models import ALLOCATION_METHODS, CADENCES, Round, RoundState
from tests.factories import login

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "ledger" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
WORD_RE = re.compile(r"[A-Za-zÀ-ÿœŒ]+(?:['’][A-Za-z]+)?")
PLACEHOLDER_RE = re.compile(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>|&\w+;")


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD_RE.findall(PLACEHOLDER_RE.sub(" ", text))}


def catalogue_words() -> tuple[set[str], set[str]]:
    """(words of the msgids, words of the French translations)."""
    with open(CATALOGUE, "rb") as handle:
        catalogue = read_po(handle, locale="fr")
    english, french = set(), set()
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        for text in ids:
            english |= _words(text)
        for text in strings:
            french |= _words(text or "")
    return english, french


MSGID_WORDS, FRENCH_WORDS = catalogue_words()
# Three letters or more: "a", "of", "is" are noise next to "de", "la"; "the", "and" are not.
ENGLISH = frozenset(w for w in MSGID_WORDS - FRENCH_WORDS if len(w) >= 3)
# People's e-mail addresses, links and pseudonyms ("contributor-3fa2b1", a stored name) are theirs.
ADDRESS_RE = re.compile(r"\S+@\S+|https?://\S+|\bcontributor-[0-9a-f]{6}\b")
SNAKE_RE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
KIND_RE = re.compile(r"\b[a-z]+:[a-z][a-z-]+\b")
CODES = frozenset(
    str(code)
    for group in (
        RoundState,
        BatchState,
        ProposalState,
        Procedure,
        CommentKind,
        PayoutRoute,
        CADENCES,
        ALLOCATION_METHODS,
        ROLES,
        INCOME_SOURCES,
        STATUSES,
        OBJECTION_STATES,
    )
    for code in group
    if str(code) not in FRENCH_WORDS  # "vote", "objection", "production" are French words too
)


class VisibleText(HTMLParser):
    """The text a person reads: element text and the attributes shown or spoken (title, alt,
    aria-label, placeholder, a button's value); not scripts, styles, code, or other languages."""

    SKIP = {"script", "style", "code", "pre", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: is its content skipped?
        self.lang: str | None = None  # the page's language (<html lang>)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
            return
        skipped = bool(self.stack and self.stack[-1]) or tag in self.SKIP or attrs.get("lang", "fr") != "fr"
        if not skipped:
            for name in ("title", "alt", "aria-label", "placeholder"):
                if attrs.get(name):
                    self.parts.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and tag != "html" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The page's visible text; a page not declared French is an English word in itself."""
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts if parser.lang in (None, "fr") else ["English", *parser.parts])


def get(client, url: str, **kwargs):
    """A request in its own language: the tests' app context outlives requests, and Flask-Babel
    caches the locale there (the demo, loaded outside a request, would leave it English)."""
    refresh()
    return client.get(url, **kwargs)


def problems_in(text: str, *, allowed: frozenset[str] = frozenset()) -> list[str]:
    """English words and raw codes found in ``text`` (``allowed``: names the reader must type)."""
    text = ADDRESS_RE.sub(" ", text)
    found = []
    for word in WORD_RE.findall(text):
        low = word.lower()
        if low in allowed:
            continue
        if low in ENGLISH or word in CODES:
            found.append(word)
    found += [c for c in SNAKE_RE.findall(text) + KIND_RE.findall(text) if c not in allowed]
    return found


def test_the_checker_catches_english_words_and_raw_codes():
    assert problems_in("Le tour est maintenant répartition calculée.") == []
    assert "round" in ENGLISH and "production" not in ENGLISH and "transaction" not in ENGLISH
    found = problems_in("must be on or after period_start")
    assert {"must", "after", "period_start"} <= set(found)
    assert "round:retribution" in problems_in("Filtre : round:retribution")
    assert "monthly" in problems_in("Rythme monthly")
    assert visible_text('<html lang="en"><p>Bonjour</p></html>').split() == ["English", "Bonjour"]
    assert visible_text('<p>Bonjour <code>hourly_value_cents</code><a lang="en">English</a></p>').split() == ["Bonjour"]


# --- every page, as an anonymous visitor, a member, a steward and the administrator ------------

SKIPPED_RULES = {
    "static",
    "dashboards.static",
    "dashboards.plotly_js",
    "dashboards.ledger_checkpoint",  # the signed note itself, for machines
    "dashboards.installation_csv",  # data files: the columns are the charts' codes
    "dashboards.commons_csv",
    "downloads.signing_key_pem",
    "health.healthz",
    "health.readyz",
    "auth.switch_language",  # a redirect
    "home.favicon",  # a redirect to the icon
}


@pytest.fixture
def demo(app):
    from ledger.demo import PASSWORD, load_demo

    load_demo()
    db.session.commit()
    return PASSWORD


def path_values() -> dict[str, list]:
    """Values for each URL argument, from the demo: a commons, its rounds in two states, a
    contribution, a proposal, a CAE, a batch; tokens that do not exist (their refusal page)."""
    commons = db.session.scalars(select(Commons).order_by(Commons.id)).first()
    rounds = db.session.scalars(select(Round).where(Round.commons_id == commons.id).order_by(Round.period_start)).all()
    contribution = db.session.scalars(select(Contribution).where(Contribution.commons_id == commons.id)).first()
    proposals = db.session.scalars(select(RuleProposal.id).where(RuleProposal.commons_id == commons.id)).all()
    return {
        "slug": [commons.slug],
        "round_id": sorted({rounds[0].id, rounds[-1].id}),
        "contribution_id": [contribution.id],
        "proposal_id": list(proposals[:2]),
        "code": [db.session.scalars(select(Cae.code)).first()],
        "batch_id": [db.session.scalars(select(PayoutBatch.id)).first()],
        "token": ["not-a-token"],
    }


def page_urls(app) -> list[str]:
    values = path_values()
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint in SKIPPED_RULES:
            continue
        combos = [{}]
        for name in rule.arguments:
            combos = [dict(c, **{name: v}) for c in combos for v in values[name]]
        for combo in combos:
            urls.append(rule.build(combo)[1])
    return sorted(set(urls))


def actors(password: str) -> dict[str, tuple[str, str] | None]:
    commons = db.session.scalars(select(Commons).order_by(Commons.id)).first()
    from ledger.commons.models import Membership

    def email_of(role: str) -> str:
        return db.session.scalars(
            select(Person.email)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.commons_id == commons.id, Membership.role == role)
        ).first()

    admin = db.session.scalars(select(Person.email).where(Person.is_admin.is_(True))).first()
    return {
        "anonymous": None,
        "member": (email_of("member"), password),
        "steward": (email_of("steward"), password),
        "admin": (admin, password),
    }


def test_every_page_reads_in_french_for_every_kind_of_reader(app, demo):
    urls = page_urls(app)
    assert len(urls) > 30  # the walk reached the pages, not only the home page
    found: dict[str, list[str]] = {}
    statuses = set()
    for who, credentials in actors(demo).items():
        client = app.test_client()
        if credentials:
            login(client, credentials[0], credentials[1])
        for url in urls:
            response = get(client, url, follow_redirects=True)
            statuses.add(response.status_code)
            assert response.status_code < 500, (who, url)
            if response.mimetype != "text/html":
                continue
            problems = problems_in(visible_text(response.get_data(as_text=True)), allowed=frozenset())
            if problems:
                found[f"{who} {url}"] = sorted(set(problems))
    assert found == {}
    assert {200, 403} <= statuses  # pages read, and refusals read too


def test_the_404_page_and_other_refusals_are_french(client):
    for url, status in (("/no-such-page", 404), ("/account", 200), ("/commons/nope", 404)):
        response = get(client, url, follow_redirects=True)
        assert response.status_code == status
        text = visible_text(response.get_data(as_text=True))
        assert problems_in(text) == [], (url, text)
    assert "Il n’y a pas de page" in visible_text(get(client, "/no-such-page").get_data(as_text=True)).replace("'", "’")


# --- API errors in the request's language ------------------------------------------------------

FR = {"Accept-Language": "fr"}


def api_errors(client, steward_headers: dict, slug: str, round_id: int) -> list[tuple[str, dict]]:
    """One request per kind of refusal: framework, schema (marshmallow) and domain errors."""
    h = steward_headers | FR
    refresh()
    calls = [
        ("unknown path", client.get("/api/v1/nothing-here", headers=FR)),
        ("wrong method", client.delete("/api/v1/commons", headers=h)),
        ("no token", client.post(f"/api/v1/commons/{slug}/rounds", json={}, headers=FR)),
        ("missing fields", client.post(f"/api/v1/commons/{slug}/rounds", json={}, headers=h)),
        (
            "wrong types",
            client.post(f"/api/v1/commons/{slug}/rounds", json={"period_start": 3, "envelope_cents": "x"}, headers=h),
        ),
        (
            "period backwards",
            client.post(
                f"/api/v1/commons/{slug}/rounds",
                json={"period_start": "2030-02-10", "period_end": "2030-02-01", "envelope_cents": 100},
                headers=h,
            ),
        ),
        (
            "envelope too big",
            client.post(
                f"/api/v1/commons/{slug}/rounds",
                json={"period_start": "2030-03-01", "period_end": "2030-03-31", "envelope_cents": 900_000_000},
                headers=h,
            ),
        ),
        ("unknown round", client.get("/api/v1/rounds/999999", headers=h)),
        ("unknown commons", client.get("/api/v1/commons/nope", headers=h)),
        (
            "bad rules",
            client.post(f"/api/v1/commons/{slug}/rules", json={"reason": "x", "cadence": "weekly", "levy_rate": "2"}, headers=h),
        ),
        ("bad route", client.put(f"/api/v1/commons/{slug}/members/999999/route", json={"route": "cae"}, headers=h)),
    ]
    return [(name, response) for name, response in calls if response is not None]


def test_every_kind_of_api_error_speaks_french_and_keeps_its_code(app, demo):
    commons = db.session.scalars(select(Commons).order_by(Commons.id)).first()
    round_ = db.session.scalars(select(Round).where(Round.commons_id == commons.id).order_by(Round.period_start)).first()
    from ledger.commons.models import Membership
    from ledger.people.service import create_token

    steward = db.session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.commons_id == commons.id, Membership.role == "steward")
    ).first()
    token = create_token(steward, "test")
    db.session.commit()
    client = app.test_client()
    seen = {}
    for name, response in api_errors(client, {"Authorization": f"Bearer {token}"}, commons.slug, round_.id):
        body = response.get_json()
        assert response.status_code >= 400 and set(body["error"]) == {"code", "message", "fields"}, name
        error = body["error"]
        # The field names are the API's own (what the client sent): allowed; their messages are not.
        # So are the values it accepts, which a refusal lists ("Doit être l'une de ces valeurs : monthly…").
        allowed = CODES | frozenset(error["fields"]) | {w.lower() for f in error["fields"] for w in re.split(r"[._-]", f)}
        text = " ".join([error["message"], *(m for messages in error["fields"].values() for m in messages)])
        assert problems_in(text, allowed=allowed) == [], (name, error)
        seen[name] = (response.status_code, error["code"])
    assert seen["unknown path"] == (404, "not_found")
    assert seen["no token"] == (401, "not_authenticated")
    assert seen["missing fields"][0] == 422 and seen["period backwards"] == (422, "validation_failed")


def test_amounts_in_refusals_are_euros_and_the_message_follows_the_request(app, demo):
    from ledger.errors import LedgerError
    from ledger.rounds.service import create_round

    commons = db.session.scalars(select(Commons).order_by(Commons.id)).first()
    admin = db.session.scalars(select(Person).where(Person.is_admin.is_(True))).first()
    from datetime import date

    with pytest.raises(LedgerError) as refused:
        create_round(
            commons, period_start=date(2031, 1, 1), period_end=date(2031, 1, 31), envelope_cents=999_999_999, created_by=admin
        )
    error = refused.value
    assert error.params["cents"] > 0  # the value travels with the error, unformatted
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        refresh()
        french = error.fields["envelope_cents"][0]
    with app.test_request_context("/?lang=en"):
        refresh()
        english = error.fields["envelope_cents"][0]
    assert "centimes" not in french and "cents" not in english
    assert "€" in french and "€" in english and french != english
    assert "trésorerie" in french and "treasury" in english


# --- no refusal is written as an English sentence at its raise site -----------------------------

ERRORS = {"ValidationFailed", "Forbidden", "Conflict", "NotFound", "NotAuthenticated", "LedgerError", "field_error"}


def untranslated_raise_sites() -> list[str]:
    """Refusals built from a bare string or f-string instead of a msgid (``_``/``_l``)."""
    found = []
    for path in sorted((ROOT / "ledger").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS:
                args = node.args[1:2] if node.func.id == "field_error" else node.args[:1]
                messages = list(args)
                for keyword in node.keywords:
                    if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                        messages += [e for v in keyword.value.values if isinstance(v, ast.List) for e in v.elts]
                for message in messages:
                    if isinstance(message, (ast.JoinedStr, ast.Constant)) and not (
                        isinstance(message, ast.Constant) and not isinstance(message.value, str)
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{message.lineno}")
    return found


def test_every_refusal_is_written_as_a_msgid():
    assert untranslated_raise_sites() == []


# --- what the pages now render from codes -------------------------------------------------------


def test_ledger_memos_are_hashed_in_english_and_shown_in_french(app, demo, runner):
    from ledger.accounts.memos import record, shown
    from ledger.accounts.models import LedgerTransaction

    topup = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "round:topup")).first()
    assert topup.memo == record("round:topup", round=topup.round_id, person=topup.memo.rsplit(" ", 1)[1])
    assert topup.memo.startswith("Round ")  # what is hashed stays as written
    client = app.test_client()
    page = visible_text(get(client, "/transparency/ledger?kind=round:topup").get_data(as_text=True))
    person = topup.memo.rsplit(" ", 1)[1]
    assert f"Tour {topup.round_id}\u00a0: complément solidaire pour la personne {person}" in page
    assert "Complément solidaire" in page and "round:topup" not in page
    with app.test_request_context("/?lang=en"):
        refresh()
        assert shown("round:topup", topup.memo) == topup.memo
        assert shown("income", "a memo written by hand") == "a memo written by hand"
    assert runner.invoke(["verify"]).exit_code == 0  # nothing hashed changed


def test_category_names_and_rule_changes_read_in_words(app, demo):
    from ledger.rounds.models import RuleVersion

    commons = db.session.scalars(select(Commons).order_by(Commons.id)).first()
    client = app.test_client()
    page = visible_text(get(client, f"/commons/{commons.slug}/rules").get_data(as_text=True))
    versions = db.session.scalars(select(RuleVersion).where(RuleVersion.commons_id == commons.id)).all()
    assert "Règles initiales" in page and "Initial rules" not in page
    assert "mensuel" in page or "trimestriel" in page
    assert "\u00a0%" in page  # the levy as a percentage, not "0.05"
    assert len(versions) >= 1
    chart = visible_text(get(client, "/transparency").get_data(as_text=True))
    assert "Accueil des nouvelles personnes" in chart and "Welcoming newcomers" not in chart
    csv = get(client, "/transparency/categories.csv").get_data(as_text=True)
    assert "welcoming" in csv  # the CSV keeps the code beside the label


def test_weights_are_typed_with_the_category_labels_shown_and_french_decimals():
    from decimal import Decimal

    from ledger.web.rule_words import parse_weights

    names = {"care": "Soin", "maintenance": "Maintenance", "welcoming": "Accueil, intégration"}
    assert parse_weights("soin=1,5, Maintenance = 1.2", names) == {"care": Decimal("1.5"), "maintenance": Decimal("1.2")}
    assert parse_weights("Accueil, intégration=2; care=1", names) == {"welcoming": Decimal(2), "care": Decimal(1)}
    assert parse_weights("autre=1", names) == {"autre": Decimal(1)}  # the service names the unknown category
    for bad in ("soin", "soin=onze", "soin=11", "=1"):
        with pytest.raises(ValueError):
            parse_weights(bad, names)


def test_a_steward_sets_weights_with_french_labels_on_the_rules_page(app, make_person, make_commons):
    from datetime import date

    from ledger.rounds.rules import rules_in_force
    from tests.test_rules_parity import rules_form

    steward = make_person("Steward", email="steward@example.org")
    make_commons(steward, "velo")
    commons = db.session.scalars(select(Commons).where(Commons.slug == "velo")).one()
    client = app.test_client()
    login(client, steward)
    refresh()
    form = rules_form(category_weights="soin=1,5", effective_from=date.today().isoformat())
    response = client.post("/commons/velo/rules", data=form)
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))
    db.session.expire_all()
    assert rules_in_force(commons.id).category_weights == {"care": "1.5"}
    refresh()
    page = visible_text(client.get("/commons/velo/rules").get_data(as_text=True))
    assert "Soin = 1,5" in page and "category_weights" not in page and "{'care'" not in page
