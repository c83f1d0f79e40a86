"""`{name}` placeholders in commands, env values and component files.

They are resolved after ports are allocated.  `{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

PLACEHOLDERS: dict[str, str] = {
    "port": "the app's port",
    "app_port": "the app's port (same as {port})",
    "app_id": "the Dapr app id",
    "name": "the service name",
    "dapr_http_port": "the sidecar's HTTP API port",
    "dapr_grpc_port": "the sidecar's gRPC API port",
    "dapr_metrics_port": "the sidecar's metrics port",
    "dapr_internal_grpc_port": "the sidecar's internal gRPC port",
    "redis_host": "host:port of the workspace's Redis",
    "redis_port": "the Redis port",
    "placement_host": "host:port of the placement service",
    "scheduler_host": "host:port of the scheduler service",
    "service_dir": "the service's folder (absolute)",
    "workspace_dir": "the workspace folder (absolute)",
}

NEEDS_APP_PORT = {"port", "app_port"}
NEEDS_SIDECAR = {"dapr_http_port", "dapr_grpc_port", "dapr_metrics_port", "dapr_internal_grpc_port", "app_id"}
NEEDS_REDIS = {"redis_host", "redis_port"}


class PlaceholderSyntaxError(ValueError):
    pass


def placeholders_in(text: str) -> list[str]:
    """Names of the `{placeholders}` in `text`, in order of appearance."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PlaceholderSyntaxError(
            f"{exc} (write {{{{ and }}}} for literal braces)"
        ) from None
    names = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if spec or conversion:
            raise PlaceholderSyntaxError(
                f"'{{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}' is not a "
                "placeholder (write {{ and }} for literal braces)"
            )
        names.append(field)
    return names


def resolve(text: str, values: Mapping[str, str | int]) -> str:
    """Substitute placeholders; names not in `values` are an error (validated earlier)."""
    try:
        return text.format_map({k: str(v) for k, v in values.items()})
    except KeyError as exc:
        raise PlaceholderSyntaxError(f"unknown placeholder {{{exc.args[0]}}}") from None
