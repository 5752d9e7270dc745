"""Services: one per kind of result (leads, forecasts), between the routers and the core."""
