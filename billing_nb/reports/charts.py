"""Charts for the account notebooks, as static PNG images.

Each function takes a metric's rows (integer minor units per currency) and returns an
``IPython.display.Image``: the PNG is stored in the notebook's output, so the saved
record shows the chart with no kernel and no JavaScript. Drawn with matplotlib's object
API (no pyplot state), amounts in the currency's major unit.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from IPython.display import Image
from matplotlib.figure import Figure

from ..money import Money

__all__ = ["movements_chart", "intervals_chart", "seats_chart", "cohorts_chart", "cases_chart", "money_chart",
           "gaps_chart", "to_image"]

_MOVE_COLOURS = {"new": "#2a9d8f", "expansion": "#8ab17d", "reactivation": "#e9c46a", "contraction": "#f4a261",
                 "churn": "#e76f51"}


def to_image(fig: Figure) -> Image:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return Image(data=buf.getvalue(), format="png")


def _major(amounts: Any, currency: str) -> Any:
    return pd.Series(amounts, dtype="float64") / (10 ** Money(0, currency).exponent)


def _empty(title: str) -> Image:
    fig = Figure(figsize=(6, 1.2))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, f"{title}: nothing to draw yet", ha="center", va="center")
    return to_image(fig)


def movements_chart(movements: pd.DataFrame) -> Image:
    """Per currency: MRR at each month's end (line) over the month's movements (stacked
    bars, gains up, losses down)."""
    if movements.empty:
        return _empty("MRR movements")
    currencies = sorted(movements["currency"].unique())
    fig = Figure(figsize=(10, 4.2 * len(currencies)))
    for i, cur in enumerate(currencies):
        rows = movements[movements["currency"] == cur].reset_index(drop=True)
        top = fig.add_subplot(2 * len(currencies), 1, 2 * i + 1)
        x = range(len(rows))
        top.plot(list(x), _major(rows["mrr_end"], cur), color="#264653", marker="o")
        top.set_title(f"MRR ({cur.upper()}) at month end")
        top.set_xticks(list(x), [])
        top.grid(alpha=0.3)
        bottom = fig.add_subplot(2 * len(currencies), 1, 2 * i + 2)
        up = pd.Series(0.0, index=rows.index)
        down = pd.Series(0.0, index=rows.index)
        for col, colour in _MOVE_COLOURS.items():
            vals = _major(rows[col], cur)
            base = up if col in ("new", "expansion", "reactivation") else down
            bottom.bar(list(x), vals, bottom=base, color=colour, label=col)
            base += vals
        bottom.axhline(0, color="black", linewidth=0.6)
        bottom.set_xticks(list(x), list(rows["month"]), rotation=45, ha="right")
        bottom.set_title(f"Movements ({cur.upper()})")
        bottom.legend(loc="upper left", fontsize="small", ncol=5)
        bottom.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return to_image(fig)


def intervals_chart(intervals: pd.DataFrame, conversion: pd.DataFrame) -> Image:
    """Live subscriptions per billing interval, and monthly vs annual MRR over time with the
    month's monthly -> annual conversions."""
    if intervals.empty and conversion.empty:
        return _empty("Billing intervals")
    fig = Figure(figsize=(11, 3.8))
    mix = fig.add_subplot(1, 2, 1)
    labels = [f"{str(c).upper()} every {n} {i}" for c, n, i in
              zip(intervals["currency"], intervals["interval_count"], intervals["billing_interval"], strict=True)]
    mix.barh(labels, list(intervals["subscriptions"]), color="#2a9d8f")
    mix.set_title("Live subscriptions by billing interval")
    trend = fig.add_subplot(1, 2, 2)
    for cur in sorted(conversion["currency"].unique()):
        rows = conversion[conversion["currency"] == cur]
        trend.plot(list(rows["month"]), _major(rows["monthly_mrr"], cur), label=f"monthly MRR {cur.upper()}")
        trend.plot(list(rows["month"]), _major(rows["annual_mrr"], cur), linestyle="--", label=f"annual MRR {cur.upper()}")
        for month, n in zip(rows["month"], rows["monthly_to_annual"], strict=True):
            if n:
                trend.annotate(f"+{n} to annual", (month, 0), fontsize="small", rotation=90, va="bottom")
    trend.set_title("Monthly vs annual MRR; conversions marked")
    trend.tick_params(axis="x", rotation=45)
    trend.legend(fontsize="small")
    fig.tight_layout()
    return to_image(fig)


def seats_chart(seats: pd.DataFrame) -> Image:
    """How many live subscription items carry each seat count."""
    if seats.empty:
        return _empty("Seats")
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    grouped = pd.Series(seats.groupby("seats")["items"].sum())
    ax.bar([str(s) for s in grouped.index.tolist()], grouped.tolist(), color="#264653")
    ax.set_xlabel("seats (quantity)")
    ax.set_ylabel("subscription items")
    ax.set_title("Seat distribution of live subscriptions")
    return to_image(fig)


def cohorts_chart(retention: pd.DataFrame) -> Image:
    """Share of each signup cohort still paying, by months since its first MRR."""
    if retention.empty:
        return _empty("Retention by cohort")
    frame = retention.assign(label=retention["cohort"] + " " + retention["currency"].str.upper())
    grid = frame.pivot_table(index="label", columns="age", values="retention", aggfunc="first")
    fig = Figure(figsize=(9, 0.45 * len(grid) + 1.6))
    ax = fig.add_subplot()
    shown = ax.imshow(grid.to_numpy(dtype=float), cmap="YlGnBu", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks(range(len(grid.index)), list(grid.index))
    ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
    ax.set_xlabel("months since first payment")
    ax.set_title("Retention by signup cohort (customers still paying)")
    values = grid.to_numpy(dtype=float)
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            if values[r, c] == values[r, c]:  # not NaN: a cohort too young for this age has none
                ax.text(c, r, f"{values[r, c]:.0%}", ha="center", va="center", fontsize="x-small")
    fig.colorbar(shown, ax=ax, fraction=0.03)
    return to_image(fig)


def cases_chart(timeline: pd.DataFrame) -> Image:
    """Cases opened per month, stacked by bucket (``pending`` when none is confirmed)."""
    if timeline.empty:
        return _empty("Cases per bucket")
    grid = timeline.pivot_table(index="month", columns="bucket", values="cases", aggfunc="sum", fill_value=0)
    fig = Figure(figsize=(9, 3.4))
    ax = fig.add_subplot()
    base = pd.Series(0, index=grid.index)
    for bucket in grid.columns:
        ax.bar(list(grid.index), list(grid[bucket]), bottom=list(base), label=str(bucket))
        base = base + grid[bucket]
    ax.set_title("Cases per month by bucket")
    ax.legend(fontsize="small")
    return to_image(fig)


def money_chart(money: pd.DataFrame) -> Image:
    """Refunded and credited per month, per currency."""
    if money.empty:
        return _empty("Money moved")
    fig = Figure(figsize=(9, 3.4))
    ax = fig.add_subplot()
    for cur in sorted(money["currency"].unique()):
        rows = money[money["currency"] == cur]
        ax.plot(list(rows["month"]), _major(rows["refunded"], cur), marker="o", label=f"refunded {cur.upper()}")
        ax.plot(list(rows["month"]), _major(rows["credited"], cur), marker="s", label=f"credited {cur.upper()}")
    ax.set_title("Money moved by cases per month")
    ax.legend(fontsize="small")
    return to_image(fig)


def gaps_chart(gaps: pd.DataFrame, top: int = 10) -> Image:
    """The product gaps seen in most cases."""
    if gaps.empty:
        return _empty("Product gaps")
    rows = gaps.head(top).iloc[::-1]
    fig = Figure(figsize=(9, 0.4 * len(rows) + 1.2))
    ax = fig.add_subplot()
    ax.barh(list(rows["gap"]), list(rows["cases"]), color="#e76f51")
    ax.set_title("Top product gaps (cases)")
    return to_image(fig)
