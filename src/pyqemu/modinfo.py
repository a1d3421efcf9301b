"""Which module provides which QOM type: the index behind loading on demand.

Module names are relative to ``pyqemu``.  Keep it sorted by module; the test
``tests/unit/test_modinfo.py`` imports every module listed here and checks
that the index and the registrations agree, so it cannot go stale.
"""

from __future__ import annotations

QOM_TYPES: dict[str, str] = {
    "accel": "accel.accel",
    "kvm-accel": "accel.kvm.accel",
    "qtest": "accel.qtest.server",
    "qtest-accel": "accel.qtest.accel",
    "tcg-accel": "accel.tcg.accel",
    "chardev": "chardev.char",
    "chardev-fd": "chardev.char_fd",
    "chardev-file": "chardev.char_file",
    "chardev-mux": "chardev.char_mux",
    "chardev-null": "chardev.char_null",
    "chardev-pipe": "chardev.char_pipe",
    "chardev-pty": "chardev.char_pty",
    "chardev-ringbuf": "chardev.char_ringbuf",
    "chardev-socket": "chardev.char_socket",
    "chardev-stdio": "chardev.char_stdio",
    "isa-debugcon": "hw.char.debugcon",
    "serial": "hw.char.serial",
    "isa-serial": "hw.char.serial_isa",
    "bus": "hw.core.bus",
    "hotplug-handler": "hw.core.hotplug",
    "irq": "hw.core.irq",
    "device": "hw.core.qdev",
    "machine": "hw.core.machine",
    "none-machine": "hw.core.null_machine",
    "System": "hw.core.sysbus",
    "sys-bus-device": "hw.core.sysbus",
    "ISA": "hw.isa.isa_bus",
    "isa-device": "hw.isa.isa_bus",
    "isabus-bridge": "hw.isa.isa_bus",
    "i8042": "hw.input.i8042",
    "ps2-device": "hw.input.ps2",
    "ps2-kbd": "hw.input.ps2",
    "ps2-mouse": "hw.input.ps2",
    "isa-debug-exit": "hw.misc.debugexit",
    "mc146818rtc": "hw.rtc.mc146818rtc",
    "memory-backend": "memory.backends",
    "memory-backend-file": "memory.backends",
    "memory-backend-memfd": "memory.backends",
    "memory-backend-ram": "memory.backends",
    "memory-region": "memory.region",
    "user-creatable": "qom.object_interfaces",
}

#: ``-M`` aliases and the machine used without ``-M``, so that choosing a
#: machine loads only the module that provides it.  Checked against the
#: machine classes' ``ALIAS`` / ``IS_DEFAULT`` by the same test.
MACHINE_ALIASES: dict[str, str] = {
}
DEFAULT_MACHINE: str | None = None
