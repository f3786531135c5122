"""``ioc opinion``: figures printed, bad input refused with one line and a non-zero exit."""

from __future__ import annotations

import json

import pytest

from api.cli import main


def test_train_prints_precision_and_recall(capsys):
    main(["opinion", "train"])
    figures = json.loads(capsys.readouterr().out)
    seen = figures["held_out_posts"]
    assert seen["_sizes"]["held_out"] >= 300
    assert seen["sector"]["precision"] >= 0.95 and seen["sector"]["recall"] >= 0.95
    assert figures["held_out_phrases"]["sector"]["recall"] >= 0.6


def test_a_bad_day_is_one_line_and_exit_1(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["opinion", "spikes", "--day", "2026-13-01"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "YYYY-MM-DD" in err
