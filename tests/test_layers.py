"""The layering holds (the import-linter contract in pyproject.toml), and migrations stand alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


def test_migrations_never_import_live_code():
    """A revision must create the same schema forever: it cannot depend on today's application."""
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert not {name for name in imported if name.split(".")[0] in ("ledger", "dashboards")}, path.name


DOMAINS = {"commons", "contributions", "fund", "rounds", "legal", "payouts", "governance", "inbox"}


def test_each_domain_is_a_layer_of_its_own_and_every_exception_is_a_real_import():
    """No ':' lets domains import each other at will: a new upward import breaks the contract, and an
    exception left behind by a move (an import that no longer exists) is caught too."""
    import tomllib

    import grimp

    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    domain_layers = [
        layer
        for layer in contract["layers"]
        if {part.strip().removeprefix("ledger.") for part in layer.replace(":", "|").split("|")} & DOMAINS
    ]
    assert sorted(layer.removeprefix("ledger.") for layer in domain_layers) == sorted(DOMAINS)
    graph = grimp.build_graph("ledger", "dashboards", exclude_type_checking_imports=True)
    for ignored in contract["ignore_imports"]:
        importer, imported = (side.strip() for side in ignored.split("->"))
        assert graph.direct_import_exists(importer=importer, imported=imported), ignored
