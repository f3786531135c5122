"""Sample households: clustered in villages, poverty varying by commune and village."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import shapely

from layers.samples.draw import fit_share, largest_remainder, scaled
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import sample_disc
from layers.samples.names import GROUPS, citizen_ids, people
from layers.samples.reference import ICT, NEAR_POOR_SHARE, POOR_SHARE, REFERENCE_TIME, TOTAL_HOUSEHOLDS
from layers.samples.table import Table
from layers.samples.world import World


def build(world: World) -> Table:
    """Households clustered in villages, poverty varying by commune and village."""
    rng = world.rng("housing")
    table = Table("housing")
    communes = world.communes
    mean_size = np.array([3.9 if c.is_ward else 4.55 for c in communes])
    per_commune = largest_remainder(
        np.array([c.population for c in communes]) / mean_size,
        scaled(TOTAL_HOUSEHOLDS, world.scale),
    )
    hardship = np.array([c.hardship for c in communes])
    ward = np.array([c.is_ward for c in communes])
    town = np.array([c.town is not None and not c.is_ward for c in communes])
    w_poor = hardship * rng.lognormal(0, 0.25, len(communes)) * np.where(town, 0.55, 1.0)
    w_near = np.sqrt(hardship) * rng.lognormal(0, 0.2, len(communes))
    w_near = np.where(ward, 0.3, np.where(town, 0.8, 1.0) * w_near)
    n_total = int(per_commune.sum())
    n_poor = largest_remainder(
        fit_share(w_poor, per_commune, POOR_SHARE, 0.6) * per_commune,
        int(round(POOR_SHARE * n_total)))
    n_near = largest_remainder(
        fit_share(w_near, per_commune, NEAR_POOR_SHARE, 0.3) * per_commune,
        int(round(NEAR_POOR_SHARE * n_total)))

    start_day = date(2024, 2, 1)
    span_days = (date(2025, 10, 31) - start_day).days
    for c, n, k_poor, k_near in zip(communes, per_commune.tolist(), n_poor.tolist(),
                                    n_near.tolist(), strict=True):
        if n == 0:
            continue
        k_near = min(k_near, n - k_poor)
        villages = c.villages
        w = np.array([v.weight for v in villages])
        vid = np.sort(rng.choice(len(villages), size=n, p=w / w.sum()))
        centres = np.array([villages[i].xy for i in vid])
        radius = np.array([villages[i].radius for i in vid])
        xy = sample_disc(rng, c.inner, centres, radius)
        own_group = np.array([villages[i].group for i in vid])
        mixed = rng.choice(len(GROUPS), size=n, p=c.mix)
        groups = np.where(rng.random(n) < 0.85, own_group, mixed)
        # Poverty: the k highest of village effect + ethnic effect + household noise
        # (Gumbel top-k, i.e. sampling without replacement weighted by exp(effects)).
        v_effect = rng.normal(0, 0.9, len(villages))
        kinh = groups == GROUPS.index("kinh")
        score = v_effect[vid] - 1.0 * kinh + rng.gumbel(size=n)
        rank = np.argsort(-score, kind="stable")
        status = np.full(n, "none", dtype=object)
        status[rank[:k_poor]] = "poor"
        status[rank[k_poor:k_poor + k_near]] = "near_poor"
        lam = np.select([status == "poor", status == "near_poor"], [4.25, 3.9], 3.35)
        lam = lam - (0.6 if c.is_ward else 0.0)
        members = np.clip(1 + rng.poisson(lam), 1, 12)
        u = rng.random(n)
        p_temp = np.select([status == "poor", status == "near_poor"], [0.3, 0.14],
                           0.01 if c.is_ward else 0.035)
        p_semi = np.select([status == "poor", status == "near_poor"], [0.5, 0.5],
                           0.15 if c.is_ward else 0.34)
        house = np.where(u < p_temp, "temporary",
                         np.where(u < p_temp + p_semi, "semi_permanent", "permanent"))
        male = rng.random(n) < 0.78
        heads = people(rng, groups, male)
        birth = rng.integers(1950, 2004, size=n)
        ids = citizen_ids(rng, male, birth, world.citizen_ids)
        staff_groups = rng.choice(len(GROUPS), size=4, p=(c.mix + np.eye(len(GROUPS))[
            GROUPS.index("kinh")]) / 2)
        staff = people(rng, staff_groups, rng.random(4) < 0.5)
        surveyor = [staff[i] for i in rng.integers(0, 4, size=n)]
        codes = [f"LC-{c.code}-{i:05d}" for i in range(1, n + 1)]
        n_photos = rng.choice([1, 2, 3], size=n, p=[0.35, 0.45, 0.2])
        photos = [[f"photos/{code}-{k}.jpg" for k in range(1, m + 1)]
                  for code, m in zip(codes, n_photos.tolist(), strict=True)]
        days = rng.integers(0, span_days + 1, size=n)
        days -= (start_day.weekday() + days) % 7 == 6  # no surveys on Sundays
        minutes = rng.integers(7 * 60 + 30, 16 * 60 + 30, size=n)
        surveyed = (_local_midnight(start_day) + days.astype("timedelta64[D]")
                    + minutes.astype("timedelta64[m]"))
        recent = surveyed > _utc64(REFERENCE_TIME - timedelta(days=45))
        v = rng.random(n)
        approval = np.where(recent, np.where(v < 0.6, "pending", "approved"),
                            np.where(v < 0.03, "pending",
                                     np.where(v < 0.05, "rejected", "approved")))
        delay = rng.integers(1, 30, size=n).astype("timedelta64[D]")
        updated = np.where(approval == "pending", surveyed,
                           np.minimum(surveyed + delay, _utc64(REFERENCE_TIME)))
        table.extend(
            shapely.points(xy),
            household_code=codes, head_of_household=heads, citizen_id=ids,
            village=[villages[i].label for i in vid], members=members,
            poverty_status=status, house_type=house, photo_refs=photos,
            surveyed_at=surveyed, surveyed_by=surveyor, approval_status=approval,
            commune_code=[c.code] * n, created_at=surveyed, updated_at=updated,
        )
    return table


def _utc64(moment: datetime) -> np.datetime64:
    """An aware datetime as a naive UTC numpy datetime64 (seconds)."""
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "s")


def _local_midnight(day: date) -> np.datetime64:
    return _utc64(datetime(day.year, day.month, day.day, tzinfo=ICT))


GENERATOR = SampleGenerator(build)
