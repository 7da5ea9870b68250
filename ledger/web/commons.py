"""A commons' front page: what it is, its rules in force, and every page a person may use there."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from ledger.accounts import chart
from ledger.accounts.service import balance
from ledger.commons.models import Membership
from ledger.commons.service import get_commons, membership
from ledger.contributions import rules_text
from ledger.contributions.categories import categories_of
from ledger.extensions import db
from ledger.people.auth import current_person
from ledger.rounds.models import Round
from ledger.rounds.rules import rules_in_force

blp = Blueprint("commons_pages", __name__)


@blp.get("/commons/<slug>")
def commons_home(slug: str):
    commons = get_commons(slug)
    me = current_person()
    mine = membership(commons, me)
    rules = rules_in_force(commons.id)
    open_round = db.session.scalar(
        select(Round)
        .where(Round.commons_id == commons.id, Round.state.in_(("open", "review", "allocated")))
        .order_by(Round.period_start.desc())
        .limit(1)
    )
    member_count = db.session.scalar(select(func.count(Membership.id)).where(Membership.commons_id == commons.id))
    return render_template(
        "commons/home.html",
        commons=commons,
        mine=mine,
        rules=rules,
        rules_lines=rules_text.summary(rules, categories_of(commons.id)),
        legitimacy=rules_text.legitimacy(),
        current_round=open_round,
        member_count=member_count,
        treasury_cents=balance(chart.commons_treasury(commons).code),
    )
