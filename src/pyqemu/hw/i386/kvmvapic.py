"""The VAPIC port (``kvmvapic``): the hypercall port of QEMU's TPR-access optimisation for old Windows.

32-bit Windows XP / 2003 touch the APIC's task-priority register so often
that QEMU patches those instructions into calls to an option ROM
(``kvmvapic.bin``) that keeps the TPR in guest memory.  The ROM talks to
the device through two I/O ports at 0x7e, by the size of its write:

- 16 bits: the ROM has initialised; the value is the offset of its state
  structure within the ROM, whose address comes from the writing CPU's
  CS base + EIP (rounded down to the 512-byte ROM block);
- 8 bits: re-activate after hibernation (needs the guest's page tables);
- 32 bits: poll the APIC for pending interrupts.

Reads return all ones.  A write with no CPU behind it (qtest, the monitor)
does nothing, as in QEMU.  pyqemu records the ROM state address and polls
the APIC, but patches no guest code: without a vCPU interpreter there is no
TPR access to report, so the device stays in standby.

The first APIC creates the device (:func:`vapic_create`) on the main system
bus, where it is ``/machine/unattached/device[1]`` right after CPU 0.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev import qdev_get_machine, qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.sysbus import SysBusDevice, sysbus_add_io, sysbus_get_default, sysbus_init_ioports
from pyqemu.memory.region import Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import Object, register_type

if TYPE_CHECKING:
    from pyqemu.hw.intc.apic import CurrentCpu

TYPE_VAPIC = "kvmvapic"
VAPIC_IO_PORT = 0x7E
VAPIC_IO_SIZE = 2
ROM_BLOCK_SIZE = 512
ROM_BLOCK_MASK = ~(ROM_BLOCK_SIZE - 1) & 0xFFFFFFFF
ALL_ONES = 0xFFFFFFFF

# What a write's size asks for.
WRITE_REACTIVATE = 1
WRITE_ROM_INIT = 2
WRITE_POLL = 4


class VapicMode(enum.IntEnum):
    INACTIVE = 0
    ACTIVE = 1
    STANDBY = 2


class VapicCore:
    """The port's state: the mode and where the ROM keeps its state structure."""

    def __init__(self) -> None:
        self.state = VapicMode.INACTIVE
        self.rom_state_paddr = 0

    def read(self, offset: int, size: int) -> int:
        return ALL_ONES

    def write(self, value: int, size: int, cpu: CurrentCpu | None) -> None:
        """A write of ``size`` bytes from ``cpu`` (None: no CPU, ignored)."""
        if cpu is None:
            return
        if size == WRITE_ROM_INIT:
            if self.state == VapicMode.INACTIVE:
                self.rom_state_paddr = ((cpu.code_address() & ROM_BLOCK_MASK) + value) & 0xFFFFFFFF
                self.state = VapicMode.STANDBY
        elif size == WRITE_REACTIVATE:
            pass  # finding the ROM's virtual mapping needs the guest's page tables
        else:
            lapic = cpu.child("lapic")
            core = getattr(lapic, "core", None)
            if core is not None:
                core.poll_irq()

    def reset(self) -> None:
        if self.state == VapicMode.ACTIVE:
            self.state = VapicMode.STANDBY


@register_type
class VapicRomState(SysBusDevice):
    """The VAPIC hypercall port (type ``kvmvapic``): region ``kvmvapic``, ports 0x7e-0x7f."""

    TYPE = TYPE_VAPIC

    def __init__(self) -> None:
        super().__init__()
        self.core = VapicCore()

    def realize(self) -> None:
        from pyqemu.hw.intc.apic import current_cpu

        ops = MemoryRegionOps(
            read=self.core.read,
            write=lambda _offset, value, size: self.core.write(value, size, current_cpu(self)),
            endianness=Endianness.NATIVE,
        )
        self.region = MemoryRegion.new_io(self, ops, TYPE_VAPIC, VAPIC_IO_SIZE)
        sysbus_add_io(self, VAPIC_IO_PORT, self.region)
        sysbus_init_ioports(self, VAPIC_IO_PORT, VAPIC_IO_SIZE)

    def reset(self) -> None:
        self.core.reset()


def vapic_create(machine: Object) -> VapicRomState:
    """Create and realize ``kvmvapic`` on the main system bus (``sysbus_create_simple``)."""
    dev = qdev_new(TYPE_VAPIC)
    assert isinstance(dev, VapicRomState)
    qdev_realize_and_unref(dev, sysbus_get_default(qdev_get_machine(machine)))
    return dev
