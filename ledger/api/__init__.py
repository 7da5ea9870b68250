"""The JSON API under /api/v1: one blueprint per resource, documented by OpenAPI."""

from __future__ import annotations

from flask import Flask

from ledger.extensions import api, csrf


def register_api(app: Flask) -> None:
    from ledger.api import (
        categories,
        commons,
        contributions,
        exports,
        fund,
        ledger,
        legal,
        payouts,
        people,
        review,
        rounds,
        rules,
    )
    from ledger.api.openapi import ContractPlugin, register_refusals

    api.init_app(app, spec_kwargs={"extra_plugins": [ContractPlugin(app)]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    register_refusals(api.spec)
    for module in (commons, ledger, people, contributions, review, categories, payouts, exports, rules, rounds, fund, legal):
        csrf.exempt(module.blp)  # bearer tokens, not cookies: no CSRF to protect against
        api.register_blueprint(module.blp)
