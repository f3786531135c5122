"""A little fuzzing of every public route: no query parameter or body makes the server answer 500.

Schemathesis reads the application's own OpenAPI documents (``/openapi.json`` for the platform's
API, ``/ogc/openapi`` for the OGC API's collections and items) and generates valid and invalid
parameters and bodies from them; the calls are made anonymously, as the public would, a bounded
and repeatable number of times per operation (derived examples, not random ones, so a CI run is
reproducible).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

EXAMPLES = 6
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
DOCUMENTS = {
    "platform": ("/openapi.json", None),
    # pygeoapi's document lists every collection; a few stand for all (the items path is shared).
    "ogc": ("/ogc/openapi?f=json",
            r"^/collections/(schools|housing|communes|roads)(/items(/\{featureId\})?|/queryables)?$"),
}


def _server_errors(schema) -> list[str]:
    found: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            continue  # an operation pygeoapi describes in a way the generator cannot use
        operation = result.ok()
        if operation.method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case) -> None:
                response = case.call()
                assert response.status_code < 500, (
                    f"{case.method} {case.formatted_path} query={case.query} "
                    f"body={case.body!r:.300} → {response.status_code} {response.text[:300]}")

            try:
                call()
            except Unsatisfiable:
                pass  # no invalid input exists for an operation without parameters
            except AssertionError as err:
                found.append(str(err).splitlines()[0])
    return found


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_no_public_route_answers_500(app, document):
    path, only = DOCUMENTS[document]
    schema = schemathesis.openapi.from_asgi(path, app)
    if only:
        schema = schema.include(path_regex=only, method="GET")
    assert _server_errors(schema) == []


# The OGC items path and the export read their parameters from the query string itself (any
# queryable may be a parameter), so no OpenAPI document lists them: hypothesis draws them here.
_HOSTILE = st.sampled_from([
    "", " ", "\x00", "%00", "a\x00b", "'", "''", "\\", "1e309", "-1e309", "1e400", "nan", "inf",
    "-0", "99999999999999999999999", "1e2", "0x10", "1_000", "2025-02-30", "2025-07-01",
    "9999-12-31T99:00:00Z", "../..", "..", "/", "1,2,3", "1,2,3,4", "103.3,22.3,103.6,22.5",
    "-181,-91,181,91", "EPSG:9205", "http://www.opengis.net/def/crs/EPSG/0/9205", "EPSG:99999",
    "name", "-name", "+students,students", "Bản Nà Luông", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "x" * 3000])
_VALUES = st.one_of(_HOSTILE, st.text(max_size=30), st.integers().map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _filters(fields: list[str]) -> st.SearchStrategy[str]:
    term = st.builds(
        lambda a, op, b: f"{a} {op} {b}",
        st.sampled_from([*fields, "geom", "nope", "DATE('2025-01-01')"]),
        st.sampled_from(["=", "<>", "<", ">=", "LIKE", "ILIKE", "IN", "BETWEEN", "IS", "IS NOT",
                         "AND", "OR", "T_AFTER", "T_BEFORE", "S_INTERSECTS", "("]),
        st.one_of(_VALUES, st.sampled_from(["NULL", "(1,2)", "1 AND 2", "'a%'", *fields,
                                            "POLYGON((0 0,1 1))", "TIMESTAMP('x')"])))
    return st.one_of(term, st.lists(term, min_size=2, max_size=4).map(" AND ".join),
                     st.lists(term, min_size=2, max_size=4).map(" OR ".join),
                     st.lists(_HOSTILE, max_size=3).map(lambda xs: f'{{"op":"like","args":{xs}}}'))


def _queries(layer_id: str) -> st.SearchStrategy[dict[str, str]]:
    from layers.items import queryable_fields
    from layers.registry import require_layer

    fields = sorted(queryable_fields(require_layer(layer_id)))
    names = st.sampled_from(["limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "sortby",
                             "properties", "skipGeometry", "filter-lang", "filter-crs", "f",
                             "format", "geometry", *fields])
    return st.builds(lambda pairs, flt: {**pairs, **({"filter": flt} if flt else {})},
                     st.dictionaries(names, _VALUES, max_size=4),
                     st.one_of(st.none(), _filters(fields)))


@pytest.mark.parametrize("url,layer_id,examples", [
    ("/ogc/collections/schools/items", "schools", 120),
    ("/ogc/collections/communes/items", "communes", 60),
    ("/ogc/collections/roads/items", "roads", 60),
    ("/api/v1/layers/schools/export", "schools", 40),
])
def test_items_and_export_parameters_never_answer_500(client, url, layer_id, examples):
    found: list[str] = []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=_queries(layer_id))
    def call(query: dict[str, str]) -> None:
        if url.endswith("/export"):
            query = {**query, "format": "csv", "limit": "5"}
        response = client.get(url, params=query, headers={"accept": "application/geo+json"})
        if response.status_code >= 500:
            found.append(f"{query!r:.300} → {response.status_code} {response.text[:200]}")

    call()
    assert found == []
