"""The module registry: what each module provides, and loading on demand.

As in QEMU (``util/module.c``), a module *registers* its init functions by
kind when it is imported (``@module_init(ModuleKind.QOM)``), and
:func:`module_call_init` *runs* the pending ones later, in registration
order, each exactly once.  Registration does nothing else.

Device and board modules are not imported at start-up.  The static index in
:mod:`pyqemu.modinfo` says which module provides which QOM type (QEMU's
``modinfo``); :func:`module_load_qom` imports the one that provides a type
when the type is first looked up, so ``-M none`` starts without importing
every device.  A unit test keeps the index true to what modules register.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable

InitFunction = Callable[[], None]


class ModuleKind(enum.Enum):
    """The kinds of init function, run at different points of start-up."""

    TRACE = "trace"
    OPTS = "opts"
    QOM = "qom"
    QAPI = "qapi"


_pending: dict[ModuleKind, list[InitFunction]] = {kind: [] for kind in ModuleKind}
_loaded: set[str] = set()


def module_init(kind: ModuleKind) -> Callable[[InitFunction], InitFunction]:
    """Decorator: register ``fn`` to run at the next ``module_call_init(kind)``."""

    def register(fn: InitFunction) -> InitFunction:
        _pending[kind].append(fn)
        return fn

    return register


def module_call_init(kind: ModuleKind) -> None:
    """Run the init functions of ``kind`` registered since the last call, in order."""
    pending = _pending[kind]
    while pending:
        pending.pop(0)()


def module_load(name: str) -> None:
    """Import the pyqemu module ``name`` (dotted, relative to ``pyqemu``) and run its QOM inits."""
    if name not in _loaded:
        importlib.import_module(f"pyqemu.{name}")
        _loaded.add(name)
    module_call_init(ModuleKind.QOM)


def module_load_qom(type_name: str) -> bool:
    """Load the module that provides QOM type ``type_name``; False if none does."""
    from pyqemu.modinfo import QOM_TYPES

    module = QOM_TYPES.get(type_name)
    if module is None:
        return False
    module_load(module)
    return True


def module_load_qom_all() -> None:
    """Load every module of the index, e.g. before listing all types."""
    from pyqemu.modinfo import QOM_TYPES

    for module in dict.fromkeys(QOM_TYPES.values()):
        module_load(module)
