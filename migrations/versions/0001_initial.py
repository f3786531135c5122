"""initial schema: layer tables and VN-2000 CRSs

Revision ID: 0001
Revises:
Create Date: 2026-11-30 12:07:28.297571
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from pyproj import CRS
from sqlalchemy.dialects import postgresql

from gis_core.crs import VN2000_TM3_ZONES, vn2000_tm3_proj4

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    # PostGIS 3.3's spatial_ref_sys predates the VN-2000 TM-3 zones (EPSG:9205-9218); without
    # these rows ST_Transform cannot reach the CRSs Vietnamese cadastral data arrives in.
    insert = sa.text(
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
        "VALUES (:srid, 'EPSG', :srid, :srtext, :proj4) ON CONFLICT (srid) DO NOTHING"
    )
    for srid, meridian in VN2000_TM3_ZONES.items():
        op.get_bind().execute(insert, {
            "srid": srid, "srtext": CRS.from_epsg(srid).to_wkt("WKT1_GDAL"),
            "proj4": vn2000_tm3_proj4(meridian),
        })
    op.create_geospatial_table('communes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('code', sa.Text(), nullable=False, comment='Mã đơn vị'),
    sa.Column('name', sa.Text(), nullable=False, comment='Tên'),
    sa.Column('full_name', sa.Text(), nullable=False, comment='Tên đầy đủ'),
    sa.Column('name_en', sa.Text(), nullable=True, comment='Tên không dấu'),
    sa.Column('unit_type', sa.Text(), nullable=False, comment='Loại đơn vị'),
    sa.Column('area_km2', sa.Double(), nullable=True, comment='Diện tích (km²)'),
    sa.Column('population', sa.Integer(), nullable=True, comment='Dân số (ước tính)'),
    sa.Column('predecessor_codes', postgresql.ARRAY(sa.Text()), nullable=True, comment='Mã các đơn vị trước sáp nhập'),
    sa.Column('predecessor_names', postgresql.ARRAY(sa.Text()), nullable=True, comment='Các đơn vị trước sáp nhập'),
    sa.Column('legal_basis', sa.Text(), nullable=True, comment='Căn cứ pháp lý'),
    sa.Column('valid_from', sa.Date(), nullable=True, comment='Hiệu lực từ'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communes'))
    )
    op.create_geospatial_index('idx_communes_geom', 'communes', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_communes_code'), 'communes', ['code'], unique=False)
    op.create_geospatial_table('construction_permits',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('permit_number', sa.Text(), nullable=False, comment='Số giấy phép'),
    sa.Column('permit_date', sa.Date(), nullable=False, comment='Ngày cấp'),
    sa.Column('applicant_name', sa.Text(), nullable=True, comment='Chủ đầu tư'),
    sa.Column('applicant_id_number', sa.Text(), nullable=True, comment='Số CCCD chủ đầu tư'),
    sa.Column('map_sheet', sa.Integer(), nullable=True, comment='Số tờ bản đồ'),
    sa.Column('parcel_number', sa.Integer(), nullable=True, comment='Số thửa'),
    sa.Column('floors', sa.Integer(), nullable=True, comment='Số tầng'),
    sa.Column('floor_area_m2', sa.Double(), nullable=True, comment='Tổng diện tích sàn (m²)'),
    sa.Column('status', sa.Text(), nullable=False, comment='Tình trạng'),
    sa.Column('commune_code', sa.Text(), nullable=False, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_construction_permits'))
    )
    op.create_geospatial_index('idx_construction_permits_geom', 'construction_permits', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_construction_permits_commune_code'), 'construction_permits', ['commune_code'], unique=False)
    op.create_index(op.f('ix_construction_permits_permit_number'), 'construction_permits', ['permit_number'], unique=False)
    op.create_geospatial_table('health_facilities',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False, comment='Tên cơ sở'),
    sa.Column('kind', sa.Text(), nullable=False, comment='Loại cơ sở'),
    sa.Column('beds', sa.Integer(), nullable=True, comment='Số giường bệnh'),
    sa.Column('doctors', sa.Integer(), nullable=True, comment='Số bác sĩ'),
    sa.Column('building_type', sa.Text(), nullable=True, comment='Loại công trình'),
    sa.Column('commune_code', sa.Text(), nullable=False, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_facilities'))
    )
    op.create_geospatial_index('idx_health_facilities_geom', 'health_facilities', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_health_facilities_commune_code'), 'health_facilities', ['commune_code'], unique=False)
    op.create_index(op.f('ix_health_facilities_name'), 'health_facilities', ['name'], unique=False)
    op.create_geospatial_table('housing',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('household_code', sa.Text(), nullable=False, comment='Mã hộ'),
    sa.Column('head_of_household', sa.Text(), nullable=False, comment='Chủ hộ'),
    sa.Column('citizen_id', sa.Text(), nullable=True, comment='Số CCCD chủ hộ'),
    sa.Column('village', sa.Text(), nullable=True, comment='Thôn, bản'),
    sa.Column('members', sa.Integer(), nullable=False, comment='Số nhân khẩu'),
    sa.Column('poverty_status', sa.Text(), nullable=False, comment='Hộ nghèo'),
    sa.Column('house_type', sa.Text(), nullable=False, comment='Loại nhà'),
    sa.Column('photo_refs', postgresql.ARRAY(sa.Text()), nullable=True, comment='Ảnh'),
    sa.Column('surveyed_at', sa.DateTime(timezone=True), nullable=False, comment='Thời điểm khảo sát'),
    sa.Column('surveyed_by', sa.Text(), nullable=True, comment='Người khảo sát'),
    sa.Column('approval_status', sa.Text(), nullable=False, comment='Trạng thái duyệt'),
    sa.Column('commune_code', sa.Text(), nullable=False, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing'))
    )
    op.create_geospatial_index('idx_housing_geom', 'housing', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_housing_commune_code'), 'housing', ['commune_code'], unique=False)
    op.create_index(op.f('ix_housing_household_code'), 'housing', ['household_code'], unique=False)
    op.create_geospatial_table('iot_stations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False, comment='Tên thiết bị'),
    sa.Column('kind', sa.Text(), nullable=False, comment='Loại'),
    sa.Column('status', sa.Text(), nullable=False, comment='Trạng thái'),
    sa.Column('last_reading_at', sa.DateTime(timezone=True), nullable=True, comment='Thời điểm đo gần nhất'),
    sa.Column('last_value', sa.Double(), nullable=True, comment='Giá trị đo gần nhất'),
    sa.Column('unit', sa.Text(), nullable=True, comment='Đơn vị đo'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iot_stations'))
    )
    op.create_geospatial_index('idx_iot_stations_geom', 'iot_stations', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_iot_stations_commune_code'), 'iot_stations', ['commune_code'], unique=False)
    op.create_index(op.f('ix_iot_stations_name'), 'iot_stations', ['name'], unique=False)
    op.create_geospatial_table('land_parcels',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('map_sheet', sa.Integer(), nullable=False, comment='Số tờ bản đồ'),
    sa.Column('parcel_number', sa.Integer(), nullable=False, comment='Số thửa'),
    sa.Column('area_m2', sa.Double(), nullable=False, comment='Diện tích (m²)'),
    sa.Column('land_use_type', sa.Text(), nullable=False, comment='Loại đất'),
    sa.Column('commune_code', sa.Text(), nullable=False, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_land_parcels'))
    )
    op.create_geospatial_index('idx_land_parcels_geom', 'land_parcels', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_land_parcels_commune_code'), 'land_parcels', ['commune_code'], unique=False)
    op.create_geospatial_table('planning_zones',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('plan_name', sa.Text(), nullable=False, comment='Tên đồ án'),
    sa.Column('plan_level', sa.Text(), nullable=False, comment='Cấp quy hoạch'),
    sa.Column('land_use', sa.Text(), nullable=False, comment='Chức năng sử dụng đất'),
    sa.Column('zone_code', sa.Text(), nullable=True, comment='Ký hiệu ô đất'),
    sa.Column('decision_number', sa.Text(), nullable=False, comment='Số quyết định phê duyệt'),
    sa.Column('decision_date', sa.Date(), nullable=True, comment='Ngày phê duyệt'),
    sa.Column('drawing_url', sa.Text(), nullable=True, comment='Bản vẽ'),
    sa.Column('report_url', sa.Text(), nullable=True, comment='Thuyết minh'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_zones'))
    )
    op.create_geospatial_index('idx_planning_zones_geom', 'planning_zones', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_planning_zones_commune_code'), 'planning_zones', ['commune_code'], unique=False)
    op.create_geospatial_table('power_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=True, comment='Tên tuyến'),
    sa.Column('voltage_kv', sa.Double(), nullable=False, comment='Cấp điện áp (kV)'),
    sa.Column('kind', sa.Text(), nullable=False, comment='Loại'),
    sa.Column('operator', sa.Text(), nullable=True, comment='Đơn vị quản lý'),
    sa.Column('length_km', sa.Double(), nullable=True, comment='Chiều dài (km)'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_power_lines'))
    )
    op.create_geospatial_index('idx_power_lines_geom', 'power_lines', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_power_lines_commune_code'), 'power_lines', ['commune_code'], unique=False)
    op.create_geospatial_table('province',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('code', sa.Text(), nullable=False, comment='Mã tỉnh'),
    sa.Column('name', sa.Text(), nullable=False, comment='Tên'),
    sa.Column('name_en', sa.Text(), nullable=True, comment='Tên tiếng Anh'),
    sa.Column('area_km2', sa.Double(), nullable=True, comment='Diện tích (km²)'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_province'))
    )
    op.create_geospatial_index('idx_province_geom', 'province', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_province_code'), 'province', ['code'], unique=False)
    op.create_geospatial_table('roads',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=True, comment='Tên đường'),
    sa.Column('road_class', sa.Text(), nullable=False, comment='Cấp đường'),
    sa.Column('surface', sa.Text(), nullable=False, comment='Kết cấu mặt đường'),
    sa.Column('width_m', sa.Double(), nullable=True, comment='Bề rộng (m)'),
    sa.Column('length_km', sa.Double(), nullable=True, comment='Chiều dài (km)'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roads'))
    )
    op.create_geospatial_index('idx_roads_geom', 'roads', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_roads_commune_code'), 'roads', ['commune_code'], unique=False)
    op.create_geospatial_table('schools',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False, comment='Tên trường'),
    sa.Column('level', sa.Text(), nullable=False, comment='Cấp học'),
    sa.Column('students', sa.Integer(), nullable=True, comment='Số học sinh'),
    sa.Column('capacity', sa.Integer(), nullable=True, comment='Quy mô (chỗ học)'),
    sa.Column('classrooms', sa.Integer(), nullable=True, comment='Số phòng học'),
    sa.Column('building_type', sa.Text(), nullable=True, comment='Loại công trình'),
    sa.Column('commune_code', sa.Text(), nullable=False, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools'))
    )
    op.create_geospatial_index('idx_schools_geom', 'schools', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_schools_commune_code'), 'schools', ['commune_code'], unique=False)
    op.create_index(op.f('ix_schools_name'), 'schools', ['name'], unique=False)
    op.create_geospatial_table('stations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False, comment='Tên'),
    sa.Column('kind', sa.Text(), nullable=False, comment='Loại'),
    sa.Column('capacity', sa.Double(), nullable=True, comment='Công suất'),
    sa.Column('capacity_unit', sa.Text(), nullable=True, comment='Đơn vị công suất'),
    sa.Column('operator', sa.Text(), nullable=True, comment='Đơn vị quản lý'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations'))
    )
    op.create_geospatial_index('idx_stations_geom', 'stations', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_stations_commune_code'), 'stations', ['commune_code'], unique=False)
    op.create_geospatial_table('trees',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('species', sa.Text(), nullable=False, comment='Loài cây'),
    sa.Column('height_m', sa.Double(), nullable=True, comment='Chiều cao (m)'),
    sa.Column('planted_year', sa.Integer(), nullable=True, comment='Năm trồng'),
    sa.Column('condition', sa.Text(), nullable=True, comment='Tình trạng'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trees'))
    )
    op.create_geospatial_index('idx_trees_geom', 'trees', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_trees_commune_code'), 'trees', ['commune_code'], unique=False)
    op.create_geospatial_table('water_network',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False, comment='Loại'),
    sa.Column('diameter_mm', sa.Integer(), nullable=True, comment='Đường kính (mm)'),
    sa.Column('material', sa.Text(), nullable=True, comment='Vật liệu'),
    sa.Column('operator', sa.Text(), nullable=True, comment='Đơn vị quản lý'),
    sa.Column('length_km', sa.Double(), nullable=True, comment='Chiều dài (km)'),
    sa.Column('commune_code', sa.Text(), nullable=True, comment='Mã xã'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_water_network'))
    )
    op.create_geospatial_index('idx_water_network_geom', 'water_network', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_water_network_commune_code'), 'water_network', ['commune_code'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f('ix_water_network_commune_code'), table_name='water_network')
    op.drop_geospatial_index('idx_water_network_geom', table_name='water_network', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('water_network')
    op.drop_index(op.f('ix_trees_commune_code'), table_name='trees')
    op.drop_geospatial_index('idx_trees_geom', table_name='trees', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('trees')
    op.drop_index(op.f('ix_stations_commune_code'), table_name='stations')
    op.drop_geospatial_index('idx_stations_geom', table_name='stations', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('stations')
    op.drop_index(op.f('ix_schools_name'), table_name='schools')
    op.drop_index(op.f('ix_schools_commune_code'), table_name='schools')
    op.drop_geospatial_index('idx_schools_geom', table_name='schools', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('schools')
    op.drop_index(op.f('ix_roads_commune_code'), table_name='roads')
    op.drop_geospatial_index('idx_roads_geom', table_name='roads', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('roads')
    op.drop_index(op.f('ix_province_code'), table_name='province')
    op.drop_geospatial_index('idx_province_geom', table_name='province', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('province')
    op.drop_index(op.f('ix_power_lines_commune_code'), table_name='power_lines')
    op.drop_geospatial_index('idx_power_lines_geom', table_name='power_lines', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('power_lines')
    op.drop_index(op.f('ix_planning_zones_commune_code'), table_name='planning_zones')
    op.drop_geospatial_index('idx_planning_zones_geom', table_name='planning_zones', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('planning_zones')
    op.drop_index(op.f('ix_land_parcels_commune_code'), table_name='land_parcels')
    op.drop_geospatial_index('idx_land_parcels_geom', table_name='land_parcels', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('land_parcels')
    op.drop_index(op.f('ix_iot_stations_name'), table_name='iot_stations')
    op.drop_index(op.f('ix_iot_stations_commune_code'), table_name='iot_stations')
    op.drop_geospatial_index('idx_iot_stations_geom', table_name='iot_stations', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('iot_stations')
    op.drop_index(op.f('ix_housing_household_code'), table_name='housing')
    op.drop_index(op.f('ix_housing_commune_code'), table_name='housing')
    op.drop_geospatial_index('idx_housing_geom', table_name='housing', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('housing')
    op.drop_index(op.f('ix_health_facilities_name'), table_name='health_facilities')
    op.drop_index(op.f('ix_health_facilities_commune_code'), table_name='health_facilities')
    op.drop_geospatial_index('idx_health_facilities_geom', table_name='health_facilities', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('health_facilities')
    op.drop_index(op.f('ix_construction_permits_permit_number'), table_name='construction_permits')
    op.drop_index(op.f('ix_construction_permits_commune_code'), table_name='construction_permits')
    op.drop_geospatial_index('idx_construction_permits_geom', table_name='construction_permits', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('construction_permits')
    op.drop_index(op.f('ix_communes_code'), table_name='communes')
    op.drop_geospatial_index('idx_communes_geom', table_name='communes', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('communes')
    op.execute(
        sa.text("DELETE FROM spatial_ref_sys WHERE srid = ANY(:srids) AND proj4text LIKE '%towgs84%'")
        .bindparams(srids=list(VN2000_TM3_ZONES))
    )
