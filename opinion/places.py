"""The gazetteer: the province's communes by their names, their former communes' names (merged
on 1 July 2025), the villages a deployment declares (``opinion.villages``) and the spellings
posts use ("Sìn Hồ", "sin ho", "SIN HO").

A post lands on a commune only when it names exactly one; a post naming none, or several, or
only a former district ("huyện Sìn Hồ") stays unplaced. A village counts only after "bản" or
"thôn" ("bản Nà Khum"); it places the post on its commune, at the village's position. A village
name found in two communes places nothing by itself: it agrees with a commune the post also
names, and is never a guess.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from opinion.text import fold, normalise

UNITS_CSV = Path(__file__).resolve().parent.parent / "data_samples" / "commune_units.csv"
_PREFIX = re.compile(r"^(xã|phường|thị trấn)\s+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
# Words before a name that make it a former district, not a commune.
_DISTRICT = (("huyen",), ("thanh", "pho"))
# Names that are also common words ("nhà đại đoàn kết"): a commune only after "xã"/"phường".
_COMMON = {("doan", "ket"), ("le", "loi"), ("tan", "phong")}
_UNIT = {"xa", "phuong"}


# Words that introduce a village's name (folded); "ban" only when typed without diacritics
# ("bạn" is "friend").
_VILLAGE = (("ban",), ("thon",), ("to", "dan", "pho"))
_VILLAGE_PREFIX = re.compile(r"^(bản|thôn|tổ dân phố)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """Where a post was placed: the commune's code and the words that named it (and the
    village's position when a village placed it)."""

    code: str
    matched: str
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class Village:
    """A declared village: its name, commune, position and other spellings."""

    name: str
    commune_code: str
    lon: float
    lat: float
    variants: tuple[str, ...] = ()


class Gazetteer:
    """Folded name → commune code, longest names tried first."""

    def __init__(self, communes: Iterable[tuple[str, str]],
                 former: Iterable[tuple[str, str]] = (),
                 villages: Iterable[Village] = ()) -> None:
        communes, former = list(communes), list(former)
        # As written (lower case), then without diacritics: "Nậm Cha" and "Nậm Chà" differ as
        # written but fold alike, so folded they place nothing.
        self.exact = _index(communes, former, lambda n: n.lower())
        self.folded = _index(communes, former, fold)
        self.longest = max(len(k) for k in self.exact)
        self.villages: dict[tuple[str, ...], set[Village]] = defaultdict(set)
        for v in villages:
            for name in {v.name, *v.variants}:
                self.villages[tuple(_WORD.findall(fold(_VILLAGE_PREFIX.sub("", name.strip()))))
                              ].add(v)
        self.village_longest = max((len(k) for k in self.villages), default=0)

    def _village(self, written: list[str], words: list[str], i: int
                 ) -> tuple[int, set[Village]] | None:
        """(words used, villages) of a village named at ``i`` after "bản"/"thôn", or None."""
        for prefix in _VILLAGE:
            k = len(prefix)
            if tuple(words[i:i + k]) != prefix or (prefix == ("ban",) and written[i] not in
                                                    ("bản", "ban")):
                continue
            for n in range(min(self.village_longest, len(words) - i - k), 0, -1):
                found = self.villages.get(tuple(words[i + k:i + k + n]))
                if found:
                    return k + n, found
        return None

    def place(self, post: str) -> Place | None:
        """The one commune ``post`` names, or None."""
        written = _WORD.findall(normalise(post))
        words = [fold(w) for w in written]
        found: dict[str, str] = {}
        at: dict[str, Village] = {}
        ambiguous: list[set[Village]] = []
        i = 0
        while i < len(words):
            village = self._village(written, words, i) if self.villages else None
            if village:
                used, named = village
                codes = {v.commune_code for v in named}
                if len(codes) == 1:
                    v = next(iter(named))
                    found.setdefault(v.commune_code, " ".join(words[i:i + used]))
                    at.setdefault(v.commune_code, v)
                else:
                    ambiguous.append(named)
                i += used
                continue
            for n in range(min(self.longest, len(words) - i), 0, -1):
                code = (self.exact.get(tuple(written[i:i + n]))
                        or self.folded.get(tuple(words[i:i + n])))
                if code is None:
                    continue
                name = tuple(words[i:i + n])
                district = any(tuple(words[max(0, i - len(d)):i]) == d for d in _DISTRICT)
                common = name in _COMMON and (i == 0 or words[i - 1] not in _UNIT)
                if not district and not common:
                    found.setdefault(code, " ".join(name))
                i += n - 1
                break
            i += 1
        if len(found) != 1:
            return None
        code, matched = found.popitem()
        village = at.get(code)
        for named in ambiguous:  # each ambiguous village must be one of this commune's
            here = [v for v in named if v.commune_code == code]
            if not here:
                return None
            village = village or here[0]
        return Place(code, matched, village.lon if village else None,
                     village.lat if village else None)


def _index(communes: list[tuple[str, str]], former: list[tuple[str, str]],
           form: Callable[[str], str]) -> dict[tuple[str, ...], str]:
    names = {tuple(_WORD.findall(form(name))): code for code, name in communes}
    seen: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for code, name in former:
        seen[tuple(_WORD.findall(form(_PREFIX.sub("", name.strip()))))].add(code)
    for key, codes in seen.items():  # a former name shared by two communes places nothing
        if key not in names and len(codes) == 1:
            names[key] = codes.pop()
    return names


def former_names(path: Path = UNITS_CSV) -> list[tuple[str, str]]:
    """(commune code, former commune name) from the province's list of units."""
    with path.open(encoding="utf-8") as f:
        return [(row["code"], name) for row in csv.DictReader(f)
                for name in row["predecessor_names"].split("|") if name]


def load(conn: Connection) -> Gazetteer:
    """The gazetteer of the communes in the database, with their former names and the declared
    villages."""
    rows = conn.execute(text("SELECT code, name FROM communes ORDER BY code")).all()
    villages = conn.execute(text(
        "SELECT name, commune_code, ST_X(geom), ST_Y(geom), variants FROM opinion_villages "
        "ORDER BY id")).all()
    return Gazetteer([(r[0], r[1]) for r in rows], former_names(),
                     [Village(v[0], v[1], v[2], v[3], tuple(v[4])) for v in villages])
