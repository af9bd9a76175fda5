"""Charts for the recognition KPIs (matplotlib Figure API, never pyplot) and the poster's QR code.

Every chart is drawn on an Axes it is given and returned as inline SVG; the page shows the
same numbers in a table beside it. Suppressed values (fewer than 5 responses) are gaps.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

INK = "#1b2430"
BRAND = "#005a8c"
ACCENT = "#0b7a53"
MUTED = "#4a5565"


def _month_labels(rows: Sequence) -> list[str]:
    return [row.month.strftime("%b %Y") for row in rows]


def draw_scores(ax: Axes, rows: Sequence) -> None:
    """Experience score (% very good or good) as bars and NPS as a line; suppressed months are gaps."""
    labels = _month_labels(rows)
    positions = list(range(len(rows)))
    experience = [row.experience_score for row in rows]
    bar_heights = [v if v is not None else 0 for v in experience]
    bars = ax.bar(positions, bar_heights, color=BRAND, width=0.6, label="Experience score (% good or very good)")
    for bar, value in zip(bars, experience, strict=True):
        if value is None:
            bar.set_visible(False)
            ax.text(bar.get_x() + bar.get_width() / 2, 2, "fewer than 5\nresponses", ha="center", va="bottom",
                    fontsize=7, color=MUTED)
        else:
            ax.text(bar.get_x() + bar.get_width() / 2, value + 1, f"{value:.0f}%", ha="center", va="bottom",
                    fontsize=8, color=INK)
    nps_points = [(p, row.nps) for p, row in zip(positions, rows, strict=True) if row.nps is not None]
    if nps_points:
        ax.plot([p for p, _ in nps_points], [v for _, v in nps_points], color=ACCENT, marker="o", linewidth=2,
                label="NPS (−100 to 100)")
    ax.set_xticks(positions, labels, fontsize=8)
    ax.set_ylim(min(-100, min((v for _, v in nps_points), default=0)) if nps_points else 0, 110)
    ax.axhline(0, color=MUTED, linewidth=0.8)
    ax.set_ylabel("Score", color=INK)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def draw_recognitions(ax: Axes, rows: Sequence) -> None:
    """Recognitions sent by and received by the ward's staff, per month, side by side."""
    positions = list(range(len(rows)))
    sent = [row.recognitions_sent for row in rows]
    received = [row.recognitions_received for row in rows]
    ax.bar([p - 0.2 for p in positions], sent, width=0.4, color=BRAND, label="Sent")
    ax.bar([p + 0.2 for p in positions], received, width=0.4, color=ACCENT, label="Received")
    ax.set_xticks(positions, _month_labels(rows), fontsize=8)
    ax.set_ylabel("Recognitions", color=INK)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _to_svg(figure: Figure, prefix: str, label: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": prefix}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    # Two charts on one page must not share element ids.
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{prefix}-\1"', svg)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"',
                 rf'<svg role="img" aria-label="{label}" class="chart__svg" \1', svg, count=1)
    return svg


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(7, 3.2), dpi=100)
    return figure, figure.add_subplot()


def scores_chart(rows: Sequence, ward_name: str) -> str:
    figure, ax = _figure()
    draw_scores(ax, rows)
    return _to_svg(figure, "scores", f"Experience score and NPS by month for {ward_name}; "
                   "the same numbers are in the table below the chart.")


def recognitions_chart(rows: Sequence, ward_name: str) -> str:
    figure, ax = _figure()
    draw_recognitions(ax, rows)
    return _to_svg(figure, "recognitions", f"Recognitions sent and received by month for {ward_name}; "
                   "the same numbers are in the table below the chart.")


def qr_svg(address: str) -> str:
    """A QR code for the poster, as SVG so that it prints crisply at any size."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(address, image_factory=SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg[svg.index("<svg"):]
    safe = address.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="QR code for {safe}" class="poster__qr" ', 1)
