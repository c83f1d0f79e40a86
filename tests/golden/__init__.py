"""A package, so that its conftest is imported as `golden.conftest` and never shadows tests/conftest.py."""
