"""Notes: a small JSON API on Starlette and PostgreSQL, deployed by Slipway as a second example app."""
