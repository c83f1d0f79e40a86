"""The interactive terminal view of a running stack (`aura dev tui`, `aura dev up --tui`).

Textual is imported only by `tui.app` and `tui.quit`, when the view runs; `model` and `feed`
are plain Python."""
