"""Field photos: check an upload is a real image, read its EXIF position and time, keep the
original untouched and checksummed on disk, and serve only re-encoded copies without EXIF.

Files live under ``<var>/field/``: ``originals/ab/<sha256>.<ext>`` (read-only, named by their
checksum), ``served/<sha256>.jpg`` (at most 1600 px) and ``thumbs/<sha256>.jpg`` (320 px).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from gis_core.errors import NotFoundError, UnsupportedMediaTypeError

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 50_000_000
SERVED_PX, THUMB_PX = 1600, 320
_SHA = re.compile(r"^[0-9a-f]{64}$")
_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_DATETIME_ORIGINAL = 0x9003


@dataclass
class PhotoInfo:
    """What was learnt from an upload: checksum, type, size, EXIF position/time, and warnings."""

    sha256: str
    content_type: str
    extension: str
    size: int
    width: int
    height: int
    lon: float | None = None
    lat: float | None = None
    taken_at: datetime | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)


def _not_image() -> UnsupportedMediaTypeError:
    return UnsupportedMediaTypeError(
        "Tệp gửi lên không phải ảnh JPEG, PNG hoặc WebP đọc được.",
        message_en="The upload is not a readable JPEG, PNG or WebP image.", parameter="photo")


def _degrees(value: Any, ref: Any, negative: str) -> float:
    d, m, s = (float(v) for v in value)
    result = d + m / 60 + s / 3600
    if not all(math.isfinite(v) and v >= 0 for v in (d, m, s)) or m >= 60 or s >= 60:
        raise ValueError("bad GPS value")
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -result if str(ref).strip().upper() == negative else result


def _exif(image: Image.Image, info: PhotoInfo) -> None:
    """Fill position and time from EXIF; anything malformed becomes a warning, never an error."""
    try:
        exif = image.getexif()
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # noqa: BLE001 - hostile EXIF can break the parser in many ways
        info.warnings.append({"code": "exif-unreadable", "vi": "Không đọc được EXIF của ảnh.",
                              "en": "The photo's EXIF could not be read."})
        return
    if gps and 2 in gps and 4 in gps:
        try:
            lat = _degrees(gps[2], gps.get(1, "N"), "S")
            lon = _degrees(gps[4], gps.get(3, "E"), "W")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("out of range")
            info.lat, info.lon = lat, lon
        except (ValueError, TypeError, ZeroDivisionError):
            info.warnings.append({"code": "exif-gps-invalid",
                                  "vi": "Tọa độ GPS trong EXIF không hợp lệ, đã bỏ qua.",
                                  "en": "The EXIF GPS position is invalid and was ignored."})
    try:
        raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(0x0132)
        if raw:
            text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
            info.taken_at = datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S"
                                              ).replace(tzinfo=UTC)
    except (ValueError, TypeError, AttributeError, KeyError):
        info.warnings.append({"code": "exif-time-invalid", "vi": "Thời gian chụp trong EXIF không hợp lệ.",
                              "en": "The EXIF capture time is invalid."})


def inspect_photo(data: bytes) -> PhotoInfo:
    """Check the upload (415 not an image) and read what EXIF tells."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS or image.width * image.height > MAX_PIXELS:
                raise _not_image()
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _not_image() from None
    content_type, extension = FORMATS[image.format]
    info = PhotoInfo(sha256=hashlib.sha256(data).hexdigest(), content_type=content_type,
                     extension=extension, size=len(data), width=image.width, height=image.height)
    _exif(image, info)
    return info


def _write_atomic(path: Path, data: bytes, mode: int = 0o440) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _jpeg(image: Image.Image, size: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((size, size))
    buffer = io.BytesIO()
    # A fresh encode from pixels: no EXIF, no XMP, no comments travel with the served copy.
    copy.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def store_photo(root: Path, data: bytes, info: PhotoInfo) -> Path:
    """Keep the original (once, by checksum) and write the EXIF-free served copy and thumbnail."""
    original = root / "originals" / info.sha256[:2] / f"{info.sha256}.{info.extension}"
    if not original.exists():
        _write_atomic(original, data)
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    _write_atomic(root / "served" / f"{info.sha256}.jpg", _jpeg(image, SERVED_PX), 0o640)
    _write_atomic(root / "thumbs" / f"{info.sha256}.jpg", _jpeg(image, THUMB_PX), 0o640)
    return original


def served_path(root: Path, sha256: str, size: str = "full") -> Path:
    """The EXIF-free copy of a stored photo; 404 when unknown."""
    path = root / ("thumbs" if size == "thumb" else "served") / f"{sha256}.jpg"
    if not _SHA.match(sha256) or not path.exists():
        raise NotFoundError("Không có ảnh này.", message_en="There is no such photo.")
    return path

