"""JSON as QEMU's monitor writes it: compact or pretty, ASCII-only with uppercase ``\\uXXXX``.

Compact: ``{"return": {}, "id": 1}`` — ``", "`` and ``": "`` separators.
Pretty (``-qmp-pretty``, ``-mon …,pretty=on``): four-space indentation, an
empty object or array still spread over two lines (``{`` then ``}``).
"""

from __future__ import annotations

import json
import re
from typing import Any

_LOWER_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")
_INDENT = "    "


def _upper_escapes(text: str) -> str:
    if "\\u" not in text:
        return text
    return _LOWER_ESCAPE.sub(lambda m: "\\u" + m.group(1).upper(), text)


def to_json(value: Any) -> str:
    """One line of compact JSON."""
    return _upper_escapes(json.dumps(value, ensure_ascii=True, allow_nan=False))


def to_json_pretty(value: Any, level: int = 0) -> str:
    """Pretty JSON, QEMU's layout (lines separated by ``\\n``)."""
    close = "\n" + _INDENT * level
    inner = "\n" + _INDENT * (level + 1)
    if isinstance(value, dict):
        items = [f"{inner}{to_json(str(k))}: {to_json_pretty(v, level + 1)}" for k, v in value.items()]
        return "{" + ",".join(items) + close + "}"
    if isinstance(value, list):
        items = [inner + to_json_pretty(v, level + 1) for v in value]
        return "[" + ",".join(items) + close + "]"
    return to_json(value)
