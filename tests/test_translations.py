"""The French catalogue covers every translatable string of the service."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "ledger" / "translations" / "fr" / "LC_MESSAGES"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_lp": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
# Every module and template of the service: a string added anywhere without its French
# translation fails here, not in front of a French-speaking contributor.
SOURCES = sorted(
    path
    for folder in (ROOT / "ledger", ROOT / "dashboards")
    for pattern in ("*.py", "*.html", "*.txt")
    for path in folder.rglob(pattern)
)


def messages_in(path: Path) -> set[tuple[str, str | None]]:
    """(message, context) pairs found in ``path``; the singular form stands for a plural."""
    method = "jinja2" if path.suffix in (".html", ".txt") else "python"
    found = set()
    for _line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
        found.add((message if isinstance(message, str) else message[0], context))
    return found


def test_every_string_of_these_pages_has_a_french_translation():
    with open(CATALOGUE / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale="fr")
    missing = sorted(
        (str(path.relative_to(ROOT)), msg)
        for path in SOURCES
        for msg in messages_in(path)
        if not (catalogue.get(msg[0], context=msg[1]) and catalogue.get(msg[0], context=msg[1]).string)
    )
    assert missing == []


def _plain(value):
    return value if isinstance(value, str) else tuple(value)  # plural forms come as lists


def test_the_compiled_catalogue_matches_its_source():
    with open(CATALOGUE / "messages.po", "rb") as handle:
        source = {_plain(m.id): _plain(m.string) for m in read_po(handle, locale="fr") if m.id and m.string}
    with open(CATALOGUE / "messages.mo", "rb") as handle:
        compiled = {_plain(m.id): _plain(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run `make translations` to recompile the .mo"


def test_codes_shown_to_people_read_in_french_with_the_right_agreement(app):
    from ledger.contributions.views import STATUS_LABELS
    from ledger.web.labels import BATCH_LABELS, ROUND_LABELS, ROUTE_SHORT_LABELS

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert str(BATCH_LABELS["paid"]) == "payé"  # un lot
        assert str(STATUS_LABELS["paid"]) == "payée"  # une contribution
        assert str(BATCH_LABELS["exported"]) == "exporté"
        assert str(ROUND_LABELS["finalized"]) != "finalized"
        assert str(ROUTE_SHORT_LABELS["invoice"]) == "facture"


def test_explanations_write_decimal_hours_the_french_way(app):
    from flask_babel import refresh

    from ledger.rounds.allocation.model import Step
    from ledger.rounds.allocation.words import sentence

    step = Step("hours", {"hours": "57.5"})
    with app.test_request_context("/"):
        refresh()  # the fixture's app context outlives requests; Flask-Babel caches the locale there
        assert "57,5" in sentence(step)
    with app.test_request_context("/?lang=en"):
        refresh()
        assert "57.5" in sentence(step)
