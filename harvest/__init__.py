"""Harvesting: the departments' own systems pulled into the layers on a schedule, through the
import pipeline, from declarations kept in the database."""
