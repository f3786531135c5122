"""Settings from the environment: ``IOC_*``, ``DATABASE_URL`` or libpq's ``PG*`` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The shipped sample data (real boundaries, reference figures); a folder of the source tree.
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "data_samples"


def _libpq_url() -> str | None:
    """Build a URL from libpq's ``PG*`` variables when ``PGHOST`` or ``PGDATABASE`` is set."""
    env = os.environ
    if not (env.get("PGHOST") or env.get("PGDATABASE")):
        return None
    user = quote(env.get("PGUSER", "postgres"))
    password = env.get("PGPASSWORD")
    auth = f"{user}:{quote(password)}@" if password else f"{user}@"
    host = env.get("PGHOST", "127.0.0.1")
    port = env.get("PGPORT", "5432")
    return f"postgresql://{auth}{host}:{port}/{env.get('PGDATABASE', 'ioc')}"


class Settings(BaseSettings):
    """Runtime configuration of the platform."""

    model_config = SettingsConfigDict(env_prefix="IOC_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias="DATABASE_URL",
        description="PostgreSQL URL; when unset, IOC_DATABASE_URL, then PG*, then the embedded cluster.",
    )
    var_dir: Path = Field(default=Path("var"), description="Runtime data: embedded cluster, config.")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="External base URL (for links behind a proxy)."
    )
    workers: int = 1
    statement_timeout_ms: int = 15_000
    pool_size: int = Field(default=16, ge=1, description="Database connections each web worker "
                           "keeps open, and never more (a request beyond waits for one).")
    max_limit: int = 10_000
    default_limit: int = 10
    max_upload_mb: int = Field(default=512, description="Largest accepted upload (imports).")
    max_document_mb: int = Field(default=50, ge=1, description="Largest document attached to a "
                                 "feature (drawings, decisions, scans).")
    max_body_kb: int = Field(default=1024, description="Largest request body other than file "
                             "uploads and features (JSON, forms).")
    max_import_features: int = Field(default=500_000, description="Most features in one import.")
    tile_cache_mb: int = Field(default=64, description="Memory for cached vector tiles; 0 disables.")
    tile_cache_redis: str | None = Field(
        default=None, description="Redis URL (e.g. redis://127.0.0.1:6379/0) to share cached tiles "
        "between workers instead of keeping them in each process's memory.")
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883", description="MQTT broker of the "
                          "stations (ioc iot listen, ioc iot simulate).")
    mqtt_topic: str = Field(default="ioc/stations", description="Topic root: a station publishes "
                            "on <root>/<station id>.")
    basemap_url: str | None = Field(
        default=None, description="Optional external XYZ base map, e.g. an OSM tile server."
    )
    token_minutes: int = Field(default=30, description="Lifetime of an access token.")
    max_failed_logins: int = Field(default=5, description="Wrong passwords before a lockout.")
    lockout_minutes: int = Field(default=15, description="How long a lockout lasts.")
    account_idle_days: int = Field(default=90, description="Unused accounts expire after this.")
    max_photo_mb: int = Field(default=15, description="Largest field photo accepted.")
    anonymous_runs_per_minute: int = Field(
        default=30, description="Scenario runs, exports and reports an anonymous client address "
        "may start per minute.")
    sign_ins_per_minute: int = Field(default=20, description="Sign-in attempts per client "
                                     "address and minute.")
    feedback_posts_per_minute: int = Field(
        default=20, description="Citizen reports (Open311 and the /feedback page) and tracking-code "
        "look-ups per client address and minute.")
    feedback_warn_days: int = Field(default=2, ge=0, description="A case is warned of (to its "
                                    "department) this many working days before its deadline.")
    feedback_warn_share: float = Field(default=0.8, gt=0, le=1, description="…or once this share "
                                       "of its working days has passed, if earlier (1: off).")
    rate_window_seconds: int = Field(default=60, ge=1, description="The window the rate limits "
                                     "count in (60: the limits are per minute).")
    audit_anchor_minutes: float = Field(
        default=5, description="How often the audit chain's head is published to "
        "var/audit-anchors/<database>.jsonl and the log; 0: only at start and stop.")
    job_concurrency: int = Field(default=2, ge=1, description="Jobs one worker runs at once.")
    job_heartbeat_seconds: float = Field(default=10, gt=0, description="How often a worker "
                                         "tells the queue it is alive.")
    job_stalled_seconds: float = Field(default=30, gt=0, description="A worker silent this long "
                                       "is dead: its running jobs are queued again.")
    export_inline_max: int = Field(default=50_000, ge=0, description="Exports of more features "
                                   "than this run as background jobs (202 + job) for signed-in "
                                   "callers; the file waits under var/exports.")
    export_keep_hours: float = Field(default=24, gt=0, description="How long an export job's file "
                                     "is kept for download.")
    scheduled_backups: bool = Field(default=False, description="Run the backups as scheduled "
                                    "jobs (differential daily, full on Sundays); off by default so "
                                    "test and CI workers never take one.")
    metrics_token: str | None = Field(default=None, description="Bearer token Prometheus sends "
                                      "for /metrics; unset: only this machine may read it.")
    log_json: bool = Field(default=True, description="Logs as one JSON object a line.")
    backup_key: str | None = Field(
        default=None, description="Passphrase encrypting the pgBackRest repository (AES-256); "
        "set it before the first backup and keep it apart from the backups.")
    backup_retention_full: int = Field(default=2, ge=1, description="Full backups kept (with "
                                       "their differentials and WAL).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="The server's log level.")
    cors_origins: str | None = Field(
        default=None, description="Web origins allowed to call the API from a browser, "
        "comma-separated (e.g. https://gis.laichau.gov.vn), or * for any; unset: none.")

    def cors_origin_list(self) -> list[str]:
        """The configured CORS origins (empty: CORS off)."""
        return [o.strip().rstrip("/") for o in (self.cors_origins or "").split(",") if o.strip()]

    def resolved_database_url(self) -> str | None:
        """The configured database URL, or None when the embedded cluster should be used."""
        return self.database_url or os.environ.get("IOC_DATABASE_URL") or _libpq_url()

    @property
    def base_url(self) -> str:
        """Public base URL of the server, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
