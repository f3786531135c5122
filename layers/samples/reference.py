"""The fixed figures the samples are drawn from: seed, reference instants, province totals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

DEFAULT_SEED = 20250701
ICT = timezone(timedelta(hours=7))
# Every "recent" timestamp is relative to this instant, never to now(), so reloads are identical.
REFERENCE_TIME = datetime(2025, 11, 30, 9, 0, tzinfo=ICT)
BOUNDARIES_VALID_FROM = datetime(2025, 7, 1, 0, 0, tzinfo=ICT)

PROVINCE_CODE = "12"
PROVINCE_NAME_EN = "Lai Chau"
PROVINCE_AREA_KM2 = 9068.73
TOTAL_POPULATION = 500_000  # synthetic 2024-25 estimate, spread over the communes
TOTAL_HOUSEHOLDS = 107_700  # 20,961 poor households = 19.46 % (2024)
POOR_SHARE = 0.1946
NEAR_POOR_SHARE = 0.0933
# Approximate centre of the provincial capital (the former Lai Châu city), lon/lat.
CAPITAL_CENTRE = (103.4585, 22.3965)
CAPITAL_DISTRICT = "Thành phố Lai Châu"
CAPITAL = "Lai Châu"
POWER_OPERATOR = "Công ty Điện lực Lai Châu"
WATER_OPERATOR = "Công ty Cổ phần Nước sạch Lai Châu"
