"""Port-forward dialogs (k9s shift-f): the ports for a new forward, and the list of the forwards
running in the background (d stops the highlighted one). The App runs the forwards
(iagent_tui/port_forward.py); these screens only ask and show."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Static

from iagent_tui.port_forward import PortForwards, check_port


class PortForwardDialog(ModalScreen[tuple[int, str] | None]):
    """dismiss((local port, remote port)) once both are valid, None when cancelled."""

    AUTO_FOCUS = "#port-forward-local"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="port-forward-cancel")]

    def __init__(self, target: str, remote_ports: Sequence[str], local_port: int) -> None:
        super().__init__()
        self.target = target  # "pod/prod/web-1"
        self.remote_ports = list(remote_ports)
        self.local_port = local_port

    def compose(self) -> ComposeResult:
        with Vertical(id="port-forward-box"):
            yield Static(Text(f"Port-forward {self.target}", style="bold", end=""), id="port-forward-title")
            known = f"declared: {', '.join(self.remote_ports)}" if self.remote_ports else "it declares none"
            yield Static(Text(f"Remote port ({known}):", end=""))
            yield Input(self.remote_ports[0] if self.remote_ports else "", placeholder="80", id="port-forward-remote")
            yield Static(Text("Local port on 127.0.0.1:", end=""))
            yield Input(str(self.local_port), placeholder="8080", id="port-forward-local")
            yield Static("", id="port-forward-error")
            with Horizontal(id="port-forward-buttons"):
                yield Button("Cancel", id="port-forward-cancel-button", variant="default")
                yield Button("Forward", id="port-forward-start", variant="primary")

    @property
    def error_message(self) -> str:
        return str(self.query_one("#port-forward-error", Static).render())

    def show_error(self, message: str) -> None:
        error = self.query_one("#port-forward-error", Static)
        error.update(Text(message, end=""))
        error.set_class(bool(message), "-error")

    @on(Input.Changed)
    def _typed(self) -> None:
        self.show_error("")

    @on(Input.Submitted)
    @on(Button.Pressed, "#port-forward-start")
    def _submit(self) -> None:
        remote = self.query_one("#port-forward-remote", Input).value.strip()
        try:
            local = check_port(self.query_one("#port-forward-local", Input).value, "local port")
            if not remote.isdigit():  # a named port is fine for kubectl; a number must be in range
                if not remote:
                    raise ValueError("Give the remote port: a number, or the container's port name.")
            else:
                check_port(remote, "remote port")
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss((local, remote))

    @on(Button.Pressed, "#port-forward-cancel-button")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ForwardsScreen(ModalScreen[None]):
    """The forwards running in the background; d stops the highlighted one, escape closes."""

    BINDINGS = [Binding("escape", "close", "Close", id="forwards-close"),
                Binding("d", "stop_forward", "Stop forward", id="forwards-stop")]

    def __init__(self, forwards: PortForwards) -> None:
        super().__init__()
        self.forwards = forwards

    def compose(self) -> ComposeResult:
        with Vertical(id="forwards-box"):
            yield Static(Text("Port-forwards (127.0.0.1)", style="bold", end=""), id="forwards-title")
            table: DataTable = DataTable(id="forwards-table", cursor_type="row")
            for key, label in (("target", "Target"), ("ports", "Local:remote"), ("state", "State")):
                table.add_column(label, key=key)
            yield table
            yield Static("", id="forwards-hint")

    def on_mount(self) -> None:
        self.refresh_rows()
        # kubectl's state changes on its own (forwarding, ended); refresh while the list is open.
        self.set_interval(1.0, self.refresh_rows, name="forwards-refresh")
        self.query_one(DataTable).focus()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for forward in self.forwards.forwards:
            table.add_row(Text(forward.target), f"{forward.local_port}:{forward.remote_port}", Text(forward.state),
                          key=forward.target + f"|{forward.local_port}")
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        hint = "d stops the highlighted forward; all stop when the dashboard quits" if table.row_count \
            else "No port-forwards. F on a pod (Pods panel) or a target (ALB panel) starts one."
        self.query_one("#forwards-hint", Static).update(Text(hint, end=""))

    async def action_stop_forward(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        forward = self.forwards.forwards[table.cursor_row]
        await self.forwards.stop(forward)
        self.refresh_rows()

    def action_close(self) -> None:
        self.dismiss(None)
