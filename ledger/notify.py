"""The mails the service writes, each in its recipient's language."""

from __future__ import annotations

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ledger import mail
from ledger.people.models import Person


def link(endpoint: str, **values) -> str:
    """An absolute link: LEDGER_BASE_URL when set (behind a proxy), else the request's host."""
    base = current_app.config.get("LEDGER_BASE_URL")
    if not has_request_context():  # the scheduler: no request to take the host from
        with current_app.test_request_context(base_url=base or "http://localhost/"):
            return url_for(endpoint, _external=True, **values)
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def send_to(person: Person, subject_of, template: str, **context) -> None:
    """Render ``template`` and the subject (a function, called in the person's language) and queue it."""
    with force_locale(person.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = subject_of()
        body = render_template(template, person=person, **context)
    mail.send(person.email, subject, body)


def invitation(person: Person, token: str | None, commons_name: str, role_label: str, inviter: Person) -> None:
    url = link("account_pages.accept_invitation", token=token) if token else link("auth.login")
    send_to(
        person,
        lambda: _("You are invited to %(name)s", name=commons_name),
        "mail/invitation.txt",
        url=url,
        commons_name=commons_name,
        role_label=role_label,
        inviter=inviter,
        new_account=token is not None,
    )


def password_reset(person: Person, token: str) -> None:
    send_to(
        person,
        lambda: _("Choose a new password"),
        "mail/reset.txt",
        url=link("account_pages.reset_password", token=token),
    )
