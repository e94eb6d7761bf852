"""Kubernetes resource quantities (k8s.io/apimachinery ``resource.Quantity``).

A quantity is a signed decimal number followed by one suffix: a binary SI unit (Ki Mi Gi Ti Pi Ei),
a decimal SI unit (m, none, k M G T P E) or a decimal exponent (``1e3``, ``5E-1``). Values are
exact fractions, because Fargate sizing compares against hard edges (256Mi fits 0.5 GB, 257Mi does
not). Integer conversions round up, as ``MilliValue()`` and ``Value()`` do. Unquoted JSON numbers
(``cpu: 1``) are quantities too.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_SUFFIX_FACTORS = {
    "Ki": Fraction(1024), "Mi": Fraction(1024**2), "Gi": Fraction(1024**3),
    "Ti": Fraction(1024**4), "Pi": Fraction(1024**5), "Ei": Fraction(1024**6),
    "m": Fraction(1, 1000), "": Fraction(1), "k": Fraction(10**3), "M": Fraction(10**6),
    "G": Fraction(10**9), "T": Fraction(10**12), "P": Fraction(10**15), "E": Fraction(10**18),
}
_SYNTAX = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE])?)")


def quantity(value: str | int | float) -> Fraction:
    """The exact value of a quantity; ValueError (naming the input) for what the API server refuses."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"quantity must be a string or a number, not {value!r}")
    text = repr(value) if isinstance(value, float) else str(value)
    match = _SYNTAX.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid quantity {value!r}: want a number with an optional suffix "
                         "(m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent like 1e3)")
    sign, digits, exponent, suffix = match.groups()
    number = Fraction(digits) * (-1 if sign == "-" else 1)
    if exponent:
        return number * Fraction(10) ** int(exponent[1:])
    return number * _SUFFIX_FACTORS[suffix or ""]


def _non_negative(value: object, amount: Fraction) -> Fraction:
    if amount < 0:  # requests and limits must not be negative (API validation)
        raise ValueError(f"resource quantity must not be negative: {value!r}")
    return amount


def cpu_millicores(value: str | int | float) -> int:
    """A CPU quantity in millicores, rounded up ("0.25" -> 250, "0.0001" -> 1)."""
    return math.ceil(_non_negative(value, quantity(value)) * 1000)


def memory_bytes(value: str | int | float) -> int:
    """A memory or storage quantity in bytes, rounded up ("1Gi" -> 1073741824)."""
    return math.ceil(_non_negative(value, quantity(value)))
