"""The PCI holes a PC host bridge reports: read-only QOM properties the ACPI tables are built from.

- ``pci-hole-start`` / ``pci-hole-end``: the 32-bit window, from the end of
  RAM below 4 GiB up to the I/O APIC at 0xfec00000;
- ``pci-hole64-start`` / ``pci-hole64-end``: the span of the 64-bit BARs
  mapped above 4 GiB; with ``x-pci-hole64-fix`` (machines 2.11 and newer)
  at least the machine's own window: from the end of RAM and device memory
  above 4 GiB, for ``pci-hole64-size`` bytes, both rounded up to 1 GiB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.qom.property import UINT32, UINT64
from pyqemu.util.units import GiB, round_up

IO_APIC_DEFAULT_ADDRESS = 0xFEC00000
FOUR_GiB = 4 * GiB


def pci_bus_w64_range(bus: Any) -> tuple[int, int] | None:
    """(lowest, highest) address of the 64-bit memory BARs mapped above 4 GiB (``pci_bus_get_w64_range``)."""
    from pyqemu.hw.pci.pci import PCI_BAR_UNMAPPED

    low, high = None, None
    for device in bus.slots if bus is not None else ():
        for bar in device.bars if device is not None else ():
            if bar is None or not bar.is_64bit or bar.addr == PCI_BAR_UNMAPPED or not bar.size:
                continue
            start, end = max(bar.addr, FOUR_GiB), bar.addr + bar.size - 1
            if end >= start:
                low = start if low is None else min(low, start)
                high = end if high is None else max(high, end)
    return None if low is None or high is None else (low, high)


def _hole64_start(host: Any) -> int:
    from pyqemu.hw.core.qdev import qdev_get_machine

    w64 = pci_bus_w64_range(host.bus)
    value = w64[0] if w64 is not None else 0
    machine = qdev_get_machine(host)
    if not value and host.x_pci_hole64_fix and machine is not None:
        value = machine.pci_hole64_start()
    return value


def _hole64_end(host: Any) -> int:
    w64 = pci_bus_w64_range(host.bus)
    value = w64[1] + 1 if w64 is not None else 0
    end = round_up(_hole64_start(host) + host.pci_hole64_size, GiB)
    return end if host.x_pci_hole64_fix and value < end else value


def add_pci_hole_properties(cls: Any, below_4g: Callable[[Any], int]) -> None:
    """The four properties on host bridge class ``cls``; ``below_4g(host)`` is where RAM ends below 4 GiB."""
    cls.class_property_add("pci-hole-start", UINT32, below_4g)
    cls.class_property_add("pci-hole-end", UINT32, lambda host: IO_APIC_DEFAULT_ADDRESS)
    cls.class_property_add("pci-hole64-start", UINT64, _hole64_start)
    cls.class_property_add("pci-hole64-end", UINT64, _hole64_end)
