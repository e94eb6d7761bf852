"""Kubernetes resource quantities, parsed the way the API server parses them.

Grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go):

    <quantity>        ::= <signedNumber><suffix>
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

Values are kept exact (``Decimal``), because sizing compares against hard boundaries: 256Mi must
fit 0.5 GB and 257Mi must not. Conversions to integers round *up*, as ``Quantity.MilliValue()``
and ``Quantity.Value()`` do, so a request of ``0.0001`` CPU counts as 1m, never 0.
JSON numbers are accepted too: Quantity's UnmarshalJSON takes unquoted numbers (``cpu: 1``).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),  # metrics-server reports CPU in nanocores ("12345678n")
    "u": Decimal("1e-6"),
    "m": Decimal("0.001"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|[eE](?P<exponent>[+-]?\d+)|(?P<decimal>[numkMGTPE]?))"
)
MIB = 2**20
GIB = 2**30


def parse_quantity(value: str | int | float) -> Decimal:
    """Exact value of a Kubernetes quantity ("250m" -> 0.25, "1Gi" -> 1073741824, "1e3" -> 1000).

    Raises ValueError naming the bad input for anything the API server would reject."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"quantity must be a string or number, got {type(value).__name__}: {value!r}")
    text = str(value) if not isinstance(value, float) else repr(value)
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(
            f"invalid Kubernetes quantity {value!r}: expected a number with an optional suffix "
            "(m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like 1e3)"
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex only admits valid decimals
        raise ValueError(f"invalid Kubernetes quantity {value!r}") from exc
    if match["binary"]:
        return number * _BINARY[match["binary"]]
    if match["exponent"] is not None:
        return number.scaleb(int(match["exponent"]))
    return number * _DECIMAL[match["decimal"] or ""]


def cpu_millicores(value: str | int | float) -> int:
    """CPU quantity in millicores, rounded up like Quantity.MilliValue() ("0.25" -> 250)."""
    milli = parse_quantity(value) * 1000
    _require_non_negative(value, milli)
    return int(milli.to_integral_value(rounding=ROUND_CEILING))


def memory_bytes(value: str | int | float) -> int:
    """Memory (or ephemeral-storage) quantity in bytes, rounded up like Quantity.Value()."""
    amount = parse_quantity(value)
    _require_non_negative(value, amount)
    return int(amount.to_integral_value(rounding=ROUND_CEILING))


def _require_non_negative(value: object, amount: Decimal) -> None:
    # The API server rejects negative requests/limits (ValidateResourceQuantityValue).
    if amount < 0:
        raise ValueError(f"resource quantity must be non-negative, got {value!r}")
