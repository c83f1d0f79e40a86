"""The aura.yaml model, YAML with positions, validation with located problems,
discovery, the dependency graph, placeholders and the JSON Schema."""
