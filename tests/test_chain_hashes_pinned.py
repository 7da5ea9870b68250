"""The hashes of formats 2 and 3 are pinned to values computed by the code that wrote the
ledgers already stored: a refactor of ``ledger.accounts.chain`` (the postings as named tuples, an
encoder built once) must not change a single byte, or every stored ledger would fail ``verify``."""

from __future__ import annotations

from ledger.accounts.chain import PostingData, TransactionData, content_hash, link_hash, sequence_link

# Computed with ledger/accounts/chain.py as of commit 7938c47 (frozen dataclasses, json.dumps).
CONTENT = "7f8c892d2879516fd75e4fa199191571d82c677720af06a9cd766b3e3224f40f"
LINK = "e1af8e44774c24bc39699b775bd1d560c239402a67d41310553517098384089d"
FORMAT_2 = "ed95c7b5547e4772b6af07843449d6f3b3ca1bfddd37e88d0ac22a3a535edd4c"


def test_a_format_3_content_hash_and_its_link_are_unchanged():
    tx = TransactionData(
        seq=None,
        kind="round_retribution",
        memo="Tour 3 — Ana",
        occurred_on="2026-01-31",
        recorded_at="2026-02-01T10:00:00.000001+00:00",
        commons_id=4,
        round_id=3,
        reverses_seq=None,
        ref="round:3:retribution:7",
        postings=(
            PostingData("6411-velo", 15000, "gross retribution", "expense", None, 4, None),
            PostingData("4210-p7", -14250, "net retribution", "liability", 7, 4, None),
            PostingData("4370-fund", -750, "levy", "liability", None, None, 2),
        ),
        format=3,
    )
    assert content_hash(tx) == CONTENT
    assert sequence_link(12, "ab" * 32, CONTENT) == LINK


def test_a_format_2_link_hash_is_unchanged():
    tx = TransactionData(
        seq=5,
        kind="income",
        memo="",
        occurred_on="2026-01-15",
        recorded_at="x",
        commons_id=1,
        round_id=None,
        reverses_seq=None,
        ref=None,
        postings=(PostingData("a", 100, "", "asset", None, 1, None), PostingData("b", -100, "", "income", None, 1, None)),
        format=2,
    )
    assert link_hash(tx, "0" * 64) == FORMAT_2
