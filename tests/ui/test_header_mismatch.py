"""The header says so, in the error tone, when the kubeconfig's API server is not the cluster's."""

from __future__ import annotations

from datetime import datetime, timezone

from iagent_tui.model import ClusterInfo, ConnectionState, Snapshot
from screens.header import header_text

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
CLUSTER = ClusterInfo("iagent-cluster", "eu-central-1", "ACTIVE", "1.31", "https://b.example.com", "", "")


def snap(**conn) -> Snapshot:
    return Snapshot(taken_at=NOW, cluster=CLUSTER,
                    connection=ConnectionState("ctx-a", "https://a.example.com", "token", **conn))


def test_a_mismatch_replaces_the_connection_line_in_red():
    text = header_text(snap(matches_cluster=False, mismatch="kubeconfig context ctx-a points at https://a.example.com"),
                       {"bad": "bold red"})
    line = text.plain.splitlines()[1]
    assert line.startswith("WRONG CLUSTER: kubeconfig context ctx-a points at https://a.example.com")
    assert any(span.style == "bold red" and text.plain[span.start:span.end].startswith("WRONG CLUSTER")
               for span in text.spans)
    assert len(text.plain.splitlines()) == 2  # the header is two lines high


def test_a_match_shows_the_connection_line():
    assert "WRONG CLUSTER" not in header_text(snap(matches_cluster=True), {}).plain
