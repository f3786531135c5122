"""One module per layer, named by the layer id, each exporting ``GENERATOR``."""
