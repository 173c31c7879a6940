"""Models built from the layer functions in :mod:`cs231n.layers`."""
