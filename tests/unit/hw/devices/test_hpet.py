"""The HPET (``hpet``): registers, the main counter, timers, routes and legacy mode.

Register values were checked against QEMU 7.2 with TCG (``-M pc -S`` driven
through the qtest protocol's readl/writel, and with ``cont``/``stop`` for
the clock to run, the interrupts seen through ``irq_intercept_in`` on the
IOAPIC).  Exact interrupt times follow QEMU 7.2's ``hw/timer/hpet.c``, as a
qtest ``clock_step`` would show them.
"""

from __future__ import annotations

import pytest

from pyqemu.hw.core.irq import Irq, qdev_connect_gpio_out, qdev_get_gpio_in
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.sysbus import sysbus_connect_irq, sysbus_get_default, sysbus_mmio_map
from pyqemu.hw.timer.hpet import HpetState
from pyqemu.hw.timer.hpet_regs import HPET_BASE, advance_comparator, time_after
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.util.errors import DeviceError

from .conftest import Board
from .test_i8254 import QTREE_DATA, T0, qtree_block, step_to

ID, CFG, STATUS, COUNTER = 0x000, 0x010, 0x020, 0x0F0
ENABLE, LEGACY = 0x1, 0x2
TN_LEVEL, TN_ENABLE, TN_PERIODIC, TN_SETVAL, TN_32BIT, TN_FSB = 0x2, 0x4, 0x8, 0x40, 0x100, 0x4000


def tn(n: int, reg: int = 0) -> int:
    """Offset of timer ``n``'s register ``reg`` (0 config, 8 comparator, 0x10 FSB route)."""
    return 0x100 + 0x20 * n + reg


def route(n: int) -> int:
    return n << 9


class Hpet:
    """An HPET on the test board, its 32 routes and its PIT-enable line recorded."""

    def __init__(self, board: Board, **props: object) -> None:
        self.board = board
        step_to(board, T0)
        dev = qdev_new("hpet")
        for name, value in props.items():
            dev.property_set(name, value)
        qdev_realize_and_unref(dev, sysbus_get_default(board.machine))
        sysbus_mmio_map(dev, 0, HPET_BASE)
        assert isinstance(dev, HpetState)
        self.dev = dev
        self.events: list[tuple[int, int, int]] = []  # (ns after T0, route, level)
        for n in range(32):
            sysbus_connect_irq(dev, n, Irq.new(self._record, n))
        self.pit_enabled: list[int] = []
        qdev_connect_gpio_out(dev, 0, Irq.new(lambda _n, level: self.pit_enabled.append(level)))
        dev.reset()
        self.events.clear()

    def _record(self, n: int, level: int) -> None:
        self.events.append((self.now(), n, level))

    def now(self) -> int:
        from pyqemu.util.main_loop import ClockType

        return self.board.host.main_loop.clock(ClockType.VIRTUAL).now_ns() - T0

    def rl(self, offset: int, size: int = 4) -> int:
        return self.board.memory.address_space_memory.read(HPET_BASE + offset, size)

    def wl(self, offset: int, value: int) -> None:
        self.board.memory.address_space_memory.write(HPET_BASE + offset, value, 4)

    def step(self, ns: int) -> None:
        step_to(self.board, T0 + ns)

    def fired(self, n: int) -> list[tuple[int, int]]:
        return [(when, level) for when, line, level in self.events if line == n]


@pytest.fixture
def hpet(board: Board) -> Hpet:
    return Hpet(board, **{"hpet-intcap": 4})


def test_helpers() -> None:
    assert time_after(5, 4, 32) and not time_after(4, 4, 32) and time_after(0, 0xFFFFFFFF, 32)
    assert advance_comparator(100, 100, 100, 64) == 100  # not after: stays
    assert advance_comparator(100, 100, 101, 64) == 200
    assert advance_comparator(0xFFFFFF00, 0x100, 5, 32) == 0x100  # wraps
    assert advance_comparator(0, 3 << 62, 1, 64) == 1 << 63  # steps past half the range: counted out
    assert advance_comparator(0, 1 << 32, 1, 32) == 0  # a period of 0 in 32 bits: QEMU would spin


# -- registers at a frozen clock (QEMU 7.2 facts) --------------------------------------


def test_reset_registers_as_qemu(hpet: Hpet) -> None:
    assert [hpet.rl(o) for o in (ID, ID + 4, CFG, CFG + 4, STATUS, COUNTER, COUNTER + 4)] == [
        0x8086A201, 0x00989680, 0, 0, 0, 0, 0,
    ]
    assert [hpet.rl(tn(0, o)) for o in (0, 4, 8, 12, 0x10, 0x14)] == [0x30, 0x4, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0]
    assert hpet.rl(tn(2)) == 0x30
    assert (hpet.rl(tn(3)), hpet.rl(tn(4))) == (0, 0)
    assert hpet.rl(tn(0), 8) == 0x0000000400000030  # split into two 32-bit reads
    assert hpet.rl(tn(0), 2) == 0 and hpet.rl(tn(0) + 1, 1) == 0  # refused sizes
    assert hpet.pit_enabled == [1]


def test_register_writes_as_qemu(hpet: Hpet) -> None:
    """The writes of a qtest session against QEMU 7.2, and what it read back."""
    hpet.wl(tn(0), 0xFFFFFFFF)
    assert (hpet.rl(tn(0)), hpet.rl(tn(0, 4))) == (0x7F7E, 0x4)
    hpet.wl(tn(0), 0)
    assert hpet.rl(tn(0)) == 0x30
    hpet.wl(CFG, 0xFFFFFFFF)
    assert (hpet.rl(CFG), hpet.rl(CFG + 4)) == (0x3, 0x0)
    hpet.wl(CFG, 0)
    hpet.wl(COUNTER, 0x12345678)
    hpet.wl(COUNTER + 4, 0x9)
    assert (hpet.rl(COUNTER), hpet.rl(COUNTER + 4)) == (0x12345678, 0x9)
    hpet.wl(CFG, ENABLE)
    assert (hpet.rl(COUNTER), hpet.rl(COUNTER + 4)) == (0x12345678, 0x9)
    hpet.wl(COUNTER, 0x5)  # ignored while running
    assert hpet.rl(COUNTER) == 0x12345678
    hpet.wl(CFG, 0)
    assert hpet.rl(COUNTER) == 0x12345678
    hpet.wl(tn(1), TN_SETVAL | TN_PERIODIC | TN_ENABLE)
    hpet.wl(tn(1, 8), 0x1000)  # SETVAL: comparator and period
    assert (hpet.rl(tn(1, 8)), hpet.rl(tn(1))) == (0x1000, 0x3C)
    hpet.wl(tn(1, 8), 0x2000)  # periodic without SETVAL: the period only
    assert (hpet.rl(tn(1, 8)), hpet.rl(tn(1, 12))) == (0x1000, 0xFFFFFFFF)
    hpet.wl(tn(1, 12), 0x3)
    assert hpet.rl(tn(1, 12)) == 0xFFFFFFFF
    hpet.wl(tn(1), TN_SETVAL | TN_PERIODIC)
    hpet.wl(tn(1, 12), 0x3)
    assert hpet.rl(tn(1, 12)) == 0x3
    hpet.wl(tn(1), TN_32BIT)  # 32-bit mode truncates the comparator
    assert (hpet.rl(tn(1, 8)), hpet.rl(tn(1, 12))) == (0x1000, 0x0)
    hpet.wl(tn(1, 12), 0x7)
    assert hpet.rl(tn(1, 12)) == 0x7
    hpet.wl(tn(3), 0x1234)  # the timer just past the last one answers
    assert (hpet.rl(tn(3)), hpet.rl(tn(4))) == (0x1204, 0)
    hpet.wl(tn(2, 0x10), 0xABCD)
    hpet.wl(tn(2, 0x14), 0x1)
    assert (hpet.rl(tn(2, 0x10)), hpet.rl(tn(2, 0x14))) == (0xABCD, 0x1)


# -- the main counter and the timers --------------------------------------------------------


def test_counter_runs_at_100_mhz(hpet: Hpet) -> None:
    hpet.wl(CFG, ENABLE)
    hpet.step(1_234_567)
    assert hpet.rl(COUNTER) == 123_456
    hpet.wl(CFG, 0)
    hpet.step(5_000_000)
    assert hpet.rl(COUNTER) == 123_456
    hpet.wl(COUNTER + 4, 1)
    hpet.wl(CFG, ENABLE)
    hpet.step(5_000_105)
    assert (hpet.rl(COUNTER), hpet.rl(COUNTER + 4)) == (123_466, 1)


@pytest.mark.parametrize(
    ("hpet_ticks", "cmp"),
    [
        (274_873, 276_704), (499_176, 501_704), (722_740, 723_704),
        (1_035_322, 1_035_704), (1_255_243, 1_257_704),
    ],
)
def test_periodic_comparator_as_qemu(board: Board, hpet_ticks: int, cmp: int) -> None:
    """QEMU 7.2 TCG: a periodic timer whose upper comparator half stayed at its reset value.

    Its comparator (0xffffffff_00000bb8) is "before" the counter, so the
    first expiry steps it by the period across the 64-bit wrap.
    """
    hpet = Hpet(board, **{"hpet-intcap": 4})
    hpet.wl(tn(0), TN_PERIODIC | TN_SETVAL | TN_ENABLE | route(3))
    hpet.wl(tn(0, 8), 3000)
    hpet.wl(tn(0, 8), 3000)
    hpet.wl(CFG, ENABLE)
    hpet.step(hpet_ticks * 10)
    assert (hpet.rl(COUNTER), hpet.rl(tn(0, 8)), hpet.rl(tn(0, 12))) == (hpet_ticks, cmp, 0)


def test_one_shot_edge(hpet: Hpet) -> None:
    hpet.wl(tn(2), TN_ENABLE | route(5))
    hpet.wl(tn(2, 8), 100)
    hpet.wl(tn(2, 12), 0)
    hpet.wl(CFG, ENABLE)
    hpet.step(10_000)
    assert hpet.fired(5) == [(1000, 1), (1000, 0)]
    assert hpet.rl(STATUS) == 0  # edge interrupts leave no status


def test_periodic_fires_again_one_tick_after_an_exact_match(hpet: Hpet) -> None:
    """QEMU 7.2 moves the comparator on only once the counter is past it."""
    hpet.wl(tn(0), TN_PERIODIC | TN_SETVAL | TN_ENABLE | route(5))
    hpet.wl(tn(0, 8), 100)
    hpet.wl(tn(0), TN_PERIODIC | TN_SETVAL | TN_ENABLE | route(5))
    hpet.wl(tn(0, 12), 0)
    hpet.wl(CFG, ENABLE)
    hpet.step(2005)
    assert [when for when, level in hpet.fired(5) if level] == [1000, 1010, 2000]
    assert hpet.rl(tn(0, 8)) == 200
    hpet.step(2015)
    assert hpet.rl(tn(0, 8)) == 300


def test_32_bit_one_shot_also_fires_at_the_wrap(hpet: Hpet) -> None:
    hpet.wl(COUNTER, 0xFFFFFF00)
    hpet.wl(tn(1), TN_32BIT | TN_ENABLE | route(5))
    hpet.wl(tn(1, 8), 0x10)
    hpet.wl(CFG, ENABLE)
    hpet.step(100_000)
    assert [when for when, level in hpet.fired(5) if level] == [2550, 2720]
    assert hpet.rl(COUNTER + 4) == 1  # the main counter itself is 64-bit


def test_level_status_write_one_to_clear(hpet: Hpet) -> None:
    """As QEMU 7.2: status bit 2 set by a level timer, cleared by writing ones."""
    hpet.wl(tn(2), TN_LEVEL | TN_ENABLE | route(5))
    hpet.wl(tn(2, 8), 1000)
    hpet.wl(tn(2, 12), 0)
    hpet.wl(CFG, ENABLE)
    hpet.step(20_000)
    assert hpet.rl(STATUS) == 0x4
    assert hpet.fired(5) == [(10_000, 1)]
    hpet.wl(STATUS, 0x3)  # other bits: nothing
    assert hpet.rl(STATUS) == 0x4
    hpet.wl(STATUS, 0xFFFFFFFF)
    assert hpet.rl(STATUS) == 0
    assert hpet.fired(5) == [(10_000, 1), (20_000, 0)]


def test_disabling_withdraws_interrupts(hpet: Hpet) -> None:
    hpet.wl(tn(0), TN_LEVEL | TN_ENABLE | route(9))
    hpet.wl(tn(0, 8), 10)
    hpet.wl(tn(0, 12), 0)
    hpet.wl(CFG, ENABLE)
    hpet.step(1000)
    hpet.wl(CFG, 0)
    assert hpet.fired(9) == [(100, 1), (1000, 0)] and hpet.rl(STATUS) == 0


# -- legacy replacement mode --------------------------------------------------------------


def test_legacy_mode_routes(hpet: Hpet) -> None:
    """Legacy mode stops the PIT's IRQ; timers 0 and 1 take IRQ 0 and IRQ 8 whatever their routes."""
    pit_in, rtc_in = qdev_get_gpio_in(hpet.dev, 0), qdev_get_gpio_in(hpet.dev, 1)
    pit_in.set(1)
    rtc_in.set(1)
    assert hpet.events == [(0, 0, 1), (0, 8, 1)]
    hpet.events.clear()
    hpet.wl(CFG, LEGACY)
    assert hpet.pit_enabled == [1, 0]
    assert hpet.events == [(0, 0, 0), (0, 8, 0)]
    pit_in.set(0)
    rtc_in.set(0)
    rtc_in.set(1)
    assert hpet.events == [(0, 0, 0), (0, 8, 0)]  # swallowed
    for n, cmp, config in ((1, 50, TN_ENABLE), (0, 60, TN_ENABLE | route(7))):
        hpet.wl(tn(n), config)
        hpet.wl(tn(n, 8), cmp)
        hpet.wl(tn(n, 12), 0)
    hpet.wl(CFG, LEGACY | ENABLE)
    hpet.step(1000)
    assert hpet.fired(8)[-2:] == [(500, 1), (500, 0)]
    assert hpet.fired(0)[-2:] == [(600, 1), (600, 0)]
    assert hpet.fired(7) == []
    hpet.events.clear()
    hpet.wl(CFG, ENABLE)  # leaving legacy mode: IRQ 8 gets the RTC's level back
    assert hpet.events == [(1000, 0, 0), (1000, 8, 1)]
    assert hpet.pit_enabled == [1, 0, 1]


def changes(events: list[tuple[int, int, int]]) -> list[str]:
    """Level changes of lines 0 and 8 as qtest's irq_intercept reports them (lines start low)."""
    levels: dict[int, int] = {}
    out = []
    for _when, line, level in events:
        if line in (0, 8) and levels.get(line, 0) != level:
            levels[line] = level
            out.append(f"IRQ {'raise' if level else 'lower'} {line}")
    return out


def test_pc_wiring_with_the_pit_as_qemu(board: Board) -> None:
    """QEMU 7.2 -M pc, qtest: PIT through the HPET, legacy on and off, then legacy timers."""
    from pyqemu.hw.timer.i8254 import i8254_pit_init

    hpet = Hpet(board, **{"hpet-intcap": 4})
    pit = i8254_pit_init(board.isa, 0x40, None, qdev_get_gpio_in(hpet.dev, 0))
    qdev_connect_gpio_out(hpet.dev, 0, qdev_get_gpio_in(pit, 0))
    board.outb(0x43, 0x30)  # channel 0, mode 0, count 100
    board.outb(0x40, 100)
    board.outb(0x40, 0)
    hpet.wl(CFG, LEGACY)
    hpet.step(10_000_000)
    assert changes(hpet.events) == []
    hpet.wl(CFG, 0)
    assert changes(hpet.events) == ["IRQ raise 0"]
    hpet.wl(tn(1), TN_ENABLE)  # comparators keep their reset upper half: due at once
    hpet.wl(tn(1, 8), 50)
    hpet.wl(tn(0), TN_ENABLE | route(7))
    hpet.wl(tn(0, 8), 60)
    hpet.wl(CFG, LEGACY | ENABLE)
    hpet.step(20_000_000)
    qemu = ["IRQ lower 0", "IRQ raise 0", "IRQ lower 0", "IRQ raise 8", "IRQ lower 8"]
    assert changes(hpet.events) == ["IRQ raise 0", *qemu]
    assert hpet.rl(STATUS) == 0


# -- FSB (MSI) delivery ---------------------------------------------------------------------


def test_fsb_delivery_writes_memory(board: Board) -> None:
    writes: list[tuple[int, int, int]] = []
    ops = MemoryRegionOps(
        read=lambda _a, _s: 0, write=lambda addr, value, size: writes.append((addr, value, size))
    )
    board.memory.system_memory.add_subregion(0xFEE00000, MemoryRegion.new_io(None, ops, "msi", 0x1000))
    hpet = Hpet(board, msi=True, **{"hpet-intcap": 4})
    assert hpet.rl(tn(0)) == 0x8030
    hpet.wl(tn(0, 0x10), 0x41)
    hpet.wl(tn(0, 0x14), 0xFEE00000)
    hpet.wl(tn(0), TN_FSB | TN_ENABLE)
    hpet.wl(tn(0, 8), 5)
    hpet.wl(tn(0, 12), 0)
    hpet.wl(CFG, ENABLE)
    hpet.step(100)
    assert writes == [(0, 0x41, 4)]
    assert hpet.events == [(0, 0, 0)]  # turning FSB on first withdrew the line interrupt (route 0)


# -- the device -------------------------------------------------------------------------------


@pytest.mark.parametrize(("machine", "intcap"), [("pc", 4), ("q35", 0xFF0104)])
def test_qtree_block_is_qemus(board: Board, machine: str, intcap: int) -> None:
    from pyqemu.hw.core.qtree import qtree_info

    Hpet(board, **{"hpet-intcap": intcap})
    reference = (QTREE_DATA / f"{machine}-qtree.txt").read_text()
    dev_line = 'dev: hpet, id ""'
    assert qtree_block(qtree_info(board.machine), dev_line) == qtree_block(reference, dev_line)


def test_q35_route_capabilities(board: Board) -> None:
    hpet = Hpet(board, **{"hpet-intcap": 0xFF0104})
    assert hpet.rl(tn(1, 4)) == 0xFF0104


def test_qom_shape(hpet: Hpet) -> None:
    dev = hpet.dev
    assert dev.child("hpet[0]").property_get("size") == 0x400
    children = [c.name_in_parent for c in dev.children()]
    assert children == ["hpet[0]", "unnamed-gpio-in[0]", "unnamed-gpio-in[1]"]
    assert dev.property_find("sysbus-irq[31]").type == "link<irq>"
    assert dev.property_find("unnamed-gpio-out[0]").type == "link<irq>"
    assert dev.fw_entry() == (0x8086A201, HPET_BASE)


@pytest.mark.parametrize(
    ("timers", "kept", "ident"), [(1, 3, 0x8086A201), (5, 5, 0x8086A401), (40, 32, 0x8086BF01)]
)
def test_timer_count_is_clamped(board: Board, timers: int, kept: int, ident: int) -> None:
    hpet = Hpet(board, timers=timers, **{"hpet-intcap": 4})
    assert hpet.dev.property_get("timers") == kept
    assert hpet.rl(ID) == ident


def test_intcap_warning_and_instance_limit(board: Board) -> None:
    Hpet(board)
    assert board.host.warnings == ["Hpet's intcap not initialized"]
    for _ in range(7):
        dev = qdev_new("hpet")
        dev.property_set("hpet-intcap", 4)
        qdev_realize_and_unref(dev, sysbus_get_default(board.machine))
    dev = qdev_new("hpet")
    dev.property_set("hpet-intcap", 4)
    with pytest.raises(DeviceError, match=r"^Only 8 instances of HPET is allowed$"):
        qdev_realize_and_unref(dev, sysbus_get_default(board.machine))


def test_device_help_is_qemus() -> None:
    from pyqemu.hw.core.qdev_monitor import device_help_text

    assert device_help_text("hpet,help") == (
        "hpet options:\n"
        "  hpet-intcap=<uint32>   -  (default: 0)\n"
        "  hpet-offset-saved=<bool> -  (default: true)\n"
        "  hpet[0]=<child<memory-region>>\n"
        "  msi=<bool>             - on/off (default: false)\n"
        "  timers=<uint8>         -  (default: 3)\n"
    )
