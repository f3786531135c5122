"""field checks: each layer field's domain and range as a CHECK constraint

Revision ID: 0011
Revises: 0016
Create Date: 2026-12-07 16:30:00

The database refuses what the layer registry forbids, whoever writes: ``layers.fields`` derives
these constraints from the declarations (``layers.tables``), and the migrations test compares them
with the registry. Existing rows must already pass: a row that does not stops the upgrade, naming
the constraint, rather than the constraint being weakened.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, constraint, condition) as ``layers.tables`` derives them from the declarations.
CHECKS: tuple[tuple[str, str, str], ...] = (
    ('province', 'ck_province_area_km2_range',
     '"area_km2" >= 0'),
    ('communes', 'ck_communes_area_km2_range',
     '"area_km2" >= 0'),
    ('communes', 'ck_communes_population_range',
     '"population" >= 0'),
    ('communes', 'ck_communes_unit_type_domain',
     '"unit_type" IN (\'commune\', \'ward\')'),
    ('planning_zones', 'ck_planning_zones_land_use_domain',
     '"land_use" IN (\'residential\', \'commercial\', \'public\', \'green\', \'industrial\', \'transport\', \'agricultural\', \'forest\', \'mixed\')'),
    ('planning_zones', 'ck_planning_zones_plan_level_domain',
     '"plan_level" IN (\'master\', \'detailed\')'),
    ('land_parcels', 'ck_land_parcels_area_m2_range',
     '"area_m2" >= 0'),
    ('land_parcels', 'ck_land_parcels_land_use_type_domain',
     '"land_use_type" IN (\'ONT\', \'ODT\', \'LUA\', \'HNK\', \'CLN\', \'RSX\', \'RPH\', \'TSC\', \'DGD\', \'DYT\', \'DGT\', \'SON\')'),
    ('land_parcels', 'ck_land_parcels_map_sheet_range',
     '"map_sheet" >= 1'),
    ('land_parcels', 'ck_land_parcels_parcel_number_range',
     '"parcel_number" >= 1'),
    ('construction_permits', 'ck_construction_permits_floor_area_m2_range',
     '"floor_area_m2" >= 0'),
    ('construction_permits', 'ck_construction_permits_floors_range',
     '"floors" >= 1 AND "floors" <= 60'),
    ('construction_permits', 'ck_construction_permits_map_sheet_range',
     '"map_sheet" >= 1'),
    ('construction_permits', 'ck_construction_permits_parcel_number_range',
     '"parcel_number" >= 1'),
    ('construction_permits', 'ck_construction_permits_status_domain',
     '"status" IN (\'issued\', \'under_construction\', \'completed\', \'revoked\')'),
    ('housing', 'ck_housing_approval_status_domain',
     '"approval_status" IN (\'pending\', \'approved\', \'rejected\')'),
    ('housing', 'ck_housing_citizen_id_max_length',
     'char_length("citizen_id") <= 12'),
    ('housing', 'ck_housing_head_of_household_max_length',
     'char_length("head_of_household") <= 100'),
    ('housing', 'ck_housing_house_type_domain',
     '"house_type" IN (\'permanent\', \'semi_permanent\', \'temporary\')'),
    ('housing', 'ck_housing_members_range',
     '"members" >= 1 AND "members" <= 30'),
    ('housing', 'ck_housing_poverty_status_domain',
     '"poverty_status" IN (\'poor\', \'near_poor\', \'none\')'),
    ('roads', 'ck_roads_length_km_range',
     '"length_km" >= 0'),
    ('roads', 'ck_roads_road_class_domain',
     '"road_class" IN (\'national\', \'provincial\', \'commune\', \'village\', \'urban\')'),
    ('roads', 'ck_roads_surface_domain',
     '"surface" IN (\'asphalt\', \'concrete\', \'gravel\', \'earth\')'),
    ('roads', 'ck_roads_width_m_range',
     '"width_m" >= 0'),
    ('power_lines', 'ck_power_lines_kind_domain',
     '"kind" IN (\'overhead\', \'underground\')'),
    ('power_lines', 'ck_power_lines_length_km_range',
     '"length_km" >= 0'),
    ('power_lines', 'ck_power_lines_voltage_kv_range',
     '"voltage_kv" >= 0.2 AND "voltage_kv" <= 500'),
    ('water_network', 'ck_water_network_diameter_mm_range',
     '"diameter_mm" >= 10 AND "diameter_mm" <= 3000'),
    ('water_network', 'ck_water_network_kind_domain',
     '"kind" IN (\'supply\', \'drainage\')'),
    ('water_network', 'ck_water_network_length_km_range',
     '"length_km" >= 0'),
    ('water_network', 'ck_water_network_material_domain',
     '"material" IN (\'HDPE\', \'PVC\', \'steel\', \'concrete\')'),
    ('schools', 'ck_schools_building_type_domain',
     '"building_type" IN (\'permanent\', \'semi_permanent\', \'temporary\')'),
    ('schools', 'ck_schools_capacity_range',
     '"capacity" >= 0'),
    ('schools', 'ck_schools_classrooms_range',
     '"classrooms" >= 0'),
    ('schools', 'ck_schools_level_domain',
     '"level" IN (\'preschool\', \'primary\', \'lower_secondary\', \'upper_secondary\', \'multi_level\')'),
    ('schools', 'ck_schools_name_max_length',
     'char_length("name") <= 200'),
    ('schools', 'ck_schools_students_range',
     '"students" >= 0'),
    ('health_facilities', 'ck_health_facilities_beds_range',
     '"beds" >= 0'),
    ('health_facilities', 'ck_health_facilities_building_type_domain',
     '"building_type" IN (\'permanent\', \'semi_permanent\', \'temporary\')'),
    ('health_facilities', 'ck_health_facilities_doctors_range',
     '"doctors" >= 0'),
    ('health_facilities', 'ck_health_facilities_kind_domain',
     '"kind" IN (\'provincial_hospital\', \'health_centre\', \'commune_health_station\', \'clinic\')'),
    ('trees', 'ck_trees_condition_domain',
     '"condition" IN (\'good\', \'fair\', \'poor\', \'dead\')'),
    ('trees', 'ck_trees_height_m_range',
     '"height_m" >= 0 AND "height_m" <= 60'),
    ('trees', 'ck_trees_planted_year_range',
     '"planted_year" >= 1900 AND "planted_year" <= 2100'),
    ('stations', 'ck_stations_capacity_range',
     '"capacity" >= 0'),
    ('stations', 'ck_stations_kind_domain',
     '"kind" IN (\'power_substation\', \'bus_station\', \'water_plant\')'),
    ('iot_stations', 'ck_iot_stations_kind_domain',
     '"kind" IN (\'camera\', \'rain_gauge\', \'water_level\', \'air_quality\')'),
    ('iot_stations', 'ck_iot_stations_status_domain',
     '"status" IN (\'online\', \'offline\', \'maintenance\')'),
)


def upgrade() -> None:
    """Apply this revision."""
    for table, name, condition in CHECKS:
        op.create_check_constraint(name, table, condition)


def downgrade() -> None:
    """Revert this revision."""
    for table, name, _ in reversed(CHECKS):
        op.drop_constraint(name, table, type_="check")
