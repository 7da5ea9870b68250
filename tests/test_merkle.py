"""The Merkle tree agrees with RFC 6962 as Certificate Transparency publishes it.

Vectors: the reference leaves and tree heads of Certificate Transparency's merkle tests (also in
transparency-dev/merkle testonly), their audit paths and consistency proofs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounts import merkle

LEAVES = [
    bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
}
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
]


def _hashes(names):
    return [bytes.fromhex(H[name]) for name in names]


def test_tree_heads_match_the_published_roots_for_every_size():
    for size, expected in enumerate(ROOTS):
        assert merkle.root(HASHES[:size]).hex() == expected


@pytest.mark.parametrize(("index", "size", "names"), INCLUSION)
def test_audit_paths_match_the_published_ones_and_verify(index, size, names):
    path = merkle.inclusion_path(HASHES[:size], index)
    assert path == _hashes(names)
    assert merkle.verify_inclusion(HASHES[index], index, size, path, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "names"), CONSISTENCY)
def test_consistency_proofs_match_the_published_ones_and_verify(old, new, names):
    proof = merkle.consistency_proof(HASHES[:new], old)
    assert proof == _hashes(names)
    assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_a_frontier_extends_a_tree_without_its_earlier_leaves():
    whole = merkle.Frontier()
    whole.extend(HASHES)
    resumed = merkle.Frontier(5, _frontier(HASHES[:5]).hashes)
    resumed.extend(HASHES[5:])
    assert resumed.root() == whole.root() == bytes.fromhex(ROOTS[8])
    with pytest.raises(ValueError, match="frontier of 5 leaves has 2 hashes"):
        merkle.Frontier(5, [HASHES[0]])


def _frontier(leaves):
    frontier = merkle.Frontier()
    frontier.extend(leaves)
    return frontier


def _leaves(n):
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@given(st.integers(min_value=1, max_value=70).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proofs_hold_between_any_two_sizes(sizes):
    old, new = sizes
    leaves = _leaves(new)
    old_root, new_root = merkle.root(leaves[:old]), merkle.root(leaves)
    proof = merkle.consistency_proof(leaves, old)
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    # A different old history, a different new one, or a touched proof is refused.
    other = merkle.root([b"\xff" * 32, *leaves[1:old]])
    assert not merkle.verify_consistency(old, new, other, new_root, proof)
    assert not merkle.verify_consistency(old, new, old_root, merkle.root([*leaves[:-1], b"\xee" * 32]), proof)
    if proof:
        touched = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
        assert not merkle.verify_consistency(old, new, old_root, new_root, touched)


@given(st.integers(min_value=1, max_value=70).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_every_leaf_has_an_audit_path_and_no_other_leaf_fits_it(place):
    index, size = place
    leaves = _leaves(size)
    tree_root = merkle.root(leaves)
    path = merkle.inclusion_path(leaves, index)
    assert merkle.verify_inclusion(leaves[index], index, size, path, tree_root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, path, tree_root)
    if size > 1:
        assert not merkle.verify_inclusion(leaves[index], (index + 1) % size, size, path, tree_root)
