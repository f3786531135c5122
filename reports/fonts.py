"""The serif font printed reports use: Liberation Serif 2 (metrics of Times New Roman, every
Vietnamese letter), or DejaVu Serif; both from Debian (fonts-liberation2, fonts-dejavu-core)."""

from __future__ import annotations

from pathlib import Path

from gis_core.errors import ConfigurationError

CANDIDATES = (
    ("/usr/share/fonts/truetype/liberation2/LiberationSerif-{}.ttf", ("Regular", "Bold", "Italic")),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif{}.ttf", ("", "-Bold", "-Italic")),
)


def serif_faces() -> tuple[Path, Path, Path]:
    """Regular, bold and italic faces of the first installed candidate."""
    for pattern, styles in CANDIDATES:
        paths = tuple(Path(pattern.format(s)) for s in styles)
        if all(p.exists() for p in paths):
            return paths  # type: ignore[return-value]
    raise ConfigurationError(
        "Thiếu phông chữ tiếng Việt: cài gói fonts-liberation2 (hoặc fonts-dejavu-core).",
        message_en="No Vietnamese font: install fonts-liberation2 (or fonts-dejavu-core).")


def serif_path() -> Path:
    """The regular face."""
    return serif_faces()[0]
