"""Reading what a source answers: RSS 2.0 and Atom feeds, and JSON exports of social pages in the
shapes the platforms' export tools give (Meta's "Download your information" posts and group
posts; CrowdTangle-style ``posts`` with ``message``, ``date``, ``postUrl``, ``account.handle``).

Whatever cannot be read raises ``Unreadable`` with a reason code; the run records it and goes on.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from lxml import etree

from opinion.sources import RawItem

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 20.0
_TAG = re.compile(r"<[^>]+>")
_AUTHOR = re.compile(r"^(.+?) (?:đã đăng|đã chia sẻ|posted|shared)\b")
ATOM = "{http://www.w3.org/2005/Atom}"


class Unreadable(Exception):
    """A source's answer that is not a feed or export: ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def fetch(url: str, client: httpx.Client, limit: int = MAX_BYTES) -> bytes:
    """The body at ``url``, refused past ``limit`` bytes."""
    try:
        with client.stream("GET", url, timeout=TIMEOUT, follow_redirects=True) as response:
            if response.status_code != 200:
                raise Unreadable("http_error", f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise Unreadable("too_large", f"quá {limit} byte / over {limit} bytes")
            return bytes(body)
    except httpx.HTTPError as err:
        raise Unreadable("unreachable", f"{type(err).__name__}: {err}") from None


def _looks_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]


def _text(html: str | None) -> str:
    return re.sub(r"\s+", " ", _TAG.sub(" ", html or "")).strip()


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    try:
        parsed = (parsedate_to_datetime(value) if "," in value or value[-3:].isalpha()
                  else datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_feed(body: bytes) -> list[RawItem]:
    """The items of an RSS 2.0 or Atom feed."""
    if _looks_html(body):
        raise Unreadable("html", "nguồn trả về trang HTML, không phải RSS/Atom / the source "
                         "answered an HTML page, not RSS/Atom")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as err:
        raise Unreadable("broken", f"XML hỏng / broken XML: {err}") from None
    items: list[RawItem] = []
    if root.tag == f"{ATOM}feed":
        for i, entry in enumerate(root.iter(f"{ATOM}entry")):
            link = entry.find(f"{ATOM}link")
            text = " ".join(filter(None, (_text(entry.findtext(f"{ATOM}title")),
                                          _text(entry.findtext(f"{ATOM}summary")
                                                or entry.findtext(f"{ATOM}content")))))
            items.append(RawItem(entry.findtext(f"{ATOM}id") or str(i), text,
                                 link.get("href") if link is not None else None,
                                 entry.findtext(f"{ATOM}author/{ATOM}name"),
                                 _date(entry.findtext(f"{ATOM}published")
                                       or entry.findtext(f"{ATOM}updated"))))
        return items
    if root.tag != "rss":
        raise Unreadable("not_a_feed", f"phần tử gốc <{root.tag}> / root element <{root.tag}>")
    for i, item in enumerate(root.iter("item")):
        title, body_text = _text(item.findtext("title")), _text(item.findtext("description"))
        text = body_text if title and body_text.startswith(title) else f"{title} {body_text}"
        link = item.findtext("link")
        items.append(RawItem(item.findtext("guid") or link or str(i), text.strip(), link,
                             item.findtext("author"), _date(item.findtext("pubDate"))))
    return items


def _post(i: int, post: dict[str, Any]) -> RawItem:
    if "message" in post:  # CrowdTangle-style
        account = post.get("account") or {}
        return RawItem(str(post.get("id", i)), str(post["message"]), post.get("postUrl"),
                       account.get("handle") or account.get("name"), _date(post.get("date")))
    text = " ".join(str(d["post"]) for d in post.get("data", ()) if isinstance(d, dict)
                    and d.get("post"))
    author = post.get("author")
    if author is None and (m := _AUTHOR.match(str(post.get("title", "")))):
        author = m.group(1)
    stamp = post.get("timestamp")
    when = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) else None
    return RawItem(str(post.get("url") or stamp or i), text, post.get("url"), author, when)


def parse_export(body: bytes) -> list[RawItem]:
    """The posts of a JSON export."""
    if _looks_html(body):
        raise Unreadable("html", "nguồn trả về trang HTML, không phải JSON / the source "
                         "answered an HTML page, not JSON")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise Unreadable("broken", f"JSON hỏng / broken JSON: {err}") from None
    if isinstance(data, dict):
        data = data.get("group_posts_v2") or data.get("posts") or data.get("data")
    if not isinstance(data, list):
        raise Unreadable("not_an_export", "không thấy danh sách bài đăng / no list of posts")
    return [_post(i, p) for i, p in enumerate(data) if isinstance(p, dict)]
