"""Infrastructure alerts, one module per component of the fleet."""
