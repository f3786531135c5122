"""Stations that stop reporting, found by a periodic job (every minute, on whichever worker takes
it): a station that has sent nothing for longer than its silence rule allows gets an alert and is
shown offline on the ``iot_stations`` layer; its next reading clears both."""

from __future__ import annotations

import logging
from typing import Any

from gis_core.db import engine_for, transaction
from gis_core.errors import DatabaseUnavailableError
from gis_core.settings import Settings
from jobs.queue import declare
from sensors import alerts

LOG = logging.getLogger("ioc.sensors")
tasks = declare("sensors")


def check(cursor: Any) -> list[int]:
    """Raise and clear the silence alerts of every datastream (no commit); the alerts raised."""
    raised = alerts.evaluate(cursor, [], silence=True)
    cursor.execute("SELECT set_config('ioc.actor', 'sensors', true), "
                   "set_config('ioc.source', 'silence', true)")
    cursor.execute(
        "UPDATE iot_stations s SET status = 'offline' FROM sensor_alerts a "
        "JOIN datastreams d ON d.id = a.datastream_id WHERE d.station_id = s.id "
        "AND a.id = ANY(%s) AND s.status = 'online'", (raised,))
    return raised


@tasks.periodic(cron="* * * * *", periodic_id="silence")
@tasks.task(name="silence", queueing_lock="sensors.silence")
def silence(timestamp: int) -> None:
    """Every minute: the stations that fell silent, and those that spoke again."""
    url = Settings().resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu cho việc kiểm tra trạm im lặng.",
                                       message_en="No database configured for the silence check.")
    with transaction(engine_for(url, statement_timeout_ms=60_000)) as cursor:
        raised = check(cursor)
    if raised:
        LOG.warning("%s station(s) fell silent", len(raised))
