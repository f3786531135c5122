"""The labelled posts the classifier learns from, and the recorded week the tests replay.

Each post is composed from a phrase of ``opinion.phrases`` (which fixes its sector, tone and
urgency), a place (a commune's name, a former commune's name, either without diacritics or in
upper case, or no place at all), an opening and a closing, and written in one of the styles of
social media (as typed, without diacritics, in teencode). Labels follow by construction.

    python -m opinion.corpus   # rewrites data_samples/opinion/
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from opinion.phrases import (
    CLOSINGS,
    OPENINGS,
    PHRASES,
    ROADS,
    UNPLACED,
    URGENT_CLOSINGS,
    URGENT_OPENINGS,
    VILLAGES,
)
from opinion.places import UNITS_CSV
from opinion.text import TEENCODE, fold

OUT = Path(__file__).resolve().parent.parent / "data_samples" / "opinion"
PER_SECTOR = 220
LOCAL = timezone(timedelta(hours=7))
_SHORT = {v: k for k, v in reversed(TEENCODE.items()) if " " not in v}


@dataclass(frozen=True)
class Post:
    """A composed post and its labels (commune code empty when the post names no place)."""

    text: str
    sector: str
    tone: str
    urgent: bool
    commune: str
    phrase: str = ""  # "<sector>/<index>" of the phrase it was composed from


def _communes() -> list[tuple[str, str, list[str]]]:
    with UNITS_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    taken = {fold(r["name"]) for r in rows}
    former: dict[str, set[str]] = {}
    for r in rows:
        for name in r["predecessor_names"].split("|"):
            short = name.split(" ", 1)[1] if name.startswith("Xã ") else name
            short = short.removeprefix("Phường ").removeprefix("Thị trấn ")
            former.setdefault(short, set()).add(r["code"])
    folded: dict[str, set[str]] = {}
    for name, codes in former.items():
        folded.setdefault(fold(name), set()).update(codes)
    # Former names that stay unambiguous even without diacritics.
    return [(r["code"], r["name"], [n for n, c in former.items() if c == {r["code"]}
                                    and folded[fold(n)] == c and fold(n) not in taken])
            for r in rows]


COMMUNES = _communes()
COMMON_NAMES = {"doan ket", "le loi", "tan phong"}  # also common words: "xã" always written


def _place(rng: random.Random) -> tuple[str, str]:
    code, name, former = rng.choice(COMMUNES)
    if former and rng.random() < 0.2:
        name = rng.choice(former)
    form = rng.random()
    if form < 0.15:
        name = fold(name)
    elif form < 0.2:
        name = name.upper()
    unit = "xã " if fold(name) in COMMON_NAMES else rng.choice(("xã ", "", "", "khu vực "))
    return unit + name, code


def _style(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:  # typed without diacritics
        return fold(text)
    if roll < 0.3:  # teencode
        return " ".join(_SHORT.get(w, w) if rng.random() < 0.7 else w for w in text.split())
    return text


def compose(rng: random.Random, sector: str, index: int, placed: bool = True,
            place: tuple[str, str] | None = None) -> Post:
    """One post of the sector's phrase ``index``, placed on a random commune (or ``place``) or
    on none."""
    tone, urgent, body = PHRASES[sector][index]
    where, code = (place or _place(rng)) if placed else (rng.choice(UNPLACED), "")
    body = body.format(p=where, b=rng.choice(VILLAGES), r=rng.choice(ROADS),
                       n=rng.randint(2, 30))
    hurry = urgent and rng.random() < 0.6
    opening = rng.choice(URGENT_OPENINGS if hurry else OPENINGS)
    closing = rng.choice(URGENT_CLOSINGS if hurry else CLOSINGS[tone])
    text = opening + (body[0].upper() + body[1:] if not opening or opening.endswith(": ")
                      else body) + "." + closing
    return Post(_style(text, rng), sector, tone, urgent, code, f"{sector}/{index}")


def labelled(seed: int = 2026, per_sector: int = PER_SECTOR) -> list[Post]:
    """The labelled set: ``per_sector`` posts for each sector, a fifth of them unplaced."""
    rng = random.Random(seed)
    return [compose(rng, sector, rng.randrange(len(phrases)), placed=rng.random() >= 0.2)
            for sector, phrases in PHRASES.items() for _ in range(per_sector)]


def labelled_csv(posts: list[Post]) -> str:
    """The labelled set as CSV: text, sector, tone, urgent (0/1), commune code, phrase."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("text", "sector", "tone", "urgent", "commune", "phrase"))
    for p in posts:
        writer.writerow((p.text, p.sector, p.tone, int(p.urgent), p.commune, p.phrase))
    return out.getvalue()


def read_labelled(path: Path = OUT / "labelled.csv") -> list[Post]:
    """The shipped labelled set."""
    with path.open(encoding="utf-8") as f:
        return [Post(r["text"], r["sector"], r["tone"], r["urgent"] == "1", r["commune"],
                     r["phrase"]) for r in csv.DictReader(f)]


# The recorded week: 7 days ending on START + 7; a landslide in Sìn Hồ on the last day.
START = datetime(2026, 11, 23, tzinfo=LOCAL)
SPIKE_COMMUNE = ("03478", "Sìn Hồ")


def week(seed: int = 7) -> tuple[list[dict], list[dict], list[dict]]:
    """(news items, social posts, labels by url) of a week: a few posts a day anywhere, then
    eight about roads blocked in Sìn Hồ on the last day; some shared twice, one in English."""
    rng = random.Random(seed)
    news: list[dict] = []
    social: list[dict] = []
    labels: list[dict] = []
    for day in range(7):
        for k in range(10):
            sector = rng.choice(list(PHRASES))
            post = compose(rng, sector, rng.randrange(len(PHRASES[sector])),
                           placed=rng.random() >= 0.15)
            at = START + timedelta(days=day, hours=7 + k, minutes=rng.randint(0, 59))
            (news if k % 3 == 0 else social).append({"text": post.text, "at": at,
                                                     "url": f"https://example.vn/p/{day}-{k}"})
            labels.append(_label(post, f"https://example.vn/p/{day}-{k}"))
    for k in range(8):
        post = compose(rng, "transport", k % 2, place=(SPIKE_COMMUNE[1], "03478"))
        url = f"https://example.vn/p/6-spike-{k}"
        social.append({"text": post.text, "url": url,
                       "at": START + timedelta(days=6, hours=9, minutes=5 * k)})
        labels.append(_label(post, url))
    social.append({**social[0], "url": "https://example.vn/p/shared-again",
                   "text": "Chia sẻ lại: " + social[0]["text"]})
    social.append({"text": "Heavy rain in the north today, drive carefully everyone out there",
                   "url": "https://example.vn/p/english", "at": START + timedelta(days=2)})
    social.append({"text": "Đường vào bản mình lại hỏng rồi, khổ quá", "url": "https://example.vn/p/nodate"})
    return news, social, labels


def _label(post: Post, url: str) -> dict:
    return {"url": url, "sector": post.sector, "tone": post.tone, "urgent": int(post.urgent),
            "commune": post.commune}


def rss(items: list[dict]) -> str:
    """An RSS 2.0 feed of news items."""
    entries = "".join(
        f"<item><title>{escape(i['text'][:60])}</title><link>{escape(i['url'])}</link>"
        f"<guid>{escape(i['url'])}</guid><description>{escape(i['text'])}</description>"
        f"<pubDate>{format_datetime(i['at'])}</pubDate></item>" for i in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            "<title>Tin tức Lai Châu</title><link>https://example.vn/</link>"
            f"<description>Tin địa phương</description>{entries}</channel></rss>\n")


def export(items: list[dict]) -> str:
    """Posts of a group in the shape of the platform's data export (Meta's "group_posts_v2")."""
    rng = random.Random(3)
    posts = []
    for i in items:
        author = rng.choice(("Lò Văn Hùng", "Giàng Thị Mai", "Tẩn Văn Sử", "Nguyễn Thu Hà"))
        post = {"title": f"{author} đã đăng trong Cộng đồng Lai Châu",
                "data": [{"post": i["text"]}], "url": i["url"]}
        if "at" in i:
            post["timestamp"] = int(i["at"].astimezone(UTC).timestamp())
        posts.append(post)
    return json.dumps({"group_posts_v2": posts}, ensure_ascii=False, indent=1) + "\n"


def write(out: Path = OUT) -> None:
    """Write the labelled set and the recorded week into ``out``."""
    (out / "week").mkdir(parents=True, exist_ok=True)
    (out / "labelled.csv").write_text(labelled_csv(labelled()), encoding="utf-8")
    news, social, labels = week()
    (out / "week" / "news.xml").write_text(rss(news), encoding="utf-8")
    (out / "week" / "group.json").write_text(export(social), encoding="utf-8")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ("url", "sector", "tone", "urgent", "commune"), lineterminator="\n")
    writer.writeheader()
    writer.writerows(labels)
    (out / "week" / "labels.csv").write_text(buf.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    write()
