"""The module index agrees with what modules register, so loading on demand finds every type."""

from __future__ import annotations

import subprocess
import sys

from pyqemu import modinfo
from pyqemu.qom import object as qom
from pyqemu.util.module import module_load_qom_all

#: Types registered by modules every start imports anyway.
ALWAYS_LOADED = {"object", "interface", "container"}


def test_every_indexed_type_is_registered_by_its_module() -> None:
    module_load_qom_all()
    for name, module in modinfo.QOM_TYPES.items():
        impl = qom.type_lookup(name)
        assert impl is not None, f"{name} is indexed but not registered"
        assert impl.cls.__module__ == f"pyqemu.{module}", f"{name} is in {impl.cls.__module__}"


def test_every_registered_type_is_indexed() -> None:
    module_load_qom_all()
    ours = {impl.name for impl in qom.all_types() if impl.cls.__module__.startswith("pyqemu.")}
    assert ours - set(modinfo.QOM_TYPES) - ALWAYS_LOADED == set()


def test_machine_aliases_and_default_match_the_classes() -> None:
    from pyqemu.hw.core.machine import MachineState

    module_load_qom_all()
    machines = [impl.cls for impl in qom.object_class_get_list("machine")]
    aliases = {cls.ALIAS: cls.TYPE for cls in machines if issubclass(cls, MachineState) and cls.ALIAS}
    assert aliases == modinfo.MACHINE_ALIASES
    defaults = [cls.machine_name() for cls in machines if issubclass(cls, MachineState) and cls.IS_DEFAULT]
    assert defaults == ([modinfo.DEFAULT_MACHINE] if modinfo.DEFAULT_MACHINE else [])


def test_machine_none_start_imports_no_device() -> None:
    """``-M none`` builds its machine without importing device or board modules."""
    code = (
        "import sys\n"
        "from pyqemu.system.emulator import Emulator\n"
        "vm = Emulator(['-M', 'none', '-accel', 'qtest', '-nodefaults', '-S'])\n"
        "vm.sequence.start()\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('pyqemu.hw.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert {m for m in loaded if not m.startswith("pyqemu.hw.core")} <= {"pyqemu.hw"}, loaded
