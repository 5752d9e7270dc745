"""HTTP routers; the only modules that know about status codes besides serving.errors."""
