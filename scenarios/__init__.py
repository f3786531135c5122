"""Operating scenarios: queries over a selection that measure indicators against targets."""
