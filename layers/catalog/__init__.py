"""One module per layer, each exporting ``LAYER``."""
