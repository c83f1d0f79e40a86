"""The dashboard: the running stack in a browser, served by the supervisor itself.

Layout — each page is a route, a template and a small script:

- `pages.py`    the page registry (route, template, script, title); the navigation is made from it
- `app.py`      the Starlette application: pages, the JSON API, the event stream, static assets
- `stream.py`   one bounded queue per open page, fed by the engine's events hub
- `lines.py`    log lines as the browser gets them (the console's level and colours)
- `dapr_view.py` a sidecar's own `/v1.0/metadata`, its argv, its app's env (masked)
- `guard.py`    the security middleware (Host, token/cookie, same origin)
- `hook.py`     wiring into the supervisor (a port, the snapshot record, start after `up`)
- `access.py`   the per-run token, kept in a private file (read by `aura dev dashboard`)
- `server.py`   uvicorn inside the supervisor's own event loop
"""
