"""aura-dev: the local development environment for the Aura platform's Dapr services."""

__version__ = "0.1.0"
