"""The run over every source as a periodic background job (``ioc worker`` runs it every 30
minutes; ``ioc opinion fetch`` runs it at once)."""

from __future__ import annotations

from gis_core.db import engine_for
from gis_core.errors import DatabaseUnavailableError
from gis_core.settings import Settings
from jobs.queue import TRANSIENT, declare
from opinion import ingest, sources

tasks = declare("opinion")


@tasks.periodic(cron="*/30 * * * *", periodic_id="fetch")
@tasks.task(name="fetch", queueing_lock="opinion.fetch", retry=TRANSIENT)
def fetch(timestamp: int) -> dict:
    """Fetch every declared source once; what was kept and skipped."""
    settings = Settings()
    url = settings.resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu.",
                                       message_en="No database is configured.")
    report = ingest.run(engine_for(url), sources.load(settings.var_dir / "opinion_sources.json"))
    return report.as_dict()
