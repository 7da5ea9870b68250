"""The charts of a dashboard: for each, its query, its figure, its caption, its table and CSV columns.

``build(key, commons_id)`` returns everything a page section or a CSV download needs. Captions
are plain sentences with the key figures in them, so that the page says what the chart shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _

from dashboards import figures, flows, queries, stats
from ledger import formatting
from ledger.accounts.money import round_half_up
from ledger.formatting import money


@dataclass
class Chart:
    key: str
    title: str
    caption: str
    # (machine name used in the CSV header, translated table header)
    columns: list[tuple[str, str]]
    rows: list[dict]
    figure: dict
    notes: list[str] = field(default_factory=list)
    # How some columns read in the table (a code's label); the CSV keeps the raw value.
    display: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.rows

    def cell(self, row: dict, column: str) -> str:
        """A value as shown in the table, in the reader's language: euros for cents, named
        months, numbers with the language's marks; the CSV keeps the raw value."""
        value = row.get(column)
        if value is None:
            return "—"
        if column in self.display:
            return self.display[column](value)
        if column.endswith("_cents"):
            return money(int(value))
        if column == "month":
            return formatting.month(value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, int | Decimal):
            return formatting.number(value)
        return str(value)


def source_label(code: str) -> str:
    return {
        "grant": _("Grant"),
        "sale": _("Sales"),
        "donation": _("Donations"),
        "membership_fee": _("Membership fees"),
        "public_contract": _("Public contract"),
        "subscription": _("Subscriptions"),
    }.get(code, code)


def income_sources(commons_id: int | None) -> Chart:
    rows = queries.income_by_source(commons_id)
    total = sum(r["amount_cents"] for r in rows)
    return Chart(
        "income-sources",
        _("Income by source"),
        _(
            "Money received each month, by kind of source (grants, sales, donations, contracts…). Total received: %(total)s.",
            total=money(total),
        ),
        [("month", _("Month")), ("source", _("Source")), ("amount_cents", _("Amount"))],
        rows,
        figures.stacked_by_month([{**r, "source": source_label(r["source"])} for r in rows], "source", y_title=_("Euros")),
        display={"source": source_label},
    )


def income_funders(commons_id: int | None) -> Chart:
    rows = queries.income_by_funder(commons_id)
    funders = {r["funder"] for r in rows}
    return Chart(
        "income-funders",
        _("Income by funder"),
        _(
            "Who funded the work, month by month: %(count)s funders gave %(total)s in all.",
            count=len(funders),
            total=money(sum(r["amount_cents"] for r in rows)),
        ),
        [("month", _("Month")), ("funder", _("Funder")), ("amount_cents", _("Amount"))],
        rows,
        figures.stacked_by_month(rows, "funder", y_title=_("Euros")),
    )


def funder_flows(commons_id: int | None) -> Chart:
    income = queries.income_by_commons_and_funder(commons_id)
    rows = flows.attribute(income, queries.spending_by_commons(commons_id))
    use_labels = {
        "paid": _("Paid to contributors"),
        "owed": _("Owed to contributors"),
        "waived": _("Waived by contributors"),
        "fund": _("Solidarity fund"),
        "treasury": _("Still in the treasury"),
    }
    total = {use: sum(r["amount_cents"] for r in rows if r["use"] == use) for use in use_labels}
    earmarked = sorted({r["funder"] for r in income if r["earmarked"]})
    notes = [_("Funders who earmarked their money: %(names)s.", names=", ".join(earmarked))] if earmarked else []
    return Chart(
        "funder-flows",
        _("Where each funder's money went"),
        _(
            "Money inside a commons is pooled, so each funder's money is counted as spent in the same proportions as "
            "everything the commons received: what went to contributors, to the solidarity fund, and what is still in "
            "the treasury. %(paid)s has been paid to contributors, %(owed)s is owed to them (exported or pending) and "
            "%(waived)s was waived, left to the commons.",
            paid=money(total["paid"]),
            owed=money(total["owed"]),
            waived=money(total["waived"]),
        ),
        [("funder", _("Funder")), ("commons", _("Commons")), ("use", _("Went to")), ("amount_cents", _("Amount"))],
        rows,
        figures.funder_sankey(rows, income, use_labels),
        notes,
        display={"use": use_labels.get},
    )


def _round_label(row: dict, commons_id: int | None) -> str:
    """A round as the CSV names it: its month, "2026-03" (with its commons for the installation)."""
    period = row["period_start"].strftime("%Y-%m")
    return period if commons_id is not None else f"{row['commons']} {period}"


def _round_title(row: dict, commons_id: int | None) -> str:
    """The same round as a person reads it on the chart and in the table: "mars 2026"."""
    period = formatting.month(row["period_start"])
    return period if commons_id is not None else f"{row['commons']} {period}"


def _labelled(rows: list[dict], commons_id: int | None) -> list[dict]:
    return [{**r, "round": _round_label(r, commons_id), "round_title": _round_title(r, commons_id)} for r in rows]


def _titles(rows: list[dict]) -> dict:
    """How the table shows the "round" column: each CSV label's title."""
    return {"round": {r["round"]: r["round_title"] for r in rows}.get}


def rounds(commons_id: int | None) -> Chart:
    rows = _labelled(queries.rounds_summary(commons_id), commons_id)
    short = [r for r in rows if r["shortfall_cents"]]
    return Chart(
        "rounds",
        _("Rounds: envelopes and what was distributed"),
        _(
            "For each finished round: the envelope the commons committed, the amount distributed, the shortfall when the "
            "validated work was worth more than the envelope, and the solidarity fund's top-ups. %(count)s rounds, "
            "%(short)s of them short.",
            count=len(rows),
            short=len(short),
        ),
        [
            ("round", _("Round")),
            ("envelope_cents", _("Envelope")),
            ("hours", _("Validated hours")),
            ("distributed_cents", _("Distributed")),
            ("shortfall_cents", _("Shortfall")),
            ("topups_cents", _("Top-ups")),
        ],
        rows,
        figures.grouped_per_round(
            rows,
            "round_title",
            [
                ("envelope_cents", _("Envelope")),
                ("distributed_cents", _("Distributed")),
                ("shortfall_cents", _("Shortfall")),
                ("topups_cents", _("Top-ups")),
            ],
            y_title=_("Euros"),
            line=("hours", _("Validated hours"), _("Hours")),
        ),
        display=_titles(rows),
    )


@dataclass
class Distribution:
    people: int
    total_cents: int
    gini: Fraction
    top_share: Fraction
    top_people: int
    points: list[tuple[Fraction, Fraction]]


def distribution_of(commons_id: int | None) -> Distribution:
    """The distribution of what people received, as anonymous figures."""
    amounts = queries.received_amounts(commons_id)
    return Distribution(
        len(amounts),
        sum(amounts),
        stats.gini(amounts),
        stats.top_share(amounts),
        stats.top_count(len(amounts)),
        stats.lorenz_points(amounts),
    )


def percent(value: Fraction) -> str:
    return formatting.percent(value, places=1)


def distribution(commons_id: int | None) -> Chart:
    d = distribution_of(commons_id)
    rows = (
        [{"people_share": stats.as_decimal(p, 4), "received_share": stats.as_decimal(s, 4)} for p, s in d.points]
        if d.people
        else []
    )
    return Chart(
        "distribution",
        _("How retributions are distributed"),
        _(
            "The curve shows what share of all retributions the people who received least got together; the closer to the "
            "diagonal, the more equal. %(people)s people received %(total)s; Gini coefficient %(gini)s (0 = everyone the "
            "same); the top 10%% (%(top)s people) received %(share)s. No one is named or ranked.",
            people=d.people,
            total=money(d.total_cents),
            gini=formatting.number(stats.as_decimal(d.gini), places=3),
            top=d.top_people,
            share=percent(d.top_share),
        ),
        [("people_share", _("Share of people (least paid first)")), ("received_share", _("Share of the total they received"))],
        rows,
        figures.lorenz(
            d.points,
            curve=_("Lorenz curve"),
            equality=_("Perfect equality"),
            x_title=_("People, least paid first"),
            y_title=_("Share of all retributions"),
        ),
        display={"people_share": percent, "received_share": percent},
    )


def categories(commons_id: int | None) -> Chart:
    rows = queries.hours_by_category(commons_id)
    total = sum((r["hours"] for r in rows), Decimal(0))
    unseen = sum((r["hours"] for r in rows if r["invisible"]), Decimal(0))
    share = percent(Fraction(unseen) / Fraction(total) if total else Fraction(0))
    return Chart(
        "categories",
        _("Hours by kind of work"),
        _(
            "Validated hours of finished rounds by category. Care, maintenance, welcoming, coordination and the like usually "
            "go unseen: here they are %(share)s of all hours (%(unseen)s of %(total)s hours).",
            share=share,
            unseen=formatting.hours(unseen),
            total=formatting.hours(total),
        ),
        [
            ("category", _("Category")),
            ("label", _("Name")),
            ("invisible", _("Invisible work")),
            ("hours", _("Hours")),
            ("contributions", _("Contributions")),
            ("people", _("People")),
        ],
        rows,
        figures.categories(rows, visible=_("Visible work"), invisible=_("Invisible work"), x_title=_("Hours")),
    )


def reviews(commons_id: int | None) -> Chart:
    rows = _labelled(queries.review_participation(commons_id), commons_id)
    return Chart(
        "reviews",
        _("Participation in reviews"),
        _(
            "How many different people vouched for contributions, objected to one, or voted on an objection in each round. "
            "Trust comes first: most work is counted without any objection."
        ),
        [
            ("round", _("Round")),
            ("contributions", _("Contributions")),
            ("vouchers", _("People who vouched")),
            ("objectors", _("People who objected")),
            ("objections", _("Objections")),
            ("voters", _("People who voted")),
        ],
        rows,
        figures.grouped_per_round(
            rows,
            "round_title",
            [("vouchers", _("People who vouched")), ("objectors", _("People who objected")), ("voters", _("People who voted"))],
            y_title=_("People"),
            money=False,
        ),
        display=_titles(rows),
    )


def fund(commons_id: int | None) -> Chart:
    rows = queries.fund_flows(commons_id)
    labels = {
        "levies_cents": _("Levies"),
        "donations_cents": _("Donations and gifts"),
        "topups_cents": _("Top-ups"),
        "balance_cents": _("Balance"),
    }
    levies, topups = sum(r["levies_cents"] for r in rows), sum(r["topups_cents"] for r in rows)
    caption = (
        _(
            "The solidarity fund, shared by all commons: levies on every retribution and donations come in, top-ups "
            "to contributors of commons whose envelope fell short go out. Levies %(levies)s, top-ups %(topups)s.",
            levies=money(levies),
            topups=money(topups),
        )
        if commons_id is None
        else _(
            "What this commons sent to the shared solidarity fund (levies, gifts) and the top-ups its contributors "
            "received from it. Levies %(levies)s, top-ups %(topups)s.",
            levies=money(levies),
            topups=money(topups),
        )
    )
    columns = [("month", _("Month"))] + [(key, labels[key]) for key in ("levies_cents", "donations_cents", "topups_cents")]
    if commons_id is None:
        columns.append(("balance_cents", _("Balance at the end of the month")))
    return Chart("fund", _("The solidarity fund"), caption, columns, rows, figures.fund(rows, labels, y_title=_("Euros")))


def rules(commons_id: int | None) -> Chart:
    rows = []
    for r in queries.rounds_summary(commons_id):
        paid = r["distributed_cents"] + r["topups_cents"]
        effective = round_half_up(Decimal(paid) / r["hours"]) if r["hours"] else None
        rows.append(
            {
                "round": _round_label(r, commons_id),
                "round_title": _round_title(r, commons_id),
                "rule_version": r["rule_version"],
                "reference_hourly_cents": r["reference_hourly_cents"],
                "effective_hourly_cents": effective,
                "hours": r["hours"],
                "paid_cents": paid,
            }
        )
    below = [
        r for r in rows if r["effective_hourly_cents"] is not None and r["effective_hourly_cents"] < r["reference_hourly_cents"]
    ]
    plotted = [{**r, "effective_hourly_cents": r["effective_hourly_cents"] or 0} for r in rows]
    return Chart(
        "rules",
        _("What the rules intended, and what was paid"),
        _(
            "The hourly value the rules set for each round, against what an hour of validated work actually received "
            "(amount distributed plus top-ups, divided by the hours). %(below)s of %(count)s rounds paid less than intended.",
            below=len(below),
            count=len(rows),
        ),
        [
            ("round", _("Round")),
            ("rule_version", _("Rules version")),
            ("hours", _("Validated hours")),
            ("paid_cents", _("Paid with top-ups")),
            ("reference_hourly_cents", _("Intended per hour")),
            ("effective_hourly_cents", _("Paid per hour")),
        ],
        rows,
        figures.grouped_per_round(
            plotted,
            "round_title",
            [("reference_hourly_cents", _("Intended per hour")), ("effective_hourly_cents", _("Paid per hour"))],
            y_title=_("Euros per hour"),
        ),
        display=_titles(rows),
    )


BUILDERS = {
    "income-sources": income_sources,
    "income-funders": income_funders,
    "funder-flows": funder_flows,
    "rounds": rounds,
    "distribution": distribution,
    "categories": categories,
    "reviews": reviews,
    "fund": fund,
    "rules": rules,
}


def build(key: str, commons_id: int | None) -> Chart:
    return BUILDERS[key](commons_id)


def build_all(commons_id: int | None) -> list[Chart]:
    return [builder(commons_id) for builder in BUILDERS.values()]
