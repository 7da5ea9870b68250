"""The glossary page: the French cooperative words a newcomer meets, each under an anchor that
pages link to ("What is a CAE?"). The definitions follow docs/glossary.md."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

blp = Blueprint("glossary_pages", __name__)


@dataclass(frozen=True)
class Entry:
    anchor: str
    term: object  # a lazy translated string
    definition: object
    french: str  # the French term, or the French words an acronym stands for
    acronym: bool = False


ENTRIES = (
    Entry(
        "cae",
        _l("CAE"),
        _l(
            "A cooperative that employs independent workers (entrepreneurs-salariés) so that their income becomes "
            "a salary with social rights, financed by a share of each member's activity."
        ),
        "coopérative d'activités et d'emploi",
        acronym=True,
    ),
    Entry(
        "cesa",
        _l("CESA"),
        _l("The CAE's employment contract: amounts paid through it become salary lines."),
        "contrat d'entrepreneur salarié associé",
        acronym=True,
    ),
    Entry(
        "cape",
        _l("CAPE"),
        _l("A support contract without salary: amounts are recorded as activity income, flagged as such in exports."),
        "contrat d'appui au projet d'entreprise",
        acronym=True,
    ),
    Entry(
        "levy",
        _l("Solidarity levy"),
        _l("The share of every retribution paid into the solidarity fund; its rate is in each commons' rules."),
        "prélèvement solidaire",
    ),
    Entry(
        "fund",
        _l("Solidarity fund"),
        _l(
            "One fund per installation, fed by levies and donations, that tops up contributors of commons whose "
            "envelope cannot cover the validated work."
        ),
        "fonds de solidarité",
    ),
    Entry(
        "round",
        _l("Round"),
        _l("One period of a commons in which validated contributions are turned into money from an envelope."),
        "tour (de rétribution)",
    ),
    Entry("envelope", _l("Envelope"), _l("The money a commons commits to one round."), "enveloppe"),
)
ANCHORS = frozenset(entry.anchor for entry in ENTRIES)


@blp.get("/glossary")
def page():
    return render_template("glossary.html", entries=ENTRIES)
