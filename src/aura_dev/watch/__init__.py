"""The reload watcher: which changes matter to whom (gitignore patterns via pathspec),
per-service debounce, and a thin layer over watchfiles."""
