"""JSON from anyone (a client, a run file, an imported file, a flag), read with limits, and
user text quoted in error messages at a readable length.

Python's own int-string limit (4,300 digits) raises a ValueError naming its internals, 1e400
parses to infinity and NaN parses at all: each reader refuses these itself with a message
that says what is allowed (`JsonLimit`), and maps it to its own error type.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

# Characters of user input an error message quotes at most (a client may send 1 MB).
SHOWN = 60


class JsonLimit(ValueError):
    """Valid JSON syntax holding a value past a limit (a huge integer, 1e400, NaN)."""


def cut(text: str, limit: int = SHOWN) -> str:
    """`text` as quoted in an error message: at most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def loads(text: str | bytes, max_int_digits: int, finite: bool = False,
          constants: bool = False) -> Any:  # fmt: skip
    """`json.loads`, refusing integers over `max_int_digits` digits, NaN and Infinity (unless
    `constants`: a run file's own history may hold them) and, with `finite`, numbers that
    overflow to infinity (1e400), by raising JsonLimit. Other faults raise what json.loads
    raises (a ValueError) or RecursionError."""

    def bounded_int(token: str) -> int:
        digits = len(token.lstrip("-"))
        if digits > max_int_digits:
            raise JsonLimit(f"a number of {digits} digits; numbers have at most {max_int_digits}")
        return int(token)

    def finite_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            raise JsonLimit(f"a number too large ({cut(token)}); numbers must be below 1.8e308")
        return value

    def no_constant(name: str) -> NoReturn:
        raise JsonLimit(f"{name}, which is not a JSON number; numbers must be finite")

    return json.loads(text, parse_int=bounded_int, parse_float=finite_float if finite else None,
                      parse_constant=None if constants else no_constant)  # fmt: skip


def depth(value: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, counting no further than `limit` + 1 (iterative: the
    value may be deep)."""
    stack, deepest = [(value, 1)], 0
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                break
            items = node.values() if isinstance(node, dict) else node
            stack.extend((item, level + 1) for item in items)
    return deepest
