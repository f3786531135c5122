"""Socio-economic scenario (Article 9a): the province's plan indicators against their targets by
period (month, quarter, year), for the province or its communes."""

from __future__ import annotations

from scenarios.base import indicator_scenario
from scenarios.indicators import by_sector, require_indicator

SCENARIO = indicator_scenario(
    "socio_economic",
    {"vi": "Chỉ tiêu kinh tế – xã hội", "en": "Socio-economic plan indicators"},
    {"vi": "Các chỉ tiêu kế hoạch phát triển kinh tế – xã hội của tỉnh so với mục tiêu theo kỳ "
           "(tháng, quý, năm), cấp tỉnh và cấp xã; xu hướng so với kỳ trước.",
     "en": "The province's socio-economic plan indicators against their targets by period "
           "(month, quarter, year), province and commune level, with the trend."},
    "Điều 9a", "socio_economic",
    (*by_sector("socio_economic"), require_indicator("poor_household_rate")),
    defaults={"group_by": "none"},
)
