"""Kubernetes quantity parsing: exact values, rounding up like the API server, clear errors."""

from decimal import Decimal

import pytest

from iagent_tui.insights.quantities import cpu_millicores, memory_bytes, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250m", Decimal("0.25")),
        ("0.25", Decimal("0.25")),
        ("1", Decimal(1)),
        (".5", Decimal("0.5")),
        ("2.", Decimal(2)),
        ("256Mi", Decimal(256 * 2**20)),
        ("750M", Decimal(750_000_000)),
        ("1Gi", Decimal(2**30)),
        ("1e3", Decimal(1000)),
        ("1E-3", Decimal("0.001")),
        ("128974848", Decimal(128974848)),
        ("1.5Ki", Decimal(1536)),
        ("1k", Decimal(1000)),
        ("+2", Decimal(2)),
        (1, Decimal(1)),
        (0.25, Decimal("0.25")),
    ],
)
def test_parse_quantity_exact(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("bad", ["", " 1", "1 ", "abc", "1Mb", "1KI", "1ki", "--1", "1.2.3", "Mi", "1e", "0x10", None, True, [1]])
def test_parse_quantity_rejects_garbage_with_clear_error(bad):
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(bad)


def test_cpu_rounds_up_to_whole_millicores():
    assert cpu_millicores("0.25") == 250
    assert cpu_millicores("0.0001") == 1
    assert cpu_millicores("1") == 1000
    assert cpu_millicores("100m") == 100


def test_memory_rounds_up_to_whole_bytes_and_rejects_negative():
    assert memory_bytes("1.5") == 2
    assert memory_bytes("1e3") == 1000
    assert memory_bytes("256Mi") == 268435456
    with pytest.raises(ValueError, match="non-negative"):
        memory_bytes("-1Mi")


AGREEMENT_SAMPLE = [
    "250m", "0.25", "1", ".5", "2.", "256Mi", "750M", "1Gi", "1e3", "1E-3", "128974848", "1.5Ki",
    "1k", "+2", "1E", "0.1m", "3Ti", "2Pi", "1Ei", "0.5G", "12e2", "7T", "0", "100m",
    "1ki", "1KI", "1e", "abc", "--1", "1.2.3", "1Mb", "Mi", "0x10",
]  # fmt: skip


@pytest.mark.parametrize("text", AGREEMENT_SAMPLE)
def test_agrees_with_the_official_kubernetes_client(text):
    # kubernetes.utils.parse_quantity is an independent implementation of the same grammar.
    from kubernetes.utils import parse_quantity as official

    try:
        expected = official(text)
    except ValueError:
        with pytest.raises(ValueError):
            parse_quantity(text)
    else:
        assert parse_quantity(text) == expected
