"""Installs are reproducible: constraints.txt pins every distribution the platform runs on."""

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_norm(name)] = version
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(extras: tuple[str, ...]) -> set[str]:
    """The project's installed requirements (with the given extras), transitively."""
    seen: set[str] = set()
    todo = [(r, extras) for r in metadata.requires("laichau-ioc") or []]
    while todo:
        raw, active = todo.pop()
        req = Requirement(raw)
        env = [{"extra": e} for e in active] or [{"extra": ""}]
        if req.marker and not any(req.marker.evaluate(e) for e in env):
            continue
        name = _norm(req.name)
        if name in seen:
            continue
        seen.add(name)
        todo.extend((r, tuple(req.extras)) for r in metadata.requires(req.name) or [])
    return seen


def test_every_installed_dependency_is_pinned_at_the_installed_version():
    pins = _pins()
    for name in sorted(_closure(("test",))):
        assert name in pins, f"{name} is installed but not pinned: run `make lock`"
        assert metadata.version(name) == pins[name], (
            f"{name} {metadata.version(name)} installed, constraints.txt pins {pins[name]}")
