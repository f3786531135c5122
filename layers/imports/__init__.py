"""Importing the departments' files into layers: read, map, validate, then all or nothing."""
