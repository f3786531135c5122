"""credential change notices: a NOTIFY with the account's id when an account or session changes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 19:20:00

Each worker keeps the API keys and sessions it resolved, and drops an account's entries on the
notices of channel ``ioc_credentials`` (payload: the account's id and the writer's backend pid,
``id:pid``, sent at commit, none for a rolled-back change; ``*`` when a table is truncated), so a lock, unlock, revoke, role change,
new password or ended session takes effect at once without a database trip per request.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "ioc_credentials"
ACCOUNT_OF = {"accounts": "id", "sessions": "account_id"}


def upgrade() -> None:
    """Apply this revision."""
    for table, column in ACCOUNT_OF.items():
        op.execute(
            f"CREATE FUNCTION ioc_{table}_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_notify('{CHANNEL}', OLD.{column} || ':' || pg_backend_pid()); "
            "RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER ioc_{table}_notify AFTER UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION ioc_{table}_notify()")
    op.execute("CREATE FUNCTION ioc_credentials_notify_all() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN PERFORM pg_notify('{CHANNEL}', '*'); RETURN NULL; END $$")
    for table in ACCOUNT_OF:
        op.execute(f"CREATE TRIGGER ioc_{table}_notify_all AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ioc_credentials_notify_all()")


def downgrade() -> None:
    """Revert this revision."""
    for table in ACCOUNT_OF:
        op.execute(f"DROP TRIGGER ioc_{table}_notify_all ON {table}")
        op.execute(f"DROP TRIGGER ioc_{table}_notify ON {table}")
        op.execute(f"DROP FUNCTION ioc_{table}_notify()")
    op.execute("DROP FUNCTION ioc_credentials_notify_all()")
