"""ACPI fixed hardware (PM1, PM timer, GPE0), the APM ports and the GED, against QEMU 7.2.

Register values were read from QEMU 7.2 (``-accel tcg -nodefaults -S``,
HMP ``i`` / ``o`` / ``xp`` on the ports and MMIO); the PIIX4 and ICH9
functions that embed these blocks are in ``test_acpi_piix4.py`` and
``test_acpi_ich9.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pyqemu.hw.acpi.core import (
    PM_TIMER_FREQUENCY,
    PWRBTN_EN,
    PWRBTN_STS,
    SCI_EN,
    TMR_EN,
    TMR_STS,
    AcpiEvent,
    AcpiRegs,
)
from pyqemu.hw.acpi.generic_event_device import ACPI_GED_PWR_DOWN_EVT, acpi_ged_x86_init
from pyqemu.hw.acpi.host import HostPower, system_states
from pyqemu.hw.core.irq import Irq
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.isa.apm import APMState
from pyqemu.memory.mtree import mtree_info

from .acpi_board import PciBoard, reference_qtree_block
from .conftest import FakeClock, FakeIrq

#: Where the PM timer's bit 23 first flips: 2**23 ticks, in ns of the virtual clock.
FIRST_OVERFLOW_NS = 2_343_484_437
SECOND_OVERFLOW_NS = 4_686_968_874


class PowerLog:
    """Records what the registers ask of the emulator."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.wakeup_mask: dict[str, bool] = {}

    def shutdown(self) -> None:
        self.calls.append("shutdown")

    def suspend(self) -> None:
        self.calls.append("suspend")

    def suspend_disk(self) -> None:
        self.calls.append("suspend_disk")

    def wakeup_enable(self, reason: str, enabled: bool) -> None:
        self.wakeup_mask[reason] = enabled

    def wakeup(self, reason: str) -> None:
        self.calls.append(f"wakeup {reason}")


def make_regs(gpe_len: int = 4, acpi_only: bool = False) -> tuple[AcpiRegs, FakeIrq, FakeClock, PowerLog]:
    sci, clock, power = FakeIrq(), FakeClock(), PowerLog()
    regs = AcpiRegs(sci, clock, power, gpe_len, acpi_only=acpi_only)
    regs.reset()
    return regs, sci, clock, power


# -- PM timer ----------------------------------------------------------------------------


def test_pm_timer_counts_3_579545_mhz_in_24_bits() -> None:
    regs, _sci, clock, _power = make_regs()
    assert regs.tmr_read(0, 4) == 0
    clock.advance(1_000_000_000)
    assert regs.tmr_read(0, 4) == PM_TIMER_FREQUENCY == 0x369E99
    clock.advance(9_000_000_000)
    assert regs.tmr_read(0, 4) == 35_795_450 & 0xFFFFFF == 0x2231FA
    regs.tmr_write(0, 0x12345678, 4)
    assert regs.tmr_read(0, 4) == 0x2231FA


def test_timer_status_is_set_when_bit_23_flips() -> None:
    regs, _sci, clock, _power = make_regs()
    # After reset the next overflow is at 0: TMR_STS reads set at once, as QEMU's does.
    assert regs.evt_read(0, 2) == TMR_STS
    regs.evt_write(0, TMR_STS, 2)
    assert regs.evt_read(0, 2) == 0
    clock.advance_to(FIRST_OVERFLOW_NS - 1)
    assert regs.evt_read(0, 2) == 0
    clock.advance_to(FIRST_OVERFLOW_NS)
    assert regs.evt_read(0, 2) == TMR_STS


def test_timer_interrupt_when_enabled() -> None:
    regs, sci, clock, power = make_regs()
    regs.evt_write(0, TMR_STS, 2)
    regs.evt_write(2, TMR_EN, 2)
    assert power.wakeup_mask == {"rtc": False, "pmtimer": True}
    assert sci.level == 0
    clock.advance_to(FIRST_OVERFLOW_NS)
    assert sci.level == 1
    assert power.calls == ["wakeup pmtimer"]
    clock.advance(1000)
    regs.evt_write(0, TMR_STS, 2)  # the handler acknowledges: the next overflow is 2**23 ticks on
    assert sci.level == 0
    clock.advance_to(SECOND_OVERFLOW_NS - 1)
    assert sci.level == 0
    clock.advance_to(SECOND_OVERFLOW_NS)
    assert sci.level == 1


# -- PM1 event and control ----------------------------------------------------------------


def test_pm1_status_is_write_one_to_clear_and_bytes_at_odd_offsets_are_inert() -> None:
    regs, sci, _clock, _power = make_regs()
    regs.evt_write(2, 0x0121, 2)
    assert regs.evt_read(2, 2) == 0x0121
    regs.power_down()
    assert regs.evt_read(0, 2) == PWRBTN_STS | TMR_STS
    assert sci.level == 1
    assert (regs.evt_read(1, 2), regs.evt_read(3, 2)) == (0, 0)
    regs.evt_write(1, 0xFF, 2)
    regs.evt_write(3, 0xFF, 2)
    assert regs.evt_read(2, 2) == 0x0121
    regs.evt_write(0, PWRBTN_STS, 2)
    assert regs.evt_read(0, 2) == TMR_STS
    assert sci.level == 1  # TMR_STS with TMR_EN is still pending
    regs.evt_write(0, TMR_STS, 2)
    assert sci.level == 0


def test_power_button_needs_its_enable_bit() -> None:
    regs, sci, _clock, _power = make_regs()
    regs.power_down()
    assert regs.evt_read(0, 2) & PWRBTN_STS == 0
    regs.evt_write(2, PWRBTN_EN, 2)
    regs.power_down()
    assert regs.evt_read(0, 2) & PWRBTN_STS
    assert sci.levels[-1] == 1


@pytest.mark.parametrize(("value", "calls", "stored"), [
    (0x2000, ["shutdown"], 0x0000),  # SLP_TYP 0: soft off (S5)
    (0x2401, ["suspend"], 0x0401),  # SLP_TYP 1: S3
    (0x2800, ["suspend_disk"], 0x0800),  # SLP_TYP 2 = s4_val: S4
    (0x2C00, [], 0x0C00),  # SLP_TYP 3: nothing
    (0x1C01, [], 0x1C01),  # without SLP_EN nothing happens
])
def test_sleep_requests(value: int, calls: list[str], stored: int) -> None:
    regs, _sci, _clock, power = make_regs()
    regs.cnt_write(0, value, 2)
    assert power.calls == calls
    assert regs.cnt_read(0, 2) == stored  # SLP_EN is never stored


def test_apm_commands_switch_sci_enable_unless_acpi_only() -> None:
    regs, _sci, _clock, _power = make_regs()
    assert regs.cnt_read(0, 2) == 0
    regs.set_sci_enable(True, False)
    assert regs.cnt_read(0, 2) == SCI_EN
    regs.set_sci_enable(False, True)
    assert regs.cnt_read(0, 2) == 0
    only, _sci, _clock, _power = make_regs(acpi_only=True)
    assert only.cnt_read(0, 2) == SCI_EN
    only.set_sci_enable(False, True)
    assert only.cnt_read(0, 2) == SCI_EN


def test_wakeup_sets_wake_status_and_its_cause() -> None:
    regs, _sci, _clock, _power = make_regs()
    regs.evt_write(0, 0xFFFF, 2)
    regs.notify_wakeup("rtc")
    assert regs.pm1_sts == 0x8400
    regs.notify_wakeup("other")
    assert regs.pm1_sts == 0x8500


# -- GPE0 ------------------------------------------------------------------------------------


def test_gpe_status_enable_and_sci_from_byte_zero_only() -> None:
    regs, sci, _clock, _power = make_regs(gpe_len=16)
    regs.send_gpe(AcpiEvent.PCI_HOTPLUG | AcpiEvent.CPU_HOTPLUG)
    assert regs.gpe_read(0) == 0x06
    assert sci.level == 0
    regs.gpe_write(8, 0x02)
    assert (regs.gpe_read(8), sci.level) == (0x02, 1)
    regs.gpe_write(0, 0x02)
    assert (regs.gpe_read(0), sci.level) == (0x04, 0)
    regs.gpe_sts[1] = 0xFF
    regs.gpe_write(9, 0xFF)
    assert sci.level == 0  # QEMU only looks at the first status / enable bytes
    regs.reset()
    assert (regs.gpe_read(0), regs.gpe_read(1), regs.gpe_read(8), regs.gpe_read(9)) == (0, 0, 0, 0)


def test_system_states_file() -> None:
    assert system_states(0, 0, 2) == bytes((0x80, 0, 0, 0x81, 0x82, 0x80))
    assert system_states(1, 1, 2) == bytes((0x80, 0, 0, 0x01, 0x02, 0x80))


# -- what the emulator is asked ------------------------------------------------------------------


class FakeEmulator:
    def __init__(self) -> None:
        self.log: list[Any] = []

    def guest_shutdown(self) -> None:
        self.log.append("shutdown")

    def guest_suspend(self) -> None:
        self.log.append("suspend")

    def wakeup_enable(self, reason: str, enabled: bool) -> None:
        self.log.append(("wakeup_enable", reason, enabled))

    def emit_event(self, name: str, data: dict | None = None) -> None:
        self.log.append((name, data))

    def guest_reset(self) -> None:
        self.log.append("reset")

    def wakeup(self, reason: str) -> None:
        self.log.append(("wakeup", reason))


def test_host_power_forwards_to_the_emulator() -> None:
    host = FakeEmulator()
    power = HostPower(host)
    power.shutdown()
    power.suspend_disk()
    power.watchdog_reset()
    power.suspend()
    power.wakeup_enable("rtc", True)
    power.wakeup("pmtimer")
    assert host.log == [
        "shutdown", ("SUSPEND_DISK", None), "shutdown", ("WATCHDOG", {"action": "reset"}), "reset",
        "suspend", ("wakeup_enable", "rtc", True), ("wakeup", "pmtimer"),
    ]


# -- APM -------------------------------------------------------------------------------------------


def test_apm_ports() -> None:
    commands: list[int] = []
    apm = APMState(None, commands.append)
    apm.write(0, 0xF1)
    apm.write(1, 0x55)
    assert (apm.read(0), apm.read(1), commands) == (0xF1, 0x55, [0xF1])
    assert apm.io.region_name() == "apm-io" and apm.io.size == 2
    # Wider accesses are split into bytes: control first, then status.
    apm.io.dispatch_write(0, 0x1234, 2)
    assert (apm.apmc, apm.apms, commands) == (0x34, 0x12, [0xF1, 0x34])
    assert apm.io.dispatch_read(0, 2)[0] == 0x1234


# -- the Generic Event Device (microvm) ------------------------------------------------------------------


@pytest.fixture
def ged_board() -> Iterator[tuple[PciBoard, Any, FakeIrq]]:
    board = PciBoard()
    irq = FakeIrq()
    ged = acpi_ged_x86_init(board.machine, Irq.new(lambda _n, level: irq(level)))
    yield board, ged, irq
    board.close()


def test_ged_qtree_and_mtree_are_qemus(ged_board: tuple[PciBoard, Any, FakeIrq]) -> None:
    board, ged, _irq = ged_board
    assert qdev_print(ged, 0) == reference_qtree_block("microvm", "acpi-ged-x86")
    assert ged.property_get("ged-event") == ACPI_GED_PWR_DOWN_EVT
    mtree = mtree_info(board.memory).splitlines()
    assert "    00000000fea00000-00000000fea00003 (prio 0, i/o): acpi-ged" in mtree
    assert "    00000000fea00200-00000000fea00202 (prio 0, i/o): acpi-ged-regs" in mtree
    children = {p.name for p in ged.iter_properties() if p.type == "child<memory-region>"}
    assert children == {"acpi-ged[0]", "memhp container[0]", "acpi-ged-regs[0]"}  # QEMU's qom-list


def test_ged_powerdown_event(ged_board: tuple[PciBoard, Any, FakeIrq]) -> None:
    board, _ged, irq = ged_board
    mem = board.memory.address_space_memory
    assert mem.read(0xFEA00000, 4) == 0
    for notifier in board.machine.powerdown_notifiers:
        notifier()
    assert irq.levels == [1, 0]  # a pulse
    assert mem.read(0xFEA00000, 4) == 2  # what QEMU's selector reads after system_powerdown
    assert mem.read(0xFEA00000, 4) == 0  # reading cleared it


def test_ged_sleep_and_reset_registers(ged_board: tuple[PciBoard, Any, FakeIrq]) -> None:
    board, _ged, _irq = ged_board
    mem = board.memory.address_space_memory
    assert [mem.read(0xFEA00200 + n, 1) for n in range(3)] == [0, 0, 0]
    mem.write(0xFEA00200, 0x14, 1)  # sleep type 5 without SLP_EN
    mem.write(0xFEA00200, 0x24, 1)  # SLP_EN with sleep type 1
    mem.write(0xFEA00202, 0x41, 1)
    assert (board.shutdowns, board.host.resets) == (0, 0)
    mem.write(0xFEA00200, 0x34, 1)
    mem.write(0xFEA00202, 0x42, 1)
    assert (board.shutdowns, board.host.resets) == (1, 1)


def test_ged_unknown_event_warns(ged_board: tuple[PciBoard, Any, FakeIrq]) -> None:
    board, ged, irq = ged_board
    ged.send_event(AcpiEvent.PCI_HOTPLUG)
    assert board.host.warnings == ["GED: Unsupported event 2. No irq injected"]
    assert irq.levels == []


# -- CPU hot-plug: which APIC ids -------------------------------------------------------------------


def test_apic_ids_follow_the_topology() -> None:
    from pyqemu.hw.acpi.cpu_hotplug import x86_apic_id
    from pyqemu.hw.core.machine_smp import CpuTopology

    topology = CpuTopology(cpus=12, sockets=2, cores=3, threads=2, max_cpus=12)
    assert [x86_apic_id(topology, n) for n in range(12)] == [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]


def test_legacy_bitmap_without_room_switches_to_modern() -> None:
    from pyqemu.hw.acpi.cpu_hotplug import CpuHotplug, PossibleCpu
    from pyqemu.memory.region import MemoryRegion

    io = MemoryRegion.new_container(None, "io", 0x10000)
    hotplug = CpuHotplug(None, io, 0xAF00, [PossibleCpu(0, object()), PossibleCpu(256, object())], print)
    assert not hotplug.legacy and hotplug.io.size == 12
