"""Sector scenarios (Article 9b): health, education, transport, environment, public order and
social welfare, each over any selection, grouped, with the indicators that fall short flagged."""

from __future__ import annotations

from scenarios.base import Scenario, indicator_scenario
from scenarios.indicators import SECTORS, by_sector

SECTOR_IDS = ("health", "education", "transport", "environment", "public_order", "social_welfare")


def _scenario(sector: str) -> Scenario:
    names = SECTORS[sector]
    return indicator_scenario(
        f"sector_{sector}",
        {"vi": f"Ngành {names['vi'].lower()}", "en": f"Sector: {names['en'].lower()}"},
        {"vi": f"Các chỉ tiêu ngành {names['vi'].lower()} theo điểm, bán kính, vùng hoặc đơn vị "
               "hành chính, so với mục tiêu, cảnh báo chỉ tiêu chưa đạt.",
         "en": f"{names['en']} indicators by point, radius, area or administrative unit against "
               "their targets, warning of those not met."},
        "Điều 9b", "sector", by_sector(sector))


SCENARIOS: tuple[Scenario, ...] = tuple(_scenario(s) for s in SECTOR_IDS)
