"""Core of the Lai Châu IOC: settings, database access, CRS and errors; no web imports."""
