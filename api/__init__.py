"""The composition root: HTTP application, OGC API mount and command line."""
