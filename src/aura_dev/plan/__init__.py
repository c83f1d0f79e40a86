"""Pure: from a workspace and allocated ports to exactly what runs — ports, env, daprd
argv, rendered resources, infra requests, and what an edit of aura.yaml changes."""
