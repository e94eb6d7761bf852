"""`$`: cost before and after the migration. The Assessment's business case as a table (one row
per namespace, then the total) and a bar per namespace; nothing is computed here. The text is
rebuilt only when the figures change, so an idle dashboard costs nothing here. Namespace names go
in as rich Text, never markup.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from iagent_tui.insights.assessment import Assessment
from iagent_tui.insights.business_case import BusinessCase

BAR_WIDTH = 40


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def cost_table(case: BusinessCase) -> Table:
    table = Table(title=f"Monthly cost ({case.hours_per_month:g} h), {case.region}", expand=False)
    for header in ("namespace", "EC2 now", "Fargate now", "Fargate after", "EC2 kept", "before", "after", "savings"):
        table.add_column(header, justify="left" if header == "namespace" else "right")
    rows = [(Text(n.namespace), n) for n in case.namespaces] + [(Text("total", style="bold"), case)]
    for name, item in rows:
        table.add_row(name, *(_money(m * case.hours_per_month) for m in (
            item.ec2_hourly, item.fargate_hourly, item.fargate_projected_hourly, item.ec2_remaining_hourly,
            item.before_hourly, item.after_hourly)), _percent(item.savings_percent))
    return table


def cost_bars(case: BusinessCase) -> Text:
    """Two bars per namespace, before (░) and after (█), scaled to the largest figure."""
    top = max([v for n in case.namespaces for v in (n.before_hourly, n.after_hourly)] + [1e-9])
    width = max((len(n.namespace) for n in case.namespaces), default=0)
    text = Text(end="")
    for n in case.namespaces:
        for label, value, glyph in (("before", n.before_hourly, "░"), ("after", n.after_hourly, "█")):
            name = n.namespace if label == "before" else ""
            text.append(f"{name:<{width}}  {label:<6} ")
            text.append(glyph * round(value / top * BAR_WIDTH))
            text.append(f" {_money(value * case.hours_per_month)}\n")
    return text


def summary(case: BusinessCase) -> Text:
    fit = case.remaining
    kept = ("no priced instance type fits them" if fit is None else "no node group needed" if not fit.count
            else f"{fit.count} x {fit.instance_type}")
    lines = [f"Stays on EC2: {', '.join(case.stays_on_ec2) or 'nothing'} (+ DaemonSets: {', '.join(case.daemonsets) or 'none'}) "
             f"-> {kept}.", *(f"· {a}" for a in case.assumptions), *(f"Note: {n}" for n in case.notes)]
    return Text("\n".join(lines), end="")


class CostScreen(Screen):
    BINDINGS = [Binding("escape,dollar_sign", "close", "Back to the dashboard", id="cost-close")]

    def __init__(self) -> None:
        super().__init__()
        self._shown: object = None
        self.updates = 0  # renders (tests: nothing re-renders when nothing changed)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="cost-body"):
            yield Static("", id="cost-table")
            yield Static("", id="cost-bars")
            yield Static("", id="cost-notes")
        yield Footer()

    def on_mount(self) -> None:
        self.show(getattr(self.app, "assessment", Assessment()))

    def on_screen_resume(self) -> None:
        self.show(getattr(self.app, "assessment", Assessment()))

    def show(self, assessment: Assessment) -> None:
        case = assessment.business_case
        if case == self._shown and self.updates:
            return
        self._shown = case
        self.updates += 1
        if case is None:
            reason = "; ".join(assessment.notes) or "no snapshot yet, or no rates for the cluster's region"
            self.query_one("#cost-table", Static).update(Text(f"No cost comparison: {reason}"))
            self.query_one("#cost-bars", Static).update("")
            self.query_one("#cost-notes", Static).update("")
            return
        self.query_one("#cost-table", Static).update(cost_table(case))
        self.query_one("#cost-bars", Static).update(cost_bars(case))
        self.query_one("#cost-notes", Static).update(summary(case))

    def action_close(self) -> None:
        self.app.pop_screen()
