"""PIIX4_PM (pc's function 01.3) against QEMU 7.2: config space, PM I/O, APM, SMBus placement, hot-plug.

Expected values are what QEMU 7.2 showed for ``-M pc -accel tcg -nodefaults
-S`` through HMP (``i`` / ``o`` on 0xcf8 / 0xcfc and the PM ports), ``info
qtree``, ``info mtree`` and ``qom-get``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pyqemu.hw.acpi.piix4 import piix4_pm_init
from pyqemu.hw.core.hotplug import qdev_unplug
from pyqemu.hw.core.irq import Irq
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.pci.pci import PCIDevice
from pyqemu.memory.mtree import mtree_info
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

from .acpi_board import QTREE_DATA, PciBoard, reference_qtree_block
from .conftest import FakeIrq

DEVFN = 0x0B  # 01.3
PM_BASE = 0x600


@register_type
class AcpiTestNic(PCIDevice):
    """A hot-pluggable PCI function to plug and unplug."""

    TYPE = "x-test-acpi-nic"
    VENDOR_ID = 0x8086
    DEVICE_ID = 0x100E
    CLASS_ID = 0x0200


class Piix4Board(PciBoard):
    def __init__(self, smm_enabled: bool = True, smp: int = 0, max_cpus: int = 0, **props: Any) -> None:
        super().__init__(smp=smp, max_cpus=max_cpus)
        self.sci, self.smi = FakeIrq(), FakeIrq()
        self.machine.global_props = [("PIIX4_PM", name, value) for name, value in props.items()]
        self.pm = piix4_pm_init(self.bus, DEVFN, Irq.new(lambda _n, level: self.sci(level)),
                                Irq.new(lambda _n, level: self.smi(level)), 0xB100, smm_enabled)
        self.machine_done()

    def enable_pm_io(self, base: int = PM_BASE) -> None:
        self.config_write(DEVFN, 0x40, base | 1)
        self.config_write(DEVFN, 0x80, 1, 1)


@pytest.fixture
def pc() -> Iterator[Piix4Board]:
    board = Piix4Board()
    yield board
    board.close()


def test_qtree_block_is_qemus(pc: Piix4Board) -> None:
    reference = reference_qtree_block("pc", "PIIX4_PM")
    ours = qdev_print(pc.pm, 0)
    assert ours == reference[:reference.index("    type i2c-bus") + 1]  # QEMU's board adds the EEPROMs


def test_configuration_space_is_qemus(pc: Piix4Board) -> None:
    dump = {offset: pc.config_read(DEVFN, offset) for offset in
            (0x00, 0x04, 0x08, 0x0C, 0x3C, 0x40, 0x58, 0x5C, 0x60, 0x64, 0x80, 0x90, 0xD0)}
    assert dump == {
        0x00: 0x71138086, 0x04: 0x02800000, 0x08: 0x06800003, 0x0C: 0, 0x3C: 0x00000100,
        0x40: 0x00000001, 0x58: 0, 0x5C: 0x10000000, 0x60: 0x60000000, 0x64: 0, 0x80: 0,
        0x90: 0x0000B101, 0xD0: 0x00090000,
    }


def test_qom_properties_are_qemus(pc: Piix4Board) -> None:
    values = {name: pc.pm.property_get(name) for name in (
        "acpi_enable_cmd", "acpi_disable_cmd", "gpe0_blk", "gpe0_blk_len", "sci_int", "pm_io_base",
        "acpi-pcihp-io-base", "acpi-pcihp-io-len", "cpu-hotplug-legacy", "smm-enabled", "hotpluggable")}
    assert values == {
        "acpi_enable_cmd": 241, "acpi_disable_cmd": 240, "gpe0_blk": 45024, "gpe0_blk_len": 4, "sci_int": 9,
        "pm_io_base": 0, "acpi-pcihp-io-base": 44544, "acpi-pcihp-io-len": 24, "cpu-hotplug-legacy": True,
        "smm-enabled": True, "hotpluggable": False,
    }
    children = {p.name for p in pc.pm.iter_properties() if p.type.startswith("child<")}
    assert children == {
        "acpi-cnt[0]", "acpi-cpu-hotplug[0]", "acpi-evt[0]", "acpi-gpe0[0]", "acpi-pci-hotplug[0]",
        "acpi-tmr[0]", "apm-io[0]", "bus master container[0]", "bus master[0]", "i2c", "piix4-pm[0]",
        "pm-smbus[0]",
    }


def _io_lines(board: PciBoard) -> list[str]:
    text = mtree_info(board.memory)
    start = text.index("address-space: I/O")
    return text[start:text.index("\n\n", start)].splitlines()


def test_mtree_is_qemus(pc: Piix4Board) -> None:
    ours = [line for line in _io_lines(pc) if "pci-conf" not in line]
    reference = (QTREE_DATA / "pc-mtree.txt").read_text().splitlines()
    assert set(ours) <= set(reference)
    assert ours[2:5] == reference[reference.index("address-space: I/O") + 2:][:3]  # PM1 at 0, block off
    for name in ("apm-io", "acpi-pci-hotplug", "acpi-cpu-hotplug", "acpi-gpe0", "pm-smbus"):
        assert any(line.endswith(f": {name}") for line in ours)


def test_pmba_maps_the_pm_block(pc: Piix4Board) -> None:
    pc.enable_pm_io()
    assert pc.config_read(DEVFN, 0x40) == 0x601
    assert pc.pm.property_get("pm_io_base") == PM_BASE
    assert "    0000000000000600-000000000000063f (prio 0, i/o): piix4-pm" in _io_lines(pc)
    assert pc.inb(0x600, 2) == 0x0001  # TMR_STS: the timer has passed its first (zero) overflow
    assert pc.inb(0x60C, 4) == 0xFFFFFFFF  # nothing behind the rest of the block
    pc.config_write(DEVFN, 0x40, 0x701)
    assert "    0000000000000700-000000000000073f (prio 0, i/o): piix4-pm" in _io_lines(pc)
    pc.config_write(DEVFN, 0x80, 0, 1)
    assert pc.inb(0x700, 2) == 0xFFFF


def test_pm_register_accesses_as_qemu(pc: Piix4Board) -> None:
    pc.enable_pm_io()
    pc.outb(0x602, 0x0121, 2)
    assert pc.inb(0x600, 4) == 0x01210001  # split into PM1_STS and PM1_EN
    pc.outb(0x601, 0x01)  # bytes at odd offsets do nothing
    pc.outb(0x603, 0x05)
    assert pc.inb(0x602, 2) == 0x0121
    assert pc.inb(0x601) == 0x00
    pc.outb(0x600, 0x01000001, 4)
    assert (pc.inb(0x602, 2), pc.inb(0x600, 2)) == (0x0100, 0x0000)
    pc.outb(0x604, 0x0401, 4)
    assert pc.inb(0x604, 4) == 0xFFFF0401
    pc.outb(0x605, 0x04)  # QEMU 7.2 takes the byte as the whole register
    assert (pc.inb(0x604, 2), pc.inb(0x605)) == (0x0004, 0x04)
    # Split into aligned pieces at 0x609 (1 byte) and 0x60a (2): each reads the timer's low bits, as
    # QEMU's do (0 there, its clock stopped at 0); 0x60c is unassigned.
    timer = pc.inb(0x608, 4)
    assert pc.inb(0x609, 4) == 0xFF000000 | (timer & 0xFFFF) << 8 | timer & 0xFF


def test_power_button_raises_sci(pc: Piix4Board) -> None:
    pc.enable_pm_io()
    pc.pm.power_down()
    assert pc.sci.level == 0
    pc.outb(0x602, 0x0100, 2)
    pc.pm.power_down()
    assert pc.inb(0x600, 2) == 0x0101
    assert pc.sci.level == 1
    pc.outb(0x600, 0x0100, 2)
    assert pc.sci.level == 0


def test_s5_powers_off(pc: Piix4Board) -> None:
    pc.enable_pm_io()
    pc.outb(0x604, 0x2001, 2)
    assert pc.shutdowns == 1
    assert pc.inb(0x604, 2) == 0x0001


def test_apm_ports_and_smi(pc: Piix4Board) -> None:
    pc.enable_pm_io()
    pc.outb(0xB2, 0xF1)
    assert (pc.inb(0x604, 2), pc.inb(0xB2), pc.inb(0xB3)) == (0x0001, 0xF1, 0x00)
    pc.outb(0xB3, 0x55)
    assert pc.inb(0xB3) == 0x55
    pc.outb(0xB2, 0xF0)
    assert pc.inb(0x604, 2) == 0
    pc.outb(0xB2, 0x42)
    assert pc.smi.levels == []  # DEVACTB's APMC_EN is off after reset when SMM is on
    pc.config_write(DEVFN, 0x5B, 0x02, 1)
    pc.outb(0xB2, 0x42)
    assert pc.smi.levels == [1]


def test_without_smm_sci_is_always_enabled() -> None:
    board = Piix4Board(smm_enabled=False)
    try:
        board.enable_pm_io()
        assert board.config_read(DEVFN, 0x58) == 0x02000000
        assert board.inb(0x604, 2) == 0x0001
        board.outb(0xB2, 0xF0)
        assert board.inb(0x604, 2) == 0x0001
        board.outb(0xB2, 0x42)
        assert board.smi.levels == [1]
    finally:
        board.close()


def test_smbus_follows_smbba_and_its_enable(pc: Piix4Board) -> None:
    assert "    000000000000b100-000000000000b13f (prio 0, i/o): pm-smbus" in _io_lines(pc)
    pc.config_write(DEVFN, 0x90, 0xC001)
    assert "    000000000000c000-000000000000c03f (prio 0, i/o): pm-smbus" in _io_lines(pc)
    pc.config_write(DEVFN, 0xD2, 0x08, 1)
    assert not any(line.endswith("pm-smbus") for line in _io_lines(pc))
    assert pc.pm.i2c_bus.name == "i2c"


def test_reset_restores_the_power_on_state(pc: Piix4Board) -> None:
    pc.enable_pm_io()
    pc.outb(0x602, 0x0100, 2)
    pc.outb(0xAFE2, 0xFF)
    pc.config_write(DEVFN, 0x58, 0xFFFFFFFF)
    pc.machine_done()
    # QEMU resets only PMBA's low byte: the block comes back where it was once re-enabled.
    assert [pc.config_read(DEVFN, offset) for offset in (0x40, 0x58, 0x80)] == [0x601, 0, 0]
    assert not any(line.endswith("piix4-pm") for line in _io_lines(pc))
    pc.enable_pm_io()
    assert (pc.inb(0x602, 2), pc.inb(0xAFE0, 4)) == (0, 0)


def test_gpe0_block(pc: Piix4Board) -> None:
    pc.outb(0xAFE2, 0xFF)
    assert pc.inb(0xAFE0, 4) == 0x00FF0000
    pc.pm.send_event(2)
    assert pc.inb(0xAFE0, 4) == 0x00FF0002
    assert pc.sci.level == 1
    pc.outb(0xAFE0, 0x02)
    assert pc.sci.level == 0


# -- PCI hot-plug ---------------------------------------------------------------------------


def test_hotplug_registers_at_start(pc: Piix4Board) -> None:
    # QEMU reads 0xfffffffc: its slot 0 holds the i440FX, which this test machine lacks.
    assert [pc.inb(0xAE00 + n, 4) for n in range(0, 0x18, 4)] == [0, 0, 0, 0xFFFFFFFD, 0, 0]
    assert pc.inb(0xAE0C, 1) == 0  # only 32-bit accesses are served
    pc.outb(0xAE10, 5, 4)
    assert pc.inb(0xAE10, 4) == 5
    assert pc.bus.property_get("acpi-pcihp-bsel") == 0


def test_hot_add_and_remove_a_pci_device(pc: Piix4Board) -> None:
    deleted: list[str] = []
    nic = qdev_device_add(pc.machine, {"driver": AcpiTestNic.TYPE, "id": "n1", "addr": "2"}, hotplug=True)
    assert pc.inb(0xAFE0, 4) == 0x00000002 and pc.sci.level == 0  # GPE status, not yet enabled
    pc.outb(0xAFE2, 0x02)
    assert pc.sci.level == 1
    assert pc.inb(0xAE00, 4) == 0x4
    assert pc.inb(0xAE00, 4) == 0  # UP clears when read
    qdev_unplug(nic, lambda dev: deleted.append(dev.id or ""))
    assert pc.inb(0xAE04, 4) == 0x4
    assert deleted == [] and nic.parent is not None
    with pytest.raises(ConfigError, match=r"^Device n1 is already in the process of unplug$"):
        qdev_unplug(nic)
    pc.outb(0xAE08, 0x4, 4)  # the guest ejects slot 2
    assert deleted == ["n1"] and nic.parent is None
    assert pc.inb(0xAE04, 4) == 0


def test_acpi_index_of_a_slot(pc: Piix4Board) -> None:
    qdev_device_add(pc.machine, {"driver": AcpiTestNic.TYPE, "addr": "3", "acpi-index": "7"})
    pc.outb(0xAE14, 1 << 3, 4)
    assert (pc.inb(0xAE14, 4), pc.inb(0xAE14, 4)) == (7, 0)


def test_legacy_piix_hotplug_and_root_off() -> None:
    board = Piix4Board(**{"acpi-pci-hotplug-with-bridge-support": "off"})
    try:
        board.outb(0xAE10, 5, 4)
        assert board.inb(0xAE10, 4) == 0  # legacy PIIX: one bus only
        qdev_device_add(board.machine, {"driver": AcpiTestNic.TYPE, "addr": "2"}, hotplug=True)
        assert (board.inb(0xAE00, 4), board.inb(0xAE00, 4)) == (4, 4)  # UP is not cleared by reading
    finally:
        board.close()
    board = Piix4Board(**{"acpi-root-pci-hotplug": "off"})
    try:
        assert not board.bus.hotpluggable
        with pytest.raises(ConfigError, match=r"^Bus 'pci\.0' does not support hotplugging$"):
            qdev_device_add(board.machine, {"driver": AcpiTestNic.TYPE}, hotplug=True)
    finally:
        board.close()


# -- CPU hot-plug -----------------------------------------------------------------------------------


def test_cpu_hotplug_legacy_then_modern() -> None:
    board = Piix4Board(smp=9, max_cpus=12)
    try:
        assert (board.inb(0xAF00, 4), board.inb(0xAF01, 2)) == (0x1FF, 0x0001)
        board.outb(0xAF00, 0x0100, 2)  # a 0 written to byte 0: the guest wants the modern interface
        assert board.pm.property_get("cpu-hotplug-legacy") is False
        assert "    000000000000af00-000000000000af0b (prio 0, i/o): acpi-cpu-hotplug" in _io_lines(board)
    finally:
        board.close()


def test_sleep_states_reach_firmware_through_fw_cfg() -> None:
    fw_cfg_io = pytest.importorskip("pyqemu.hw.nvram.fw_cfg_io")

    class Board(Piix4Board):
        def __init__(self) -> None:
            PciBoard.__init__(self)
            self.fw_cfg = fw_cfg_io.fw_cfg_init_io(self.machine)
            self.pm = piix4_pm_init(self.bus, DEVFN, None, None, 0xB100)

    board = Board()
    try:
        assert board.fw_cfg.file_data("etc/system-states") == bytes((0x80, 0, 0, 0x81, 0x82, 0x80))
        assert board.pm.system_states() == bytes((0x80, 0, 0, 0x81, 0x82, 0x80))
    finally:
        board.close()
