"""Fixtures of the opinion tests: the recorded week and bad answers, served over real HTTP by a
server the test starts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from opinion import corpus
from opinion.sources import Source

WEEK = Path(__file__).resolve().parents[2] / "data_samples" / "opinion" / "week"
NOW = corpus.START + timedelta(days=7)
# A phrase the shipped model reads as health; the operators say it is public order.
NOVEL = "chó thả rông cắn người"
NOVEL_POSTS = [
    f"{opening} {NOVEL} {where}{closing}" for opening, where, closing in (
        ("Lại có", "ở xã Bình Lư", ", chủ nuôi không chịu trách nhiệm gì"),
        ("Phản ánh:", "ngay đầu bản ở xã Tả Lèng", ", mong chính quyền xử lý"),
        ("Tối qua", "ở chợ xã Pa Tần", ", mọi người cẩn thận"),
        ("Ai quản lý vụ", "ở phường Tân Phong", " vậy, trẻ con không dám ra đường"),
        ("Thêm một vụ", "tại xã Mường Khoa", ", đã báo công an xã"),
        ("Cảnh báo", "ở khu chợ xã Than Uyên", ", bà con để ý giúp"),
        ("Vẫn tình trạng", "ở xã Khun Há", " mà chưa ai xử lý"),
        ("Hôm nay", "gần trường xã Nậm Tăm", ", nguy hiểm cho học sinh"))]
PAGES: dict[str, tuple[str, bytes]] = {
    "/news.xml": ("application/rss+xml", (WEEK / "news.xml").read_bytes()),
    "/group.json": ("application/json", (WEEK / "group.json").read_bytes()),
    "/page.html": ("text/html", "<!DOCTYPE html><html><body>Trang chủ</body></html>".encode()),
    "/broken.xml": ("application/rss+xml", b"<?xml version='1.0'?><rss><channel><item><title>"),
    "/huge.xml": ("application/rss+xml", b"<rss>" + b" " * (6 * 1024 * 1024) + b"</rss>"),
    "/novel.xml": ("application/rss+xml", corpus.rss([
        {"text": text, "url": f"https://example.vn/novel/{i}",
         "at": corpus.START + timedelta(days=5, hours=i)} for i, text in enumerate(NOVEL_POSTS)]
    ).encode()),
    "/villages.xml": ("application/rss+xml", corpus.rss([
        {"text": text, "url": f"https://example.vn/villages/{i}",
         "at": corpus.START + timedelta(days=4, hours=i)} for i, text in enumerate((
            "Đường vào bản Mẫu Hai bị sạt lở một đoạn dài, xe máy không qua được",
            "Nhà văn hóa ban mau mot mới sửa xong, bà con rất phấn khởi",
            "Bản Mẫu Chung mất điện từ sáng tới giờ chưa có lại",
            "Trạm y tế gần bản Mẫu Chung, xã Phong Thổ thiếu thuốc hạ sốt cho trẻ"))]).encode()),
    "/atom.xml": ("application/atom+xml", (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        "<title>UBND tỉnh</title><entry><id>tag:laichau,1</id><title>Thông báo lịch tiếp công "
        "dân</title><link href='https://example.vn/atom/1'/><updated>2026-11-29T08:00:00+07:00"
        "</updated><summary>UBND tỉnh thông báo lịch tiếp công dân định kỳ tháng 12 tại trụ sở"
        "</summary></entry></feed>").encode()),
    "/fresh.xml": ("application/rss+xml", corpus.rss([
        {"text": text, "url": f"https://example.vn/fresh/{i}",
         "at": corpus.START + timedelta(days=3, hours=i)} for i, text in enumerate((
            "Cột điện gãy đổ ra đường ở Pa Tần sau trận gió lốc chiều qua",
            "Hội thi văn nghệ các dân tộc của xã Khổng Lào thu hút đông đảo bà con tham gia",
            "Giá dong riềng năm nay xuống thấp, nông dân Bum Nưa bán không được",
            "Nhà văn hóa bản mới của Than Uyên khánh thành, rộng rãi và khang trang",
            "Nước sinh hoạt ở Mường Kim bị cắt ba ngày liền mà chưa có thông báo nào"))]).encode()),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the server's hook
        kind, body = PAGES.get(self.path, ("text/plain", b""))
        self.send_response(200 if self.path in PAGES else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def feed_server() -> Iterator[str]:
    """The base URL of a local server of the recorded feeds."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def replayed(database_url, feed_server):
    """The recorded week fetched once for the session (with bad sources among them), then
    fetched again: (first report, second report)."""
    from gis_core.db import engine_for
    from opinion import ingest

    sources = [Source("news", "feed", "Tin tức", f"{feed_server}/news.xml"),
               Source("group", "export", "Cộng đồng Lai Châu", f"{feed_server}/group.json"),
               Source("ubnd", "feed", "UBND tỉnh", f"{feed_server}/atom.xml"),
               Source("homepage", "feed", "Trang chủ", f"{feed_server}/page.html"),
               Source("broken", "feed", "Hỏng", f"{feed_server}/broken.xml"),
               Source("huge", "feed", "Quá lớn", f"{feed_server}/huge.xml"),
               Source("gone", "feed", "Không còn", f"{feed_server}/gone.xml"),
               Source("platform", "connector", "Nền tảng", connector="nowhere")]
    engine = engine_for(database_url)
    first = ingest.run(engine, sources, now=NOW)
    again = ingest.run(engine, sources[:3], now=NOW)
    return first, again


def item_ids(database_url: str, prefix: str) -> dict[str, int]:
    """Item ids by URL, of the URLs starting with ``prefix``."""
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT url, id FROM opinion_items WHERE url LIKE %s", (prefix + "%",))
        return dict(cur.fetchall())
