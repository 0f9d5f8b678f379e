"""The report's figures: every plotting function in one place (the report notebook and the
segment stage's MLflow figure use them). They draw what they are given and compute nothing
that the snapshot does not already hold. None switches the matplotlib backend: entry points
do (`jobs.common.configure_process`)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd


def kpi_trends_figure(kpis: pd.DataFrame, columns: list[str], period: str, labels: dict[str, str] | None = None):
    """Small multiples: one KPI per panel over the months up to the period."""
    import matplotlib.pyplot as plt

    ncols = 4
    nrows = -(-len(columns) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(14, 3 * nrows), squeeze=False)
    for ax, col in zip(axes.flat, columns, strict=False):
        ax.plot(kpis["period"], kpis[col], marker="o")
        ax.set_title((labels or {}).get(col, col.replace("_", " ")))
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    for ax in list(axes.flat)[len(columns):]:
        ax.axis("off")
    fig.suptitle(f"12-month trend up to {period}")
    fig.tight_layout()
    return fig


def pareto_figure(curve: pd.DataFrame, top20_share: float):
    """The Pareto curve of revenue with the top 20% marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve["customer_share"] * 100, curve["revenue_share"] * 100)
    ax.axvline(20, color="grey", linestyle="--")
    ax.axhline(top20_share * 100, color="grey", linestyle="--")
    ax.set_xlabel("% of customers (largest first)")
    ax.set_ylabel("% of revenue")
    ax.set_title(f"Pareto: top 20% = {top20_share:.1%} of revenue")
    return fig


def load_shapes_figure(profiles: pd.DataFrame, shown: list[str], sizes: pd.Series, suffix: str = ""):
    """The mean normalized profile of each shown load shape with its 10-90% band."""
    import matplotlib.pyplot as plt

    ncols = min(3, len(shown))
    nrows = -(-len(shown) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.2 * nrows), squeeze=False, sharey=True)
    for ax, shape in zip(axes.flat, shown, strict=False):
        prof = profiles[profiles["load_shape"] == shape].sort_values("x")
        ax.fill_between(prof["x"], prof["p10"], prof["p90"], alpha=0.25, label="10-90%")
        ax.plot(prof["x"], prof["mean"], label="mean")
        ax.set_title(f"{shape} (n={int(sizes[shape]):,})")
        ax.set_xticks(range(0, 24, 3) if prof["axis"].iloc[0] == "hour" else range(1, 13))
        ax.set_xlabel(prof["axis"].iloc[0] if "axis" in prof else "hour")
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    axes.flat[0].legend(loc="upper left")
    axes_shown = set(profiles.loc[profiles["load_shape"].isin(shown), "axis"])
    title = ("Load shapes by hour of the day" if axes_shown == {"hour"} else
             "Load shapes by month" if axes_shown == {"month"} else "Load shapes by hour of the day or by month")
    fig.suptitle(title + suffix)
    fig.tight_layout()
    return fig


def profile_figure(profiles: pd.DataFrame):
    """Every load shape's mean profile with its 10-90% band (the segment stage logs it to MLflow)."""
    import matplotlib.pyplot as plt

    order = profiles.sort_values(["family", "load_shape"], ascending=[False, True]) if "family" in profiles else profiles
    shapes = list(dict.fromkeys(order["load_shape"]))  # intraday shapes first, then daily ones
    ncols = min(max(len(shapes), 1), 4)
    nrows = -(-max(len(shapes), 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows), sharey=True, squeeze=False)
    for ax, shape in zip(axes.flat, shapes, strict=False):
        p = profiles[profiles["load_shape"] == shape]
        ax.fill_between(p["x"], p["p10"], p["p90"], alpha=0.3)
        ax.plot(p["x"], p["mean"])
        peak = p["peak_ratio"].iloc[0] if "peak_ratio" in p else float("nan")
        detail = f"\npeak {peak:.1f}x, base {p['base_ratio'].iloc[0]:.2f}x the mean interval" if peak == peak else ""
        ax.set_title(f"{shape} (n={int(p['n_customers'].iloc[0])}){detail}", fontsize=9)
        ax.set_xlabel(p["axis"].iloc[0])
        ax.set_xticks(range(0, 24, 3) if p["axis"].iloc[0] == "hour" else range(1, 13))
    for ax in list(axes.flat)[len(shapes):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("load / mean")
    fig.tight_layout()
    return fig


def show_figure(fig: Any, alt: str | None = None, dpi: int = 96) -> None:
    """Display a matplotlib figure as an embedded PNG (no timestamp metadata) and close it.

    `alt` (default: the figure's or first axes' title) becomes the image's alternative text.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    if alt is None:
        suptitle = getattr(fig, "_suptitle", None)
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        alt = suptitle.get_text() if suptitle is not None else (titles[0] if titles else "figure")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png", metadata={"alt": alt}))
