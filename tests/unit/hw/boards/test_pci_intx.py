"""PCI INTx: a device's pin, the PIIX3's PIRQ routing on ``pc``, the ICH9's on ``q35`` (as QEMU's)."""

from __future__ import annotations

from pyqemu.hw.pci.pci import PCI_COMMAND, PCI_INTERRUPT_PIN, PCI_STATUS, PCIDevice
from pyqemu.hw.pci.pci_intx import PCI_STATUS_INTERRUPT, pci_set_irq
from pyqemu.qom.object import register_type

from .conftest import board, io_space, pci_config_read, pci_config_write

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


# -- q35: the ICH9's PIRQ A-H ----------------------------------------------------------------

LPC = 31 << 3
AHCI = 31 << 3 | 2
PIRQE_ROUT = 0x68
RCBA = 0xFED1C000
D31IR = 0x3140
PMBASE = 0x600
PM1_EN = PMBASE + 2
PM1_PWRBTN = 0x0100


def test_q35_slots_below_25_rotate_onto_pirq_e_to_h() -> None:
    with board("q35") as vm:
        dev = _device(vm)
        levels = vm.machine.gsi_levels  # type: ignore[union-attr]
        pci_set_irq(dev, 1)  # slot 3, INTB: PIRQ E + (3 + 1) mod 4 = PIRQE, GSI 20
        assert levels[20] == 1
        pci_config_write(vm, LPC, PIRQE_ROUT, 11, 1)  # routing is read at the next PIRQ change
        assert levels[11] == 0
        pci_set_irq(dev, 0)
        pci_set_irq(dev, 1)
        assert (levels[20], levels[11]) == (1, 1)
        pci_set_irq(dev, 0)
        assert (levels[20], levels[11]) == (0, 0)


def test_q35_slot_31_follows_d31ir() -> None:
    with board("q35") as vm:
        ahci = pci_find(vm, AHCI)
        levels = vm.machine.gsi_levels  # type: ignore[union-attr]
        pci_set_irq(ahci, 1)  # INTA, D31IR = 0x3210: PIRQA, GSI 16
        assert levels[16] == 1
        pci_set_irq(ahci, 0)
        memory = vm.machine.memory_system.address_space_memory  # type: ignore[union-attr]
        pci_config_write(vm, LPC, 0xF0, RCBA | 1)
        memory.write(RCBA + D31IR, 0x3212, 2)  # INTA now on PIRQC
        pci_set_irq(ahci, 1)
        assert (levels[16], levels[18]) == (0, 1)


def test_q35_sci_and_a_pirq_share_a_gsi() -> None:
    with board("q35") as vm:
        dev = _device(vm)
        lpc = pci_find(vm, LPC)
        levels = vm.machine.gsi_levels  # type: ignore[union-attr]
        pci_config_write(vm, LPC, 0x40, PMBASE)
        pci_config_write(vm, LPC, 0x44, 0x80, 1)  # ACPI on, SCI on GSI 9
        pci_config_write(vm, LPC, PIRQE_ROUT, 9, 1)
        io_space(vm).write(PM1_EN, PM1_PWRBTN, 2)
        lpc.pm.regs.power_down()
        assert levels[9] == 1
        pci_set_irq(dev, 1)
        io_space(vm).write(PMBASE, PM1_PWRBTN, 2)  # the SCI is acknowledged; PIRQE holds GSI 9
        assert levels[9] == 1
        pci_set_irq(dev, 0)
        assert levels[9] == 0


def pci_find(vm, devfn: int):  # type: ignore[no-untyped-def]
    dev = vm.machine.pci_bus.find_device(0, devfn)
    assert dev is not None
    return dev
