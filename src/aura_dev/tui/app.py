"""`aura dev tui` (and `aura dev up --tui`): the running stack in one terminal screen.

A client of the supervisor, never part of it: unit states come from the snapshot, lines from
the log store (the filters of `aura dev logs`), Dapr's view of a sidecar from its
`/v1.0/metadata`, and every action goes through the control socket.  Quitting leaves the
stack running or stops it, as the user says; a crash of this view touches nothing.

Left: one row per service — its app and its sidecar side by side — and the infra; under it
the selection's pids, ports, uptime, last exit and what Dapr says it loaded.  Right: the
selection's lines (app and sidecar merged, or either), or every unit's.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, RichLog, Static

from aura_dev.engine.control import Operation, Which
from aura_dev.engine.dapr_metadata import fetch_metadata, shape_metadata
from aura_dev.logs.filters import BadFilter
from aura_dev.logs.query import Line
from aura_dev.logs.view import LineFormatter
from aura_dev.tui import model
from aura_dev.tui.feed import LogFeed, StackFeed
from aura_dev.tui.quit import QuitScreen

POLL_SECONDS = 0.2
DAPR_REFRESH_SECONDS = 5.0
MAX_LINES_PER_POLL = 1000  # a flood shows its newest lines; `aura dev logs` has them all
PANE_LINES = 5000

CSS = """
#status { height: 1; background: $boost; padding: 0 1; }
#left { width: 46%; min-width: 50; }
#units { height: auto; max-height: 60%; }
#details { height: auto; padding: 1 1 0 1; color: $text-muted; }
#right { border-left: solid $primary-darken-2; }
#logs-title { height: 1; background: $boost; padding: 0 1; }
#logs { height: 1fr; }
#search { display: none; }
#search.open { display: block; }
"""


class AuraTui(App[str]):
    TITLE = "aura"
    CSS = CSS
    BINDINGS = [
        Binding("r", "act('restart', 'app')", "restart app"),
        Binding("R", "act('restart', 'sidecar')", "restart sidecar"),
        Binding("x", "act('stop', 'all')", "stop"),
        Binding("s", "act('start', 'all')", "start"),
        Binding("a", "toggle_all", "all/one"),
        Binding("v", "sources", "app/sidecar"),
        Binding("e", "level", "level"),
        Binding("slash", "search", "search"),
        Binding("f", "follow", "follow/pause"),
        Binding("w", "wrap", "wrap"),
        Binding("c", "clear", "clear", show=False),
        Binding("q", "quit_dialog", "quit"),
        Binding("ctrl+c,ctrl+q", "quit_dialog", "quit", show=False, priority=True),
    ]

    def __init__(self, feed: StackFeed, *, name: str, started_here: bool = False) -> None:
        super().__init__()
        self.feed = feed
        self.stack_name = name
        self.started_here = started_here  # `up --tui`: quitting offers "stop" first
        self.selected: str | None = None
        self.show_all = False
        self.sources = model.Sources.BOTH
        self.level_index = 0
        self.grep: str | None = None
        self.following = True
        self.held: list[Line] = []  # lines that came while paused
        self.logs: LogFeed | None = None
        self.formatter = LineFormatter(colour=True, width=22, raw=False)
        self.dapr: list[str] = []
        self.gone = False

    def compose(self) -> ComposeResult:
        yield Static(f"{self.stack_name} · starting…", id="status")
        with Horizontal():
            with Vertical(id="left"):
                yield DataTable(id="units", cursor_type="row", zebra_stripes=True)
                yield Static("", id="details")
            with Vertical(id="right"):
                yield Static("", id="logs-title")
                yield RichLog(id="logs", max_lines=PANE_LINES, wrap=True, markup=False)
                yield Input(placeholder="grep (a regular expression; Enter applies, Esc clears)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#units", DataTable)
        for column in model.COLUMNS:
            table.add_column(column, key=column)
        table.focus()
        self.refresh_stack()
        self.call_after_refresh(self.open_logs)  # once the pane has its width: long lines wrap under their text
        self.set_interval(POLL_SECONDS, self.tick)
        self.set_interval(DAPR_REFRESH_SECONDS, self.load_dapr)

    # ------------------------------------------------------------------ the stack

    def tick(self) -> None:
        self.refresh_stack()
        self.poll_logs()

    def refresh_stack(self) -> None:
        changed = self.feed.refresh()
        if self.feed.child_gone() or (self.feed.snapshot is not None and not self.feed.running()):
            self.stack_gone()
        snap = self.feed.snapshot
        if snap is None or not changed:
            if snap is not None:
                self.show_details()  # the uptime moves
            return
        table = self.query_one("#units", DataTable)
        rows = model.rows(snap)
        keys = [row.key for row in rows]
        if keys == [key.value for key in table.rows]:
            # Cells updated in place: the cursor stays where the user put it, even mid-keypress.
            for row in rows:
                for column, (text, style) in zip(model.COLUMNS, row.cells):
                    table.update_cell(row.key, column, Text(text, style=style))
        else:
            keep = self.selected
            table.clear()
            for row in rows:
                table.add_row(*(Text(text, style=style) for text, style in row.cells), key=row.key)
            if keep in keys:
                table.move_cursor(row=keys.index(keep), animate=False)
        if keys and self.selected is None:
            self.select(keys[0])
        ready = sum(1 for service in snap.services.values() if service.ready)
        self.query_one("#status", Static).update(Text.assemble(
            (snap.name, "bold"), f" · {ready}/{len(snap.services)} services ready · infra {snap.backend} · "
            f"Dapr {snap.runtime_version} · supervisor {snap.supervisor_pid}",
            (f" · dashboard {snap.dashboard.url}" if snap.dashboard else "", "dim")))
        self.show_details()

    def stack_gone(self) -> None:
        if self.gone:
            return
        self.gone = True
        self.query_one("#status", Static).update(Text(f"{self.stack_name} has stopped · q quits", style="bold red"))
        log = self.query_one("#logs", RichLog)
        for line in self.feed.supervisor_log_tail() if self.feed.child is not None else []:
            log.write(Text(line, style="red"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key != self.selected:
            self.select(key)

    def select(self, key: str) -> None:
        self.selected = key
        self.dapr = []
        self.show_details()
        self.load_dapr()
        if not self.show_all:
            self.open_logs()

    def show_details(self) -> None:
        snap = self.feed.snapshot
        if snap is None or self.selected is None:
            return
        text = model.details(snap, self.selected)
        if self.dapr:
            text += "\n\n" + "\n".join(self.dapr)
        self.query_one("#details", Static).update(text)

    @work(exclusive=True, group="dapr", exit_on_error=False)  # a sidecar that does not answer is shown, not fatal
    async def load_dapr(self) -> None:
        snap, key = self.feed.snapshot, self.selected
        if snap is None or key is None or key not in snap.services:
            return
        port = snap.services[key].dapr_http_port
        if port is None:
            lines = model.dapr_lines(None, None)
        else:
            raw, error = await fetch_metadata(port, None)
            lines = model.dapr_lines(shape_metadata(raw) if raw is not None else None, error)
        if key == self.selected:
            self.dapr = lines
            self.show_details()

    # ------------------------------------------------------------------ logs

    def open_logs(self) -> None:
        """(Re)start the pane: the store's last lines through the filter, then new ones."""
        level = model.LEVELS[self.level_index]
        scope = None if self.show_all else self.selected
        try:
            flt = model.log_filter(scope, self.sources, level, self.grep)
        except BadFilter as exc:
            self.notify(str(exc), severity="error")
            self.grep = None
            return
        if self.feed.snapshot is not None:  # this run's lines, not those of runs before it
            flt.since_us = int(self.feed.snapshot.started_at * 1_000_000)
        self.logs = LogFeed(self.feed.logs_root, flt)
        labels = self.feed.snapshot.units if self.feed.snapshot is not None else {}
        if scope is not None:  # one service's lines: its labels only, so its text gets the room
            labels = {label: unit for label, unit in labels.items() if label.partition("·")[0] == scope}
        self.formatter = LineFormatter(colour=True, width=min(28, max([len(label) for label in labels] + [9])),
                                       raw=False)
        self.held.clear()
        pane = self.query_one("#logs", RichLog)
        pane.clear()
        self.write_lines(self.logs.history)
        self.show_log_title()

    def poll_logs(self) -> None:
        if self.logs is None:
            return
        fresh = self.logs.poll()
        if not fresh:
            return
        if not self.following:
            self.held.extend(fresh)
            del self.held[:-PANE_LINES]
            self.show_log_title()
            return
        self.write_lines(fresh)

    def write_lines(self, lines: list[Line]) -> None:
        pane = self.query_one("#logs", RichLog)
        if len(lines) > MAX_LINES_PER_POLL:
            pane.write(Text(f"… {len(lines) - MAX_LINES_PER_POLL} lines not shown here "
                            "(`aura dev logs` has every one)", style="yellow"))
            lines = lines[-MAX_LINES_PER_POLL:]
        pattern = self.grep
        width = pane.scrollable_content_region.width
        for line in lines:
            text = Text.from_ansi(self.formatter.human(line).decode("utf-8", "replace").rstrip("\n"))
            if pattern:
                text.highlight_regex(re.compile(pattern, 0 if pattern != pattern.lower() else re.IGNORECASE),
                                     style="reverse")
            pane.write(model.hanging(text, width, self.console) if pane.wrap and width > 0 else text)

    def show_log_title(self) -> None:
        scope = "every unit" if self.show_all else (self.selected or "…")
        parts = [f"logs · {scope}"]
        if not self.show_all and self.feed.snapshot is not None and self.selected in self.feed.snapshot.services:
            parts.append(self.sources.title)
        level = model.LEVELS[self.level_index]
        parts.append(f"level ≥ {level}" if level else "every level")
        if self.grep:
            parts.append(f"grep {self.grep!r}")
        parts.append("following" if self.following else f"paused · {len(self.held)} new lines")
        self.query_one("#logs-title", Static).update(" · ".join(parts))

    # ------------------------------------------------------------------ keys

    def action_act(self, op: str, which: str) -> None:
        snap, key = self.feed.snapshot, self.selected
        if self.gone or snap is None or key is None:
            return
        if key not in snap.services:
            self.notify(f"{key} is infra: it runs as long as the stack (`aura dev down`, then `up`)",
                        severity="warning")
            return
        if which == "sidecar" and f"{key}·dapr" not in snap.units:
            self.notify(f"{key} has no sidecar", severity="warning")
            return
        self.notify(f"{op} {key} {'' if which == 'all' else which}…".replace("  ", " "), timeout=2)
        self.send(Operation(op), key, Which(which))

    @work(thread=True, group="control")
    def send(self, op: Operation, service: str, which: Which) -> None:
        reply = self.feed.act(op, service, which)
        what = f"{op.value} {service}" + ("" if which is Which.ALL else f" {which.value}")
        if reply.ok:
            message, severity = f"✓ {what}: done in {reply.seconds or 0:.2f} s", "information"
        else:
            message, severity = f"✗ {what}: {reply.error}" + (f" ({reply.hint})" if reply.hint else ""), "error"
        self.call_from_thread(self.notify, message, severity=severity)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.open_logs()

    def action_sources(self) -> None:
        self.sources = self.sources.next()
        self.open_logs()

    def action_level(self) -> None:
        self.level_index = (self.level_index + 1) % len(model.LEVELS)
        self.open_logs()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("open")
        search.value = self.grep or ""
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.grep = event.value or None
        self.close_search()
        self.open_logs()

    def on_key(self, event: Any) -> None:
        search = self.query_one("#search", Input)
        if event.key == "escape" and search.has_focus:
            self.grep = None
            self.close_search()
            self.open_logs()

    def close_search(self) -> None:
        self.query_one("#search", Input).remove_class("open")
        self.query_one("#units", DataTable).focus()

    def action_follow(self) -> None:
        self.following = not self.following
        if self.following:
            held, self.held = self.held, []
            self.write_lines(held)
            self.query_one("#logs", RichLog).scroll_end(animate=False)
        self.query_one("#logs", RichLog).auto_scroll = self.following
        self.show_log_title()

    def action_wrap(self) -> None:
        pane = self.query_one("#logs", RichLog)
        pane.wrap = not pane.wrap
        self.open_logs()

    def action_clear(self) -> None:
        self.query_one("#logs", RichLog).clear()

    def action_quit_dialog(self) -> None:
        if self.gone or self.feed.snapshot is None and not self.feed.running():
            self.exit("gone")
            return
        def chosen(choice: str | None) -> None:
            if choice:
                self.exit(choice)

        self.push_screen(QuitScreen(self.stack_name, stop_first=self.started_here), chosen)
