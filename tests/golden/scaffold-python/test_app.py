"""Tests of billing that need no sidecar: the Dapr client is replaced by an in-memory fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

import app as service


class FakeDapr:
    """The part of dapr.clients.DaprClient that the service uses, kept in memory."""

    def __init__(self) -> None:
        self.state: dict[tuple[str, str], str] = {}
        self.published: list[tuple[str, str, Any]] = []
        self.invoked: list[tuple[str, str, str | None]] = []

    def save_state(self, store_name: str, key: str, value: str, **_: Any) -> None:
        self.state[(store_name, key)] = value

    def get_state(self, store_name: str, key: str, **_: Any) -> SimpleNamespace:
        return SimpleNamespace(data=self.state.get((store_name, key), "").encode())

    def publish_event(self, pubsub_name: str, topic_name: str, data: str, **_: Any) -> None:
        self.published.append((pubsub_name, topic_name, json.loads(data)))

    def invoke_method(self, app_id: str, method_name: str, data: Any = "", *, http_verb: str | None = None,
                      **_: Any) -> SimpleNamespace:
        self.invoked.append((app_id, method_name, http_verb))
        return SimpleNamespace(data=b'{"status": "ok"}', content_type="application/json")


@pytest.fixture
def dapr() -> FakeDapr:
    return FakeDapr()


@pytest.fixture
def client(dapr: FakeDapr) -> Iterator[TestClient]:
    service.app.dependency_overrides[service.dapr_client] = lambda: dapr
    with TestClient(service.app) as test_client:
        yield test_client
    service.app.dependency_overrides.clear()
    service.received.clear()


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_state_round_trip(client: TestClient, dapr: FakeDapr) -> None:
    assert client.post("/state/order-1", json={"amount": 42}).status_code == 200
    assert json.loads(dapr.state[(service.STORE, "order-1")]) == {"amount": 42}
    assert client.get("/state/order-1").json() == {"key": "order-1", "value": {"amount": 42}}


def test_missing_state_is_404(client: TestClient) -> None:
    assert client.get("/state/nothing").status_code == 404


def test_publish_sends_the_event_to_the_topic(client: TestClient, dapr: FakeDapr) -> None:
    assert client.post("/publish", json={"hello": "world"}).json()["topic"] == "billing-events"
    assert dapr.published == [(service.PUBSUB, "billing-events", {"hello": "world"})]


def test_subscription_is_announced_and_receives_events(client: TestClient) -> None:
    subscriptions = client.get("/dapr/subscribe").json()
    assert [(s["pubsubname"], s["topic"]) for s in subscriptions] == [(service.PUBSUB, "billing-events")]
    cloud_event = {"specversion": "1.0", "type": "com.dapr.event.sent", "data": {"hello": "world"}}
    reply = client.post(subscriptions[0]["route"], content=json.dumps(cloud_event),
                        headers={"content-type": "application/cloudevents+json"})
    assert reply.json() == {"status": "SUCCESS"}
    assert client.get("/events").json()["received"] == [{"hello": "world"}]


def test_invoke_calls_another_service_by_app_id(client: TestClient, dapr: FakeDapr) -> None:
    assert client.get("/invoke/conversation/healthz").json() == {"status": "ok"}
    assert dapr.invoked == [("conversation", "healthz", "GET")]
