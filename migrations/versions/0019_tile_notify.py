"""tile change notices: a NOTIFY per layer when its tile_changes rows are written

Revision ID: 0019
Revises: 0012
Create Date: 2026-12-07 17:10:00

Each worker keeps the data version of every layer from the notices on channel ``ioc_tiles``
(payload ``layer:version``, sent at commit, none for a rolled-back edit), so a cached tile is
served without asking the database. A statement trigger on ``tile_changes`` sends one notice per
layer and statement, from the rows the layer triggers of revision 0005 write.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "ioc_tiles"


def upgrade() -> None:
    """Apply this revision."""
    op.execute(
        "CREATE FUNCTION ioc_tiles_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_notify('{CHANNEL}', layer || ':' || max(version)) FROM new_rows "
        "GROUP BY layer; RETURN NULL; END $$"
    )
    op.execute("CREATE TRIGGER ioc_tiles_notify AFTER INSERT ON tile_changes "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION ioc_tiles_notify()")


def downgrade() -> None:
    """Revert this revision."""
    op.execute("DROP TRIGGER ioc_tiles_notify ON tile_changes")
    op.execute("DROP FUNCTION ioc_tiles_notify()")
