"""The router host: Starlette app (app.py), configuration (config.py), startup (host.py), auth and
errors, the OpenAPI document, `unhardcoded serve` (cli.py), and the benchmark pass-through."""
