"""`$`: cost before and after the migration. The Assessment's business case as a table (one row
per namespace, then the total) and a bar per namespace; nothing is computed here. The text is
rebuilt only when the figures change, so an idle dashboard costs nothing here. Namespace names go
in as rich Text, never markup.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from iagent_tui.insights.assessment import Assessment
from iagent_tui.insights.business_case import BusinessCase
from iagent_tui.insights.durations import duration
from iagent_tui.insights.start_compare import StartRow, start_comparison

BAR_WIDTH = 40
COMPACT = {"expand": False, "box": box.SIMPLE_HEAD, "pad_edge": False}  # ten money columns fit 120 columns


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _sized(case: BusinessCase) -> bool:
    return case.fargate_rightsized_hourly is not None


def cost_table(case: BusinessCase) -> Table:
    table = Table(title=f"Monthly cost ({case.hours_per_month:g} h), {case.region}", **COMPACT)
    headers = ["namespace", "EC2 now", "Fargate now", "Fargate after", "EC2 kept", "before", "after", "savings"]
    if _sized(case):
        headers += ["sized", "savings"]  # after, right-sized (the bars say "sized" too)
    for header in headers:
        table.add_column(header, justify="left" if header == "namespace" else "right", no_wrap=header == "namespace")
    rows = [(Text(n.namespace), n) for n in case.namespaces] + [(Text("total", style="bold"), case)]
    for name, item in rows:
        cells = [_money(m * case.hours_per_month) for m in (
            item.ec2_hourly, item.fargate_hourly, item.fargate_projected_hourly, item.ec2_remaining_hourly,
            item.before_hourly, item.after_hourly)] + [_percent(item.savings_percent)]
        if _sized(case):
            cells += [_money((item.after_rightsized_hourly or 0.0) * case.hours_per_month),
                      _percent(item.savings_rightsized_percent)]
        table.add_row(name, *cells)
    return table


def cost_bars(case: BusinessCase) -> Text:
    """Bars per namespace, before (░), after (█) and after right-sized (▓), scaled to the largest."""
    series = [("before", "░"), ("after", "█")] + ([("sized", "▓")] if _sized(case) else [])

    def value(n, label: str) -> float:
        return {"before": n.before_hourly, "after": n.after_hourly}.get(label, n.after_rightsized_hourly or 0.0)

    top = max([value(n, label) for n in case.namespaces for label, _ in series] + [1e-9])
    width = max((len(n.namespace) for n in case.namespaces), default=0)
    text = Text(end="")
    for n in case.namespaces:
        for label, glyph in series:
            name = n.namespace if label == "before" else ""
            text.append(f"{name:<{width}}  {label:<6} ")
            text.append(glyph * round(value(n, label) / top * BAR_WIDTH))
            text.append(f" {_money(value(n, label) * case.hours_per_month)}\n")
    return text


def rightsizing_table(case: BusinessCase) -> Table | Text:
    """Per workload: size now, right-sized size, p95 usage, the request to set and the saving."""
    sized = case.rightsizing
    if sized is None:
        return Text(f"Right-sizing {case.rightsizing_note}", end="")
    usage = sized.usage
    table = Table(title=f"Right-sizing: p95 over {duration(usage.span_seconds)} ({usage.scrapes} scrapes) "
                        f"+ {sized.headroom_percent:g} % headroom", **COMPACT)
    for header in ("workload", "pods", "size now", "right-sized", "", "recommended request", "saving/month"):
        table.add_column(header, justify="right" if header in ("pods", "saving/month") else "left",
                         no_wrap=header != "recommended request")
    for w in sized.workloads:
        request = "; ".join(c.recommended for c in w.containers if c.p95_millicores is not None) or "no samples"
        # "prod/api" (kind only when it is not a Deployment): the column stays narrow enough for 120 columns.
        kind, name = w.workload.split("/", 1)
        table.add_row(Text(name if kind == "Deployment" else f"{kind}/{name}"), str(w.pods), str(w.current_size or "-"),
                      str(w.rightsized_size or "-"), w.verdict, Text(request), _money(w.monthly_saving),
                      style="green" if w.verdict == "smaller" else "red" if w.verdict == "larger" else None)
    table.add_row(Text("total", style="bold"), "", "", "", "", "", _money(sized.monthly_saving))
    return table


def start_table(rows: list[StartRow]) -> Table:
    table = Table(title="Start times, creation to Ready: before (EC2) and after (Fargate)", **COMPACT)
    for header in ("namespace", "compute", "ready", "p50", "p95", "max", "target", "slowest phase (p50)"):
        table.add_column(header, justify="left" if header in ("namespace", "compute", "slowest phase (p50)") else "right")
    for r in rows:
        table.add_row(Text(r.namespace), r.compute, str(r.ready), duration(r.p50), duration(r.p95), duration(r.max),
                      duration(r.target),
                      f"{r.slowest_phase} ({duration(r.slowest_phase_p50)})" if r.slowest_phase else "-",
                      style=None if r.meets_target in (None, True) else "bold red")
    return table


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
            yield Static("", id="cost-rightsizing")
            yield Static("", id="cost-starts")
            yield Static("", id="cost-notes")
        yield Footer()

    def on_mount(self) -> None:
        self.show(getattr(self.app, "assessment", Assessment()))

    def on_screen_resume(self) -> None:
        self.show(getattr(self.app, "assessment", Assessment()))

    def show(self, assessment: Assessment) -> None:
        case = assessment.business_case
        snapshot = getattr(self.app, "snapshot", None)
        starts = start_comparison(snapshot.pods if snapshot is not None else (), assessment.start, assessment.start_target)
        if (case, starts) == self._shown and self.updates:
            return
        self._shown = (case, starts)
        self.updates += 1
        self.query_one("#cost-starts", Static).update(start_table(starts) if starts else "")
        if case is None:
            reason = "; ".join(assessment.notes) or "no snapshot yet, or no rates for the cluster's region"
            self.query_one("#cost-table", Static).update(Text(f"No cost comparison: {reason}"))
            self.query_one("#cost-bars", Static).update("")
            self.query_one("#cost-rightsizing", Static).update("")
            self.query_one("#cost-notes", Static).update("")
            return
        self.query_one("#cost-table", Static).update(cost_table(case))
        self.query_one("#cost-bars", Static).update(cost_bars(case))
        self.query_one("#cost-rightsizing", Static).update(rightsizing_table(case))
        self.query_one("#cost-notes", Static).update(summary(case))

    def action_close(self) -> None:
        self.app.pop_screen()
