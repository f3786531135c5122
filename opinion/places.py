"""The gazetteer: the province's communes by their names, their former communes' names (merged
on 1 July 2025) and the spellings posts use ("Sìn Hồ", "sin ho", "SIN HO").

A post lands on a commune only when it names exactly one; a post naming none, or several, or
only a former district ("huyện Sìn Hồ") stays unplaced.
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


@dataclass(frozen=True)
class Place:
    """Where a post was placed: the commune's code and the words that named it."""

    code: str
    matched: str


class Gazetteer:
    """Folded name → commune code, longest names tried first."""

    def __init__(self, communes: Iterable[tuple[str, str]],
                 former: Iterable[tuple[str, str]] = ()) -> None:
        communes, former = list(communes), list(former)
        # As written (lower case), then without diacritics: "Nậm Cha" and "Nậm Chà" differ as
        # written but fold alike, so folded they place nothing.
        self.exact = _index(communes, former, lambda n: n.lower())
        self.folded = _index(communes, former, fold)
        self.longest = max(len(k) for k in self.exact)

    def place(self, post: str) -> Place | None:
        """The one commune ``post`` names, or None."""
        written = _WORD.findall(normalise(post))
        words = [fold(w) for w in written]
        found: dict[str, str] = {}
        i = 0
        while i < len(words):
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
        return Place(code, matched)


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
    """The gazetteer of the communes in the database, with their former names."""
    rows = conn.execute(text("SELECT code, name FROM communes ORDER BY code")).all()
    return Gazetteer([(r[0], r[1]) for r in rows], former_names())
