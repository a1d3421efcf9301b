"""The x86 boards' timers driven through qtest: the i8254 PIT, port 0x61, the HPET and the ACPI PM timer.

Register values (capabilities, write masks, status bytes) are QEMU 7.2's as
its qtest server reports them.  What depends on the virtual clock is what
QEMU 7.2's models compute from it, with their integer rounding: the PIT
counts ``muldiv64(elapsed_ns, 1193182, 10**9)`` ticks and arms its timer at
``muldiv64(ticks, 10**9, 1193182)`` ns after the load; the HPET counter is
nanoseconds / 10; the PM timer is ``muldiv64(now_ns, 3579545, 10**9)``
modulo 2**24.  Intercepted interrupts are the IOAPIC's inputs, so the PIT
and HPET legacy timer 0 show as line 0 (the IRQ0-to-pin-2 override happens
inside the IOAPIC, after the line qtest watches).
"""

from __future__ import annotations

import pytest

from .qtest_client import QtestClient
from .qtest_x86 import (
    cfg_readl,
    cfg_writeb,
    cfg_writel,
    devfn,
    needs_virtual_clock,
    start,
)

NS_PER_SEC = 1_000_000_000

# i8254.
PIT_FREQ = 1_193_182
PIT_CH0, PIT_CH2, PIT_CONTROL = 0x40, 0x42, 0x43
PIT_IRQ = 0
CTRL_CH0_LOHI_MODE2 = 0x34
CTRL_CH0_LOHI_MODE3 = 0x36
CTRL_CH0_LOHI_MODE0 = 0x30
CTRL_CH0_LATCH = 0x00
CTRL_CH2_LOHI_MODE0 = 0xB0
CTRL_CH2_LOHI_MODE3 = 0xB6
READ_BACK = 0xC0
READ_BACK_NO_COUNT = 0x20
STATUS_OUT = 0x80

# Port 0x61 (the speaker's gate and data, the refresh toggle, channel 2's OUT).
SPEAKER_PORT = 0x61
SPK_GATE, SPK_DATA, SPK_REFRESH, SPK_OUT = 0x01, 0x02, 0x10, 0x20

# HPET.
HPET = 0xFED0_0000
HPET_ID, HPET_PERIOD, HPET_CFG, HPET_STATUS, HPET_COUNTER = 0x000, 0x004, 0x010, 0x020, 0x0F0
HPET_CFG_ENABLE, HPET_CFG_LEGACY = 0x1, 0x2
HPET_ID_VALUE = 0x8086_A201  # Intel, legacy capable, 64-bit counter, 3 timers, revision 1
HPET_PERIOD_FS = 10_000_000
HPET_TICK_NS = 10
TN_CFG, TN_ROUTE_CAP, TN_CMP, TN_CMP_HI = 0x0, 0x4, 0x8, 0xC
TN_LEVEL, TN_ENABLE = 0x2, 0x4
TN_ROUTE_SHIFT = 9
TN_CAPS = 0x30  # periodic and 64-bit capable
TN_CFG_WRITABLE = 0x7F7E
HPET_INTCAP = {"pc": 0x4, "q35": 0xFF_0104}  # pc: IRQ 2 only; q35: IRQ 2, 8 and 16-23
HPET_ROUTE = 2

# ACPI PM timer.
PM_TIMER_FREQ = 3_579_545
PM_TIMER_MASK = 0xFF_FFFF
PMBASE = 0x600
PM1_STS, PM1_EN, PM1_CNT, PM_TMR = 0x0, 0x2, 0x4, 0x8
PIIX4_PM = devfn(1, 3)
PIIX4_PMBA, PIIX4_PMREGMISC = 0x40, 0x80
PIIX4_PMIOSE = 0x01
ICH9_LPC = devfn(0x1F, 0)
ICH9_PMBASE, ICH9_ACPI_CNTL = 0x40, 0x44
ICH9_ACPI_EN = 0x80


def muldiv64(a: int, b: int, c: int) -> int:
    return a * b // c


def pit_ticks_ns(ticks: int) -> int:
    """When the PIT timer is armed for ``ticks`` ticks after a load (QEMU's conversion)."""
    return muldiv64(ticks, NS_PER_SEC, PIT_FREQ)


def now(qts: QtestClient) -> int:
    return qts.clock_step(0)


def step_to(qts: QtestClient, when: int) -> None:
    qts.clock_set(when)


def pit_load(qts: QtestClient, control: int, port: int, count: int) -> None:
    qts.outb(PIT_CONTROL, control)
    qts.outb(port, count & 0xFF)
    qts.outb(port, count >> 8)


def pit_status(qts: QtestClient, channel: int) -> int:
    qts.outb(PIT_CONTROL, READ_BACK | READ_BACK_NO_COUNT | 2 << channel)
    return qts.inb(PIT_CH0 + channel)


def read_count(qts: QtestClient, port: int) -> int:
    low = qts.inb(port)
    return qts.inb(port) << 8 | low


@pytest.fixture(params=["pc", "q35"])
def board(request: pytest.FixtureRequest) -> tuple[str, QtestClient]:
    """Each board's shared emulator, with its name."""
    return request.param, request.getfixturevalue(request.param)


# -- i8254 ------------------------------------------------------------------------------------


def test_pit_status_bytes_and_latched_count_after_reset_and_programming(pc: QtestClient) -> None:
    assert pit_status(pc, 1) == STATUS_OUT | 0x06  # mode 3, no access mode written yet
    pc.outb(PIT_CONTROL, CTRL_CH2_LOHI_MODE3)
    assert pit_status(pc, 2) == STATUS_OUT | 0x36
    pit_load(pc, CTRL_CH0_LOHI_MODE2, PIT_CH0, 0x04A9)
    assert pit_status(pc, 0) == 0x34  # OUT low right after a mode 2 load
    pc.outb(PIT_CONTROL, READ_BACK | 2)  # status and count together: status first
    assert [pc.inb(PIT_CH0) for _ in range(3)] == [0x34, 0xA9, 0x04]
    pc.outb(PIT_CONTROL, CTRL_CH0_LATCH)
    assert read_count(pc, PIT_CH0) == 0x04A9
    assert pc.inb(PIT_CONTROL) == 0  # the control port is write-only


@needs_virtual_clock
def test_pit_counter_follows_the_virtual_clock(pc: QtestClient) -> None:
    count = 1193
    pit_load(pc, CTRL_CH0_LOHI_MODE2, PIT_CH0, count)
    loaded = now(pc)
    step_to(pc, loaded + 100_000)
    pc.outb(PIT_CONTROL, CTRL_CH0_LATCH)
    ticks = muldiv64(100_000, PIT_FREQ, NS_PER_SEC)
    assert ticks == 119
    assert read_count(pc, PIT_CH0) == count - ticks
    step_to(pc, loaded + 1_500_000)  # more than one period: the count reloads
    pc.outb(PIT_CONTROL, CTRL_CH0_LATCH)
    assert read_count(pc, PIT_CH0) == count - muldiv64(1_500_000, PIT_FREQ, NS_PER_SEC) % count


@needs_virtual_clock
def test_pit_mode_2_raises_irq0_once_per_period(pc: QtestClient) -> None:
    count = 1193  # about 1 kHz
    pit_load(pc, CTRL_CH0_LOHI_MODE0, PIT_CH0, 0xFFFF)  # OUT low
    assert not pc.get_irq(PIT_IRQ)
    pit_load(pc, CTRL_CH0_LOHI_MODE2, PIT_CH0, count)
    loaded = now(pc)
    first = loaded + pit_ticks_ns(count + 1)  # QEMU arms one tick late, then rounds down
    step_to(pc, first - 1)
    assert not pc.get_irq(PIT_IRQ)
    step_to(pc, first)
    assert pc.get_irq(PIT_IRQ)
    rises = 0
    for period in range(2, 6):
        step_to(pc, loaded + pit_ticks_ns(period * count) + 1)  # lowered just before the next period
        assert not pc.get_irq(PIT_IRQ), period
        step_to(pc, loaded + pit_ticks_ns(period * count + 1))
        rises += pc.get_irq(PIT_IRQ)
    assert rises == 4


@needs_virtual_clock
def test_pit_mode_0_interrupts_once_at_terminal_count(pc: QtestClient) -> None:
    pit_load(pc, CTRL_CH0_LOHI_MODE0, PIT_CH0, 100)
    loaded = now(pc)
    assert not pc.get_irq(PIT_IRQ)
    # The timer is armed at 83809 ns, when only 99 ticks have elapsed: QEMU re-arms it 1 ns later.
    terminal = first_ns_after_ticks(100)
    assert terminal == pit_ticks_ns(100) + 1
    step_to(pc, loaded + terminal - 1)
    assert not pc.get_irq(PIT_IRQ)
    step_to(pc, loaded + terminal)
    assert pc.get_irq(PIT_IRQ)
    step_to(pc, loaded + 10 * terminal)
    assert pc.get_irq(PIT_IRQ)
    assert pit_status(pc, 0) == STATUS_OUT | 0x30


def first_ns_after_ticks(ticks: int) -> int:
    """The first nanosecond at which ``ticks`` PIT ticks have elapsed."""
    return -(-ticks * NS_PER_SEC // PIT_FREQ)


# -- port 0x61 --------------------------------------------------------------------------------


def test_port_61_toggles_refresh_on_every_read_and_keeps_gate_and_data(pc: QtestClient) -> None:
    pc.outb(PIT_CONTROL, CTRL_CH2_LOHI_MODE3)  # channel 2 OUT high
    pc.outb(SPEAKER_PORT, 0)
    first = pc.inb(SPEAKER_PORT)
    assert first & ~SPK_REFRESH == SPK_OUT
    assert pc.inb(SPEAKER_PORT) == first ^ SPK_REFRESH
    assert pc.inb(SPEAKER_PORT) == first
    pc.outb(SPEAKER_PORT, SPK_GATE | SPK_DATA)
    assert pc.inb(SPEAKER_PORT) & ~SPK_REFRESH == SPK_OUT | SPK_GATE | SPK_DATA
    pc.outb(SPEAKER_PORT, 0)


@needs_virtual_clock
def test_port_61_bit_5_is_channel_2_out(pc: QtestClient) -> None:
    pc.outb(SPEAKER_PORT, SPK_GATE)
    pit_load(pc, CTRL_CH2_LOHI_MODE0, PIT_CH2, 100)
    loaded = now(pc)
    assert not pc.inb(SPEAKER_PORT) & SPK_OUT
    edge = first_ns_after_ticks(100)
    step_to(pc, loaded + edge - 1)
    assert not pc.inb(SPEAKER_PORT) & SPK_OUT
    step_to(pc, loaded + edge)
    assert pc.inb(SPEAKER_PORT) & SPK_OUT
    pc.outb(SPEAKER_PORT, 0)


# -- HPET -------------------------------------------------------------------------------------


def timer_reg(n: int, reg: int) -> int:
    return HPET + 0x100 + 0x20 * n + reg


def test_hpet_capabilities_and_timer_reset_state(board: tuple[str, QtestClient]) -> None:
    name, qts = board
    assert qts.readl(HPET + HPET_ID) == HPET_ID_VALUE
    assert qts.readl(HPET + HPET_PERIOD) == HPET_PERIOD_FS
    assert qts.readl(HPET + HPET_CFG) == 0
    assert qts.readl(HPET + HPET_COUNTER) == 0
    for n in range(3):
        assert qts.readl(timer_reg(n, TN_CFG)) == TN_CAPS
        assert qts.readl(timer_reg(n, TN_ROUTE_CAP)) == HPET_INTCAP[name]
        assert qts.readl(timer_reg(n, TN_CMP)) == 0xFFFF_FFFF
        assert qts.readl(timer_reg(n, TN_CMP_HI)) == 0xFFFF_FFFF


def test_hpet_write_masks_and_halted_counter(pc: QtestClient) -> None:
    pc.writel(HPET + HPET_CFG, 0xFFFF_FFFF)
    assert pc.readl(HPET + HPET_CFG) == HPET_CFG_ENABLE | HPET_CFG_LEGACY
    assert pc.readl(HPET + HPET_CFG + 4) == 0
    pc.writel(HPET + HPET_CFG, 0)
    pc.writel(timer_reg(1, TN_CFG), 0xFFFF_FFFF)
    assert pc.readl(timer_reg(1, TN_CFG)) == TN_CFG_WRITABLE
    assert pc.readl(timer_reg(1, TN_ROUTE_CAP)) == HPET_INTCAP["pc"]
    pc.writel(timer_reg(1, TN_CFG), TN_CAPS)
    pc.writel(HPET + HPET_COUNTER, 0x1234)  # writable while halted
    assert pc.readl(HPET + HPET_COUNTER) == 0x1234
    pc.writel(HPET + HPET_COUNTER, 0)


@needs_virtual_clock
def test_hpet_main_counter_runs_at_100_mhz_only_while_enabled(pc: QtestClient) -> None:
    pc.writel(HPET + HPET_COUNTER, 0)
    pc.writel(HPET + HPET_CFG, HPET_CFG_ENABLE)
    enabled = now(pc)
    step_to(pc, enabled + 12_345)
    assert pc.readl(HPET + HPET_COUNTER) == 12_345 // HPET_TICK_NS
    pc.writel(HPET + HPET_CFG, 0)
    step_to(pc, enabled + 50_000)
    assert pc.readl(HPET + HPET_COUNTER) == 1234
    pc.writel(HPET + HPET_CFG, HPET_CFG_ENABLE)  # counting resumes from the halted value
    resumed = now(pc)
    step_to(pc, resumed + 1000)
    assert pc.readl(HPET + HPET_COUNTER) == 1334
    pc.writel(HPET + HPET_CFG, 0)
    pc.writel(HPET + HPET_COUNTER, 0)


@needs_virtual_clock
def test_hpet_level_comparator_interrupt_on_its_route() -> None:
    with start("-M pc -nodefaults") as qts:
        qts.irq_intercept_in("ioapic")
        qts.writel(timer_reg(2, TN_CMP), 100)  # 1 µs after the counter starts at 0
        qts.writel(timer_reg(2, TN_CMP_HI), 0)
        qts.writel(timer_reg(2, TN_CFG), TN_ENABLE | TN_LEVEL | HPET_ROUTE << TN_ROUTE_SHIFT)
        qts.writel(HPET + HPET_CFG, HPET_CFG_ENABLE)
        started = now(qts)
        assert qts.clock_step() == started + 1000
        assert qts.get_irq(HPET_ROUTE)
        assert qts.readl(HPET + HPET_STATUS) == 1 << 2
        qts.writel(HPET + HPET_STATUS, 1 << 2)  # write 1 to clear: the level drops
        assert not qts.get_irq(HPET_ROUTE)
        assert qts.readl(HPET + HPET_STATUS) == 0


@needs_virtual_clock
def test_hpet_legacy_mode_takes_irq0_from_the_pit() -> None:
    with start("-M pc -nodefaults") as qts:
        qts.irq_intercept_in("ioapic")
        pit_load(qts, CTRL_CH0_LOHI_MODE3, PIT_CH0, 1000)  # OUT goes high at once
        assert qts.get_irq(PIT_IRQ)
        pit_load(qts, CTRL_CH0_LOHI_MODE0, PIT_CH0, 0xFFFF)
        assert not qts.get_irq(PIT_IRQ)
        qts.writel(timer_reg(0, TN_CMP), 500)
        qts.writel(timer_reg(0, TN_CMP_HI), 0)
        qts.writel(timer_reg(0, TN_CFG), TN_ENABLE | TN_LEVEL)
        qts.writel(HPET + HPET_CFG, HPET_CFG_ENABLE | HPET_CFG_LEGACY)
        started = now(qts)
        pit_load(qts, CTRL_CH0_LOHI_MODE3, PIT_CH0, 1000)  # the PIT's OUT no longer reaches IRQ 0
        assert not qts.get_irq(PIT_IRQ)
        assert qts.clock_step() == started + 5000
        assert qts.get_irq(PIT_IRQ)  # HPET timer 0, on the legacy route
        assert not qts.get_irq(HPET_ROUTE)


# -- ACPI PM timer ----------------------------------------------------------------------------


def enable_pm_io(qts: QtestClient, board: str) -> None:
    """Put the ACPI PM registers at PMBASE and turn their decoding on, as firmware does."""
    if board == "pc":
        cfg_writel(qts, PIIX4_PM, PIIX4_PMBA, PMBASE | 1)
        cfg_writeb(qts, PIIX4_PM, PIIX4_PMREGMISC, PIIX4_PMIOSE)
    else:
        cfg_writel(qts, ICH9_LPC, ICH9_PMBASE, PMBASE | 1)
        cfg_writeb(qts, ICH9_LPC, ICH9_ACPI_CNTL, ICH9_ACPI_EN)


def test_pm_registers_appear_at_pmbase_only_once_enabled(board: tuple[str, QtestClient]) -> None:
    name, qts = board
    fn, reg = (PIIX4_PM, PIIX4_PMBA) if name == "pc" else (ICH9_LPC, ICH9_PMBASE)
    assert cfg_readl(qts, fn, reg) == 0x1  # I/O space indicator only
    assert qts.inw(PMBASE + PM1_STS) == 0xFFFF
    enable_pm_io(qts, name)
    assert cfg_readl(qts, fn, reg) == PMBASE | 1
    assert qts.inw(PMBASE + PM1_STS) == 0x0001  # TMR_STS: the overflow time starts at 0
    assert qts.inw(PMBASE + PM1_EN) == 0
    assert qts.inw(PMBASE + PM1_CNT) == 0


@needs_virtual_clock
def test_pm_timer_counts_at_3_579545_mhz_in_24_bits(board: tuple[str, QtestClient]) -> None:
    name, qts = board
    enable_pm_io(qts, name)
    start_ns = now(qts)
    for delta in (0, 1_000, 1_000_000, NS_PER_SEC, 5 * NS_PER_SEC):  # 5 s: 17.9 M ticks, past 2**24
        step_to(qts, start_ns + delta)
        expected = muldiv64(start_ns + delta, PM_TIMER_FREQ, NS_PER_SEC) & PM_TIMER_MASK
        assert qts.inl(PMBASE + PM_TMR) == expected, delta
