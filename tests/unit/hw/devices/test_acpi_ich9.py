"""The ICH9 LPC bridge's power management (q35) against QEMU 7.2: PMBASE, SCI routing, SMI, TCO, hot-plug.

Expected values are what QEMU 7.2 showed for ``-M q35 -accel tcg -nodefaults
-S`` through HMP (``i`` / ``o`` on 0xcf8 / 0xcfc and the PM ports, with
PMBASE 0x600 and ACPI_EN), ``info qtree``, ``info mtree`` and ``qom-get``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pyqemu.hw.acpi.tco import TCO_TICK_NSEC, TcoWatchdog
from pyqemu.hw.core.irq import Irq, qdev_connect_gpio_out_named
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.isa.lpc_ich9 import ICH9LPC
from pyqemu.memory.mtree import mtree_info
from pyqemu.util.errors import ConfigError

from .acpi_board import QTREE_DATA, PciBoard, reference_qtree_block
from .conftest import FakeClock, FakeIrq
from .test_acpi_piix4 import AcpiTestNic

DEVFN = 0xF8  # 1f.0
PM_BASE = 0x600


class Q35Board(PciBoard):
    def __init__(self, smm: str = "auto", smp: int = 0, max_cpus: int = 0, **props: Any) -> None:
        super().__init__(express=True, smp=smp, max_cpus=max_cpus)
        self.machine.smm = smm
        self.gsi = {n: FakeIrq() for n in (9, 10, 11)}
        lpc = qdev_new("ICH9-LPC")
        assert isinstance(lpc, ICH9LPC)
        for name, value in props.items():
            lpc.property_set(name, value)
        lpc.devfn = DEVFN
        lpc.multifunction = True  # type: ignore[attr-defined]
        qdev_realize_and_unref(lpc, self.bus)
        for n, irq in self.gsi.items():
            qdev_connect_gpio_out_named(lpc, "gsi", n, Irq.new(lambda _n, level, irq=irq: irq(level)))
        self.lpc = lpc
        self.smis = 0
        lpc.smi_handler = self._smi
        self.machine_done()

    def _smi(self) -> None:
        self.smis += 1

    def enable_pm_io(self, acpi_cntl: int = 0x80) -> None:
        self.config_write(DEVFN, 0x40, PM_BASE)
        self.config_write(DEVFN, 0x44, acpi_cntl, 1)


@pytest.fixture
def q35() -> Iterator[Q35Board]:
    board = Q35Board()
    yield board
    board.close()


def _io_lines(board: PciBoard) -> list[str]:
    text = mtree_info(board.memory)
    start = text.index("address-space: I/O")
    return text[start:text.index("\n\n", start)].splitlines()


def test_qtree_block_is_qemus(q35: Q35Board) -> None:
    reference = reference_qtree_block("q35", "ICH9-LPC")
    end = reference.index("    type ISA") + 1  # the devices on isa.0 are not this test's
    assert qdev_print(q35.lpc, 0)[:end] == reference[:end]


def test_mtree_before_and_after_acpi_enable(q35: Q35Board) -> None:
    reference = (QTREE_DATA / "q35-mtree.txt").read_text().splitlines()
    ours = _io_lines(q35)
    assert ours[2:8] == reference[2:8]  # acpi-evt … sm-tco at 0, ich9-pm disabled
    for line in ("    00000000000000b2-00000000000000b3 (prio 0, i/o): apm-io",
                 "    0000000000000cc0-0000000000000cd7 (prio 0, i/o): acpi-pci-hotplug",
                 "    0000000000000cd8-0000000000000cf7 (prio 0, i/o): acpi-cpu-hotplug"):
        assert line in ours and line in reference
    q35.enable_pm_io()
    ours = _io_lines(q35)
    assert "    0000000000000600-000000000000067f (prio 0, i/o): ich9-pm" in ours
    assert "      0000000000000660-000000000000067f (prio 0, i/o): sm-tco" in ours


def test_lpc_pm_configuration_registers(q35: Q35Board) -> None:
    assert (q35.config_read(DEVFN, 0x40), q35.config_read(DEVFN, 0x44)) == (0x1, 0x0)
    for written, read in ((0xFFFFFFFF, 0xFF87), (0x0, 0x0), (0x6, 0x6), (0x7F, 0x7)):
        q35.config_write(DEVFN, 0x40, written)
        assert q35.config_read(DEVFN, 0x40) == read
    q35.config_write(DEVFN, 0x44, 0xFFFFFFFF)
    assert q35.config_read(DEVFN, 0x44) == 0xFFFFFFFF


def test_pm_block_registers_are_qemus(q35: Q35Board) -> None:
    q35.enable_pm_io()
    assert (q35.inb(0x600, 2), q35.inb(0x604, 2)) == (0x0001, 0x0000)
    assert [q35.inb(0x620 + n, 4) for n in range(0, 0x10, 4)] == [0, 0, 0, 0]
    assert (q35.inb(0x630, 4), q35.inb(0x634, 4), q35.inb(0x640, 4)) == (0, 0, 0xFFFFFFFF)
    assert [q35.inb(0x660 + n, 4) for n in range(0, 0x20, 4)] == [0, 0, 0x00080000, 0, 0x00040003, 0, 0, 0]
    q35.outb(0x630, 0xFFFFFFFF, 4)
    assert q35.inb(0x630, 4) == 0xFFFFFFFF
    assert q35.lpc.property_get("gpe0_blk") == 0x620


def test_apm_commands_and_smi(q35: Q35Board) -> None:
    q35.enable_pm_io()
    q35.outb(0xB2, 0x02)
    assert q35.inb(0x604, 2) == 0x0001
    q35.outb(0xB2, 0x03)
    assert q35.inb(0x604, 2) == 0x0000
    q35.outb(0xB2, 0x42)
    assert q35.smis == 0  # SMM is there: no SMI until SMI_EN's APMC_EN
    q35.outb(0x630, 0x20, 4)
    q35.outb(0xB2, 0x42)
    assert q35.smis == 1 == q35.lpc.smi_count


def test_without_smm() -> None:
    board = Q35Board(smm="off")
    try:
        board.enable_pm_io()
        assert (board.inb(0x630, 4), board.inb(0x604, 2)) == (0x20, 0x0001)
        board.outb(0xB2, 0x03)
        assert board.inb(0x604, 2) == 0x0001
    finally:
        board.close()


def test_smi_and_tco_locks(q35: Q35Board) -> None:
    q35.enable_pm_io()
    q35.outb(0x630, 0x2001, 4)
    assert q35.inb(0x630, 4) == 0x2001
    q35.config_write(DEVFN, 0xA0, 0x10)  # SMI_LOCK: GBL_SMI_EN sticks, and so does the lock
    q35.outb(0x630, 0x0, 4)
    assert q35.inb(0x630, 4) == 0x0001
    q35.config_write(DEVFN, 0xA0, 0x0)
    assert q35.config_read(DEVFN, 0xA0) == 0x10
    q35.outb(0x668, 0x1000, 4)  # TCO_LOCK (and TCO2_CNT 0): TCO_EN sticks at 0
    assert q35.inb(0x668, 4) == 0x00001000
    q35.outb(0x630, 0xFFFFFFFF, 4)
    assert q35.inb(0x630, 4) == 0xFFFFDFFF
    q35.outb(0x630, 0x0, 4)
    assert q35.inb(0x630, 4) == 0x0001
    q35.outb(0x668, 0x0, 2)
    assert q35.inb(0x668, 4) == 0x00001000


def test_tco_status_masks_and_data_in(q35: Q35Board) -> None:
    q35.enable_pm_io()
    q35.outb(0x668, 0x1000, 4)  # starts the timer: TCO_TMR is 4
    q35.outb(0x664, 0xFFFF, 2)
    assert q35.inb(0x664, 4) == 0x0000E870
    q35.outb(0x666, 0xFFFF, 2)
    assert q35.inb(0x664, 4) == 0xFFF8E870
    q35.outb(0x662, 0x12)
    assert (q35.inb(0x660, 4), q35.inb(0x664, 4)) == (0x00120004, 0xFFF8E872)
    assert q35.smis == 1  # writing TCO_DAT_IN requests an SMI


def test_tco_keeps_its_registers_over_reset(q35: Q35Board) -> None:
    q35.enable_pm_io()
    q35.outb(0x668, 0x1800, 2)
    q35.outb(0x672, 0x20, 2)
    q35.outb(0x66C, 0x77)
    q35.machine_done()
    q35.enable_pm_io()
    assert [q35.inb(n, 4) for n in (0x668, 0x670, 0x66C)] == [0x00081800, 0x00200003, 0x00000077]


def test_tco_timeouts(q35: Q35Board) -> None:
    q35.enable_pm_io()
    q35.outb(0x630, 0x2000, 4)  # TCO_EN: a first timeout requests an SMI
    q35.outb(0x668, 0x0000, 2)  # TCO_TMR_HLT off: 4 ticks of 0.6 s
    q35.step(3 * TCO_TICK_NSEC)
    assert q35.inb(0x660, 2) == 1
    q35.step(TCO_TICK_NSEC)
    assert (q35.inb(0x664, 2), q35.inb(0x666, 2), q35.smis) == (0x0008, 0x0000, 1)
    q35.step(4 * TCO_TICK_NSEC)  # the second: noreboot keeps the machine running
    assert (q35.inb(0x666, 2), q35.host.resets, q35.smis) == (0x0006, 0, 2)


def test_watchdog_resets_when_the_straps_allow() -> None:
    clock, actions, smis = FakeClock(), [], []

    def reset() -> None:
        actions.append("reset")

    tco = TcoWatchdog(clock, lambda: smis.append(1), lambda: False, lambda: True, reset)
    tco.write(0x08, 0x0000)
    clock.advance(8 * TCO_TICK_NSEC)
    assert (actions, smis, tco.read(0x06)) == (["reset"], [], 0x0006)
    assert tco.read(0x00) == 0  # QEMU still counts from the last expiry time
    tco.write(0x08, 0x0800)  # TCO_TMR_HLT
    clock.advance(100 * TCO_TICK_NSEC)
    assert actions == ["reset"]


def test_sci_follows_acpi_cntl(q35: Q35Board) -> None:
    q35.enable_pm_io(0x81)  # SCI on GSI 10
    assert q35.lpc.property_get("sci_int") == 10
    q35.outb(0x602, 0x0100, 2)
    q35.lpc.pm.regs.power_down()
    assert (q35.gsi[10].levels, q35.gsi[9].levels) == ([1], [])
    q35.config_write(DEVFN, 0x44, 0x82, 1)  # moved while high: GSI 10 drops, GSI 11 rises
    assert (q35.gsi[10].levels, q35.gsi[11].levels) == ([1, 0], [1])
    q35.config_write(DEVFN, 0x44, 0x83, 1)  # reserved: the SCI stays on GSI 11
    q35.outb(0x600, 0x0100, 2)
    assert q35.gsi[11].levels == [1, 0]


def test_qom_properties_are_qemus(q35: Q35Board) -> None:
    expected = {
        "pm_io_base": 0, "gpe0_blk": 32, "gpe0_blk_len": 16, "sci_int": 9, "acpi_enable_cmd": 2,
        "acpi_disable_cmd": 3, "enable_tco": True, "cpu-hotplug-legacy": True, "acpi-pcihp-io-base": 3264,
        "acpi-pcihp-io-len": 24, "x-smi-negotiated-features": 0, "disable_s3": 0, "disable_s4": 0,
        "s4_val": 2, "memory-hotplug-support": True, "x-keep-pci-slot-hpc": True,
        "acpi-pci-hotplug-with-bridge-support": True, "hotpluggable": False,
    }
    assert {name: q35.lpc.property_get(name) for name in expected} == expected
    children = {p.name for p in q35.lpc.iter_properties() if p.type == "child<memory-region>"}
    assert {"acpi-cnt[0]", "acpi-cpu-hotplug[0]", "acpi-evt[0]", "acpi-gpe0[0]", "acpi-pci-hotplug[0]",
            "acpi-smi[0]", "acpi-tmr[0]", "apm-io[0]", "ich9-pm[0]", "sm-tco[0]"} <= children


def test_without_tco() -> None:
    board = Q35Board(enable_tco=False)
    try:
        assert not any("sm-tco" in line for line in _io_lines(board))
    finally:
        board.close()


def test_root_bus_is_not_hot_pluggable(q35: Q35Board) -> None:
    assert not q35.bus.hotpluggable
    assert q35.bus.property_find("acpi-pcihp-bsel") is None
    assert q35.inb(0xCCC, 4) == 0xFFFFFFFF
    q35.outb(0xCD0, 0x1FF, 4)
    assert (q35.inb(0xCD0, 4), q35.inb(0xCCC, 4)) == (0, 0)
    with pytest.raises(ConfigError, match=r"^Bus 'pcie\.0' does not support hotplugging$"):
        qdev_device_add(q35.machine, {"driver": AcpiTestNic.TYPE}, hotplug=True)


def test_modern_cpu_hotplug_registers() -> None:
    board = Q35Board(smp=9, max_cpus=12)
    try:
        assert board.inb(0xCD8, 2) == 0x01FF
        board.lpc.property_set("cpu-hotplug-legacy", False)
        with pytest.raises(ConfigError):
            board.lpc.property_set("cpu-hotplug-legacy", True)
        assert (board.inb(0xCD8, 4), board.inb(0xCDC)) == (0, 0x01)
        board.outb(0xCD8, 5)
        board.outb(0xCDD, 3)  # GET_CPU_ID
        assert (board.inb(0xCDC), board.inb(0xCE0, 4), board.inb(0xCD8, 4)) == (1, 5, 0)
        board.outb(0xCD8, 0x50)
        assert (board.inb(0xCDC, 4), board.inb(0xCE0, 4)) == (0, 0)
        board.outb(0xCD8, 11)
        board.outb(0xCDD, 0)  # GET_NEXT_CPU_WITH_EVENT: none, the selector stays
        assert (board.inb(0xCDC, 4), board.inb(0xCE0, 4)) == (0, 11)
        board.outb(0xCD8, 2)
        board.outb(0xCDD, 1)
        board.outb(0xCE0, 0x103, 4)
        board.outb(0xCDD, 2)
        board.outb(0xCE0, 0x80, 4)
        assert board.host.events[-1] == ("ACPI_DEVICE_OST", {
            "info": {"slot": "2", "slot-type": "CPU", "source": 0x103, "status": 0x80}})
    finally:
        board.close()


def test_root_complex_register_block(q35: Q35Board) -> None:
    mem = q35.memory.address_space_memory
    assert q35.config_read(DEVFN, 0xF0) == 0
    q35.config_write(DEVFN, 0xF0, 0xFFFFFFFF)
    assert q35.config_read(DEVFN, 0xF0) == 0xFFFFFFFF
    q35.config_write(DEVFN, 0xF0, 0xFED1C001)
    line = "    00000000fed1c000-00000000fed1ffff (prio 1, i/o): lpc-rcrb-mmio"
    assert line in mtree_info(q35.memory).splitlines()
    assert mem.read(0xFED1F410, 4) == 0x20  # GCS: NO_REBOOT
    assert [mem.read(0xFED1F140 + n, 4) for n in range(0, 0x20, 4)] == [
        0x00003210, 0x32103210, 0x00003210, 0x00003210, 0x00003210, 0, 0, 0]
    assert (mem.read(0xFED1F142, 4), mem.read(0xFED1C000, 4)) == (0x32100000, 0)
    q35.config_write(DEVFN, 0xF0, 0xFED1C000)
    assert "lpc-rcrb-mmio" not in mtree_info(q35.memory)


def test_watchdog_reset_needs_noreboot_off_and_gcs() -> None:
    board = Q35Board(noreboot=False)
    try:
        mem = board.memory.address_space_memory
        board.enable_pm_io()
        board.outb(0x668, 0x0000, 2)
        board.step(8 * TCO_TICK_NSEC)
        assert board.host.resets == 0  # GCS has NO_REBOOT
        board.config_write(DEVFN, 0xF0, 0xFED1C001)
        mem.write(0xFED1F410, 0, 4)
        board.step(8 * TCO_TICK_NSEC)
        assert board.host.resets == 1
        assert board.host.events == [("WATCHDOG", {"action": "reset"})]
    finally:
        board.close()
