"""The Kubernetes side: the workspace exported as manifests (model, Dapr resources,
workloads, warnings) and deployed with server-side apply."""
