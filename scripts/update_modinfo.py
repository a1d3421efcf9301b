"""Regenerate ``QOM_TYPES`` in ``src/pyqemu/modinfo.py`` from the types the modules register.

Imports every module of the package (except the entry points), records which
module registered each QOM type and rewrites the dictionary, sorted by module.
Run it after adding a device: ``.venv/bin/python scripts/update_modinfo.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pyqemu
from pyqemu.qom import object as qom

MODINFO = Path(pyqemu.__file__).with_name("modinfo.py")
SKIP = ("pyqemu.__main__", "pyqemu.system.main")
#: Types of modules every start imports anyway: not indexed.
ALWAYS_LOADED = {"object", "interface", "container"}


def registered_types() -> dict[str, str]:
    for info in pkgutil.walk_packages(pyqemu.__path__, "pyqemu."):
        if not info.name.startswith(SKIP):
            importlib.import_module(info.name)
    return {impl.name: impl.cls.__module__.removeprefix("pyqemu.") for impl in qom.all_types()
            if impl.cls.__module__.startswith("pyqemu.") and impl.name not in ALWAYS_LOADED}


def main() -> None:
    types = registered_types()
    order = sorted(types.items(), key=lambda kv: (kv[1], kv[0]))
    lines = [f'    "{name}": "{module}",' for name, module in order]
    text = MODINFO.read_text()
    body = "QOM_TYPES: dict[str, str] = {\n" + "\n".join(lines) + "\n}"
    pattern = r"QOM_TYPES: dict\[str, str\] = \{\n.*?\n\}"
    MODINFO.write_text(re.sub(pattern, lambda _m: body, text, flags=re.S))


if __name__ == "__main__":
    main()
