"""The local APIC and the kvmvapic port.

QOM facts (``lapic`` child, properties, ``apic-msi`` at 0xfee00000 prio
4096, ``kvmvapic`` as the next device with ports 0x7e-0x7f reading all
ones) were checked against QEMU 7.2 (``-M pc -accel tcg -nodefaults -S``:
qom-list / qom-get, ``info mtree``, ``info qtree``, HMP ``i``/``o``).
Register behaviour follows QEMU 7.2's ``hw/intc/apic.c``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qtree import qtree_info
from pyqemu.hw.i386.kvmvapic import VapicMode
from pyqemu.hw.intc import apic_core as regs
from pyqemu.hw.intc.apic import Apic, apic_bus, apic_create, apic_designate_bsp, apic_pic_irq, apic_realize
from pyqemu.hw.intc.apic_bus import ApicBus, CpuInterrupt, DeliveryMode
from pyqemu.hw.intc.apic_core import ApicCore
from pyqemu.memory.mtree import mtree_info
from pyqemu.util.errors import ConfigError, DeviceError

from ..boards.conftest import DATA
from ..boards.test_boards import _device_block
from .conftest import Board, FakeClock

MSI = 0xFEE00000
LVT0 = regs.REG_LVT + regs.LVT_LINT0
LVT_TIMER = regs.REG_LVT + regs.LVT_TIMER
SVR_ON = regs.SV_ENABLE | 0xFF
Apics = tuple[ApicBus, list[ApicCore]]


def make_apics(clock: FakeClock, count: int = 2) -> Apics:
    bus = ApicBus()
    apics = [ApicCore(bus, clock.now_ns, clock.new_timer, apic_id=n, bsp=n == 0) for n in range(count)]
    for apic in apics:
        bus.apics[apic.id] = apic
    return bus, apics


def msi(
    dest: int, vector: int, *, logical: bool = False, mode: int = 0, level: bool = False
) -> tuple[int, int]:
    """The MSI address offset and data for a message."""
    return dest << 12 | int(logical) << 2, vector | mode << 8 | int(level) << 15


@pytest.fixture
def pair(clock: FakeClock) -> Apics:
    return make_apics(clock)


# -- the register file --------------------------------------------------------------


def test_reset_state(pair: Apics) -> None:
    _bus, (bsp, ap) = pair
    assert (bsp.get_base(), ap.get_base()) == (0xFEE00900, 0xFEE00800)
    assert (bsp.wait_for_sipi, ap.wait_for_sipi) == (False, True)
    assert [ap.read(i) for i in (regs.REG_ID, regs.REG_VERSION, regs.REG_TPR, regs.REG_PPR)] == [
        0x01000000, 0x00050014, 0, 0]
    assert [bsp.read(i) for i in (regs.REG_LDR, regs.REG_DFR, regs.REG_SVR, regs.REG_ESR)] == [
        0, 0xFFFFFFFF, 0xFF, 0]
    assert [bsp.read(regs.REG_LVT + n) for n in range(6)] == [0x10000] * 6
    assert [bsp.read(i) for i in (0x38, 0x39, 0x3E, 0x30, 0x31)] == [0, 0, 0, 0, 0]


def test_unknown_register_sets_esr(pair: Apics) -> None:
    _bus, (apic, _) = pair
    assert apic.read(0x01) == 0
    assert apic.read(regs.REG_ESR) == 0x80
    apic.esr = 0
    apic.write(regs.REG_VERSION, 0x12345678)  # read-only: ignored quietly
    apic.write(regs.REG_PPR, 0xFF)
    assert (apic.read(regs.REG_VERSION), apic.read(regs.REG_ESR)) == (0x50014, 0)
    apic.write(0x3F, 1)
    assert apic.read(regs.REG_ESR) == 0x80


def test_writable_registers(pair: Apics) -> None:
    _bus, (apic, _) = pair
    apic.write(regs.REG_ID, 0x05FFFFFF)
    apic.write(regs.REG_LDR, 0x81234567)
    apic.write(regs.REG_DFR, 0x0FFFFFFF)
    apic.write(regs.REG_SVR, 0xFFFF)
    apic.write(regs.REG_TIMER_DIVIDE, 0xFF)
    apic.write(regs.REG_ICR_HIGH, 0xAB000000)
    assert [apic.read(i) for i in (0x02, 0x0D, 0x0E, 0x0F, 0x3E, 0x31)] == [
        0x05000000, 0x81000000, 0x0FFFFFFF, 0x1FF, 0x0B, 0xAB000000]


def test_mmio_access_sizes_and_msi_offsets(pair: Apics) -> None:
    _bus, (apic, other) = pair
    assert apic.read_mmio(0x30, 4) == 0x50014
    assert apic.read_mmio(0x30, 2) == 0  # narrower than 4 bytes reads 0
    apic.write_mmio(0x80, 0x20, 1)  # and does not write
    assert apic.read(regs.REG_TPR) == 0
    apic.write_mmio(0x80, 0x20)
    assert apic.read_mmio(0x80) == 0x20
    apic.write_mmio(0x1000, 0x41)  # beyond the page: an MSI to APIC 1
    apic.write_mmio(0x0, 0x42)  # offset 0 too: to APIC 0
    assert (other.irr, apic.irr) == (1 << 0x41, 1 << 0x42)


# -- delivery -------------------------------------------------------------------------


def test_fixed_msi_physical_and_broadcast(pair: Apics) -> None:
    bus, (a0, a1) = pair
    bus.send_msi(*msi(1, 0x31))
    assert (a0.read(regs.REG_IRR + 1), a1.read(regs.REG_IRR + 1)) == (0, 0x00020000)
    assert a1.read(regs.REG_TMR + 1) == 0
    assert a1.interrupt_request == CpuInterrupt.POLL  # raised from another thread
    bus.send_msi(*msi(0xFF, 0x40, level=True))
    assert [a.read(regs.REG_TMR + 2) for a in (a0, a1)] == [1, 1]
    bus.send_msi(*msi(7, 0x50))  # nobody has id 7
    assert (a0.irr >> 0x50, a1.irr >> 0x50) == (0, 0)
    assert bus.irq_delivered == 3


def test_logical_flat_and_cluster(pair: Apics) -> None:
    bus, (a0, a1) = pair
    a0.write(regs.REG_LDR, 0x01000000)
    a1.write(regs.REG_LDR, 0x02000000)
    bus.send_msi(*msi(0x02, 0x61, logical=True))
    bus.send_msi(*msi(0x03, 0x62, logical=True))
    assert (a0.irr, a1.irr) == (1 << 0x62, 1 << 0x61 | 1 << 0x62)
    for apic, ldr in ((a0, 0x11000000), (a1, 0x21000000)):
        apic.write(regs.REG_DFR, 0x0FFFFFFF)  # cluster model
        apic.write(regs.REG_LDR, ldr)
    bus.send_msi(*msi(0x21, 0x70, logical=True))
    assert (a0.irr >> 0x70, a1.irr >> 0x70) == (0, 1)


def test_lowest_priority_goes_to_the_first_target(pair: Apics) -> None:
    bus, (a0, a1) = pair
    bus.send_msi(*msi(0xFF, 0x33, mode=DeliveryMode.LOWPRI))
    assert (a0.irr, a1.irr) == (1 << 0x33, 0)


@pytest.mark.parametrize(("mode", "wanted"), [
    (DeliveryMode.NMI, CpuInterrupt.NMI),
    (DeliveryMode.SMI, CpuInterrupt.SMI),
    (DeliveryMode.INIT, CpuInterrupt.INIT),
])
def test_msi_cpu_requests(pair: Apics, mode: int, wanted: CpuInterrupt) -> None:
    bus, (a0, a1) = pair
    bus.send_msi(*msi(1, 0x99, mode=mode))
    assert (a0.interrupt_request, a1.interrupt_request, a1.irr) == (0, wanted, 0)


def test_acknowledge_priority_and_eoi(pair: Apics) -> None:
    bus, (apic, _) = pair
    eois: list[int] = []
    bus.eoi_listeners.append(eois.append)
    bus.send_msi(*msi(0, 0x31, level=True))
    assert apic.get_interrupt() == -1  # software-disabled APIC: nothing
    apic.write(regs.REG_SVR, SVR_ON)
    apic.poll_irq()
    assert apic.interrupt_request == CpuInterrupt.HARD
    assert apic.get_interrupt() == 0x31
    assert [apic.read(i) for i in (regs.REG_ISR + 1, regs.REG_IRR + 1, regs.REG_PPR)] == [0x20000, 0, 0x30]
    bus.send_msi(*msi(0, 0x35))
    assert apic.get_interrupt() == 0xFF  # same priority class as the one in service: spurious
    apic.write(regs.REG_EOI, 0)
    assert (eois, apic.isr) == ([0x31], 0)
    assert apic.get_interrupt() == 0x35
    apic.write(regs.REG_EOI, 0)
    assert eois == [0x31]  # edge-triggered: no broadcast


def test_tpr_masks_and_cr8(pair: Apics) -> None:
    bus, (apic, _) = pair
    apic.write(regs.REG_SVR, SVR_ON)
    apic.set_tpr(5)
    assert (apic.read(regs.REG_TPR), apic.get_tpr(), apic.read(regs.REG_PPR)) == (0x50, 5, 0x50)
    bus.send_msi(*msi(0, 0x52))
    assert apic.irq_pending() == -1
    bus.send_msi(*msi(0, 0x61))
    assert apic.get_interrupt() == 0x61


def test_directed_eoi_cannot_be_enabled(pair: Apics) -> None:
    bus, (apic, _) = pair
    eois: list[int] = []
    bus.eoi_listeners.append(eois.append)
    apic.write(regs.REG_SVR, SVR_ON | regs.SV_DIRECTED_IO)  # QEMU keeps only bits 8:0
    assert apic.read(regs.REG_SVR) == 0x1FF
    bus.send_msi(*msi(0, 0x44, level=True))
    assert apic.get_interrupt() == 0x44
    apic.write(regs.REG_EOI, 0)
    assert eois == [0x44]


def test_ipis(pair: Apics) -> None:
    _bus, (bsp, ap) = pair
    bsp.write(regs.REG_ICR_HIGH, 0x01000000)
    bsp.write(regs.REG_ICR_LOW, 0x000000A5)  # fixed, physical, to APIC 1
    assert (ap.irr, bsp.read(regs.REG_ICR_LOW)) == (1 << 0xA5, 0xA5)
    bsp.write(regs.REG_ICR_LOW, 0x00004500)  # INIT assert
    assert ap.interrupt_request & CpuInterrupt.INIT
    bsp.write(regs.REG_ICR_LOW, 0x00008500)  # INIT de-assert: only arbitration ids
    assert ap.arb_id == 1
    bsp.write(regs.REG_ICR_LOW, 0x0000469A)  # SIPI, vector 0x9a
    assert ap.interrupt_request & CpuInterrupt.SIPI
    assert (ap.sipi(), ap.sipi(), bsp.sipi()) == (0x9A, None, None)
    assert not ap.interrupt_request & CpuInterrupt.SIPI


@pytest.mark.parametrize(("shorthand", "expect"), [(1, (1, 0)), (2, (1, 1)), (3, (0, 1))])
def test_ipi_shorthands(pair: Apics, shorthand: int, expect: tuple[int, int]) -> None:
    _bus, (bsp, ap) = pair
    bsp.write(regs.REG_ICR_LOW, shorthand << 18 | 0x77)
    assert (bsp.irr >> 0x77, ap.irr >> 0x77) == expect


def test_base_msr_disable_is_sticky(pair: Apics) -> None:
    _bus, (apic, _) = pair
    apic.write(regs.REG_SVR, SVR_ON)
    apic.set_base(0xFED00000)
    assert (apic.get_base(), apic.read(regs.REG_SVR)) == (0xFED00100, 0xFF)
    apic.set_base(0xFEE00900)
    assert apic.get_base() == 0xFEE00100
    apic.reset()
    assert apic.get_base() == 0xFEE00900
    apic.designate_bsp(False)
    apic.reset()
    assert (apic.get_base(), apic.wait_for_sipi) == (0xFEE00800, True)


def test_pic_through_lint0_extint(pair: Apics) -> None:
    bus, (bsp, ap) = pair
    bus.has_pic = True
    bus.current_apic = lambda: bsp
    bsp.write(regs.REG_SVR, SVR_ON)
    assert not bsp.accept_pic_intr()  # LINT0 masked on an enabled APIC
    bus.pic_irq_request(1)
    assert bsp.interrupt_request == 0
    bsp.write(LVT0, 0x700)  # ExtINT, unmasked: the pending PIC interrupt goes through at once
    assert bsp.interrupt_request == CpuInterrupt.HARD
    assert bsp.get_interrupt() == -1  # the PIC supplies the vector
    bus.pic_irq_request(0)
    assert bsp.interrupt_request == 0
    assert ap.interrupt_request == 0


def test_nmi_on_lint1(pair: Apics) -> None:
    _bus, (apic, _) = pair
    apic.deliver_nmi()
    assert apic.interrupt_request == 0  # masked
    apic.write(regs.REG_LVT + regs.LVT_LINT1, 0x400)
    apic.deliver_nmi()
    assert apic.interrupt_request == CpuInterrupt.NMI


# -- the timer ------------------------------------------------------------------------


def test_one_shot_timer(clock: FakeClock, pair: Apics) -> None:
    _bus, (apic, _) = pair
    clock.advance(500)
    apic.write(regs.REG_TIMER_DIVIDE, 0x0)  # divide by 2
    apic.write(LVT_TIMER, 0x40)
    apic.write(regs.REG_TIMER_INITIAL, 1000)
    clock.advance(600)
    assert apic.read(regs.REG_TIMER_CURRENT) == 700
    assert apic.irr == 0
    clock.advance(1401)
    assert (apic.irr, apic.read(regs.REG_TIMER_CURRENT)) == (0, 0)
    clock.advance(1)  # (1000 + 1) ticks of 2 ns after the load
    assert (apic.irr, apic.timer_expiry) == (1 << 0x40, -1)
    clock.advance(100_000)
    assert apic.timer_expiry == -1


def test_periodic_timer(clock: FakeClock, pair: Apics) -> None:
    _bus, (apic, _) = pair
    fired: list[int] = []
    apic.write(regs.REG_TIMER_DIVIDE, 0xB)  # divide by 1
    apic.write(LVT_TIMER, regs.LVT_TIMER_PERIODIC | 0x50)
    apic.write(regs.REG_TIMER_INITIAL, 99)
    assert apic.timer_expiry == 100
    apic.on_interrupt = lambda mask: fired.append(clock.now_ns())
    clock.advance(350)
    assert fired == [100, 200, 300]
    assert apic.read(regs.REG_TIMER_CURRENT) == 49
    apic.write(LVT_TIMER, regs.LVT_MASKED | regs.LVT_TIMER_PERIODIC | 0x50)
    clock.advance(1000)
    assert len(fired) == 3 and apic.timer_expiry == -1


def test_init_reset_keeps_id_and_base(pair: Apics) -> None:
    _bus, (_, ap) = pair
    ap.write(regs.REG_SVR, SVR_ON)
    ap.write(regs.REG_TPR, 0x40)
    ap.init_reset()
    assert (ap.read(regs.REG_ID), ap.get_base(), ap.read(regs.REG_SVR), ap.read(regs.REG_TPR)) == (
        0x01000000, 0xFEE00800, 0xFF, 0)


# -- the QOM device on a machine -------------------------------------------------------------


def new_cpu(board: Board, index: int = 0) -> Any:
    import pyqemu.hw.i386.x86_cpu  # noqa: F401  (registers the CPU types)

    cpu = qdev_new("qemu64-x86_64-cpu")
    cpu.cpu_index = index  # type: ignore[attr-defined]
    cpu.property_set("apic-id", index)
    qdev_realize_and_unref(cpu, machine=board.machine)
    return cpu


def cpu_apic(cpu: Any, apic_id: int) -> Apic:
    """The APIC the CPU made for itself at realize (as ``x86_cpu_apic_create`` + realize)."""
    apic = cpu.apic
    assert isinstance(apic, Apic) and apic.property_get("id") == apic_id
    return apic


@pytest.fixture
def pc(board: Board) -> Board:
    board.machine.ram_size = 128 << 20  # type: ignore[attr-defined]
    return board


def test_lapic_child_properties_and_region(pc: Board) -> None:
    cpu = new_cpu(pc)
    apic = cpu_apic(cpu, 0)
    apic_realize(apic)
    assert apic.canonical_path() == cpu.canonical_path() + "/lapic"
    assert cpu.property_get_info("lapic").type == "child<apic>"
    got = {name: apic.property_get(name) for name in ("id", "version", "vapic", "legacy-instance-id")}
    assert got == {"id": 0, "version": 20, "vapic": True, "legacy-instance-id": False}
    region = apic.child("apic-msi[0]")
    assert region is not None
    assert (region.property_get("addr"), region.property_get("size"), region.property_get("priority")) == (
        MSI, 0x100000, 4096)
    lines = mtree_info(pc.memory).splitlines()
    assert "    00000000fee00000-00000000feefffff (prio 4096, i/o): apic-msi" in lines
    assert apic.core is not None and apic.core.get_base() == 0xFEE00900


def test_kvmvapic_follows_the_first_cpu(pc: Board) -> None:
    cpu = new_cpu(pc)
    cpu_apic(cpu, 0)
    unattached = pc.machine.unattached()  # type: ignore[attr-defined]
    cpu_slot = int(cpu.name_in_parent[len("device["):-1])
    vapic = unattached.child(f"device[{cpu_slot + 1}]")
    assert vapic.typename == "kvmvapic"
    assert vapic.child("kvmvapic[0]").property_get("size") == 2
    lines = mtree_info(pc.memory).splitlines()
    assert "    000000000000007e-000000000000007f (prio 0, i/o): kvmvapic" in lines
    reference = (DATA / "pc-qtree.txt").read_text()
    assert _device_block(qtree_info(pc.machine), "kvmvapic") == _device_block(reference, "kvmvapic")
    assert (pc.inb(0x7E), pc.inb(0x7F), pc.inb(0x7E, 2), pc.inb(0x7E, 4)) == (0xFF, 0xFF, 0xFFFF, 0xFFFFFFFF)
    pc.outb(0x7E, 0x1234, 2)  # no CPU: nothing happens
    assert vapic.core.state == VapicMode.INACTIVE


def test_second_apic_is_not_mapped_and_no_second_vapic(pc: Board) -> None:
    apics = []
    for index in range(2):
        apic = cpu_apic(new_cpu(pc, index), index)
        apic_realize(apic)
        apics.append(apic)
    assert apics[1].region.container is None
    assert apics[1].core.get_base() == 0xFEE00800
    types = [p.type for p in pc.machine.unattached().iter_properties()]  # type: ignore[attr-defined]
    assert types.count("child<kvmvapic>") == 1
    pc.memory.address_space_memory.write(MSI | 1 << 12, 0x0421, 4)  # NMI to APIC 1
    pc.memory.address_space_memory.write(MSI, 0x22, 2)  # 2 bytes: dropped
    assert apics[1].core.interrupt_request == CpuInterrupt.NMI
    assert apics[0].core.irr == 0


def test_msi_window_without_a_cpu(pc: Board) -> None:
    apic = cpu_apic(new_cpu(pc), 0)
    apic_realize(apic)
    space = pc.memory.address_space_memory
    space.write(MSI + 0x80, 0x20, 4)  # a register write without a CPU: dropped
    space.write(MSI | 0xFF << 12, 0x8031, 4)  # broadcast, level
    assert (space.read(MSI + 0x30, 4), space.read(MSI + 0x80, 4)) == (0, 0)
    assert (apic.core.tpr, apic.core.irr, apic.core.tmr) == (0, 1 << 0x31, 1 << 0x31)


def test_current_cpu_reaches_its_own_registers(pc: Board) -> None:
    cpu = new_cpu(pc)
    apic = cpu_apic(cpu, 0)
    apic_realize(apic)
    pc.machine.current_cpu = lambda: cpu  # type: ignore[attr-defined]
    space = pc.memory.address_space_memory
    space.write(MSI + 0x80, 0x30, 4)
    assert (space.read(MSI + 0x30, 4), space.read(MSI + 0x80, 4), space.read(MSI + 0xA0, 4)) == (
        0x50014, 0x30, 0x30)
    space.write(MSI + 0xF0, 0x1FF, 4)
    space.write(MSI, 0x41, 4)  # offset 0 is an MSI even from a CPU
    assert apic.core.interrupt_request == CpuInterrupt.HARD  # raised on the CPU's own thread


def test_vapic_rom_init_write_from_a_cpu(pc: Board) -> None:
    cpu = new_cpu(pc)
    cpu_apic(cpu, 0)
    vapic = apic_bus(pc.machine).vapic
    fake = SimpleNamespace(regs={}, code_address=lambda: 0xC8234, child=cpu.child)
    pc.machine.current_cpu = lambda: fake  # type: ignore[attr-defined]
    pc.outb(0x7E, 0x1F0, 2)
    assert (vapic.core.state, hex(vapic.core.rom_state_paddr)) == (VapicMode.STANDBY, "0xc83f0")
    pc.outb(0x7E, 0, 2)  # only the first report counts
    assert vapic.core.rom_state_paddr == 0xC83F0


def test_no_vapic_when_disabled_or_ram_below_1m(board: Board) -> None:
    board.machine.ram_size = 640 << 10  # type: ignore[attr-defined]
    cpu_apic(new_cpu(board), 0)
    assert apic_bus(board.machine).vapic is None
    board.machine.ram_size = 128 << 20  # type: ignore[attr-defined]
    apic = apic_create(_holder(board, "cpu1"), 1)
    apic.property_set("vapic", False)
    apic_realize(apic)
    assert apic_bus(board.machine).vapic is None


def _holder(board: Board, name: str) -> Any:
    """A stand-in parent for an APIC made by hand (CPUs make theirs at realize)."""
    from pyqemu.qom.object import Container

    holder = Container()
    board.machine.add_child(name, holder)
    holder.unref()
    return holder


def test_id_errors(pc: Board) -> None:
    apic = cpu_apic(new_cpu(pc), 0)
    apic_realize(apic)
    with pytest.raises(ConfigError) as err:
        apic.property_set("id", 3)
    assert err.value.desc == (
        "Attempt to set property 'id' on anonymous device (type 'apic') after it was realized")
    bad = apic_create(_holder(pc, "cpu1"), 255)
    with pytest.raises(DeviceError) as failed:
        apic_realize(bad)
    assert failed.value.desc == "apic initialization failed. APIC ID 255 is invalid"


def test_pic_irq_and_bsp_helpers(pc: Board) -> None:
    apic = cpu_apic(new_cpu(pc), 0)
    apic_realize(apic)
    irq = apic_pic_irq(pc.machine)
    core = apic.core
    assert isinstance(apic, Apic) and core is not None
    core.write(LVT0, 0x700)
    irq.set(1)
    assert core.interrupt_request & CpuInterrupt.HARD
    apic_designate_bsp(apic, False)
    apic.reset()
    assert core.get_base() == 0xFEE00800


def test_system_reset_reaches_the_apics_after_the_devices() -> None:
    """The APICs are on no bus: the x86 machine resets them itself (QEMU's ``pc_machine_reset``)."""
    from pyqemu.system.runstate import ShutdownCause

    from ..boards.conftest import board

    with board("pc", "-smp", "2") as vm:
        cores = [cpu.child("lapic").core for cpu in vm.machine.cpus]  # type: ignore[union-attr]
        for core in cores:
            core.tpr, core.spurious_vec = 0x20, 0x1FF
            core.designate_bsp(False)
        vm.system_reset(ShutdownCause.HOST_QMP_SYSTEM_RESET)
        assert [(core.tpr, core.spurious_vec) for core in cores] == [(0, 0xFF), (0, 0xFF)]
        assert [bool(core.apicbase & regs.APICBASE_BSP) for core in cores] == [True, False]
