"""Signed checkpoints, the Merkle tree, receipts and consistency proofs (SPEC 3, 4.2).

Tampering is done as someone with direct database access would: the append-only triggers are
dropped (SQLite) or disabled (PostgreSQL, re-enabled afterwards), then rows are changed.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ledger.accounts import chart, checkpoints, merkle
from ledger.accounts.checkpoints import latest, parse_note
from ledger.accounts.models import Checkpoint, LedgerTransaction
from ledger.accounts.service import Leg, post
from ledger.accounts.signing import current_key, raw_public_key
from ledger.accounts.verify import verify_ledger
from ledger.extensions import db

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def commons(app, make_person, make_commons):
    from ledger.commons.models import Commons

    make_commons(make_person(), "velo")
    return db.session.scalar(select(Commons).where(Commons.slug == "velo"))


def delete_transaction(tx_id: int) -> None:
    """What deleting a transaction takes: its postings and its FEC entry number go with it."""
    for table, column in (
        ("fec_entry_numbers", "transaction_id"),
        ("ledger_postings", "transaction_id"),
        ("ledger_transactions", "id"),
    ):
        db.session.execute(text(f"DELETE FROM {table} WHERE {column} = :id"), {"id": tx_id})


def income(commons, cents, day=15):
    return post(
        "income",
        [Leg(chart.commons_treasury(commons), cents), Leg(chart.commons_income(commons, "grant"), -cents)],
        occurred_on=date(2026, 1, day),
        commons_id=commons.id,
        memo=f"grant {cents}",
    )


def ledger_of(commons, commits=3, per_commit=2):
    """Several commits, each appending a few transactions (so several checkpoints)."""
    txs = []
    for c in range(commits):
        txs += [income(commons, 1_000 * (c + 1) + i) for i in range(per_commit)]
        db.session.commit()
    return txs


def test_one_commit_appends_one_checkpoint_in_the_signed_note_format(commons, app):
    txs = ledger_of(commons, commits=2, per_commit=3)
    checkpoints = db.session.scalars(select(Checkpoint).order_by(Checkpoint.size)).all()
    assert [c.size for c in checkpoints] == [3, 6]
    last = checkpoints[-1]
    origin = app.config["LEDGER_ORIGIN"]
    leaves = [merkle.leaf_hash(bytes.fromhex(tx.hash)) for tx in txs]
    root = merkle.root(leaves)
    body, signature_line = last.note.split("\n\n")
    assert body == f"{origin}\n6\n{base64.b64encode(root).decode()}\nchain {txs[-1].hash}"
    name, blob = signature_line.removeprefix("\u2014 ").rstrip("\n").split(" ")
    raw = base64.b64decode(blob)
    public = raw_public_key(current_key())
    import hashlib

    assert name == origin and raw[:4] == hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    current_key().private.public_key().verify(raw[4:], (body + "\n").encode())  # raises if not signed
    assert last.prev_hash == checkpoints[0].hash and last.chain_head == txs[-1].hash
    assert all(tx.signature == "" for tx in txs)  # the checkpoint signs them


def test_a_rolled_back_append_writes_no_checkpoint(commons):
    ledger_of(commons, commits=1)
    income(commons, 5)
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(select(func.count(Checkpoint.id))) == 1
    assert verify_ledger().ok


TX_FIELDS = [
    ("kind", "'gift'"),
    ("memo", "'edited'"),
    ("occurred_on", "'2020-01-01'"),
    ("recorded_at", "'2026-01-01T00:00:00.000000+00:00'"),
    ("commons_id", "NULL"),
    ("ref", "'forged'"),
    ("format", "1"),
]


@pytest.mark.parametrize(("column", "value"), TX_FIELDS)
def test_altering_any_field_of_a_transaction_is_caught_and_named(commons, tamper, column, value):
    txs = ledger_of(commons)
    target = txs[3]
    tamper()
    db.session.execute(text(f"UPDATE ledger_transactions SET {column} = {value} WHERE id = :id"), {"id": target.id})
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == target.id and report.first_bad_seq == target.seq
    assert "altered" in report.reason


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE ledger_postings SET amount_cents = amount_cents + 1 WHERE transaction_id = :id", "balance"),
        ("UPDATE ledger_postings SET memo = 'x' WHERE transaction_id = :id", "altered"),
        (
            "UPDATE ledger_postings SET account_id = (SELECT MIN(account_id) FROM ledger_postings) WHERE transaction_id = :id",
            "altered",
        ),
        ("UPDATE ledger_transactions SET hash = :fake WHERE id = :id", "altered"),
        ("UPDATE ledger_transactions SET prev_hash = :fake WHERE id = :id", "link"),
    ],
)
def test_altering_a_posting_or_a_hash_is_caught_and_named(commons, tamper, statement, reason):
    txs = ledger_of(commons)
    target = txs[2]
    tamper()
    db.session.execute(text(statement), {"id": target.id, "fake": "ab" * 32})
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == target.id
    assert reason in report.reason


@pytest.mark.parametrize("column", ["type", "person_id", "commons_id"])
def test_changing_who_owns_an_account_is_caught(commons, tamper, make_person, column):
    txs = ledger_of(commons)
    other = make_person()
    value = {"type": "'expense'", "person_id": str(other.id), "commons_id": "NULL"}[column]
    tamper()
    db.session.execute(
        text(f"UPDATE accounts SET {column} = {value} WHERE code = :code"), {"code": chart.commons_treasury(commons).code}
    )
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == txs[0].id and "altered" in report.reason


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("root", "'" + "00" * 32 + "'", "altered"),
        ("chain_head", "'" + "00" * 32 + "'", "altered"),
        ("created_at", "'2020-01-01'", "altered"),
        ("note", "REPLACE(note, 'chain', 'chian')", "altered"),
        ("frontier", "''", "altered"),
        ("prev_hash", "'" + "00" * 32 + "'", "link"),
        ("size", "size + 100", "reordered"),
    ],
)
def test_altering_any_field_of_a_checkpoint_is_caught_and_named(commons, tamper, column, value, reason):
    ledger_of(commons)
    middle = db.session.scalars(select(Checkpoint).order_by(Checkpoint.size)).all()[1]
    tamper()
    db.session.execute(text(f"UPDATE ledger_checkpoints SET {column} = {value} WHERE id = :id"), {"id": middle.id})
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_checkpoint is not None and reason in report.reason
    assert "checkpoint" in report.reason


def test_a_checkpoint_re_signed_consistently_but_over_an_altered_root_is_caught(commons, tamper):
    """The hash of the row, its note and its signature all agree: only the rebuilt tree disagrees."""
    from ledger.accounts.checkpoints import checkpoint_body, checkpoint_hash, sign_note

    ledger_of(commons, commits=1)
    cp = latest()
    row = {c: getattr(cp, c) for c in ("size", "root", "chain_head", "created_at", "key_id", "note", "frontier")}
    row["root"] = "11" * 32
    row["note"] = sign_note(
        checkpoint_body(cp.note.split("\n")[0], cp.size, bytes.fromhex(row["root"]), cp.chain_head),
        cp.note.split("\n")[0],
        current_key(),
    )
    tamper()
    db.session.execute(
        text("UPDATE ledger_checkpoints SET root = :root, note = :note, hash = :hash WHERE id = :id"),
        {"root": row["root"], "note": row["note"], "hash": checkpoint_hash(row, cp.prev_hash), "id": cp.id},
    )
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_checkpoint == cp.size and "root" in report.reason


def test_deleting_reordering_or_cutting_transactions_is_caught(commons, tamper):
    txs = ledger_of(commons)
    tamper()
    # The tail: the last transaction gone, its checkpoint still says 6.
    delete_transaction(txs[-1].id)
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_checkpoint == 6 and "tail was cut" in report.reason
    # Reordering: two transactions swap their places in the chain.
    (a, a_seq), (b, b_seq) = (txs[1].id, txs[1].seq), (txs[2].id, txs[2].seq)
    db.session.execute(text("UPDATE ledger_transactions SET seq = -1 WHERE id = :id"), {"id": a})
    db.session.execute(text("UPDATE ledger_transactions SET seq = :s WHERE id = :id"), {"s": a_seq, "id": b})
    db.session.execute(text("UPDATE ledger_transactions SET seq = :s WHERE id = :id"), {"s": b_seq, "id": a})
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == b and report.first_bad_seq == a_seq and "reordered" in report.reason


def test_deleting_a_middle_transaction_is_caught(commons, tamper):
    txs = ledger_of(commons)
    tamper()
    delete_transaction(txs[2].id)
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_id == txs[3].id and "missing" in report.reason


def test_a_transaction_slipped_in_without_a_checkpoint_is_caught(commons, tamper):
    ledger_of(commons, commits=1)
    income(commons, 77)
    db.session.flush()
    # As if written by hand, outside post_many's commit: neither a checkpoint nor the sequencer.
    assert db.session.info.pop(checkpoints.DUE, None) or db.session.info.pop(checkpoints.WAITING, None)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # and placed by hand, without the sequencer's checkpoint
        from ledger.accounts.chain import sequence_link

        tx = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.seq.is_(None))).one()
        prev = db.session.scalar(select(LedgerTransaction.hash).where(LedgerTransaction.seq == 2))
        db.session.execute(
            text("UPDATE ledger_transactions SET seq = 3, prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": prev, "hash": sequence_link(3, prev, tx.content_hash), "id": tx.id},
        )
        db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_seq == 3 and "no signature nor signed checkpoint" in report.reason


def test_removing_the_checkpoints_too_is_caught_against_a_saved_checkpoint(commons, tamper, runner, client, tmp_path):
    txs = ledger_of(commons)
    saved = tmp_path / "latest.json"
    saved.write_text(client.get("/api/v1/ledger/checkpoints/latest").get_data(as_text=True))
    tamper()
    # Cut the last commit entirely: transactions and their checkpoint. Alone, it looks intact.
    db.session.execute(text("DELETE FROM ledger_checkpoints WHERE size = 6"))
    for tx in txs[-2:]:
        delete_transaction(tx.id)
    db.session.commit()
    assert runner.invoke(["verify"]).exit_code == 0
    result = runner.invoke(["verify", "--against", str(saved)])
    assert result.exit_code == 1 and "size 6" in result.output and "cut" in result.output


def test_a_history_rewritten_and_re_signed_with_the_real_key_is_caught_against_an_earlier_checkpoint(
    commons, tamper, runner, client, tmp_path
):
    ledger_of(commons)
    saved = tmp_path / "witness.txt"
    saved.write_text(client.get("/api/v1/ledger/checkpoints/latest").get_json()["note"])
    assert runner.invoke(["verify", "--against", str(saved)]).exit_code == 0
    tamper()
    for table in ("ledger_checkpoints", "fec_entry_numbers", "ledger_postings", "ledger_transactions"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    # The rewriter replays history with one amount changed, through the real code and key.
    for c in range(3):
        for i in range(2):
            income(commons, 1_000 * (c + 1) + i + (500 if (c, i) == (0, 1) else 0))
        db.session.commit()
    assert verify_ledger().ok  # self-consistent and validly signed
    result = runner.invoke(["verify", "--against", str(saved)])
    assert result.exit_code == 1
    assert "does not extend the checkpoint saved at size 6" in result.output and "rewritten" in result.output


def test_a_saved_checkpoint_of_another_key_is_refused(commons, runner, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.accounts.checkpoints import checkpoint_body, sign_note
    from ledger.accounts.signing import SigningKey

    ledger_of(commons, commits=1)
    cp = latest()
    stranger = SigningKey(Ed25519PrivateKey.generate(), "", "0" * 16)
    origin = cp.note.split("\n")[0]
    forged = tmp_path / "forged.txt"
    forged.write_text(sign_note(checkpoint_body(origin, cp.size, bytes.fromhex(cp.root), cp.chain_head), origin, stranger))
    result = runner.invoke(["verify", "--against", str(forged)])
    assert result.exit_code == 1 and "not signed by any key" in result.output
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello\n")
    result = runner.invoke(["verify", "--against", str(garbage)])
    assert result.exit_code == 1 and "not a saved checkpoint" in result.output


def test_checkpoints_are_paged_oldest_first_with_base64_roots(commons, client):
    ledger_of(commons)
    body = client.get("/api/v1/ledger/checkpoints?limit=2").get_json()
    assert body["total"] == 3 and [item["size"] for item in body["items"]] == [2, 4]
    first = body["items"][0]
    assert set(first) >= {"size", "root", "chain_head", "created_at", "note"}
    assert parse_note(first["note"]).root == base64.b64decode(first["root"])
    assert client.get("/api/v1/ledger/checkpoints?limit=2&offset=2").get_json()["items"][0]["size"] == 6


def test_consistency_proofs_from_the_api_verify_between_checkpoints(commons, client):
    ledger_of(commons)
    for old, new in ((2, 6), (4, 6), (1, 5), (6, 6)):
        body = client.get(f"/api/v1/ledger/consistency?from={old}&to={new}").get_json()
        proof = [base64.b64decode(node) for node in body["proof"]]
        assert merkle.verify_consistency(
            old, new, base64.b64decode(body["from_root"]), base64.b64decode(body["to_root"]), proof
        ), (old, new)
    body = client.get("/api/v1/ledger/consistency?from=2&to=6").get_json()
    assert parse_note(body["from_checkpoint"]).root == base64.b64decode(body["from_root"])
    refused = client.get("/api/v1/ledger/consistency?from=2&to=60")
    assert refused.status_code == 422 and "to" in refused.get_json()["error"]["fields"]
    refused = client.get("/api/v1/ledger/consistency?from=5&to=3")
    assert refused.status_code == 422 and "from" in refused.get_json()["error"]["fields"]


def _receipt(client, tx, tmp_path):
    body = client.get(f"/api/v1/ledger/transactions/{tx.id}/receipt").get_json()
    path = tmp_path / f"receipt-{tx.id}.json"
    path.write_text(json.dumps(body))
    return body, path


def _public_key_file(client, tmp_path):
    path = tmp_path / "signing.pem"
    path.write_text(client.get("/api/v1/keys/signing").get_json()["public_key_pem"])
    return path


def test_a_receipt_verifies_offline_and_an_altered_one_does_not(commons, client, runner, tmp_path):
    txs = ledger_of(commons)
    body, path = _receipt(client, txs[2], tmp_path)
    assert body["leaf_index"] == txs[2].seq - 1 and body["tree_size"] == 6
    key = _public_key_file(client, tmp_path)
    result = runner.invoke(["verify-receipt", str(path), "--public-key", str(key)])
    assert result.exit_code == 0, result.output
    assert f"seq {txs[2].seq}" in result.output and "2000 cents" in result.output

    def refused(change):
        altered = json.loads(json.dumps(body))
        change(altered)
        bad = tmp_path / "altered.json"
        bad.write_text(json.dumps(altered))
        result = runner.invoke(["verify-receipt", str(bad), "--public-key", str(key)])
        assert result.exit_code == 1
        return result.output

    def more_money(r):
        r["transaction"]["postings"][0][1] += 50_000
        r["transaction"]["postings"][1][1] -= 50_000

    assert "altered" in refused(more_money)
    assert "audit path" in refused(lambda r: r["audit_path"].reverse())
    assert "not signed" in refused(lambda r: r.update(checkpoint=r["checkpoint"].replace("\n6\n", "\n7\n")))


def test_the_documented_receipt_script_checks_a_receipt_with_cryptography_and_hashlib_only(commons, client, tmp_path):
    script_text = (DOCS / "architecture.md").read_text().split("```python verify_receipt.py\n")[1].split("```")[0]
    script = tmp_path / "verify_receipt.py"
    script.write_text(script_text)
    imports = {
        name.strip().split(".")[0]
        for line in script_text.splitlines()
        if line.startswith(("import ", "from "))
        for name in (line.split()[1] if line.startswith("from ") else line.removeprefix("import ")).split(",")
    }
    assert imports <= {"base64", "hashlib", "json", "sys", "cryptography"}
    assert len(script_text.strip().splitlines()) <= 40
    txs = ledger_of(commons)
    body, path = _receipt(client, txs[4], tmp_path)
    key = _public_key_file(client, tmp_path)
    ok = subprocess.run([sys.executable, str(script), str(path), str(key)], capture_output=True, text=True)
    assert ok.returncode == 0 and "valid" in ok.stdout, ok.stderr
    body["transaction"]["memo"] = "grant 9999"
    path.write_text(json.dumps(body))
    bad = subprocess.run([sys.executable, str(script), str(path), str(key)], capture_output=True, text=True)
    assert bad.returncode != 0


def test_a_receipt_for_an_unknown_transaction_is_404(commons, client):
    response = client.get("/api/v1/ledger/transactions/999/receipt")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.fixture
def own_key(app, tmp_path):
    """This test's own copy of the signing key file, so that replacing it touches no other test."""
    import shutil

    path = tmp_path / "signing_key.pem"
    shutil.copyfile(app.config["LEDGER_SIGNING_KEY_FILE"], path)
    app.config["LEDGER_SIGNING_KEY_FILE"] = str(path)
    return path


def test_a_rotated_key_keeps_old_checkpoints_verifiable_and_is_announced_by_the_old_key(commons, own_key, runner, client):
    ledger_of(commons, commits=2)
    old_id = current_key().key_id
    result = runner.invoke(["keys", "rotate-signing"])
    assert result.exit_code == 0, result.output
    new_id = current_key().key_id
    assert new_id != old_id and f"{old_id} -> {new_id}" in result.output
    income(commons, 42)
    db.session.commit()
    assert [c.key_id for c in db.session.scalars(select(Checkpoint).order_by(Checkpoint.size))] == [old_id, old_id, new_id]
    report = verify_ledger()
    assert report.ok and report.checkpoints == 3 and report.notes == []
    history = client.get("/api/v1/keys/signing").get_json()["history"]
    assert [(k["key_id"], k["announced_by"]) for k in history] == [(old_id, None), (new_id, old_id)]


def test_after_a_key_loss_past_transactions_still_verify_and_the_unannounced_key_is_noted(commons, own_key, runner):
    from ledger.accounts.signing import load_or_create

    ledger_of(commons, commits=2)
    old_id = current_key().key_id
    own_key.unlink()  # lost: a new key is made on next use
    load_or_create.cache_clear()
    income(commons, 42)
    db.session.commit()
    assert current_key().key_id != old_id
    report = verify_ledger()
    assert report.ok and report.checked == 5 and report.checkpoints == 3
    assert len(report.notes) == 1 and "without its announcement" in report.notes[0]
    result = runner.invoke(["verify"])
    assert result.exit_code == 0 and "note: key" in result.output


def test_a_checkpoint_signed_by_a_key_missing_from_the_history_is_caught(commons, tamper):
    ledger_of(commons, commits=1)
    tamper()
    db.session.execute(text("DELETE FROM ledger_signing_keys"))
    db.session.commit()
    report = verify_ledger()
    assert not report.ok and report.first_bad_checkpoint == 2 and "not in the published key history" in report.reason


def test_verify_reports_its_progress_as_it_streams(commons):
    ledger_of(commons)
    seen = []
    report = verify_ledger(progress=seen.append, progress_every=2)
    assert report.ok and seen == [2, 4, 6]


@pytest.fixture
def general_query_runs(monkeypatch):
    """How many times verify fell back to its general (joined) query."""
    from ledger.accounts import verify

    runs = []
    original = verify.stream_rows

    def spy(*args, **kwargs):
        runs.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(verify, "stream_rows", spy)
    return runs


def test_a_sound_ledger_with_awkward_text_is_verified_by_the_fast_path_alone(commons, general_query_runs):
    from ledger.accounts.service import reverse

    memo = 'a "quoted" \\ back\\slash, a\nnew line, a tab\t, \x01, é, ✓, 💶 and </script>'
    original = post(
        "income",
        [Leg(chart.commons_treasury(commons), 700, memo), Leg(chart.commons_income(commons, "grant"), -700, 'ç"')],
        occurred_on=date(2026, 1, 3),
        commons_id=commons.id,
        memo=memo,
        ref=f"ref {memo}",
    )
    db.session.commit()
    reverse(original, occurred_on=date(2026, 1, 4), memo="undo \u2028 ✓")
    db.session.commit()
    ledger_of(commons, commits=2)

    report = verify_ledger()

    # Its hand-written JSON is byte for byte what chain.canonical_bytes hashed, or it would have fallen back.
    assert report.ok and report.checked == 6 and report.checkpoints == 4
    assert general_query_runs == []


def test_a_transactions_postings_met_before_it_are_kept_until_it_comes_on_the_fast_path(commons, tamper, general_query_runs):
    """As PostgreSQL leaves them when writers commit in another order than their ids."""
    txs = ledger_of(commons)
    tamper()  # as a restore that renumbered rows would leave them: nothing hashed changes
    db.session.execute(text("UPDATE ledger_postings SET id = id + 1000 WHERE transaction_id = :id"), {"id": txs[0].id})
    db.session.commit()

    report = verify_ledger()

    assert report.ok and report.checked == 6 and general_query_runs == []


def test_postings_of_one_transaction_split_by_another_s_verify_through_the_general_query(commons, tamper, general_query_runs):
    txs = ledger_of(commons)
    tamper()
    first = db.session.scalar(text("SELECT MIN(id) FROM ledger_postings WHERE transaction_id = :id"), {"id": txs[0].id})
    db.session.execute(text("UPDATE ledger_postings SET id = id + 1000 WHERE id = :id"), {"id": first})
    db.session.commit()

    report = verify_ledger()

    assert general_query_runs == [1]  # the fast path only ever says "all holds"
    # The moved posting is now the transaction's last: its hashed order changed, and verify says so.
    assert not report.ok and report.first_bad_seq == txs[0].seq and "altered" in report.reason


def test_a_failure_is_named_by_the_general_query_after_the_fast_path_doubts(commons, tamper, general_query_runs):
    txs = ledger_of(commons)
    tamper()
    db.session.execute(text("UPDATE ledger_postings SET memo = 'x' WHERE transaction_id = :id"), {"id": txs[4].id})
    db.session.commit()

    report = verify_ledger()

    assert not report.ok and report.first_bad_id == txs[4].id and "altered" in report.reason
    assert general_query_runs == [1]
