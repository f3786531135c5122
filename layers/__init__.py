"""The province's layers: one declaration each, and what derives from it."""
