"""``ioc opinion train|fetch|spikes``: public-opinion monitoring from the command line.

``train`` fits the models on the shipped labelled set and prints precision and recall on the
held-out parts; ``fetch`` runs every declared source once (``var/opinion_sources.json``, or the
defaults) and prints what was kept and skipped, a cron line away from a schedule; ``spikes``
prints the warnings of a day.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date

from gis_core.errors import InvalidParameterError
from gis_core.settings import Settings

Add = Callable[[str, Callable[[argparse.Namespace, Settings], None], str], argparse.ArgumentParser]


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _cmd_opinion(args: argparse.Namespace, settings: Settings) -> None:
    if args.action == "train":
        from opinion import classify

        seen = classify.evaluate()
        unseen = classify.evaluate(by_phrase=True)
        classify.model()
        _say(json.dumps({"held_out_posts": seen, "held_out_phrases": unseen}, indent=1))
        return
    from api.cli_data import _engine

    try:
        day = date.fromisoformat(args.day) if args.day else date.today()
    except ValueError:
        raise InvalidParameterError(f"Ngày '{args.day}' không đúng dạng YYYY-MM-DD.",
                                    message_en=f"The day '{args.day}' is not YYYY-MM-DD."
                                    ) from None
    engine = _engine(settings)
    if args.action == "fetch":
        from opinion import ingest, sources

        report = ingest.run(engine, sources.load(settings.var_dir / "opinion_sources.json"))
        _say(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    from opinion import watch

    with engine.connect() as conn:
        for spike in watch.spikes(conn, day):
            _say(spike.as_dict()["message"])


def add_commands(add: Add) -> None:
    """Register ``opinion`` on the ``ioc`` parser."""
    opinion = add("opinion", _cmd_opinion, "Theo dõi dư luận trên mạng / public-opinion "
                  "monitoring: train, fetch, spikes")
    opinion.add_argument("action", choices=("train", "fetch", "spikes"))
    opinion.add_argument("--day", help="ngày (spikes), YYYY-MM-DD; mặc định hôm nay")
