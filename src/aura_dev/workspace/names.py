"""The rules for names aura checks (service names, Dapr app ids, DNS labels), each problem
stated as the reason that actually holds, and suggestions that pass the same rules.

A suggestion is only useful if it is valid itself: `suggest_label` always returns a
DNS label (so an app id, a service name, a component name) that is not in `taken`.
"""

from __future__ import annotations

import re
import reprlib
import unicodedata
from collections.abc import Collection

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_LABEL = 63
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_SERVICE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_SHOWN = 40  # characters of a long name shown in a message


def shown(text: str, limit: int = _SHOWN) -> str:
    """`text` for a message: quoted, and cut in the middle when long."""
    if len(text) > limit:
        half = (limit - 1) // 2
        text = f"{text[:half]}…{text[-half:]}"
    return repr(text) if _needs_repr(text) else f"'{text}'"


def shown_value(value: object) -> str:
    """Any value for a message, cut when long."""
    return shown(value) if isinstance(value, str) else reprlib.repr(value)


def listing(names: Collection[str], limit: int = 12) -> str:
    """Names for a hint: sorted, each cut when long, at most `limit` of them."""
    ordered = sorted(names)
    text = ", ".join(shown(name).strip("'") for name in ordered[:limit])
    return text + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def _needs_repr(text: str) -> bool:
    return "'" in text or any(not ch.isprintable() for ch in text)


def _chars(bad: Collection[str]) -> str:
    listed = sorted(bad)[:5]
    text = ", ".join(repr(ch) if not ch.isprintable() or ch == "'" else f"'{ch}'" for ch in listed)
    return text + (", …" if len(bad) > len(listed) else "")


def _characters_problem(text: str, what: str, allowed: frozenset[str], described: str, why: str = "") -> str | None:
    """The problems names share: empty, too long for a DNS label, characters outside `allowed`."""
    if not text:
        return f"{what} is empty"
    if len(text) > MAX_LABEL:
        return f"{what} {shown(text)} is {len(text)} characters long; at most {MAX_LABEL} are allowed"
    bad = set(text) - allowed
    if bad:
        return f"{what} {shown(text)} holds {_chars(bad)}: only {described} are allowed{why}"
    return None


def dns_label_problem(text: str, what: str) -> str | None:
    """Why `text` is not a DNS label (RFC 1123: ≤ 63 of a-z, 0-9, '-', not at either end), or None."""
    problem = _characters_problem(text, what, _LABEL_CHARS, "lowercase letters a-z, digits and '-'",
                                  " (it must be a DNS label)")
    if problem is None and (text[0] == "-" or text[-1] == "-"):
        problem = f"{what} {shown(text)} starts or ends with '-': it must start and end with a letter or digit"
    return problem


def app_id_problem(app_id: str) -> str | None:
    """Why daprd (or Kubernetes, where ids become DNS names) would refuse `app_id`, or None."""
    if "." in app_id:
        return f"app id {shown(app_id)} contains a dot, which daprd refuses"
    return dns_label_problem(app_id, "app id")


def service_name_problem(name: str) -> str | None:
    """Why `name` cannot name a service (it labels processes, log files and units), or None."""
    problem = _characters_problem(name, "service name", _SERVICE_CHARS, "ASCII letters, digits, '.', '_' and '-'")
    if problem is None and not name[0].isalnum():
        problem = f"service name {shown(name)} starts with {name[0]!r}: it must start with a letter or digit"
    return problem


def suggest_label(text: str, *, taken: Collection[str] = (), fallback: str = "app") -> str:
    """A DNS label made from `text` (accents dropped: 'café' → 'cafe'), not in `taken`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_LABEL].rstrip("-") or fallback
    label, number = base, 2
    while label in taken:
        suffix = f"-{number}"
        label = base[: MAX_LABEL - len(suffix)].rstrip("-") + suffix
        number += 1
    return label
