# The golden trees are rendered services, not tests of aura: their own tests run in
# tests/integration/test_scaffold_services.py, in a copy with the service's dependencies.
collect_ignore_glob = ["scaffold-*"]
