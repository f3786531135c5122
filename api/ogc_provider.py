"""pygeoapi feature provider over the layer tables, sharing the fast path's SQL."""

from __future__ import annotations

from typing import Any

import orjson
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderConnectionError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)

from api.visibility import audit_personal_read, refuse_hidden_fields
from gis_core.crs import parse_crs
from gis_core.db import engine_for, raw_cursor
from gis_core.errors import InvalidParameterError, IocError, PermissionDeniedError
from governance.access import CURRENT, filter_attributes, visible_specs
from layers.features import fetch_item, fetch_items, output_fields
from layers.fields import FieldSpec, json_schema
from layers.items import CRS84, ItemsQuery, parse_datetime
from layers.registry import get_layer


class PostGISProvider(BaseProvider):
    """Serve one layer table to pygeoapi (HTML pages, queryables, OpenAPI)."""

    def __init__(self, provider_def: dict[str, Any]):
        super().__init__(provider_def)
        layer = get_layer(provider_def["table"])
        if layer is None:
            raise ProviderConnectionError(f"unknown layer {provider_def['table']}")
        self.layer = layer
        self.engine = engine_for(provider_def["data"]["url"])
        self.get_fields()

    def get_fields(self) -> dict[str, dict[str, Any]]:
        """The fields the caller may read, as JSON Schema types (queryables, HTML, OpenAPI).

        pygeoapi builds a provider per request, so the caller is the request's principal.
        """
        if not self._fields:
            for spec in visible_specs(CURRENT.get(), self.layer):
                self._fields[spec.name] = {**json_schema(spec),
                                           "title": spec.title.get("vi", spec.name)}
        return self._fields

    def _visible(self, asked: set[str]) -> tuple[FieldSpec, ...]:
        """The caller's visible fields; a request naming a hidden field is refused and audited
        by the same rule as every other path (the items wrapper applies it first)."""
        principal = CURRENT.get()
        try:
            refuse_hidden_fields(self.engine, principal, self.layer, asked, "via pygeoapi")
        except PermissionDeniedError as err:
            raise ProviderInvalidQueryError(user_msg=err.message) from err
        return visible_specs(principal, self.layer)

    def _audit(self, fields: list[str], features: list[dict[str, Any]]) -> None:
        audit_personal_read(self.engine, CURRENT.get(), self.layer, fields, len(features),
                            via="pygeoapi", query=None, ids=[f["id"] for f in features])

    def _run(self, work: Any) -> Any:
        try:
            with raw_cursor(self.engine) as cursor:
                return work(cursor)
        except InvalidParameterError as err:
            raise ProviderInvalidQueryError(user_msg=err.message) from err
        except IocError as err:
            raise ProviderQueryError(user_msg=err.message) from err

    def query(self, offset: int = 0, limit: int = 10, resulttype: str = "results",
              bbox: list[float] | None = None, datetime_: str | None = None,
              properties: list[tuple[str, str]] | None = None,
              sortby: list[dict[str, str]] | None = None,
              select_properties: list[str] | None = None, skip_geometry: bool = False,
              q: str | None = None, filterq: Any = None, crs_transform_spec: Any = None,
              **kwargs: Any) -> dict[str, Any]:
        """A page of features as a GeoJSON FeatureCollection dict."""
        crs = CRS84
        if crs_transform_spec is not None:
            crs = parse_crs(crs_transform_spec.target_crs_uri)
        query = ItemsQuery(
            limit=0 if resulttype == "hits" else limit, offset=offset,
            bbox=tuple(bbox) if bbox else None,  # type: ignore[arg-type]
            time=parse_datetime(datetime_) if datetime_ else None,
            equals=tuple(properties or ()), filter=filterq,
            sortby=tuple((s["property"], s["order"] != "-") for s in sortby or ()),
            properties=tuple(select_properties) if select_properties else None,
            skip_geometry=skip_geometry, crs=crs,
        )
        asked = {name for name, _ in query.equals} | {name for name, _ in query.sortby}
        asked |= set(query.properties or ()) | (filter_attributes(filterq) if filterq else set())
        visible = self._visible(asked)
        page = self._run(lambda cur: fetch_items(cur, self.layer, query, visible))
        features = orjson.loads(f"[{page.features}]")
        self._audit(output_fields(self.layer, query, visible), features)
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": page.matched,
            "numberReturned": page.returned,
        }

    def get(self, identifier: Any, crs_transform_spec: Any = None, **kwargs: Any) -> dict:
        """One feature by id."""
        try:
            feature_id = int(identifier)
        except (TypeError, ValueError) as err:
            raise ProviderItemNotFoundError(user_msg="Không tìm thấy đối tượng") from err
        crs = parse_crs(crs_transform_spec.target_crs_uri) if crs_transform_spec else CRS84
        visible = self._visible(set())
        text = self._run(lambda cur: fetch_item(cur, self.layer, feature_id, crs, visible))
        if text is None:
            raise ProviderItemNotFoundError(user_msg="Không tìm thấy đối tượng")
        feature = orjson.loads(text)
        self._audit([f.name for f in visible], [feature])
        return feature
