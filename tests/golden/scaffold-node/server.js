// billing: a Dapr service.  Everything outside the process is reached through its Dapr
// sidecar, which aura starts beside it and announces in DAPR_HTTP_PORT:
// - state in the `statestore` component (POST / GET /state/:key)
// - events published on the `pubsub` component, topic `billing-events` (POST /publish)
// - a subscription to that topic; what arrived is listed on GET /events
// - other services called by their app id (GET /invoke/:appId/:method)
"use strict";

const http = require("node:http");
const express = require("express");
const { CommunicationProtocolEnum, DaprServer, HttpMethod } = require("@dapr/dapr");

const HOST = process.env.APP_HOST || "127.0.0.1";
const APP_PORT = process.env.APP_PORT || "3000";
const DAPR_PORT = process.env.DAPR_HTTP_PORT || "3500";
const STORE = process.env.STATE_STORE || "statestore";
const PUBSUB = process.env.PUBSUB || "pubsub";
const TOPIC = process.env.TOPIC || "billing-events";

// Events delivered by the subscription; in memory, as an example to replace.
const received = [];

async function onEvent(data) {
  received.push(data);
}

// The routes, on `app`, calling Dapr through `dapr`: the SDK's DaprClient, or a fake in tests.
function createApp(dapr, app = express()) {
  app.use(express.json());
  // Express 4 does not catch a rejected promise: hand it to the error handler below.
  const route = (handler) => (req, res, next) => handler(req, res).catch(next);

  app.get("/healthz", (_req, res) => res.json({ status: "ok" }));

  app.post("/state/:key", route(async (req, res) => {
    await dapr.state.save(STORE, [{ key: req.params.key, value: req.body }]);
    res.json({ key: req.params.key, value: req.body });
  }));

  app.get("/state/:key", route(async (req, res) => {
    const value = await dapr.state.get(STORE, req.params.key);
    if (value === "" || value === undefined || value === null) { // the SDK answers "" for a missing key
      res.status(404).json({ detail: `no state under '${req.params.key}'` });
      return;
    }
    res.json({ key: req.params.key, value });
  }));

  app.post("/publish", route(async (req, res) => {
    const result = await dapr.pubsub.publish(PUBSUB, TOPIC, req.body);
    if (result && result.error) { // the SDK reports a failed publish in its result, not by throwing
      throw result.error;
    }
    res.json({ published: req.body, topic: TOPIC });
  }));

  app.get("/events", (_req, res) => res.json({ topic: TOPIC, received }));

  app.get("/invoke/:appId/*", route(async (req, res) => {
    res.json(await dapr.invoker.invoke(req.params.appId, req.params[0], HttpMethod.GET));
  }));

  app.use((err, _req, res, _next) => {
    res.status(502).json({ detail: String((err && err.message) || err) });
  });
  return app;
}

async function main() {
  const app = express();
  // DaprServer calls app.listen(port) without a host, which listens on every interface;
  // keep the app on HOST (loopback unless a container sets APP_HOST).
  app.listen = (port, ...rest) => http.createServer(app).listen(port, HOST, ...rest);
  const server = new DaprServer({
    serverHost: HOST,
    serverPort: APP_PORT,
    serverHttp: app,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: "127.0.0.1", daprPort: DAPR_PORT },
  });
  createApp(server.client, app);
  await server.pubsub.subscribe(PUBSUB, TOPIC, onEvent);
  await server.start();
  console.log(`billing listening on ${HOST}:${APP_PORT}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error("billing failed to start:", err);
    process.exit(1);
  });
}

module.exports = { createApp, onEvent, received, PUBSUB, STORE, TOPIC };
