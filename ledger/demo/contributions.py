"""Demo contributions: three months of declared work, vouches, and open objections this month.

Work concentrates in a few hands, as the sources observe: in each commons two people carry most
of it. Every category appears, invisible work included. Declarations go through the service, so
they obey the same rules as a person's (quarter hours, 24 hours a day across commons, no future
dates). No round exists yet: the rounds step adopts them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from ledger.commons.models import Membership
from ledger.contributions import peer
from ledger.contributions.models import Contribution
from ledger.contributions.service import declare, hours_on_day
from ledger.contributions.validation import Draft
from ledger.demo.base import DemoWorld
from ledger.extensions import db
from ledger.timeutil import today

# Who carries most of the work in each commons (the sources: "une poignée de contributeurs").
CORE = {"roue-libre": ("Camille", "Mathis"), "tiers-lieu-tanneurs": ("Yanis", "Manon"), "cartocommuns": ("Hugo", "Anaïs")}
# Expected contributions per week by place in the commons.
PACE = {"core": 3.0, "member": 1.0, "steward": 1.5, "contributor": 0.4}

DESCRIPTIONS = {
    "production": {
        "roue-libre": [
            "Réparation de vélos à la permanence du samedi",
            "Tutoriel vidéo : régler un dérailleur",
            "Remise en état de trois vélos de réemploi",
        ],
        "tiers-lieu-tanneurs": [
            "Atelier menuiserie : bancs pour la cour",
            "Préparation des repas du café solidaire",
            "Installation de l'exposition du mois",
        ],
        "cartocommuns": [
            "Développement du module d'import CSV",
            "Correction de la projection des cartes",
            "Rédaction de la documentation d'installation",
        ],
    },
    "maintenance": [
        "Rangement et inventaire de l'atelier",
        "Mise à jour des dépendances et sauvegardes",
        "Entretien des outils partagés",
        "Tri des pièces détachées et du stock",
    ],
    "care": [
        "Écoute et accompagnement d'une bénévole en difficulté",
        "Préparation du goûter de fin de chantier",
        "Appels aux membres qu'on n'a pas vus depuis longtemps",
        "Médiation d'une tension entre deux équipes",
    ],
    "governance": [
        "Préparation de l'assemblée du mois",
        "Rédaction du compte rendu du cercle de pilotage",
        "Proposition de révision des règles de rétribution",
    ],
    "welcoming": [
        "Accueil et visite pour deux nouvelles personnes",
        "Binôme avec un nouveau contributeur",
        "Réponse aux messages de personnes intéressées",
    ],
    "feedback": [
        "Retours d'usage recueillis auprès des habitué·es",
        "Test de la nouvelle version et rapport de bugs",
        "Questionnaire de satisfaction : dépouillement",
    ],
    "coordination": [
        "Planning des permanences du mois",
        "Coordination avec la mairie pour l'événement",
        "Suivi des tâches et relances",
    ],
    "mutual_help": [
        "Aide à un autre commun pour son déménagement",
        "Coup de main à la comptabilité d'une association voisine",
        "Partage de savoir-faire avec un autre atelier",
    ],
}
# Core people lean towards the work that holds the place together, often unseen.
CORE_CATEGORIES = ("maintenance", "care", "coordination", "governance", "welcoming", "production", "maintenance", "care")
OTHER_CATEGORIES = ("production", "production", "feedback", "mutual_help", "welcoming", "maintenance", "care")


def window() -> tuple[date, date]:
    """From the first day of the month two months ago to today: about three months."""
    this_month = today().replace(day=1)
    return (this_month - timedelta(days=40)).replace(day=1), today()


def load(world: DemoWorld) -> None:
    rnd = random.Random(3003)
    start, end = window()
    for slug, commons in world.commons.items():
        members = db.session.scalars(select(Membership).where(Membership.commons_id == commons.id).order_by(Membership.id)).all()
        core = {world.person(name).id for name in CORE[slug]}
        for membership in members:
            pace = PACE["core"] if membership.person_id in core else PACE[membership.role]
            _declare_weeks(commons, membership.person, slug, pace, membership.person_id in core, start, end, rnd)
    db.session.flush()
    _vouches(world, rnd)
    _open_objections(world)
    db.session.flush()


def _declare_weeks(commons, person, slug: str, pace: float, is_core: bool, start: date, end: date, rnd: random.Random) -> None:
    day = start
    while day <= end:
        for _ in range(_count(pace, rnd)):
            on = min(day + timedelta(days=rnd.randint(0, 6)), end)
            category = rnd.choice(CORE_CATEGORIES if is_core else OTHER_CATEGORIES)
            hours = Decimal(rnd.randint(8, 24) if is_core else rnd.randint(4, 12)) / 4
            if hours_on_day(person.id, on) + hours > 24:
                continue
            declare(
                person,
                commons,
                Draft(on=on, hours=hours, category=category, description=_describe(slug, category, rnd), evidence_url=None),
            )
        day += timedelta(days=7)


def _count(pace: float, rnd: random.Random) -> int:
    """How many contributions in a week, around ``pace``."""
    whole = int(pace)
    return whole + (1 if rnd.random() < pace - whole else 0)


def _describe(slug: str, category: str, rnd: random.Random) -> str:
    choices = DESCRIPTIONS[category]
    return rnd.choice(choices[slug] if isinstance(choices, dict) else choices)


def _vouches(world: DemoWorld, rnd: random.Random) -> None:
    """About a quarter of the work gets a vouch or two from members who saw it."""
    for commons in world.commons.values():
        reviewers = [m.person for m in commons.memberships if m.can_review]
        for contribution in db.session.scalars(
            select(Contribution).where(Contribution.commons_id == commons.id).order_by(Contribution.id)
        ):
            if rnd.random() > 0.25:
                continue
            for reviewer in rnd.sample(reviewers, k=min(len(reviewers), rnd.randint(1, 2))):
                if reviewer.id != contribution.person_id:
                    peer.vouch(contribution, reviewer)


def _latest(world: DemoWorld, slug: str, first_name: str) -> Contribution:
    """The person's most recent contribution this month in that commons, declared if there is none."""
    commons, person = world.commons[slug], world.person(first_name)
    found = db.session.scalar(
        select(Contribution)
        .where(
            Contribution.commons_id == commons.id,
            Contribution.person_id == person.id,
            Contribution.date >= today().replace(day=1),
        )
        .order_by(Contribution.date.desc(), Contribution.id.desc())
        .limit(1)
    )
    if found is not None:
        return found
    return declare(
        person,
        commons,
        Draft(
            on=today(),
            hours=Decimal("3"),
            category="production",
            description=_describe(slug, "production", random.Random(slug)),
            evidence_url=None,
        ),
    ).contribution


def _open_objections(world: DemoWorld) -> None:
    """Two objections still open this month: one waiting for Léa's answer, one answered and being voted."""
    lea = _latest(world, "roue-libre", "Léa")
    first = peer.object_to(
        lea, world.person("Inès"), "Je n'ai pas vu cette permanence sur le planning ; peux-tu préciser le créneau ?"
    )
    peer.vote(first, world.person("Chloé"), keep=True)  # 1 vote of 4 eligible: the quorum is not reached

    enzo = _latest(world, "tiers-lieu-tanneurs", "Enzo")
    second = peer.object_to(enzo, world.person("Nathan"), "Le nombre d'heures me paraît élevé pour cette tâche ; on en parle ?")
    amended = max(Decimal("0.25"), (Decimal(enzo.hours) / 2).quantize(Decimal("0.25")))
    peer.answer(second, world.person("Enzo"), "Tu as raison, j'ai compté la préparation deux fois. Je corrige.", amended)
