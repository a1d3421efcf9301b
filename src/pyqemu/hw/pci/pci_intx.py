"""Legacy PCI interrupts: a device's INTx pin, through its bus's routing, to a host IRQ.

A device drives the pin its ``Interrupt Pin`` register names
(:func:`pci_set_irq`); the bus maps (device, pin) to one of its IRQs with
the board's ``map_irq`` (the PIIX3's slot swizzle onto PIRQA-D, the ICH9's
per-slot table onto PIRQA-H) and counts how many pins assert each, calling
the host's ``set_irq(irq, level)`` with ``count != 0`` — QEMU's
``pci_bus_irqs`` / ``pci_set_irq``.  ``Interrupt Disable`` in the command
register masks a device's pins, and its ``Interrupt Status`` bit shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyqemu.hw.pci.pci import PCIBus, PCIDevice

PCI_NUM_PINS = 4
PCI_STATUS_INTERRUPT = 0x08

#: ``map_irq(device, pin) -> bus irq`` and ``set_irq(bus irq, level)``.
MapIrq = Callable[["PCIDevice", int], int]
SetIrq = Callable[[int, int], None]


def pci_bus_irqs(bus: PCIBus, set_irq: SetIrq, map_irq: MapIrq, nirq: int) -> None:
    """Give a root bus its interrupt routing and ``nirq`` IRQs (``pci_bus_irqs``)."""
    bus.set_irq = set_irq
    bus.map_irq = map_irq
    bus.irq_count = [0] * nirq


def pci_swizzle_map_irq(device: PCIDevice, pin: int) -> int:
    """The usual rotation: pin N of slot S is IRQ (S + N) mod 4 (``pci_swizzle_map_irq_fn``)."""
    from pyqemu.hw.pci.pci import pci_slot

    return (pci_slot(device.devfn) + pin) % PCI_NUM_PINS


def pci_intx(device: PCIDevice) -> int:
    """The pin the device uses, 0 for INTA (its ``Interrupt Pin`` register minus one)."""
    from pyqemu.hw.pci.pci import PCI_INTERRUPT_PIN

    return device.get_byte(PCI_INTERRUPT_PIN) - 1


def pci_set_irq(device: PCIDevice, level: int) -> None:
    """Drive the device's INTx pin to ``level`` (``pci_set_irq``)."""
    pci_irq_handler(device, pci_intx(device), 1 if level else 0)


def pci_irq_handler(device: PCIDevice, pin: int, level: int) -> None:
    """Pin ``pin`` of ``device`` is now ``level``: update its status and its bus's count."""
    change = level - ((device.irq_state >> pin) & 1)
    if not change:
        return
    device.irq_state ^= 1 << pin
    _update_status(device)
    if not pci_irq_disabled(device):
        _change_level(device, pin, change)


def pci_irq_disabled(device: PCIDevice) -> bool:
    from pyqemu.hw.pci.pci import PCI_COMMAND, PCI_COMMAND_INTX_DISABLE

    return bool(device.get_word(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE)


def pci_update_irq_disabled(device: PCIDevice, was_disabled: bool) -> None:
    """After a command write: withdraw or re-assert the asserted pins if ``Interrupt Disable`` flipped."""
    disabled = pci_irq_disabled(device)
    if disabled == was_disabled:
        return
    for pin in range(PCI_NUM_PINS):
        if (device.irq_state >> pin) & 1:
            _change_level(device, pin, -1 if disabled else 1)


def pci_device_deassert_intx(device: PCIDevice) -> None:
    """Lower every pin (device reset)."""
    for pin in range(PCI_NUM_PINS):
        pci_irq_handler(device, pin, 0)


def pci_bus_get_irq_level(bus: PCIBus, irq: int) -> int:
    """Whether any pin routed to bus IRQ ``irq`` is asserted."""
    return 1 if bus.irq_count and bus.irq_count[irq] else 0


def _update_status(device: PCIDevice) -> None:
    from pyqemu.hw.pci.pci import PCI_STATUS

    status = device.get_word(PCI_STATUS) & ~PCI_STATUS_INTERRUPT
    device.set_word(PCI_STATUS, status | (PCI_STATUS_INTERRUPT if device.irq_state else 0))


def _change_level(device: PCIDevice, pin: int, change: int) -> None:
    from pyqemu.hw.pci.pci import PCIBus

    bus = device.parent_bus
    if not isinstance(bus, PCIBus) or bus.map_irq is None or bus.set_irq is None:
        return  # a bus without routing (a bare test bus): the pin goes nowhere
    irq = bus.map_irq(device, pin)
    bus.irq_count[irq] += change
    bus.set_irq(irq, 1 if bus.irq_count[irq] else 0)
