"""Quitting the terminal view: leave the stack running, or stop it — the user says which."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

LEAVE = "leave"
STOP = "stop"


class QuitScreen(ModalScreen[str]):
    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical { width: 64; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    QuitScreen Horizontal { height: auto; margin-top: 1; }
    QuitScreen Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("l", "choose('leave')", "leave it running"),
        Binding("s", "choose('stop')", "stop the stack"),
        Binding("escape", "choose('')", "cancel"),
    ]

    def __init__(self, stack_name: str, *, stop_first: bool) -> None:
        super().__init__()
        self.stack_name = stack_name
        self.stop_first = stop_first  # `up --tui` started it: stopping is the likely wish

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Quit the terminal view. What about {self.stack_name}?")
            with Horizontal():
                yield Button("Leave it running (l)", id=LEAVE, variant="primary" if not self.stop_first else "default")
                yield Button("Stop the stack (s)", id=STOP, variant="error" if self.stop_first else "default")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(f"#{STOP if self.stop_first else LEAVE}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss("" if event.button.id == "cancel" else str(event.button.id))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
