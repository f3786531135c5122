"""``ioc opinion train|retrain|fetch|spikes|villages``: public-opinion monitoring from the
command line.

``train`` fits the models on the shipped labelled set and prints precision and recall on the
held-out parts; ``retrain`` trains on the shipped set plus the operators' corrections and
activates the new version only when it is not worse on the held-out part (then classifies the
recent items again); ``fetch`` runs every declared source once (``var/opinion_sources.json``, or
the defaults) and prints what was kept and skipped, a cron line away from a schedule; ``spikes``
prints the warnings of a day; ``villages FILE.csv`` replaces the declared villages (all rows or
none).
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
    if args.action == "retrain":
        from opinion import learning

        done = learning.retrain(engine, "cli", days=args.days)
        _say(json.dumps(done, ensure_ascii=False, indent=1))
        return
    if args.action == "villages":
        from pathlib import Path

        from opinion import villages

        if not args.file:
            raise InvalidParameterError("Cần tệp CSV: ioc opinion villages TỆP.csv",
                                        message_en="A CSV file is needed: ioc opinion villages "
                                        "FILE.csv")
        try:
            data = Path(args.file).read_bytes()
        except OSError as err:
            raise InvalidParameterError(f"Không đọc được tệp {args.file}: {err.strerror}.",
                                        message_en=f"Cannot read {args.file}: {err.strerror}."
                                        ) from None
        rows = villages.read(data)
        with engine.begin() as conn:
            _say(json.dumps(villages.replace(conn, rows, "cli"), ensure_ascii=False))
        return
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
                  "monitoring: train, retrain, fetch, spikes, villages")
    opinion.add_argument("action", choices=("train", "retrain", "fetch", "spikes", "villages"))
    opinion.add_argument("file", nargs="?", help="tệp CSV làng, bản (villages)")
    opinion.add_argument("--day", help="ngày (spikes), YYYY-MM-DD; mặc định hôm nay")
    opinion.add_argument("--days", type=int, default=30,
                         help="retrain: phân loại lại các mục thu trong chừng ấy ngày gần đây")
