"""Which module provides which QOM type: the index behind loading on demand.

Module names are relative to ``pyqemu``.  Keep it sorted by module; the test
``tests/unit/test_modinfo.py`` imports every module listed here and checks
that the index and the registrations agree, so it cannot go stale.
"""

from __future__ import annotations

QOM_TYPES: dict[str, str] = {
}
