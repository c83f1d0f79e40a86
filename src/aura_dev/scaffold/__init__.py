"""`aura dev new`: services and components from templates, and round-trip edits of
aura.yaml that keep its comments."""
