"""Contribution categories of a commons: the defaults make invisible work visible; stewards add more."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ledger.commons.models import Commons
from ledger.contributions.models import Category
from ledger.errors import Conflict, ValidationFailed
from ledger.extensions import db
from ledger.text import text_problem

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

# The default categories' labels in the reader's language (stored labels stay English).
DEFAULT_LABELS = {
    "production": _l("Production"),
    "maintenance": _l("Maintenance"),
    "care": _l("Care"),
    "governance": _l("Governance"),
    "welcoming": _l("Welcoming newcomers"),
    "feedback": _l("Feedback on use"),
    "coordination": _l("Coordination"),
    "mutual_help": _l("Mutual help"),
}
DEFAULT_ENGLISH = {
    "production": "Production",
    "maintenance": "Maintenance",
    "care": "Care",
    "governance": "Governance",
    "welcoming": "Welcoming newcomers",
    "feedback": "Feedback on use",
    "coordination": "Coordination",
    "mutual_help": "Mutual help",
}


def category_label(code: str, label: str | None) -> str:
    """The label to show: translated for a default category its steward did not rename; the
    code when the category row is gone."""
    if label is None or DEFAULT_ENGLISH.get(code) == label:
        return str(DEFAULT_LABELS.get(code, label or code))
    return label


def label_of(category: Category) -> str:
    return category_label(category.code, category.label)


def categories_of(commons_id: int, *, active_only: bool = True) -> list[Category]:
    query = select(Category).where(Category.commons_id == commons_id)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(db.session.scalars(query.order_by(Category.id)))


def add_category(commons: Commons, *, code: str, label: str, invisible: bool) -> Category:
    """A new category for one commons; its code is what declarations and rule weights refer to."""
    from flask_babel import gettext as _

    code, label = (code or "").strip(), (label or "").strip()
    problems: dict[str, list[str]] = {}
    if not CODE_RE.match(code):
        problems["code"] = [_("Use 2 to 40 lowercase letters, digits or underscores, starting with a letter.")]
    if not 1 <= len(label) <= 120 or text_problem(label):
        problems["label"] = [_("Write a label of 1 to 120 characters.")]
    if problems:
        raise ValidationFailed(_("The category was not added."), fields=problems)
    if db.session.scalar(select(Category.id).where(Category.commons_id == commons.id, Category.code == code)):
        raise Conflict(_("This commons already has a category with this code."), fields={"code": [_("already used")]})
    category = Category(commons_id=commons.id, code=code, label=label, invisible=bool(invisible), active=True)
    db.session.add(category)
    db.session.flush()
    return category
