// notifications: subscribes to the `messages` topic through Dapr pub/sub and keeps the
// events it received, so they can be read back on GET /notifications.
const http = require("http");
const express = require("express");
const { DaprServer, CommunicationProtocolEnum } = require("@dapr/dapr");

const appPort = process.env.APP_PORT || "3000";
const daprPort = process.env.DAPR_HTTP_PORT || "3500";
const prefix = process.env.NOTIFY_PREFIX || "[notify]";
const received = [];

const app = express();
// @dapr/dapr 3.18's HTTP server ignores `serverHost` and calls `app.listen(port)`, which
// binds every interface; keep the app on loopback like the rest of the stack.
app.listen = (port, ...rest) => http.createServer(app).listen(port, "127.0.0.1", ...rest);
app.get("/healthz", (_req, res) => res.json({ status: "ok" }));
app.get("/notifications", (_req, res) => res.json({ count: received.length, events: received }));

async function main() {
  const server = new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: appPort,
    serverHttp: app,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: "127.0.0.1", daprPort },
  });
  await server.pubsub.subscribe("pubsub", "messages", async (event) => {
    received.push(event);
    console.log(`${prefix} ${event.user}: ${event.text} (message ${event.count})`);
  });
  await server.start();
  console.log(`notifications listening on 127.0.0.1:${appPort}`);
}

main().catch((err) => {
  console.error("notifications failed to start:", err);
  process.exit(1);
});
