"""Maps drawn on the server from the platform's data: communes coloured by an indicator, in
VN-2000 metres, with a legend, a scale bar, a north arrow and a source line; no web tiles."""

from __future__ import annotations

import io
import json
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import shapely  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from reports.fonts import serif_path  # noqa: E402
from reports.layout import SOURCE, fmt  # noqa: E402

VN2000 = 9205
SIMPLIFY_M = 40
CLASSES = 5
COLOURS = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")


def communes(cursor: Any) -> list[tuple[str, str, Any]]:
    """(code, name, shape in VN-2000 metres) of every commune, simplified to ``SIMPLIFY_M`` (a
    fraction of a millimetre on an A4 map of the province)."""
    cursor.execute("SELECT code, name, ST_AsBinary(ST_SimplifyPreserveTopology(ST_Transform(geom, %s), "
                   "%s)) FROM communes ORDER BY code", (VN2000, SIMPLIFY_M))
    return [(c, n, shapely.from_wkb(bytes(g))) for c, n, g in cursor.fetchall()]


def _breaks(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, round(k * (len(ordered) - 1) / CLASSES))]
            for k in range(CLASSES + 1)]


def choropleth(cursor: Any, section: dict[str, Any], incident: Any = None) -> bytes:
    """A PNG (300 dpi, A4 width) of the communes coloured by the section's indicator."""
    font = font_manager.FontProperties(fname=str(serif_path()))
    shapes = communes(cursor)
    values = section["values"]
    known = [v for v in values.values() if isinstance(v, int | float)]
    breaks = _breaks(known) if known else []
    fig, ax = plt.subplots(figsize=(6.3, 5.6), dpi=200)
    for code, _, shape in shapes:
        value = values.get(code)
        colour = "#d9d9d9"
        if isinstance(value, int | float) and breaks:
            k = next((i for i in range(CLASSES) if value <= breaks[i + 1]), CLASSES - 1)
            colour = COLOURS[k]
        for part in getattr(shape, "geoms", [shape]):
            ax.fill(*part.exterior.xy, facecolor=colour, edgecolor="#555555", linewidth=0.4)
    if incident is not None:
        spot = shapely.from_geojson(json.dumps(incident))
        cursor.execute("SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), "
                       "4326), %s) p", (spot.centroid.x, spot.centroid.y, VN2000))
        x, y = cursor.fetchone()
        ax.plot(x, y, marker="*", color="#c00000", markersize=16, markeredgecolor="black")
    handles = [Patch(facecolor=COLOURS[i], edgecolor="#555555",
                     label=f"{fmt(breaks[i])} – {fmt(breaks[i + 1])}") for i in range(CLASSES)] \
        if breaks else []
    handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label="Không có số liệu"))
    ax.legend(handles=handles, title=section["unit_of"], loc="lower left", prop=font, fontsize=7,
              title_fontproperties=font, framealpha=0.9)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = 20_000  # a 20 km scale bar, lower right
    bx, by = x1 - bar - (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    for i in range(4):
        ax.fill([bx + i * bar / 4, bx + (i + 1) * bar / 4, bx + (i + 1) * bar / 4, bx + i * bar / 4],
                [by, by, by + 900, by + 900], color="black" if i % 2 == 0 else "white",
                edgecolor="black", linewidth=0.5)
    for dist in (0, 10, 20):
        ax.text(bx + dist * 1000, by + 1600, f"{dist}", ha="center", fontproperties=font, fontsize=7)
    ax.text(bx + bar + 1200, by, "km", fontproperties=font, fontsize=7)
    ax.annotate("B", xy=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.04),
                xytext=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.14), ha="center",
                fontproperties=font, fontsize=10, arrowprops={"arrowstyle": "-|>", "color": "black"})
    ax.set_title(section["indicator_name"]["vi"], fontproperties=font, fontsize=11)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.text(0.01, 0.01, f"{SOURCE}. Hệ tọa độ VN-2000 (EPSG:{VN2000}).", fontproperties=font,
             fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def chart(section: dict[str, Any]) -> bytes:
    """A PNG: the indicator's value per period (bars) against its target (a line)."""
    font = font_manager.FontProperties(fname=str(serif_path()))
    points = section["points"]
    labels = [p["period"] for p in points]
    values = [p["value"] if isinstance(p["value"], int | float) else 0 for p in points]
    fig, ax = plt.subplots(figsize=(6.3, 3.2), dpi=200)
    bars = ax.bar(labels, values, color="#2b6cb0")
    for bar, p in zip(bars, points, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), fmt(p["value"]), ha="center",
                va="bottom", fontproperties=font, fontsize=8)
    targets = [p["target"] for p in points]
    if any(t is not None for t in targets):
        ax.plot(labels, [t if t is not None else float("nan") for t in targets], color="#c00000",
                marker="o", label="Mục tiêu")
        ax.legend(prop=font)
    ax.set_ylabel(section["unit_of"], fontproperties=font)
    ax.set_title(section["indicator_name"]["vi"], fontproperties=font, fontsize=11)
    for label in ax.get_xticklabels():
        label.set_fontproperties(font)
    fig.text(0.01, 0.01, SOURCE + ".", fontproperties=font, fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
