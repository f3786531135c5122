"""``ioc scenario list|run``: the scenarios from the command line, parameters as JSON."""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable

from gis_core.db import engine_for, raw_cursor
from gis_core.errors import InvalidParameterError
from governance.access import CURRENT, Principal
from scenarios.registry import all_scenarios, require_scenario


def _json(text: str | None, option: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidParameterError(f"{option} không phải JSON hợp lệ: {err.msg} (cột {err.colno}).",
                                    message_en=f"{option} is not valid JSON: {err.msg} "
                                    f"(column {err.colno}).") from None
    if not isinstance(value, dict):
        raise InvalidParameterError(f"{option} phải là một đối tượng JSON.",
                                    message_en=f"{option} must be a JSON object.")
    return value


def run_scenario(args: argparse.Namespace, url: str, say: Callable[[str], None]) -> None:
    """List the scenarios, or run one and print its JSON (or GeoJSON)."""
    with raw_cursor(engine_for(url)) as cursor:
        if args.action == "list":
            for s in all_scenarios(cursor):
                say(f"{s.id:24} {s.article:8} {s.title['vi']} / {s.title['en']}")
            return
        if not args.id:
            raise InvalidParameterError("Thiếu mã kịch bản: ioc scenario run ID --selection JSON.",
                                        message_en="Missing scenario id: ioc scenario run ID "
                                        "--selection JSON.")
        params = _json(args.params, "--params")
        if args.selection:
            params["selection"] = _json(args.selection, "--selection")
        # At the console: the machine's operator, who sees what signed-in staff see.
        token = CURRENT.set(Principal(username=getpass.getuser(), role="operator"))
        try:
            outcome = require_scenario(cursor, args.id).run(cursor, params)
        finally:
            CURRENT.reset(token)
        body = outcome.geojson() if args.geojson else outcome.result
        say(json.dumps(body, ensure_ascii=False, indent=1))
