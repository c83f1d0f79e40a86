// Tests of billing that need no sidecar: the Dapr client is replaced by an in-memory fake.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { once } = require("node:events");
const { HttpMethod } = require("@dapr/dapr");
const { createApp, onEvent, received, PUBSUB, STORE, TOPIC } = require("./server");

// The part of the SDK's DaprClient that the service uses.
function fakeDapr() {
  const fake = {
    saved: new Map(),
    published: [],
    invoked: [],
    state: {
      save: async (store, items) => items.forEach((item) => fake.saved.set(`${store}/${item.key}`, item.value)),
      get: async (store, key) => fake.saved.get(`${store}/${key}`) ?? "",
    },
    pubsub: {
      publish: async (pubsub, topic, data) => {
        fake.published.push([pubsub, topic, data]);
        return {};
      },
    },
    invoker: {
      invoke: async (appId, method, verb) => {
        fake.invoked.push([appId, method, verb]);
        return { status: "ok" };
      },
    },
  };
  return fake;
}

async function serve(t, dapr) {
  const server = createApp(dapr).listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  return async (path, body) => {
    const init = body === undefined ? {} : {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    };
    const reply = await fetch(base + path, init);
    return { status: reply.status, body: await reply.json() };
  };
}

test("health", async (t) => {
  const call = await serve(t, fakeDapr());
  assert.deepEqual((await call("/healthz")).body, { status: "ok" });
});

test("state round trip", async (t) => {
  const dapr = fakeDapr();
  const call = await serve(t, dapr);
  assert.equal((await call("/state/order-1", { amount: 42 })).status, 200);
  assert.deepEqual(dapr.saved.get(`${STORE}/order-1`), { amount: 42 });
  assert.deepEqual((await call("/state/order-1")).body, { key: "order-1", value: { amount: 42 } });
});

test("missing state is 404", async (t) => {
  const call = await serve(t, fakeDapr());
  assert.equal((await call("/state/nothing")).status, 404);
});

test("publish sends the event to the topic", async (t) => {
  const dapr = fakeDapr();
  const call = await serve(t, dapr);
  assert.equal((await call("/publish", { hello: "world" })).body.topic, "billing-events");
  assert.deepEqual(dapr.published, [[PUBSUB, "billing-events", { hello: "world" }]]);
});

test("the subscription handler keeps what it receives", async (t) => {
  const call = await serve(t, fakeDapr());
  received.length = 0;
  await onEvent({ hello: "world" });
  assert.deepEqual((await call("/events")).body, { topic: TOPIC, received: [{ hello: "world" }] });
});

test("invoke calls another service by app id", async (t) => {
  const dapr = fakeDapr();
  const call = await serve(t, dapr);
  assert.deepEqual((await call("/invoke/conversation/healthz")).body, { status: "ok" });
  assert.deepEqual(dapr.invoked, [["conversation", "healthz", HttpMethod.GET]]);
});
