"""Vietnamese text as posted online: NFC, teencode, missing diacritics, words.

Words come from pyvi's tokenizer (a CRF model shipped inside the package, nothing downloaded at
run time). A post written without diacritics is matched through its folded form: every feature
and every place name is also compared without diacritics.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Social-media shorthand and the word it stands for (whole tokens, lower case).
TEENCODE = {
    "ko": "không", "k": "không", "kh": "không", "hok": "không", "khg": "không",
    "dc": "được", "đc": "được", "dk": "được", "đk": "được", "vs": "với", "ng": "người",
    "j": "gì", "r": "rồi", "wa": "quá", "qa": "quá", "cx": "cũng", "cg": "cũng", "mn": "mọi người",
    "mng": "mọi người", "bn": "bao nhiêu", "ns": "nói", "trc": "trước", "nc": "nước",
    "bt": "biết", "ntn": "như thế nào", "đg": "đường", "dg": "đường", "bv": "bệnh viện",
    "ubnd": "ủy ban nhân dân", "tp": "thành phố", "csgt": "cảnh sát giao thông", "hs": "học sinh",
    "gv": "giáo viên", "sđt": "số điện thoại", "ms": "mới", "lm": "làm", "nhìu": "nhiều",
}
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"https?://\S+|www\.\S+")
# Letters only Vietnamese uses among Latin scripts: a post without any of them and without
# Vietnamese function words is in another language.
_VI_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
VI_SHARE = 0.7  # share of words that must be Vietnamese syllables in a post without diacritics


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every syllable of pyvi's bundled dictionary, folded."""
    import pyvi

    words = (Path(pyvi.__file__).parent / "models" / "words.txt").read_text(encoding="utf-8")
    return frozenset(fold(s) for s in re.findall(r"\w+", words))


def nfc(text: str) -> str:
    """``text`` in Unicode NFC, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case without diacritics (đ → d): "Sìn Hồ" → "sin ho"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def expand_teencode(text: str) -> str:
    """Shorthand words replaced by the words they stand for."""
    return _TOKEN.sub(lambda m: TEENCODE.get(m.group(0).lower(), m.group(0)), text)


def normalise(text: str) -> str:
    """NFC, links dropped, teencode expanded, lower case."""
    return expand_teencode(_URL.sub(" ", nfc(text))).lower()


def is_vietnamese(text: str) -> bool:
    """Whether ``text`` reads as Vietnamese (with or without diacritics)."""
    words = _TOKEN.findall(text.lower())
    if len(words) < 3 or any("\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in text):
        return False
    if sum(c in _VI_LETTERS for c in text.lower()) >= 2:
        return True
    syllables = _syllables()
    return sum(fold(w) in syllables for w in words if not w.isdigit()) / len(words) >= VI_SHARE


def segment(text: str) -> list[str]:
    """The words of normalised ``text``; compound words joined by "_" ("sạt_lở")."""
    from pyvi import ViTokenizer  # its model loads with the first call

    return [w for w in ViTokenizer.tokenize(text).split() if _TOKEN.search(w)]


def features(text: str) -> str:
    """The tokens a classifier reads: the segmented words and each syllable folded, so a post
    typed without diacritics shares most of its features with the same post typed with them."""
    clean = normalise(text)
    words = segment(clean)
    folded = [fold(w) for w in _TOKEN.findall(clean)]
    return " ".join(words + [f"~{w}" for w in folded])


def text_key(text: str) -> str:
    """The text reduced for exact-duplicate detection: folded words only."""
    return " ".join(fold(w) for w in _TOKEN.findall(normalise(text)))
