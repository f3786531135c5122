"""One field, read two ways: strictly from a JSON body, leniently from a file's cell; checked once."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from layers.fields import FieldError, FieldSpec, checks, from_file, from_json, json_schema

LEVEL = FieldSpec("level", "text", domain=("primary", "upper_secondary"),
                  domain_titles=("Tiểu học", "Trung học phổ thông"))
MEMBERS = FieldSpec("members", "integer", required=True, minimum=1, maximum=30)
AREA = FieldSpec("area", "number", minimum=0)
FLAG = FieldSpec("flag", "boolean")
DAY = FieldSpec("day", "date")
MOMENT = FieldSpec("moment", "datetime")
TAGS = FieldSpec("tags", "text[]")
NAME = FieldSpec("name", "text", max_length=5)


@pytest.mark.parametrize(("spec", "cell", "value"), [
    (LEVEL, "Trung hoc pho thong", "upper_secondary"),
    (LEVEL, "  primary ", "primary"),
    (MEMBERS, "4", 4), (MEMBERS, "4.0", 4), (MEMBERS, 4.0, 4),
    (AREA, "1 234,5", 1234.5), (AREA, "1234.5", 1234.5), (AREA, "12,5", 12.5),
    (FLAG, "Có", True), (FLAG, "x", True), (FLAG, "không", False), (FLAG, "Sai", False),
    (DAY, "15/03/2025", date(2025, 3, 15)), (DAY, "2025-03-15T10:00", date(2025, 3, 15)),
    (MOMENT, "2025-03-15 08:00", datetime(2025, 3, 15, 8, tzinfo=timezone(timedelta(hours=7)))),
    (TAGS, "a; b ,c", ["a", "b", "c"]),
    (NAME, "  Nậm   Ô ", "Nậm Ô"),
    (AREA, "", None), (AREA, float("nan"), None),
])
def test_file_cells_are_read_leniently(spec, cell, value):
    assert from_file(spec, cell) == value


@pytest.mark.parametrize(("spec", "cell", "reason"), [
    (AREA, "1.234,5", "not a number"),
    (AREA, "inf", "not a number"),
    (MEMBERS, "4.5", "whole number"),
    (MEMBERS, "", "required"),
    (MEMBERS, "31", "above the maximum 30"),
    (MEMBERS, "0", "below the minimum 1"),
    (LEVEL, "Đại học", "not in the allowed values"),
    (FLAG, "maybe", "yes/no"),
    (DAY, "31/02/2025", "invalid date"),
    (NAME, "Nậm Hàng", "longer than 5 characters"),
])
def test_file_cells_that_do_not_fit_say_why(spec, cell, reason):
    with pytest.raises(FieldError) as err:
        from_file(spec, cell)
    assert reason in err.value.en and err.value.vi


@pytest.mark.parametrize(("spec", "value"), [
    (MEMBERS, "4"), (MEMBERS, True), (MEMBERS, 4.0), (MEMBERS, 2**31),
    (AREA, "1.5"), (FLAG, "true"), (LEVEL, "Tiểu học"), (DAY, "15/03/2025"),
    (MOMENT, "2025-03-15T08:00:00"), (TAGS, "a;b"), (NAME, "a\x00"), (MEMBERS, None),
])
def test_json_values_are_read_strictly(spec, value):
    with pytest.raises(FieldError):
        from_json(spec, value)


def test_json_values_that_fit_keep_their_form():
    assert from_json(MOMENT, "2025-03-15T08:00:00Z") == "2025-03-15T08:00:00Z"
    assert from_json(AREA, 3) == 3 and from_json(LEVEL, "primary") == "primary"
    assert from_json(NAME, "Nậm") == "Nậm" and from_json(NAME, None) is None


def test_the_checks_are_described_once_for_sql_and_json_schema():
    assert [(c.kind, c.condition) for c in checks(MEMBERS, '"members"')] == [
        ("range", '"members" >= 1 AND "members" <= 30')]
    assert [c.kind for c in checks(LEVEL, "t.level")] == ["domain"]
    assert checks(NAME, '"name"')[0].condition == 'char_length("name") <= 5'
    assert json_schema(LEVEL) == {"type": "string", "enum": ["primary", "upper_secondary"]}


def test_declarations_that_cannot_be_checked_are_refused():
    with pytest.raises(ValueError, match="numbers"):
        FieldSpec("x", "text", minimum=1)
    with pytest.raises(ValueError, match="max_length"):
        FieldSpec("x", "integer", max_length=3)
