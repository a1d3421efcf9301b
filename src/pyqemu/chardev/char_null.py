"""The ``null`` backend: swallows everything written, never has anything to read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyqemu.chardev.char import Chardev
from pyqemu.qom.object import register_type


@register_type
class NullChardev(Chardev):
    """``-chardev null``: writes succeed and vanish; no peer, so no ``OPENED`` event, as in QEMU."""

    TYPE = "chardev-null"
    BACKEND = "null"

    def open(self, data: Mapping[str, Any]) -> bool:
        return False
