"""Plotly figure builders: pure functions from chart rows (and translated labels) to figure JSON.

Money arrives in cents and is shown in euros (display only). Numbers read the reader's way:
the layout carries the language's decimal and group marks (plotly's ``separators``), axes show
whole numbers ("35 000", never plotly's default "35k"), and months are named ("mars 2026") by
``ledger.formatting``. Colours come from the Okabe-Ito
palette, readable with the common colour-vision deficiencies. No figure uses anything that would
make plotly.js fetch a resource (no maps, no MathJax).
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

import plotly.io as pio

from ledger import formatting

# d3-format: grouped, at most two decimals, trailing zeros dropped ("35 000", "12,5").
NUMBER = ",.2~f"

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
VISIBLE, INVISIBLE = "#0072B2", "#D55E00"


def euros(cents: int) -> Decimal:
    return Decimal(cents) / 100


def to_json(figure: dict) -> str:
    """The figure as JSON, validated by plotly, safe to embed in a ``<script type=application/json>``."""
    text = pio.to_json(figure, validate=True, pretty=False)
    # Inside a script element "</script>" or "<!--" would end or confuse it: escape <, > and &
    # (they can only occur inside JSON strings, where \\uXXXX means the same character).
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _layout(**extra) -> dict:
    # An empty template: plotly.py's default one would add ~8 kB to every figure.
    layout = {
        "template": {"data": {}, "layout": {}},
        "colorway": list(PALETTE),
        "margin": {"l": 60, "r": 20, "t": 20, "b": 60},
        "height": 380,
        "font": {"family": "system-ui, 'DejaVu Sans', sans-serif", "size": 13},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
        "separators": formatting.plotly_separators(),
    }
    layout.update(extra)
    return layout


def stacked_by_month(rows: list[dict], series_key: str, *, y_title: str) -> dict:
    """Stacked bars: one bar per month, one colour per value of ``series_key`` (source, funder)."""
    months = sorted({row["month"] for row in rows})
    series: OrderedDict[str, dict[str, int]] = OrderedDict()
    for row in sorted(rows, key=lambda r: r[series_key]):
        series.setdefault(row[series_key], {})[row["month"]] = row["amount_cents"]
    data = [
        {
            "type": "bar",
            "name": name,
            "x": [formatting.month(m) for m in months],
            "y": [euros(values.get(m, 0)) for m in months],
            "hovertemplate": "%{x}: " + formatting.plotly_money("y") + "<extra>" + name.replace("<", "") + "</extra>",
        }
        for name, values in series.items()
    ]
    return {
        "data": data,
        "layout": _layout(
            barmode="stack",
            yaxis={"title": {"text": y_title}, "rangemode": "tozero", "tickformat": NUMBER},
            xaxis={"type": "category"},
        ),
    }


def funder_sankey(flows: list[dict], income: list[dict], use_labels: dict[str, str]) -> dict:
    """Funder → commons → use, widths in euros; nodes are shared by name across commons."""
    labels: list[str] = []
    index: dict[tuple[str, str], int] = {}

    def node(kind: str, name: str) -> int:
        if (kind, name) not in index:
            index[(kind, name)] = len(labels)
            labels.append(name)
        return index[(kind, name)]

    source, target, value = [], [], []
    for row in income:
        source.append(node("funder", row["funder"]))
        target.append(node("commons", row["commons"]))
        value.append(euros(row["amount_cents"]))
    per_use: dict[tuple[str, str], int] = {}
    for row in flows:
        per_use[(row["commons"], row["use"])] = per_use.get((row["commons"], row["use"]), 0) + row["amount_cents"]
    for (commons, use), cents in per_use.items():
        source.append(node("commons", commons))
        target.append(node("use", use_labels[use]))
        value.append(euros(cents))
    colours = [PALETTE[{"funder": 0, "commons": 2, "use": 1}[kind]] for kind, _ in index]
    return {
        "data": [
            {
                "type": "sankey",
                "valueformat": ",.2f",
                "valuesuffix": " €",
                "node": {"label": labels, "color": colours, "pad": 14},
                "link": {"source": source, "target": target, "value": value},
            }
        ],
        "layout": _layout(height=max(380, 26 * len(labels))),
    }


def grouped_per_round(
    rows: list[dict],
    label_key: str,
    series: list[tuple[str, str]],
    *,
    y_title: str,
    money: bool = True,
    line: tuple[str, str, str] | None = None,
) -> dict:
    """Grouped bars per round for each (column, label) of ``series``; optionally a line on a
    second axis (column, label, axis title), such as validated hours."""
    x = [row[label_key] for row in rows]
    data = [
        {"type": "bar", "name": label, "x": x, "y": [euros(r[key]) if money else r[key] for r in rows]} for key, label in series
    ]
    layout = _layout(
        barmode="group",
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "tickformat": NUMBER},
        xaxis={"type": "category"},
    )
    if line:
        key, label, axis_title = line
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": x,
                "y": [r[key] for r in rows],
                "yaxis": "y2",
                "line": {"color": PALETTE[7]},
            }
        )
        layout["yaxis2"] = {
            "title": {"text": axis_title},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickformat": NUMBER,
        }
    return {"data": data, "layout": layout}


def lorenz(points: list[tuple], *, curve: str, equality: str, x_title: str, y_title: str) -> dict:
    """The Lorenz curve against the line of perfect equality, both axes in percent."""
    xs = [Decimal(p.numerator) / Decimal(p.denominator) * 100 for p, _ in points]
    ys = [Decimal(s.numerator) / Decimal(s.denominator) * 100 for _, s in points]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": equality,
                "x": [0, 100],
                "y": [0, 100],
                "line": {"dash": "dash", "color": PALETTE[7]},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": curve,
                "x": xs,
                "y": ys,
                "fill": "tonexty",
                "line": {"color": PALETTE[0]},
                "hovertemplate": "%{x:.0f} % → %{y:.1f} %<extra></extra>",
            },
        ],
        "layout": _layout(
            xaxis={"title": {"text": x_title}, "range": [0, 100], "ticksuffix": " %"},
            yaxis={"title": {"text": y_title}, "range": [0, 100], "ticksuffix": " %"},
        ),
    }


def categories(rows: list[dict], *, visible: str, invisible: str, x_title: str) -> dict:
    """Horizontal bars of hours by category, invisible work in its own colour and legend entry."""
    data = []
    for flag, name, colour in ((False, visible, VISIBLE), (True, invisible, INVISIBLE)):
        chosen = [r for r in rows if r["invisible"] is flag]
        if chosen:
            data.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": name,
                    "marker": {"color": colour},
                    "y": [r["label"] for r in chosen],
                    "x": [r["hours"] for r in chosen],
                }
            )
    return {
        "data": data,
        "layout": _layout(
            xaxis={"title": {"text": x_title}, "tickformat": NUMBER},
            yaxis={"type": "category", "automargin": True},
            margin={"l": 160, "r": 20, "t": 20, "b": 60},
        ),
    }


def fund(rows: list[dict], labels: dict[str, str], *, y_title: str) -> dict:
    """Levies and donations in, top-ups out (below zero), and the balance as a line when known."""
    months = [formatting.month(r["month"]) for r in rows]
    data = [
        {"type": "bar", "name": labels["levies_cents"], "x": months, "y": [euros(r["levies_cents"]) for r in rows]},
        {"type": "bar", "name": labels["donations_cents"], "x": months, "y": [euros(r["donations_cents"]) for r in rows]},
        {"type": "bar", "name": labels["topups_cents"], "x": months, "y": [-euros(r["topups_cents"]) for r in rows]},
    ]
    if rows and "balance_cents" in rows[0]:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": labels["balance_cents"],
                "x": months,
                "y": [euros(r["balance_cents"]) for r in rows],
                "line": {"color": PALETTE[7]},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            barmode="relative", yaxis={"title": {"text": y_title}, "tickformat": NUMBER}, xaxis={"type": "category"}
        ),
    }
