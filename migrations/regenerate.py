"""Regenerate the initial migration from the models (pre-release only: nothing is deployed yet).

    .venv/bin/python migrations/regenerate.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from ledger.migrate import MIGRATIONS, alembic_config

TARGET = MIGRATIONS / "versions" / "0001_initial_schema.py"


def main() -> None:
    TARGET.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command.revision(alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}"), message="initial schema", autogenerate=True, rev_id="0001")
    text = TARGET.read_text()
    text = text.replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\n\nfrom ledger.database import guards_for\n", 1)
    text = text.replace(
        "    # ### end Alembic commands ###\n",
        "    # ### end Alembic commands ###\n    for statement in guards_for(op.get_bind().dialect.name):\n        op.execute(statement)\n",
        1,
    )
    # The create date would make every regeneration a diff.
    text = "\n".join(line for line in text.splitlines() if not line.startswith("Create Date:")) + "\n"
    TARGET.write_text(text)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
