"""PCI INTx on the PC: a device's pin, the PIIX3 swizzle and PIRQ routing to an ISA IRQ (as QEMU's piix3)."""

from __future__ import annotations

from pyqemu.hw.pci.pci import PCI_COMMAND, PCI_INTERRUPT_PIN, PCI_STATUS, PCIDevice
from pyqemu.hw.pci.pci_intx import PCI_STATUS_INTERRUPT, pci_set_irq
from pyqemu.qom.object import register_type

from .conftest import board, pci_config_read, pci_config_write

SLOT = 3
DEVFN = SLOT << 3


@register_type
class IntxTestDevice(PCIDevice):
    """A PCI function with one interrupt pin, INTB, for these tests."""

    TYPE = "x-test-intx-device"

    def pci_realize(self) -> None:
        self.set_byte(PCI_INTERRUPT_PIN, 2)


def _device(vm) -> IntxTestDevice:  # type: ignore[no-untyped-def]
    from pyqemu.hw.pci.pci import pci_create_simple

    dev = pci_create_simple(vm.machine.pci_bus, DEVFN, IntxTestDevice.TYPE)
    assert isinstance(dev, IntxTestDevice)
    return dev


def test_pirq_routing_reaches_the_isa_irq() -> None:
    with board("pc") as vm:
        dev = _device(vm)
        levels = vm.machine.gsi_levels  # type: ignore[union-attr]
        pci_set_irq(dev, 1)  # routing disabled after reset: nothing
        assert levels[11] == 0
        assert pci_config_read(vm, DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT
        # slot 3, INTB: PIRQ (3 - 1 + 1) & 3 = PIRQD, register 0x63
        pci_config_write(vm, 1 << 3, 0x63, 11, 1)
        assert levels[11] == 1
        pci_config_write(vm, 1 << 3, 0x63, 10, 1)  # re-routed: IRQ 11 drops, IRQ 10 rises
        assert (levels[11], levels[10]) == (0, 1)
        pci_set_irq(dev, 0)
        assert levels[10] == 0
        assert not pci_config_read(vm, DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT


def test_interrupt_disable_masks_the_pin() -> None:
    with board("pc") as vm:
        dev = _device(vm)
        levels = vm.machine.gsi_levels  # type: ignore[union-attr]
        pci_config_write(vm, 1 << 3, 0x63, 11, 1)
        pci_set_irq(dev, 1)
        pci_config_write(vm, DEVFN, PCI_COMMAND, 0x400, 2)
        assert levels[11] == 0
        pci_config_write(vm, DEVFN, PCI_COMMAND, 0, 2)
        assert levels[11] == 1
        dev.reset()
        assert levels[11] == 0
