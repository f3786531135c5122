"""Layers served from a view over a domain table: their count, data version and tile boxes.

A layer table keeps these by the triggers of migrations 0002 and 0005. A layer that is a view
(``feedback_points`` over ``feedback_requests``, ``opinion_points`` over ``opinion_items``) gets
the same bookkeeping from statement triggers on the table it is derived from.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import op


@dataclass(frozen=True)
class DerivedLayer:
    """A view ``layer`` over ``table``; ``only`` is the condition for a row to be in the view."""

    layer: str
    table: str
    prefix: str  # of the trigger functions' names, e.g. ``ioc_fp``
    expand: float  # degrees around each changed position: covers the view's rounding
    only: str = ""
    recount_on_update: bool = False  # an update may move rows in or out of the view

    def _where(self) -> str:
        return f" WHERE {self.only}" if self.only else ""

    def _counts(self) -> dict[str, tuple[str, str, str]]:
        rows = f"(SELECT count(*) FROM changed_rows{self._where()})"
        update = f"n = (SELECT count(*) FROM {self.layer})" if self.recount_on_update else "n = n"
        return {
            f"{self.prefix}_count_insert": ("INSERT", "REFERENCING NEW TABLE AS changed_rows",
                                            f"n = n + {rows}"),
            f"{self.prefix}_count_delete": ("DELETE", "REFERENCING OLD TABLE AS changed_rows",
                                            f"n = n - {rows}"),
            f"{self.prefix}_count_update": ("UPDATE", "", update),
            f"{self.prefix}_count_truncate": ("TRUNCATE", "", "n = 0"),
        }

    def _tiles(self) -> dict[str, tuple[str, str, str]]:
        box, where = f"ST_Expand(geom, {self.expand})::box2d", self._where()
        old, new = (f"SELECT {box} AS b FROM {rows}{where}" for rows in ("old_rows", "new_rows"))
        return {
            f"{self.prefix}_tiles_insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", new),
            f"{self.prefix}_tiles_delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", old),
            f"{self.prefix}_tiles_update": (
                "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                f"{old} UNION ALL SELECT {box} FROM new_rows{where}"),
        }

    def create(self, view: str) -> None:
        """Create the view (its ``SELECT``), its count row and the triggers on the table."""
        op.execute(f"CREATE VIEW {self.layer} AS {view}")
        op.execute(f"INSERT INTO feature_counts (layer, n) VALUES ('{self.layer}', 0)")
        for name, (event, transition, change) in self._counts().items():
            self._trigger(name, event, transition, (
                f"BEGIN UPDATE feature_counts SET {change}, version = nextval('feature_version') "
                f"WHERE layer = '{self.layer}'; RETURN NULL; END"))
        for name, (event, transition, boxes) in self._tiles().items():
            # One box per change of up to 1000 rows, one per 0.01° cell beyond (as migration 0005).
            self._trigger(name, event, transition, (
                "DECLARE v bigint; BEGIN "
                f"SELECT version INTO v FROM feature_counts WHERE layer = '{self.layer}'; "
                "INSERT INTO tile_changes (layer, version, minx, miny, maxx, maxy) "
                f"SELECT '{self.layer}', coalesce(v, 0), min(ST_XMin(b)), min(ST_YMin(b)), "
                f"max(ST_XMax(b)), max(ST_YMax(b)) FROM ({boxes}) changed "
                "GROUP BY floor(ST_XMin(b) * 100), floor(ST_YMin(b) * 100); RETURN NULL; END"))

    def _trigger(self, name: str, event: str, transition: str, body: str) -> None:
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {self.table} {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")

    def drop(self) -> None:
        """Drop what ``create`` made, and the layer's pending tile changes."""
        for name in (*self._counts(), *self._tiles()):
            op.execute(f"DROP TRIGGER {name} ON {self.table}")
            op.execute(f"DROP FUNCTION {name}()")
        op.execute(f"DROP VIEW {self.layer}")
        op.execute(f"DELETE FROM feature_counts WHERE layer = '{self.layer}'")
        op.execute(f"DELETE FROM tile_changes WHERE layer = '{self.layer}'")
