"""The demo's governance: Cartocommuns decides by vote with two colleges, the Tanneurs by consent.

Each has an adopted and a rejected proposal, and the decision register shows them beside the
finalized rounds. Proposals are made today, voted, then dated back so that their deadline has
passed when the scheduler settles them, as it would have a fortnight later.
"""

from __future__ import annotations

from datetime import timedelta

from ledger.demo.base import DemoWorld
from ledger.extensions import db
from ledger.governance import colleges, register, service
from ledger.governance.models import DecisionKind, RuleProposal
from ledger.rounds.rules import propose_rules
from ledger.timeutil import today, utcnow


def load(world: DemoWorld) -> None:
    _by_vote(world)
    _by_consent(world)


def _backdate_and_settle(proposal: RuleProposal, days: int = 16) -> None:
    proposal.created_at = utcnow() - timedelta(days=days)
    proposal.deadline = today() - timedelta(days=days - 14)
    proposal.effective_from = proposal.deadline + timedelta(days=1)
    db.session.flush()
    service.settle(proposal, today())


def _by_vote(world: DemoWorld) -> None:
    commons = world.commons["cartocommuns"]
    hugo, anais, mehdi, lucas = (world.person(n) for n in ("Hugo", "Anaïs", "Mehdi", "Lucas"))
    # The colleges first, while a steward still decides alone: afterwards they change by vote too.
    colleges.define_college(commons, hugo, "developers", "Développeuses et développeurs", "1")
    colleges.define_college(commons, hugo, "users", "Utilisatrices et utilisateurs", "1")
    for person, code in ((anais, "developers"), (mehdi, "developers"), (lucas, "users"), (hugo, "users")):
        colleges.assign(commons, hugo, person.email, code)
    propose_rules(
        commons,
        hugo,
        "From now on our rules change by vote, developers and users weighing equally (SCIC colleges)",
        today() - timedelta(days=40),
        {"decision_procedure": "vote", "quorum": "0.5", "majority": "0.5"},
    )

    care = service.propose(
        commons,
        anais,
        title="La documentation et l'accueil comptent 1,5",
        rationale="Sans documentation ni accueil des nouveaux, le logiciel ne vit pas ; ce travail reste invisible.",
        values={"category_weights": {"welcoming": "1.5", "care": "1.5"}},
    )
    service.comment(care, lucas, "pro", "Les utilisateurs profitent d'abord de la documentation.")
    service.comment(care, mehdi, "con", "Le code aussi demande du soin ; attention à ne pas décourager.")
    for person, approve in ((anais, True), (mehdi, False), (lucas, True), (hugo, True)):
        service.vote(care, person, approve)
    _backdate_and_settle(care, days=20)

    cap = service.propose(
        commons,
        lucas,
        title="Plafonner chaque rétribution à 800 €",
        rationale="Pour que l'enveloppe profite à plus de monde.",
        values={"cap_cents": 80_000},
    )
    service.vote(cap, lucas, True)  # alone: the quorum is not reached
    _backdate_and_settle(cap, days=16)


def _by_consent(world: DemoWorld) -> None:
    commons = world.commons["tiers-lieu-tanneurs"]
    yanis, manon, nathan, jade = (world.person(n) for n in ("Yanis", "Manon", "Nathan", "Jade"))
    propose_rules(
        commons,
        yanis,
        "Nos règles changent désormais par consentement",
        today() - timedelta(days=40),
        {"decision_procedure": "consent"},
    )
    quarterly = service.propose(
        commons,
        manon,
        title="Un cycle par trimestre",
        rationale="Un cycle par mois prend trop de temps de relecture pour un petit lieu.",
        values={"cadence": "quarterly", "review_days": 10},
    )
    objection = service.comment(quarterly, nathan, "objection", "Attendre trois mois est long pour qui a peu de revenus.")
    service.answer_objection(
        quarterly, objection, manon, "Le fonds de solidarité peut avancer une part ; et on refera le point dans six mois."
    )
    _backdate_and_settle(quarterly, days=20)

    levy = service.propose(
        commons,
        jade,
        title="Porter le prélèvement solidaire à 10 %",
        rationale="Le fonds commun manque de réserves.",
        values={"levy_rate": "0.10"},
    )
    service.comment(levy, yanis, "objection", "Nos rétributions sont déjà faibles ; doublons d'abord les dons.")
    _backdate_and_settle(levy, days=16)  # the objection is left unanswered: not adopted

    adopted = next(e for e in register.register_of(commons.id) if e.kind == DecisionKind.RULE_ADOPTED)
    register.set_follow_up(commons, adopted, yanis, "done", "Calendrier des cycles mis à jour et annoncé à l'assemblée.")
