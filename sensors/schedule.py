"""The time series' maintenance on the job queue: every hour, on whichever worker takes it, the
policies of ``retention.yaml`` (``sensors.maintenance``)."""

from __future__ import annotations

import logging

from gis_core.db import engine_for, raw_cursor
from gis_core.errors import DatabaseUnavailableError
from gis_core.settings import Settings
from jobs.queue import declare
from sensors import maintenance

LOG = logging.getLogger("ioc.sensors")
tasks = declare("sensors")


@tasks.periodic(cron="7 * * * *", periodic_id="maintain")
@tasks.task(name="maintain", queueing_lock="sensors.maintain")
def maintain(timestamp: int) -> None:
    """Every hour: partitions ahead, hourly roll-ups, retention."""
    url = Settings().resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu.",
                                       message_en="No database configured.")
    with raw_cursor(engine_for(url, statement_timeout_ms=0)) as cursor:
        report = maintenance.run(cursor)
    LOG.info("time series: %s", report)
