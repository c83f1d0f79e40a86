"""Other tools' formats: `dapr run -f` templates in, Kubernetes manifests out."""
