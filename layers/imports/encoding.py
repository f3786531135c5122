"""Text from old Vietnamese files: UTF-8, Windows-1258, and the legacy TCVN3 (ABC) and VNI fonts.

Shapefiles written by cadastral software of the 2000s carry their attribute text in TCVN3 or VNI
byte codes (fonts such as .VnTime and VNI-Times) with no ``.cpg`` to say so. The bytes are read
raw, every candidate decoding is scored by how many words come out as Vietnamese syllables, and
the best one wins. TCVN3 and Windows-1258 are converted; VNI is recognised and refused with a
message saying how to convert it, since its two-byte letters are easily damaged by other tools.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from layers.imports.problems import FileRejected

# TCVN 5712:1993 (VN3, the "ABC" fonts): the byte of each letter above 0xA0.
_TCVN3 = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}
_TCVN3_DECODE = {i: chr(i) for i in range(0x80)} | {i: "\ufffd" for i in range(0x80, 0x100)}
_TCVN3_DECODE.update(_TCVN3)
# VNI Windows: a base letter followed by one or two mark bytes (lower-case forms shown).
_VNI_MARKS = re.compile(rb"[aeiouyAEIOUY][\xf9\xf8\xfb\xf5\xef\xe2\xea\xf4\xe1\xe0\xe5\xe3\xe4"
                        rb"\xe9\xe8\xfa\xfc\xeb\xd9\xd8\xdb\xd5\xcf\xc2\xca\xd4]")
_VNI_LETTERS = re.compile(rb"[\xf1\xd1\xf6\xd6\xf4\xd4]")  # đ Đ ư Ư ơ Ơ

_VOWELS = "aăâeêioôơuưy"
_TONED = "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
_SYLLABLE = re.compile(
    rf"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?[{_VOWELS}{_TONED}]{{1,3}}"
    r"(ch|ng|nh|[cmnpt])?$"
)
_WORD = re.compile(r"\w+", re.UNICODE)


class LegacyEncodingError(FileRejected):
    """Text in an encoding that is recognised but not converted (VNI)."""


def decode_tcvn3(raw: bytes) -> str:
    """Decode TCVN3 (ABC) bytes to Unicode NFC."""
    return "".join(_TCVN3_DECODE[b] for b in raw)


def encode_tcvn3(text: str) -> bytes:
    """Encode Unicode text to TCVN3 bytes (for producing files as old software wrote them)."""
    table = {ch: byte for byte, ch in _TCVN3.items()}
    return bytes(table[ch] if ch in table else ord(ch) for ch in unicodedata.normalize("NFC", text))


def vietnamese_score(texts: Iterable[str]) -> float:
    """Share of the words with letters beyond ASCII that are Vietnamese syllables."""
    total = good = 0
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if word.isascii():
                continue
            total += 1
            good += bool(_SYLLABLE.match(word)) and sum(ch in _TONED for ch in word) <= 1
    return good / total if total else 1.0


def _candidates(samples: list[bytes]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in ("utf-8", "cp1258"):
        try:
            out[name] = [unicodedata.normalize("NFC", s.decode(name)) for s in samples]
        except UnicodeDecodeError:
            continue
    out["tcvn3"] = [decode_tcvn3(s) for s in samples]
    return out


def detect(samples: list[bytes]) -> str:
    """The encoding of ``samples``: ``utf-8``, ``cp1258``, ``tcvn3``, or ``ascii`` (all plain).

    Raises ``LegacyEncodingError`` for VNI, whose letters are a base letter plus mark bytes.
    """
    non_ascii = [s for s in samples if not s.isascii()]
    if not non_ascii:
        return "ascii"
    try:
        for s in non_ascii:
            s.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    vni_hits = sum(len(_VNI_MARKS.findall(s)) + len(_VNI_LETTERS.findall(s)) for s in non_ascii)
    scores = {name: vietnamese_score(texts) for name, texts in _candidates(non_ascii).items()}
    best = max(scores, key=lambda name: scores[name])
    if scores[best] < 0.6 and vni_hits:
        raise LegacyEncodingError(
            "Văn bản trong tệp dùng bảng mã VNI (phông VNI-Times); hãy chuyển sang Unicode "
            "(ví dụ bằng công cụ chuyển mã của Unikey) rồi nhập lại.",
            "The file's text is in the VNI encoding (VNI-Times fonts); convert it to Unicode "
            "(for example with Unikey's converter) and import again."
        )
    return best


def decode(raw: bytes, encoding: str) -> str:
    """Decode one value with a detected encoding, normalised to NFC."""
    if encoding == "tcvn3":
        return decode_tcvn3(raw)
    return unicodedata.normalize("NFC", raw.decode("utf-8" if encoding == "ascii" else encoding))
