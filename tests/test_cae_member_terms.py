"""A CAE member's analytic code and own contribution rate: stored, shown, and used by the allocation."""

from __future__ import annotations

from decimal import Decimal

from payouts_support import add_cae_member, create_cae, grant_accountant

from ledger.commons.service import get_commons
from ledger.rounds.service import routes_of


def test_a_members_rate_replaces_the_caes_and_bad_terms_are_refused(client, make_person, make_commons):
    admin, acc, steward = make_person("Admin", admin=True), make_person("Acc"), make_person("Steward")
    alice, bob = make_person("Alice Martin"), make_person("Bob Durand")
    create_cae(client, admin)
    grant_accountant(client, admin, "ECOTONE", acc)
    added = add_cae_member(client, acc, "ECOTONE", alice, "E-1", "CESA", analytic_code="ACT-01", contribution_rate="0.05")
    assert (added["analytic_code"], added["contribution_rate"]) == ("ACT-01", "0.05")
    assert add_cae_member(client, acc, "ECOTONE", bob, "E-2", "CESA")["contribution_rate"] == "0.10"
    make_commons(steward, "velo", members={"contributor": alice, "contributor2": bob})
    for person in (alice, bob):
        moved = client.put(
            f"/api/v1/commons/velo/members/{person.id}/route", json={"route": "cae", "cae": "ECOTONE"}, headers=person.headers
        )
        assert moved.status_code == 200, moved.get_json()
    routes = routes_of(get_commons("velo").id)
    assert (routes[alice.id].cae_rate, routes[bob.id].cae_rate) == (Decimal("0.05"), Decimal("0.10"))
    carol = make_person("Carol")
    for body, field in (({"contribution_rate": "1.5"}, "contribution_rate"), ({"analytic_code": "a b"}, "analytic_code")):
        refused = client.post(
            "/api/v1/caes/ECOTONE/members",
            json={"email": carol.email, "employee_ref": "E-3", "contract_type": "CESA", **body},
            headers=acc.headers,
        )
        assert refused.status_code == 422 and field in refused.get_json()["error"]["fields"]
    listed = client.get("/api/v1/caes/ECOTONE/members", headers=acc.headers).get_json()
    assert len(listed if isinstance(listed, list) else listed["items"]) == 2  # refused requests stored nothing
