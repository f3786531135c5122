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

WEEK = Path(__file__).resolve().parents[2] / "data_samples" / "opinion" / "week"
PAGES: dict[str, tuple[str, bytes]] = {
    "/news.xml": ("application/rss+xml", (WEEK / "news.xml").read_bytes()),
    "/group.json": ("application/json", (WEEK / "group.json").read_bytes()),
    "/page.html": ("text/html", "<!DOCTYPE html><html><body>Trang chủ</body></html>".encode()),
    "/broken.xml": ("application/rss+xml", b"<?xml version='1.0'?><rss><channel><item><title>"),
    "/huge.xml": ("application/rss+xml", b"<rss>" + b" " * (6 * 1024 * 1024) + b"</rss>"),
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
