"""microvm's empty virtio-mmio transports compared with QEMU 7.2.

Register values are what QEMU 7.2 shows with ``xp /4wx 0xfeb0NN00`` on
``-M microvm -nodefaults -S``; the tree lines come from its ``info qtree``
and ``info mtree`` (``data/microvm-*.txt``).
"""

from __future__ import annotations

import pytest

from pyqemu.hw.core.qtree import qtree_info
from pyqemu.hw.virtio.virtio_mmio import VirtioMmio
from pyqemu.memory.mtree import mtree_info

from .conftest import DATA, board

BASE = 0xFEB00000
STRIDE = 0x200
MAGIC, VENDOR = 0x74726976, 0x554D4551


def _memory(vm):  # type: ignore[no-untyped-def]
    return vm.machine.memory_system.address_space_memory


def _ident(vm, base: int) -> list[int]:  # type: ignore[no-untyped-def]
    """MagicValue, Version, DeviceID, VendorID of the transport at ``base``."""
    return [_memory(vm).read(base + offset, 4) for offset in (0x0, 0x4, 0x8, 0xC)]


def test_24_transports_identify_as_legacy_with_no_device() -> None:
    with board("microvm") as vm:
        for index in range(24):
            assert _ident(vm, BASE + index * STRIDE) == [MAGIC, 1, 0, VENDOR]
        assert _memory(vm).read(BASE + 24 * STRIDE, 4) != MAGIC


def test_other_registers_read_zero_and_writes_are_ignored() -> None:
    with board("microvm") as vm:
        memory = _memory(vm)
        assert [memory.read(BASE + offset, 4) for offset in range(0x10, STRIDE, 4)] == [0] * 124
        for offset in (0x0, 0x4, 0x14, 0x30, 0x70, 0x100):
            memory.write(BASE + offset, 0xFFFFFFFF, 4)
        assert _ident(vm, BASE) == [MAGIC, 1, 0, VENDOR]
        assert memory.read(BASE + 0x70, 4) == 0
        # QEMU: ``xp /1gx 0xfeb00000`` is two 4-byte reads.
        assert memory.read(BASE, 8) == 0x0000000174726976


def test_force_legacy_off_reports_version_2() -> None:
    with board("microvm", "-global", "virtio-mmio.force-legacy=off") as vm:
        assert _ident(vm, BASE + 7 * STRIDE) == [MAGIC, 2, 0, VENDOR]
        assert qtree_info(vm.machine).count("force-legacy = false") == 24


def _block(text: str, first: str, stop: str) -> str:
    return text[text.index(first):text.index(stop)]


def test_qtree_transports_are_qemus() -> None:
    reference = (DATA / "microvm-qtree.txt").read_text()
    expected = _block(reference, '  dev: virtio-mmio, id ""', '  dev: ioapic, id ""')
    with board("microvm") as vm:
        ours = qtree_info(vm.machine)
    assert expected.count("dev: virtio-mmio,") == 24
    assert _block(ours, '  dev: virtio-mmio, id ""', '  dev: ioapic, id ""') == expected


def test_mtree_transport_windows_are_qemus() -> None:
    reference = [line for line in (DATA / "microvm-mtree.txt").read_text().splitlines()
                 if line.endswith("): virtio-mmio")]
    with board("microvm") as vm:
        text = mtree_info(vm.machine.memory_system)  # type: ignore[union-attr]
    ours = [line for line in text.splitlines() if line.endswith("): virtio-mmio")]
    # The reference lists the system region under two address spaces.
    assert len(ours) == 24 and set(ours) == set(reference)
    assert ours[0] == "    00000000feb00000-00000000feb001ff (prio 0, i/o): virtio-mmio"


@pytest.mark.parametrize(("options", "count", "first_gsi"), [
    # Counts seen in QEMU 7.2's info qtree; GSIs from microvm_devices_init.
    ("microvm,acpi=off", 8, 5),
    ("microvm,ioapic2=off", 8, 16),
    ("microvm,acpi=off,ioapic2=on", 8, 5),
])
def test_eight_transports_without_the_second_ioapic(options: str, count: int, first_gsi: int) -> None:
    with board(options) as vm:
        text = qtree_info(vm.machine)
        assert text.count("dev: virtio-mmio,") == count
        assert f"bus: virtio-mmio-bus.{count - 1}\n" in text
        assert _memory(vm).read(BASE + count * STRIDE, 4) == 0
        gsi = vm.machine.gsi  # type: ignore[union-attr]
        mmio = sorted((dev for dev in _devices(vm) if isinstance(dev, VirtioMmio)),
                      key=lambda dev: dev.mmio[0].addr)
        assert [dev.irq.target for dev in mmio] == gsi[first_gsi:first_gsi + count]


def _devices(vm):  # type: ignore[no-untyped-def]
    from pyqemu.hw.core.bus import main_system_bus

    return main_system_bus(vm.machine).devices
