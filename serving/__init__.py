"""HTTP service: create_app(), settings via Depends, routers, error mapping."""
