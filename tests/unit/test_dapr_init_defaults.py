"""`dapr init`'s default addresses in Dapr resources: found with a YAML parser, pointed at
aura's infra in aura's copy only, everything else left byte for byte."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from aura_dev.engine.dapr_init_notices import DefaultAddressNotices
from aura_dev.logs.record import Level
from aura_dev.plan import resources
from aura_dev.plan.dapr_init import InfraTargets, find_defaults, map_defaults
from aura_dev.plan.model import InfraEndpoints
from aura_dev.workspace.load import load_workspace

FILE = Path("components/pubsub.yaml")
AURA = InfraTargets(redis_host="127.0.0.1:22400", zipkin_host="127.0.0.1:22409")

PUBSUB = textwrap.dedent("""\
    # Orders travel here.
    apiVersion: dapr.io/v1alpha1
    kind: Component
    metadata:
      name: orderpubsub
      annotations: {note: "was localhost:6379"}
    spec:
      type: pubsub.redis
      version: v1
      metadata:
      - name: redisHost
        value: localhost:6379   # dapr init's Redis
      - name: redisPassword
        value: ""
    """)

TRACING = textwrap.dedent("""\
    apiVersion: dapr.io/v1alpha1
    kind: Configuration
    metadata:
      name: appconfig
    spec:
      tracing:
        samplingRate: "1"
        zipkin:
          endpointAddress: http://localhost:9411/api/v2/spans
    """)


def test_a_component_at_dapr_init_redis_points_at_aura_and_nothing_else_changes() -> None:
    text, found = map_defaults(PUBSUB, FILE, AURA)
    assert text == PUBSUB.replace('value: localhost:6379 ', 'value: "127.0.0.1:22400" ')
    assert [(f.resource, f.infra, f.address, f.new_address) for f in found] == [
        ("orderpubsub", "Redis", "localhost:6379", "127.0.0.1:22400")]
    assert found[0].notice() == ("orderpubsub: localhost:6379 → aura's Redis 127.0.0.1:22400; "
                                 "write `{redis_host}` to make it explicit")


def test_both_spellings_of_the_default_and_only_those() -> None:
    for address, mapped in [("127.0.0.1:6379", True), ("localhost:6380", False), ("redis.internal:6379", False),
                            ("localhost:63790", False), ("127.0.0.1:22400", False)]:
        text, found = map_defaults(PUBSUB.replace("localhost:6379 ", f"{address} "), FILE, AURA)
        assert bool(found) is mapped, address
        assert yaml.safe_load(text)["spec"]["metadata"][0]["value"] == ("127.0.0.1:22400" if mapped else address)


def test_only_component_metadata_values_are_read() -> None:
    other_kinds = textwrap.dedent("""\
        apiVersion: dapr.io/v2alpha1
        kind: Subscription
        metadata: {name: orders}
        spec: {pubsubname: orderpubsub, topic: orders, routes: {default: /orders}, metadata: [{name: x, value: localhost:6379}]}
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata: {name: store, labels: {redisHost: localhost:6379}}
        spec:
          type: state.redis
          version: v1
          metadata:
          - {name: localhost:6379, secretKeyRef: {name: redis, key: host}}
        """)
    assert map_defaults(other_kinds, FILE, AURA) == (other_kinds, [])


def test_every_document_of_a_file_and_json_files() -> None:
    two = PUBSUB + "---\n" + PUBSUB.replace("orderpubsub", "statestore").replace("pubsub.redis", "state.redis")
    text, found = map_defaults(two, FILE, AURA)
    assert [f.resource for f in found] == ["orderpubsub", "statestore"]
    assert [d["spec"]["metadata"][0]["value"] for d in yaml.safe_load_all(text)] == ["127.0.0.1:22400"] * 2
    as_json = '{"kind": "Component", "metadata": {"name": "s"}, "spec": {"metadata": [{"name": "redisHost", "value": "localhost:6379"}]}}'
    text, found = map_defaults(as_json, Path("s.json"), AURA)
    assert text == as_json.replace("localhost:6379", "127.0.0.1:22400") and len(found) == 1


def test_an_anchor_used_twice_is_changed_once() -> None:
    aliased = PUBSUB.replace("value: localhost:6379   # dapr init's Redis",
                             "value: &redis localhost:6379\n  - name: failover\n    value: *redis")
    text, found = map_defaults(aliased, FILE, AURA)
    values = [item["value"] for item in yaml.safe_load(text)["spec"]["metadata"]]
    assert values[0] == values[1] == "127.0.0.1:22400" and len(found) == 1


def test_a_file_that_does_not_parse_is_left_to_daprd() -> None:
    broken = PUBSUB + "  - name: [unclosed\n"
    assert map_defaults(broken, FILE, AURA) == (broken, [])


def test_zipkin_is_pointed_at_aura_only_when_aura_runs_one() -> None:
    text, found = map_defaults(TRACING, Path("config.yaml"), AURA)
    assert yaml.safe_load(text)["spec"]["tracing"]["zipkin"]["endpointAddress"] == "http://127.0.0.1:22409/api/v2/spans"
    assert found[0].notice() == ("appconfig: localhost:9411 → aura's Zipkin 127.0.0.1:22409; "
                                 "write `{zipkin_host}` to make it explicit")
    text, found = map_defaults(TRACING, Path("config.yaml"), InfraTargets(redis_host="127.0.0.1:22400"))
    assert text == TRACING and found[0].new_address is None
    assert "aura runs no Zipkin, so it is left as is" in found[0].notice()
    elsewhere = TRACING.replace("localhost:9411", "zipkin.tracing:9411")
    assert map_defaults(elsewhere, Path("config.yaml"), AURA) == (elsewhere, [])


def test_import_notes_name_the_resource_and_the_placeholder() -> None:
    found = find_defaults(PUBSUB, FILE)
    assert [f.import_note() for f in found] == [
        "orderpubsub: localhost:6379 → aura's Redis; write `{redis_host}` to make it explicit"]


values = st.one_of(st.sampled_from(["localhost:6379", "127.0.0.1:6379", "localhost:6380", "", "true", "a: b", "#x"]),
                   st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))


@given(st.lists(st.tuples(st.from_regex(r"[a-zA-Z]{1,10}", fullmatch=True), values), max_size=6))
def test_the_copy_means_the_same_except_the_mapped_values(items: list[tuple[str, str]]) -> None:
    document = {"apiVersion": "dapr.io/v1alpha1", "kind": "Component", "metadata": {"name": "c"},
                "spec": {"type": "state.redis", "version": "v1",
                         "metadata": [{"name": name, "value": value} for name, value in items]}}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    changed, found = map_defaults(text, FILE, AURA)
    expected = [{"name": n, "value": "127.0.0.1:22400" if v in ("localhost:6379", "127.0.0.1:6379") else v}
                for n, v in items]
    assert yaml.safe_load(changed)["spec"]["metadata"] == expected
    assert len(found) == sum(v in ("localhost:6379", "127.0.0.1:6379") for _n, v in items)


# ------------------------------------------------------------------ rendering a workspace


def workspace(tmp_path: Path, config: bool = False) -> Path:
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "pubsub.yaml").write_text(PUBSUB)
    (tmp_path / "components" / "explicit.yaml").write_text(PUBSUB.replace("localhost:6379", '"{redis_host}"')
                                                           .replace("orderpubsub", "explicit"))
    (tmp_path / "app").mkdir()
    (tmp_path / "tracing.yaml").write_text(TRACING)
    (tmp_path / "aura.yaml").write_text(
        "name: shop\ndapr: {resources: [components]" + (", config: tracing.yaml" if config else "") + "}\n"
        "services: {app: {path: app, command: [python, app.py]}}\n")
    return tmp_path


def test_rendered_copies_point_at_aura_and_the_users_files_stay(tmp_path: Path) -> None:
    ws = load_workspace(workspace(tmp_path) / "aura.yaml")
    prepared = resources.prepare_resources(ws, InfraEndpoints(redis_host="127.0.0.1:22400"))
    copy = yaml.safe_load((prepared.shared[0] / "pubsub.yaml").read_text())
    assert copy["spec"]["metadata"][0]["value"] == "127.0.0.1:22400"
    assert (tmp_path / "components" / "pubsub.yaml").read_text() == PUBSUB
    assert [(f.resource, f.address) for f in prepared.defaults] == [("orderpubsub", "localhost:6379")]
    assert prepared.configs == {}


def test_a_configuration_is_copied_only_when_an_address_in_it_changes(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    ws = load_workspace(workspace(tmp_path, config=True) / "aura.yaml")
    endpoints = InfraEndpoints(redis_host="127.0.0.1:22400")
    prepared = resources.prepare_resources(ws, endpoints)
    assert prepared.configs == {} and prepared.defaults[-1].new_address is None  # no Zipkin: left, and said
    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(resources, "targets", lambda infra: AURA)  # as when aura runs a Zipkin
        prepared = resources.prepare_resources(ws, endpoints)
    finally:
        patch.undo()
    copy = prepared.configs[tmp_path / "tracing.yaml"]
    assert "http://127.0.0.1:22409/api/v2/spans" in copy.read_text()
    assert (tmp_path / "tracing.yaml").read_text() == TRACING


class Hub:
    def __init__(self) -> None:
        self.said: list[tuple[str, Level]] = []

    def notice(self, unit: object, text: str, level: Level = Level.INFO) -> None:
        self.said.append((text, level))


def test_each_mapping_is_said_once_per_run(tmp_path: Path) -> None:
    ws = load_workspace(workspace(tmp_path, config=True) / "aura.yaml")
    hub = Hub()
    notices = DefaultAddressNotices(hub)  # type: ignore[arg-type]
    for _ in range(3):  # a first render, then component edits and infra moves render again
        notices.report(resources.prepare_resources(ws, InfraEndpoints(redis_host="127.0.0.1:22400")).defaults)
    assert [level for _text, level in hub.said] == [Level.INFO, Level.WARN]
    notices.report(resources.prepare_resources(ws, InfraEndpoints(redis_host="127.0.0.1:22500")).defaults)
    assert hub.said[-1][0].endswith("127.0.0.1:22500; write `{redis_host}` to make it explicit")
