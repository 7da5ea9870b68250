"""The fund manager records donations and new fund rules from the fund's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ledger.extensions import db
from ledger.fund.models import FundDonation
from ledger.fund.service import available_cents, fund_rules_in_force
from ledger.people.models import PersonRole


def test_the_fund_manager_records_a_donation_and_new_rules(client, make_person):
    manager, other = make_person("Manager"), make_person("Other")
    db.session.add(PersonRole(person_id=manager.id, role="fund_manager"))
    db.session.commit()
    with client.session_transaction() as session:
        session["person_id"] = other.id
    assert client.get("/fund/manage").status_code == 403
    with client.session_transaction() as session:
        session["person_id"] = manager.id
    assert 'id="donation-form"' in client.get("/fund/manage").get_data(as_text=True)
    refused = client.post("/fund/donations", data={"amount": "0", "donor": "X", "received_on": "2025-05-01"})
    assert refused.status_code == 422 and db.session.scalar(select(FundDonation.id)) is None
    assert (
        client.post("/fund/donations", data={"amount": "250.75", "donor": "Fondation", "received_on": "2025-05-01"}).status_code
        == 302
    )
    donation = db.session.scalar(select(FundDonation))
    assert (donation.amount_cents, donation.donor, donation.received_on) == (25075, "Fondation", date(2025, 5, 1))
    assert available_cents() == 25075
    assert client.post("/fund/rules", data={"reason": "more help", "topup_percent": "75", "cap": "300"}).status_code == 302
    rules = fund_rules_in_force()
    assert (rules.version, Decimal(rules.topup_ratio), rules.per_person_cap_cents, rules.reason) == (
        2,
        Decimal("0.75"),
        30000,
        "more help",
    )
    page = client.get("/fund/manage").get_data(as_text=True)
    assert "more help" in page and "250,75" in page
