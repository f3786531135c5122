"""``ioc iot``: the stations' MQTT subscriber, the storm simulator and the time series'
maintenance (partitions, roll-ups, retention)."""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gis_core.errors import InvalidParameterError
from gis_core.settings import Settings

Add = Callable[[str, Callable[[argparse.Namespace, Settings], None], str], argparse.ArgumentParser]


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def open_incident(cursor: Any, document: dict[str, Any]) -> int:
    """An alert's incident, recorded in the emergency scenario like one reported by hand: a new
    one, or the open incident of the same kind already reaching the station (the alert is noted
    on its timeline); a document naming an ``incident`` writes its ``note`` there."""
    from scenarios import incidents

    if "incident" in document:
        incidents.note(cursor, document["incident"], document["note"], actor="sensors")
        return document["incident"]
    found = incidents.covering(cursor, document["kind"], document["lon"], document["lat"])
    if found is not None:
        incidents.note(cursor, found, f"Cảnh báo mới: {document['title']}", actor="sensors")
        return found
    return incidents.create(cursor, incidents.IncidentIn(**document), actor="sensors")


def _connect(url: str) -> Callable[[], Any]:
    import psycopg2

    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    return lambda: psycopg2.connect(dsn, application_name="ioc-iot")


def listen(database: str, mqtt_url: str, *, workers: int = 1, stop: threading.Event | None = None,
           batch: int = 2000, root: str = "ioc/stations", sta_base: str | None = None,
           sta_prefix: str = "") -> None:
    """Run ``workers`` subscribers (threads sharing the topics) until ``stop`` is set; with
    ``sta_base``, new observations are published on the SensorThings MQTT topics."""
    from sensors.mqtt import Listener
    from sensors.sta_mqtt import Publisher
    from sensors.store import Store

    publish = Publisher(mqtt_url, sta_base, sta_prefix) if sta_base else None
    listeners = [Listener(mqtt_url, _connect(database),
                          Store(open_incident, root, rules_every=1.0, publish=publish),
                          batch=batch, shared=workers > 1)
                 for _ in range(workers)]
    threads = [threading.Thread(target=x.run, daemon=True) for x in listeners]
    for t in threads:
        t.start()
    (stop or threading.Event()).wait()
    for x in listeners:
        x.stop()
    for t in threads:
        t.join()
    if publish is not None:
        publish.close()


def start_listener_process() -> subprocess.Popen[bytes]:
    """The stations' MQTT listener beside the web workers (``ioc up`` with IOC_MQTT_URL set),
    stopped with them."""
    return subprocess.Popen([sys.executable, "-m", "api.cli", "iot", "listen"])


def _cmd_iot(args: argparse.Namespace, settings: Settings) -> None:
    from api.cli import database_url

    url = database_url(settings, start_embedded=False)
    mqtt_url = args.mqtt or settings.mqtt_url
    if args.action == "listen":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        _say(f"Nhận số đo từ {mqtt_url} ({args.workers} tiến trình con) / listening on {mqtt_url}")
        listen(url, mqtt_url, workers=args.workers, stop=stop, root=settings.mqtt_topic,
               sta_base=f"{settings.base_url}/sta/v1.1" if settings.sta_mqtt else None,
               sta_prefix=settings.sta_mqtt_prefix)
        return
    from gis_core.db import engine_for, raw_cursor

    if args.action == "maintain":
        from sensors import maintenance

        with raw_cursor(engine_for(url, statement_timeout_ms=0)) as cursor:
            r = maintenance.run(cursor)
        _say(f"Phân vùng mới {len(r.created)}, giờ tổng hợp {r.hours}, phân vùng đã xóa "
             f"{len(r.dropped)}, bản ghi giờ đã xóa {r.hourly_deleted} / partitions created "
             f"{r.created}, hours rolled up {r.hours}, partitions dropped {r.dropped}, hourly rows "
             f"deleted {r.hourly_deleted}")
        return
    from sensors import simulate

    with raw_cursor(engine_for(url)) as cursor:
        sites = simulate.stations(cursor)
    if not sites:
        raise InvalidParameterError("Lớp iot_stations chưa có trạm đo nào.",
                                    message_en="The iot_stations layer has no measuring station.")
    try:
        start = datetime.fromisoformat(args.start) if args.start else \
            simulate.default_start(args.steps)
    except ValueError:
        raise InvalidParameterError(f"--start không phải ISO 8601: {args.start!r}",
                                    message_en=f"--start is not ISO 8601: {args.start!r}") from None
    if start.tzinfo is None:
        raise InvalidParameterError("--start cần múi giờ, ví dụ 2026-07-01T00:00:00+07:00",
                                    message_en="--start needs a UTC offset, e.g. +07:00")
    sent = simulate.publish(mqtt_url, simulate.storm(sites, start, args.steps, args.seed),
                            step_seconds=args.step_seconds, root=settings.mqtt_topic)
    _say(f"Đã gửi {sent} số đo của {len(sites)} trạm / published {sent} readings of "
         f"{len(sites)} stations")


def add_command(add: Add) -> None:
    """Register ``ioc iot``."""
    iot = add("iot", _cmd_iot, "Trạm quan trắc IoT: nhận số đo qua MQTT, mô phỏng mưa bão, bảo trì "
              "chuỗi số đo / IoT stations: MQTT subscriber, storm simulator, time-series upkeep")
    iot.add_argument("action", choices=("listen", "simulate", "maintain"))
    iot.add_argument("--mqtt", help="máy chủ MQTT (mặc định IOC_MQTT_URL) / broker URL")
    iot.add_argument("--workers", type=int, default=1, help="số luồng nhận (listen)")
    iot.add_argument("--steps", type=int, default=36, help="số bước 10 phút (simulate)")
    iot.add_argument("--step-seconds", type=float, default=0.0,
                     help="nghỉ giữa các bước, giây (simulate; 0: nhanh nhất)")
    iot.add_argument("--start", help="thời điểm bắt đầu ISO 8601 (simulate)")
    iot.add_argument("--seed", type=int, default=7, help="hạt giống ngẫu nhiên (simulate)")
