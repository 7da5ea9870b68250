"""The public ledger page (filters, pages, per-row verification) and how dashboards are served:
local plotly.js, a policy allowing nothing external, French and English."""

from __future__ import annotations

import os
import re

import plotly
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from dashboards import ledger_page
from ledger.accounts.models import LedgerTransaction
from ledger.accounts.signing import current_key
from ledger.commons.models import Commons
from ledger.extensions import db
from tests.dashboards_support import demo_app  # noqa: F401  (fixture)


@pytest.fixture
def client(demo_app):
    yield demo_app.test_client()
    db.session.rollback()


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr>\s*<td class="num">(\d+)</td>', html)]


def test_filters_by_commons_kind_and_dates_with_the_matching_total(client):
    roue = db.session.scalar(select(Commons).where(Commons.slug == "roue-libre"))
    html = client.get("/transparency/ledger?lang=en&commons=roue-libre&kind=income").get_data(as_text=True)
    expected = db.session.scalars(
        select(LedgerTransaction.seq)
        .where(LedgerTransaction.commons_id == roue.id, LedgerTransaction.kind == "income")
        .order_by(LedgerTransaction.seq.desc())
    ).all()
    assert seqs(html) == expected and len(expected) == 6
    assert f"{len(expected)} transactions" in html
    first = db.session.scalar(select(func.min(LedgerTransaction.occurred_on)))
    html = client.get(f"/transparency/ledger?lang=en&date_from={first}&date_to={first}").get_data(as_text=True)
    on_day = db.session.scalar(select(func.count()).where(LedgerTransaction.occurred_on == first))
    assert len(seqs(html)) == on_day > 0


def test_the_kind_filter_offers_every_kind_the_ledger_holds_and_no_other(client):
    # Read from the monthly totals, not from the transactions: they must name the same kinds.
    html = client.get("/transparency/ledger?lang=en").get_data(as_text=True)
    select_html = html[html.index('<select id="filter-kind"') : html.index("</select>", html.index('<select id="filter-kind"'))]
    offered = re.findall(r'<option value="([^"]+)"', select_html)
    held = db.session.scalars(select(LedgerTransaction.kind).distinct().order_by(LedgerTransaction.kind)).all()
    assert offered == held and len(held) >= 5


def test_pages_of_fifty_newest_first_without_overlap(client):
    total = db.session.scalar(select(func.count(LedgerTransaction.id)))
    assert total > ledger_page.PER_PAGE
    one_html = client.get("/transparency/ledger?lang=en").get_data(as_text=True)
    one = seqs(one_html)
    assert f"{total} transactions · page 1 of {-(-total // ledger_page.PER_PAGE)}" in one_html
    two_html = client.get("/transparency/ledger?page=2").get_data(as_text=True)
    two = seqs(two_html)
    assert one == list(range(total, total - ledger_page.PER_PAGE, -1))
    assert two[0] == one[-1] - 1 and not set(one) & set(two)
    assert 'rel="prev"' in two_html


def test_every_row_of_an_intact_ledger_is_verified_and_links_to_the_full_check(client):
    html = client.get("/transparency/ledger?lang=en").get_data(as_text=True)
    assert html.count('class="check-verified"') == ledger_page.PER_PAGE
    assert 'href="/api/v1/ledger/verify"' in html and 'href="/api/v1/keys/signing"' in html
    assert client.get("/api/v1/ledger/verify").get_json()["ok"] is True


def test_an_altered_transaction_or_a_broken_link_is_flagged(demo_app):
    key = current_key()
    tx = db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.seq == 5).options(selectinload(LedgerTransaction.postings))
    )
    previous = db.session.scalar(select(LedgerTransaction.hash).where(LedgerTransaction.seq == 4))
    for posting in tx.postings:
        posting.account  # noqa: B018  (loaded before the object leaves the session)
    covered = tx.seq
    assert tx.format == 3  # the demo writes as the service does: content hash, then its place
    assert ledger_page.check(tx, previous, (None, None), key.public_pem, key.key_id, covered) == "verified"
    assert ledger_page.check(tx, "0" * 64, (None, None), key.public_pem, key.key_id, covered) == "unlinked"
    db.session.expunge_all()  # change a copy only: the ledger itself refuses updates
    tx.memo = tx.memo + " (edited)"
    assert ledger_page.check(tx, previous, (None, None), key.public_pem, key.key_id, covered) == "altered"
    tx.memo = tx.memo.removesuffix(" (edited)")
    account = tx.postings[0].account
    owner, account.person_id = account.person_id, 999_999  # the account handed to someone else
    assert ledger_page.check(tx, previous, (None, None), key.public_pem, key.key_id, covered) == "altered"
    account.person_id = owner
    # Covered by no signed checkpoint, or carrying a forged signature of its own: not signed.
    assert ledger_page.check(tx, previous, (None, None), key.public_pem, key.key_id, covered - 1) == "unsigned"
    tx.signature, tx.key_id = "Zm9yZ2Vk", key.key_id
    assert ledger_page.check(tx, previous, (None, None), key.public_pem, key.key_id, covered) == "unsigned"


@pytest.mark.parametrize(
    "query, field",
    [
        ("commons=nowhere", "commons"),
        ("kind=theft", "kind"),
        ("date_from=31/01/2026", "date_from"),
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to"),
        ("page=0", "page"),
        ("page=abc", "page"),
    ],
)
def test_a_bad_filter_is_named_beside_its_field_with_422(client, query, field):
    response = client.get(f"/transparency/ledger?lang=en&{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and f'id="filter-{field}' in html
    if field != "page":
        assert f'id="filter-{field}" name="{field}"' in html.replace('type="date" ', "")
        assert 'aria-invalid="true"' in html


PLOTLY_URL = f"/transparency/plotly-{plotly.__version__}.min.js"


def test_plotly_is_served_from_the_installed_package_and_pages_load_nothing_external(client):
    response = client.get(PLOTLY_URL)
    with open(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"), "rb") as source:
        assert response.get_data() == source.read()
    response.close()
    assert response.mimetype == "text/javascript" and "Content-Encoding" not in response.headers
    for url in ["/transparency", "/transparency/cartocommuns", "/transparency/ledger"]:
        page = client.get(url)
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy and "http" not in policy
        html = page.get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url
        assert "<script>" not in html  # no inline script: figures travel as JSON data blocks
    html = client.get("/transparency").get_data(as_text=True)
    assert html.count('type="application/json"') == 9 and f'src="{PLOTLY_URL}" defer' in html


def test_plotly_is_sent_gzipped_under_its_version_and_cached_for_a_year(client):
    import gzip

    with open(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"), "rb") as source:
        original = source.read()
    response = client.get(PLOTLY_URL, headers={"Accept-Encoding": "gzip, deflate, br"})
    body = response.get_data()
    assert response.headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == original
    assert len(body) < len(original) / 3 and int(response.headers["Content-Length"]) == len(body)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in response.headers["Vary"] and response.mimetype == "text/javascript"
    again = client.get(PLOTLY_URL, headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    refused = client.get(PLOTLY_URL, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.get_data() == original
    refused.close()
    assert client.get("/transparency/plotly.min.js").status_code == 404  # only the versioned URL


def test_dashboards_speak_french_by_default_and_english_on_request(client):
    english = client.get("/transparency/roue-libre?lang=en").get_data(as_text=True)
    assert "Where each funder&#39;s money went" in english and "Download the data (CSV)" in english
    french = client.get("/transparency/roue-libre?lang=fr").get_data(as_text=True)
    assert "D’où vient l’argent de chaque financeur" in french or "argent de chaque financeur" in french
    assert "Télécharger les données (CSV)" in french


def test_the_demo_ledger_offers_its_latest_checkpoint_explains_it_in_french_and_links_receipts(demo_app, client, tmp_path):
    import json

    from ledger.accounts.checkpoints import latest
    from ledger.accounts.receipts import check_receipt
    from ledger.accounts.signing import raw_public_key

    checkpoint = latest()
    html = client.get("/transparency/ledger?lang=fr").get_data(as_text=True)
    assert "Gardez un point de contrôle" in html and "même avec la clé de l’installation" in html
    assert f"Télécharger le dernier point de contrôle ({checkpoint.size} transactions)" in html
    assert html.count('/receipt">reçu</a>') == ledger_page.PER_PAGE
    download = client.get("/transparency/ledger/checkpoint.txt")
    assert download.status_code == 200 and download.mimetype == "text/plain"
    assert download.get_data(as_text=True) == checkpoint.note
    assert f'filename="ledger-checkpoint-{checkpoint.size}.txt"' in download.headers["Content-Disposition"]
    # The downloaded file is what `ledger verify --against` takes; a receipt linked from the page checks out.
    saved = tmp_path / "checkpoint.txt"
    saved.write_bytes(download.data)
    from ledger.cli import cli

    result = demo_app.test_cli_runner().invoke(cli, ["verify", "--against", str(saved)])
    assert result.exit_code == 0 and "extends 1 saved checkpoint" in result.output
    first_receipt = re.search(r'href="(/api/v1/ledger/transactions/\d+/receipt)"', html).group(1)
    receipt = json.loads(client.get(first_receipt).data)
    assert check_receipt(receipt, raw_public_key(current_key())) == []
