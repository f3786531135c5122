"""Stations and sensors: MQTT ingestion, time series, SensorThings reads, rules and alerts."""
