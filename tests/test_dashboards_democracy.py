"""Democratic health on the commons' dashboards: charts whose data are recomputed here from the raw tables.

The charts read ``ledger.governance.health``; these tests walk the ORM rows themselves (ballots,
memberships, college placements, contributions, vouches, objection votes) on the demo, then
compare with the CSV downloads, the tables and the plotted values.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboards import charts
from ledger.commons.models import Commons, Membership
from ledger.contributions.models import Contribution, Objection, Vote, Vouch
from ledger.extensions import db
from ledger.governance.models import College, CollegeMember, ProposalVote, RuleProposal
from ledger.people.models import Person
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)

DEMOCRACY = ("turnout-votes", "turnout-colleges", "turnout-months", "declared-work", "review-work", "objection-days")


@pytest.fixture
def demo(demo_app):
    yield {c.slug: c for c in db.session.scalars(select(Commons))}
    db.session.rollback()


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


def read_csv(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv", url
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def voters_of(commons_id: int) -> dict[int, int | None]:
    """Person → college of everyone who could vote, read from memberships and placements."""
    placed = {
        m.person_id: m.college_id for m in db.session.scalars(select(CollegeMember).where(CollegeMember.commons_id == commons_id))
    }
    has_colleges = db.session.scalars(select(College).where(College.commons_id == commons_id)).first() is not None
    members = db.session.scalars(
        select(Membership).where(Membership.commons_id == commons_id, Membership.role.in_(("member", "steward")))
    )
    return {m.person_id: placed.get(m.person_id) for m in members if not has_colleges or m.person_id in placed}


def percent(cast: int, eligible: int) -> str:
    return str((Decimal(cast) * 100 / Decimal(eligible)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP"))


def test_the_demo_feeds_every_democratic_health_chart_of_the_commons_that_votes(demo):
    for key in DEMOCRACY:
        assert charts.build(key, demo["cartocommuns"].id).rows, key


def test_turnout_per_vote_and_per_college_match_the_ballots(client, demo):
    commons = demo["cartocommuns"]
    voters = voters_of(commons.id)
    proposals = db.session.scalars(
        select(RuleProposal)
        .where(RuleProposal.commons_id == commons.id, RuleProposal.procedure == "vote")
        .order_by(RuleProposal.id)
    ).all()
    assert proposals, "the demo decides by vote in Cartocommuns"
    expected_votes, per_college = [], defaultdict(lambda: [0, 0])
    for proposal in proposals:
        ballots = [b for b in db.session.scalars(select(ProposalVote).where(ProposalVote.proposal_id == proposal.id))]
        cast = sum(1 for b in ballots if b.person_id in voters)
        expected_votes.append({"proposal": str(proposal.id), "cast": str(cast), "eligible": str(len(voters))})
        for college_id in set(voters.values()):
            code = db.session.get(College, college_id).code
            per_college[code][0] += sum(1 for b in ballots if voters.get(b.person_id) == college_id)
            per_college[code][1] += sum(1 for c in voters.values() if c == college_id)

    rows = read_csv(client, f"/transparency/{commons.slug}/turnout-votes.csv")
    assert [{k: r[k] for k in ("proposal", "cast", "eligible")} for r in rows] == expected_votes
    assert [r["turnout_percent"] for r in rows] == [percent(int(e["cast"]), int(e["eligible"])) for e in expected_votes]
    colleges = read_csv(client, f"/transparency/{commons.slug}/turnout-colleges.csv")
    assert {r["college"]: (int(r["cast"]), int(r["eligible"])) for r in colleges} == {k: tuple(v) for k, v in per_college.items()}
    assert len(colleges) == 2  # developers and users

    # The plotted bars are the table's shares.
    chart = charts.build("turnout-votes", commons.id)
    assert chart.figure["data"][0]["y"] == [r["turnout_percent"] for r in chart.rows]
    assert [str(v) for v in chart.figure["data"][0]["y"]] == [r["turnout_percent"] for r in rows]


def bucket(value, bounds) -> str:
    for low, high in bounds:
        if value >= low and (high is None or value < high):
            return f"{low}+" if high is None else (f"{low}" if high - low == 1 else f"{low}–{high - 1}")
    raise AssertionError(value)


def test_work_and_objection_distributions_match_the_raw_rows(client, demo):
    from ledger.governance.health import COUNT_BUCKETS, DAY_BUCKETS, HOUR_BUCKETS

    for commons in demo.values():
        hours: dict[int, Decimal] = defaultdict(Decimal)
        for c in db.session.scalars(select(Contribution).where(Contribution.commons_id == commons.id)):
            if c.status != "withdrawn":
                hours[c.person_id] += c.hours
        ids = set(db.session.scalars(select(Contribution.id).where(Contribution.commons_id == commons.id)))
        objections = [o for o in db.session.scalars(select(Objection)) if o.contribution_id in ids]
        reviews: dict[int, int] = defaultdict(int)
        for v in db.session.scalars(select(Vouch)):
            if v.contribution_id in ids:
                reviews[v.person_id] += 1
        objection_ids = {o.id for o in objections}
        for v in db.session.scalars(select(Vote)):
            if v.objection_id in objection_ids:
                reviews[v.person_id] += 1
        days = [(o.resolved_at - o.created_at).days for o in objections if o.resolved_at and o.state != "withdrawn"]

        for key, values, bounds in (
            ("declared-work", list(hours.values()), HOUR_BUCKETS),
            ("review-work", list(reviews.values()), COUNT_BUCKETS),
            ("objection-days", days, DAY_BUCKETS),
        ):
            expected = defaultdict(int)
            for value in values:
                expected[bucket(value, bounds)] += 1
            rows = read_csv(client, f"/transparency/{commons.slug}/{key}.csv")
            got = {r["range"]: int(r["count"]) for r in rows if int(r["count"])}
            assert got == dict(expected), (commons.slug, key)
            chart = charts.build(key, commons.id)
            assert chart.figure["data"][0]["y"] == [r["count"] for r in chart.rows]


def test_the_commons_dashboard_draws_democratic_health_with_its_tables_and_the_installation_does_not(client, demo):
    page = client.get("/transparency/cartocommuns?lang=en").get_data(as_text=True)
    for key in DEMOCRACY:
        assert f'id="chart-{key}"' in page
    assert 'id="figure-turnout-votes"' in page and "Turnout in each vote" in page
    # The accessible fallback: the figures as a table under each chart.
    section = page[page.index('id="chart-turnout-colleges"') :]
    section = section[: section.index("</section>")]
    assert "<table>" in section and "Could vote" in section
    installation = client.get("/transparency?lang=en").get_data(as_text=True)
    assert "chart-turnout-votes" not in installation
    assert client.get("/transparency/turnout-votes.csv").status_code == 404
    # No figure names anyone.
    text = " ".join(client.get(f"/transparency/cartocommuns/{key}.csv").get_data(as_text=True) for key in DEMOCRACY)
    for person in db.session.scalars(select(Person)):
        assert person.public_name not in text and person.email not in text
