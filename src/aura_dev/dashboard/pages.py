"""The dashboard's pages and a service's panels, as data: the navigation, the routes and
the service page's tabs are all made from these lists.

A page is a route, a Jinja2 template (extending `base.html`) and a small script in
`static/`; a panel is a tab of the service page: a template fragment and a script that
fills it.  Both scripts get the shared helpers of `static/common.js` (the event stream,
the snapshot, actions)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    route: str
    name: str  # the route's name, and the key of its navigation link
    title: str
    template: str
    script: str
    in_nav: bool = True


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str  # a fragment included in service.html
    script: str


PAGES: list[Page] = [
    Page("/", "units", "Units", "units.html", "units.js"),
    Page("/logs", "logs", "Logs", "logs.html", "logs.js"),
    Page("/traces", "traces", "Traces", "traces.html", "traces.js"),
    Page("/services/{name}", "service", "Service", "service.html", "service.js", in_nav=False),
]

SERVICE_PANELS: list[Panel] = [
    Panel("dapr", "Dapr", "panels/dapr.html", "panels/dapr.js"),
    Panel("process", "Process & env", "panels/process.html", "panels/process.js"),
    Panel("metrics", "Metrics", "panels/metrics.html", "panels/metrics.js"),
]
