"""Vector and raster tiles of the layers (built in PostGIS), their cache and styles."""
