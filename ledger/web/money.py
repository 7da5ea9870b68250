""" "My money": a contributor's rounds, amounts and payments, year by year."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ledger.payouts.my_money import my_money, years_of
from ledger.people.auth import login_required
from ledger.people.models import Person
from ledger.rounds.allocation.words import money, render
from ledger.timeutil import today
from ledger.web.labels import ROUTE_SHORT_LABELS

blp = Blueprint("money_pages", __name__)


@blp.get("/account/money")
@login_required
def my_money_page(me: Person):
    years = years_of(me)
    year = request.args.get("year", type=int)
    if year is None or not 2000 <= year <= 2200:
        year = years[0] if years else today().year
    report = my_money(me, year)
    return render_template(
        "account/money.html",
        report=report,
        years=years,
        money=money,
        explain=render,
        routes=ROUTE_SHORT_LABELS,
    )
