"""A property-based fuzz of the workspace loader (issue 22).

Valid workspaces are damaged — keys deleted, misspelt, retyped, renamed, shared through
anchors, values made huge, negative, fractional, unicode, empty, very long or deeply
nested; texts given tabs, BOMs, bytes that are not UTF-8, truncation, stray YAML — and
every result must satisfy `support.workspace_oracle`: only aura's own errors (exit 2),
every problem at a line that exists, no false reason, every proposed fix a fix.

Bounded for CI by `EXAMPLES` inputs per property, not by time: no per-input deadline, because
on a shared, loaded machine one slow input would fail a test that checks correctness, not speed
(a hang is still stopped by pytest-timeout).  The inputs that found bugs are kept as fixtures in
`tests/fixtures/workspace-fuzz/`.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.workspace_oracle import build_root, check_all, dump, load, parsed

EXAMPLES = {"tree": 500, "text": 500, "merge": 150}


SCALE = float(os.environ.get("AURA_FUZZ_SCALE", "1"))  # e.g. 20 to hunt longer than CI does


def fuzz(kind: str) -> settings:
    return settings(max_examples=int(EXAMPLES[kind] * SCALE), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


MINIMAL: dict[str, Any] = {"name": "demo", "services": {"api": {"path": "svc/api", "command": ["python", "app.py"]}}}
FULL: dict[str, Any] = {
    "name": "demo",
    "dapr": {"logLevel": "debug", "resources": ["components"], "config": "config.yaml", "apiToken": True},
    "infra": {"backend": "native", "redis": {"port": 6380, "password": "pw"}, "scheduler": {"enabled": False}},
    "logs": {"maxFileSize": "1MB"},
    "kubernetes": {"namespace": "demo", "redis": {"mode": "bundled"}},
    "services": {
        "api": {
            "path": "svc/api", "command": ["python", "-m", "uvicorn", "app:app", "--port", "{port}"],
            "env": {"PEER": "{app_id}", "N": 1}, "envFiles": [".env"], "appPort": 8080,
            "healthCheck": {"http": "/healthz", "timeout": "30s"}, "dependsOn": ["worker"],
            "reload": {"watch": ["*.py"], "debounce": "50ms"},
            "restart": {"policy": "always", "maxRestarts": 3, "backoff": {"initial": "1s"}},
            "dapr": {"appId": "api", "httpPort": 3500, "logLevel": "warn", "resources": ["components"]},
        },
        "worker": {"path": "svc/worker", "command": "python worker.py", "appPort": None, "healthCheck": "none",
                   "dapr": {"enabled": False}},
    },
}
SAMPLE = yaml.safe_load((Path(__file__).resolve().parents[2] / "sample-workspace" / "aura.yaml").read_text())
SEEDS = [MINIMAL, FULL, SAMPLE]

ODD_TEXT = ["", " ", "auto", "none", "tcp", "/healthz", "10s", "-5s", "1e400", "{port}", "{prot}", "{", "}",
            "{{x}}", "{port!r}", "svc/api", "svc/worker", "afile", "nowhere", "loop", "dangling", "svc", ".", "/",
            "config.yaml", "components", "x" * 300, "x/" * 3000, "nul\x00byte", "café", "Ünïcödé", "a" * 70,
            "my.app", "-lead", "trail-", "UPPER", "always", "no", "on-failure", "[/bold]", "2001-13-45",
            "x" * 20_000, "\t", "line\nbreak", "\u2028", "api", "worker", "conversation", "<<", "="]
scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 65535, 65536, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=30),
    st.booleans(), st.none(), st.dates(), st.binary(max_size=8),
)
keys = st.one_of(st.sampled_from(["path", "command", "appPort", "dapr", "appId", "x-ext", "<<", "services", "name"]),
                 st.text(min_size=1, max_size=12), st.integers(-5, 5), st.none(), st.booleans())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=6)


def _entries(tree: Any) -> list[tuple[Any, ...]]:
    """Every path to a value below the root, in document order, without recursion (values nest
    hundreds of levels deep).  A "share" can make the tree contain itself (dumped as a recursive
    alias, which aura must refuse): a container already above a path is listed, not entered again."""
    found: list[tuple[Any, ...]] = []
    pending: list[tuple[Any, tuple[Any, ...], frozenset[int]]] = [(tree, (), frozenset())]
    while pending:
        node, path, above = pending.pop()
        if path:
            found.append(path)
        if id(node) in above:
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        pending.extend((value, path + (key,), above | {id(node)}) for key, value in reversed(list(items)))
    return found


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        tree = tree[part]
    return tree


def _misspelt(key: Any, draw: st.DrawFn) -> Any:
    text = str(key)
    how = draw(st.sampled_from(["drop", "swapcase", "insert", "transpose", "lower", "accent"]))
    at = draw(st.integers(0, max(0, len(text) - 1)))
    if how == "drop" and len(text) > 1:
        return text[:at] + text[at + 1:]
    if how == "swapcase":
        return text.swapcase()
    if how == "transpose" and len(text) > 2:
        at = min(at, len(text) - 2)
        return text[:at] + text[at + 1] + text[at] + text[at + 2:]
    if how == "lower":
        return text.lower()
    if how == "accent":
        return text + "é"
    return text[:at] + draw(st.sampled_from("aeio_-.")) + text[at:]


def _rekey(mapping: dict[Any, Any], old: Any, new: Any) -> None:
    items = [(new if key == old else key, value) for key, value in mapping.items()]
    mapping.clear()
    mapping.update(items)


@st.composite
def damaged_trees(draw: st.DrawFn) -> Any:
    tree = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        entries = _entries(tree)
        op = draw(st.sampled_from(["delete", "misspell", "retype", "wrap", "share", "add", "extension", "deep",
                                   "rename-service", "reuse-id"]))
        if op == "extension" or not entries:
            if isinstance(tree, dict):
                tree[draw(st.sampled_from(["x-common", "x-", "x-é", "x-notes"]))] = draw(values)
            continue
        path = draw(st.sampled_from(entries))
        parent = _parent(tree, path)
        if op == "delete":
            del parent[path[-1]]
        elif op == "misspell" and isinstance(parent, dict):
            _rekey(parent, path[-1], _misspelt(path[-1], draw))
        elif op == "retype":
            parent[path[-1]] = draw(values)
        elif op == "wrap":
            parent[path[-1]] = draw(st.sampled_from([[parent[path[-1]]], {"value": parent[path[-1]]}]))
        elif op == "share":  # safe_dump writes a shared value as an anchor and an alias
            other = draw(st.sampled_from(entries))
            if path[: len(other)] != other and other[: len(path)] != path:
                parent[path[-1]] = _parent(tree, other)[other[-1]]
        elif op == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(keys)] = draw(values)
        elif op == "deep":
            depth, nested = draw(st.integers(1, 90)), draw(scalars)
            for _ in range(depth):
                nested = draw(st.sampled_from([[nested], {"k": nested}]))
            parent[path[-1]] = nested
        elif op in ("rename-service", "reuse-id") and isinstance(tree.get("services"), dict) and tree["services"]:
            names = list(tree["services"])
            name = draw(st.sampled_from(names))
            if op == "rename-service":
                _rekey(tree["services"], name, draw(st.sampled_from(ODD_TEXT) | st.text(max_size=70)))
            elif isinstance(tree["services"][name], dict):
                tree["services"][name]["dapr"] = {"appId": draw(st.sampled_from(names + ODD_TEXT[-6:]))}
    return tree


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_root(tmp_path_factory.mktemp("fuzz"))


@fuzz("tree")
@given(tree=damaged_trees())
def test_damaged_workspaces_get_true_located_errors_and_working_hints(root: Path, tree: Any) -> None:
    raw = dump(tree)
    check_all(root / "aura.yaml", raw, parsed(raw), root)


@st.composite
def damaged_texts(draw: st.DrawFn) -> bytes:
    raw = dump(draw(st.sampled_from(SEEDS) | damaged_trees()))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        op = draw(st.sampled_from(["bytes", "bom", "tabs", "truncate", "crlf", "cr", "breaks", "syntax", "dupline",
                                   "utf16"]))
        if op == "bytes":
            raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
        elif op == "bom":
            raw = draw(st.sampled_from([b"\xef\xbb\xbf" + raw, raw[:at] + b"\xef\xbb\xbf" + raw[at:]]))
        elif op == "tabs":
            raw = raw.replace(b"\n  ", b"\n\t", draw(st.integers(1, 5)))
        elif op == "truncate":
            raw = raw[:at]
        elif op in ("crlf", "cr"):
            raw = raw.replace(b"\n", b"\r\n" if op == "crlf" else b"\r")
        elif op == "breaks":
            raw = raw[:at] + draw(st.sampled_from(["\u2028", "\x85", "\u2029", "\x0b", "\x0c"])).encode() + raw[at:]
        elif op == "syntax":
            fragment = draw(st.sampled_from(["&a ", "*a", "*nowhere", "<<: *a\n", "<<: 5\n",
                                             "!!python/object:os.system ",
                                             "!!binary ", "!!int ", "!!timestamp ", "!!bool ", "!!float ", "!!set ",
                                             "? [a, b]\n: c\n", "{", "]", "---\n", "...\n", "%YAML 1.1\n", "!custom ",
                                             "'", '"', "- ", ": ", "#", "|\n", ">-\n", "\x00", "\x07"]))
            raw = raw[:at] + fragment.encode() + raw[at:]
        elif op == "dupline":
            lines = raw.split(b"\n")
            index = draw(st.integers(0, max(0, len(lines) - 1)))
            raw = b"\n".join(lines[: index + 1] + [lines[index]] + lines[index + 1:])
        elif op == "utf16":
            raw = raw.decode("utf-8", errors="replace").encode(draw(st.sampled_from(["utf-16", "utf-16-le"])))
    return raw


@fuzz("text")
@given(raw=damaged_texts())
def test_damaged_texts_get_located_errors_only(root: Path, raw: bytes) -> None:
    check_all(root / "aura.yaml", raw, None, root)


@st.composite
def merged_workspaces(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Anchors in an `x-` key, merged into services with overrides, in block and flow style;
    returns the text and the value YAML's merge rules give it."""
    base = {"command": ["python", "app.py"], "appPort": draw(st.sampled_from(["auto", None]))}
    extra = {"healthCheck": "/healthz"} if draw(st.booleans()) else {}
    text = ("x-base: &base\n  command: [python, app.py]\n"
            f"  appPort: {json.dumps(base['appPort'])}\n"
            + ("x-extra: &extra\n  healthCheck: /healthz\n  appPort: auto\n" if extra else "")
            + "name: demo\nservices:\n")
    services: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 4))):
        name = f"s{index}"
        override = draw(st.sampled_from([{}, {"appPort": 7000 + index}, {"command": ["node", "x.js"]}]))
        sources = [base, {"healthCheck": "/healthz", "appPort": "auto"}] if extra and draw(st.booleans()) else [base]
        merge = "*base" if len(sources) == 1 else "[*base, *extra]"
        local = {"path": "svc/api", **override}
        if draw(st.booleans()):
            body = ", ".join(f"{k}: {json.dumps(v)}" for k, v in local.items())
            order = draw(st.booleans())
            text += f"  {name}: {{<<: {merge}, {body}}}\n" if order else f"  {name}: {{{body}, <<: {merge}}}\n"
        else:
            text += f"  {name}:\n    <<: {merge}\n" + "".join(
                f"    {k}: {json.dumps(v)}\n" for k, v in local.items())
        value: dict[str, Any] = {}
        for source in reversed(sources):  # earlier merged mappings win over later ones
            value.update(source)
        value.update(local)  # keys written in the mapping win over merged ones
        services[name] = value
    return text, services


@fuzz("merge")
@given(case=merged_workspaces())
def test_merge_keys_follow_yaml_and_are_no_duplicates(root: Path, case: tuple[str, dict[str, Any]]) -> None:
    from aura_dev.workspace.yamlsource import parse_yaml

    text, services = case
    doc = parse_yaml(text, root / "aura.yaml")
    assert doc.duplicates == []
    assert doc.data["services"] == services
    outcome = check_all(root / "aura.yaml", text.encode(), doc.data, root)
    assert outcome.error is None, [p.render() for p in outcome.problems]


def test_a_ten_megabyte_file_is_refused_at_once(root: Path) -> None:
    line = b"# " + b"x" * 98 + b"\n"
    outcome = check_all(root / "aura.yaml", b"name: demo\n" + line * 100_000, None, root)
    assert outcome.problems[0].message.startswith(
        "the file is 10.1 MB; aura reads workspace files of up to 1 MB")


def test_the_fuzz_is_bounded() -> None:
    """The numbers the README's "Bad input" table reports."""
    assert sum(EXAMPLES.values()) == 1150


def test_outcome_of_a_valid_seed_is_a_workspace(root: Path) -> None:
    for seed in SEEDS:
        outcome = check_all(root / "aura.yaml", dump(seed), seed, root)
        assert outcome.workspace is not None, [p.render() for p in outcome.problems]
        assert load(root / "aura.yaml").workspace is not None
