"""People, commons, memberships and income of the demo installation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ledger.commons.models import Commons
from ledger.commons.service import add_member, create_commons, record_income
from ledger.extensions import db
from ledger.fund.service import set_fund_status
from ledger.legal import fund_identity, set_identity
from ledger.people.models import Person
from ledger.people.service import create_person
from ledger.rounds.rules import propose_rules
from ledger.timeutil import today

# (first name, last name, consents to show their name publicly)
PEOPLE = [
    ("Camille", "Morel", True),
    ("Yanis", "Benali", True),
    ("Léa", "Fontaine", False),
    ("Mathis", "Girard", True),
    ("Aïcha", "Diallo", False),
    ("Hugo", "Lemoine", True),
    ("Inès", "Roussel", True),
    ("Théo", "Marchand", False),
    ("Chloé", "Perrin", True),
    ("Noah", "Chevalier", False),
    ("Manon", "Faure", True),
    ("Lucas", "Gauthier", True),
    ("Sarah", "Lambert", False),
    ("Nathan", "Bonnet", True),
    ("Jade", "François", True),
    ("Enzo", "Mercier", False),
    ("Louise", "Dupuis", True),
    ("Gabriel", "Blanc", True),
    ("Zoé", "Guerin", False),
    ("Raphaël", "Boyer", True),
    ("Anaïs", "Garnier", True),
    ("Mehdi", "Haddad", True),
    ("Clara", "Rivière", False),
    ("Jules", "Arnaud", True),
]

COMMONS = [
    (
        "roue-libre",
        "La Roue Libre",
        "Atelier vélo participatif et plateforme de réparation en ligne : tutoriels, pièces de réemploi, permanences.",
    ),
    (
        "tiers-lieu-tanneurs",
        "Tiers-lieu des Tanneurs",
        "Tiers-lieu associatif : ateliers partagés, café solidaire, accueil de collectifs du quartier.",
    ),
    ("cartocommuns", "Cartocommuns", "Logiciel libre de cartographie des communs, maintenu par une communauté de contributeurs."),
]
# Fictitious but well-formed legal identities (the checksum is right), so the FEC can be named;
# Cartocommuns keeps its books from July to June, to show a fiscal year starting mid-calendar.
LEGAL = {
    "roue-libre": ("900000019", "Association La Roue Libre", "01-01"),
    "tiers-lieu-tanneurs": ("900000027", "Association du Tiers-lieu des Tanneurs", "01-01"),
    "cartocommuns": ("900000035", "Association Cartocommuns", "07-01"),
}
FUND_LEGAL = ("900000043", "Fonds de solidarité des communs")


@dataclass
class DemoWorld:
    people: list[Person] = field(default_factory=list)
    commons: dict[str, Commons] = field(default_factory=dict)
    admin: Person | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)

    def person(self, first_name: str) -> Person:
        return next(p for p in self.people if p.display_name.startswith(first_name + " "))


def email_for(first: str, last: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode().lower()
    return f"{plain}@demo.communs.example"


def load(password: str) -> DemoWorld:
    world = DemoWorld()
    world.admin = create_person("admin@demo.communs.example", "Administratrice Démo", password, admin=True)
    world.logins.append(("installation admin", world.admin.email))
    for first, last, consent in PEOPLE:
        world.people.append(create_person(email_for(first, last), f"{first} {last}", password, show_name_publicly=consent))
    camille, yanis, hugo = world.person("Camille"), world.person("Yanis"), world.person("Hugo")
    started_on = history_start()
    for (slug, name, description), steward in zip(COMMONS, (camille, yanis, hugo)):
        commons = create_commons(slug, name, description, world.admin, steward=steward, started_on=started_on)
        # The demo brings in the last months of work at once: its rules accept work three months late.
        propose_rules(commons, steward, "Nous reprenons l'historique des derniers mois.", started_on, {"late_periods": 3})
        set_fund_status(commons, "admitted", reason="Commun actif, budget contributif en place.", actor=world.admin)
        world.commons[slug] = commons
        siren, legal_name, fiscal_year_start = LEGAL[slug]
        set_identity(world.commons[slug], siren=siren, legal_name=legal_name, fiscal_year_start=fiscal_year_start)
    set_identity(fund_identity(create=True), siren=FUND_LEGAL[0], legal_name=FUND_LEGAL[1], fiscal_year_start="01-01")
    _memberships(world)
    _income(world)
    world.logins += [
        ("steward of La Roue Libre", camille.email),
        ("steward of Tiers-lieu des Tanneurs", yanis.email),
        ("steward of Cartocommuns", hugo.email),
        ("member (reviews, votes)", world.person("Mathis").email),
        ("contributor", world.person("Léa").email),
    ]
    db.session.flush()
    return world


def history_start():
    """The demo commons started with their income history, about half a year ago."""
    return (today().replace(day=1) - timedelta(days=170)).replace(day=1)


def _memberships(world: DemoWorld) -> None:
    """Each commons has a core of members and a wider circle of contributors, some in several."""
    layout = {
        "roue-libre": (["Mathis", "Inès", "Chloé"], ["Léa", "Aïcha", "Théo", "Noah", "Manon", "Lucas", "Sarah"]),
        "tiers-lieu-tanneurs": (["Manon", "Nathan", "Jade"], ["Enzo", "Louise", "Gabriel", "Zoé", "Léa", "Raphaël"]),
        "cartocommuns": (["Anaïs", "Mehdi", "Lucas"], ["Clara", "Jules", "Raphaël", "Sarah", "Théo"]),
    }
    for slug, (members, contributors) in layout.items():
        commons = world.commons[slug]
        for name in members:
            add_member(commons, world.person(name).email, "member")
        for name in contributors:
            add_member(commons, world.person(name).email, "contributor")


def _income(world: DemoWorld) -> None:
    """Half a year of income, in the proportions small French commons actually see."""
    start = history_start()
    entries = {
        "roue-libre": [
            ("grant", "Métropole — appel à projets économie circulaire", 1_200_000, 0, "Réparation et réemploi"),
            ("sale", "Vente de pièces de réemploi", 184_050, 35, None),
            ("membership_fee", "Adhésions à l'atelier", 96_000, 60, None),
            ("donation", "Dons en ligne", 41_500, 95, None),
            ("sale", "Vente de pièces de réemploi", 212_380, 125, None),
            ("public_contract", "Commune — ateliers vélo dans les écoles", 450_000, 140, "Ateliers scolaires"),
        ],
        "tiers-lieu-tanneurs": [
            ("grant", "Région — fonds tiers-lieux", 2_000_000, 10, None),
            ("subscription", "Abonnements des résidents", 360_000, 30, None),
            ("sale", "Café solidaire", 275_640, 80, None),
            ("donation", "Fondation de quartier", 500_000, 110, "Accueil des nouveaux collectifs"),
            ("subscription", "Abonnements des résidents", 360_000, 150, None),
        ],
        "cartocommuns": [
            ("donation", "Dons récurrents des utilisateurs", 128_900, 20, None),
            ("public_contract", "Agence nationale — cartographie des tiers-lieux", 1_500_000, 50, "Module d'import"),
            ("grant", "Fondation pour les communs numériques", 800_000, 100, "Maintenance"),
            ("donation", "Dons récurrents des utilisateurs", 131_200, 130, None),
        ],
    }
    for slug, rows in entries.items():
        commons = world.commons[slug]
        steward = next(m.person for m in commons.memberships if m.role == "steward")
        for source, funder, cents, offset, earmark in rows:
            record_income(
                commons,
                amount_cents=cents,
                source=source,
                funder=funder,
                received_on=min(start + timedelta(days=offset), today()),
                earmark=earmark,
                recorded_by=steward,
            )
