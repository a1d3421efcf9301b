"""``info qtree`` text for hand-built trees, compared with QEMU 7.2's own output where it can be."""

from __future__ import annotations

from pathlib import Path

from pyqemu.chardev.char import Chardev
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.hw.core.qtree import qtree_info
from pyqemu.hw.core.sysbus import sysbus_mmio_map
from pyqemu.qom.object import container_get, object_new

DATA = Path(__file__).parent / "data"


def test_empty_machine_matches_qemu_none(tm):
    assert qtree_info(tm.machine) == (DATA / "qtree_none.txt").read_text()


def test_every_machine_has_its_system_bus_from_creation():
    machine = object_new("none-machine")
    assert qtree_info(machine) == (DATA / "qtree_none.txt").read_text()


def _reference_block(name: str, start: str, stop: str) -> str:
    lines = (DATA / name).read_text().splitlines()
    first = lines.index(start)
    last = lines.index(stop, first)
    return "\n".join(lines[first:last]) + "\n"


def test_isa_devices_match_qemu_microvm(tm):
    """The ``isabus-bridge`` block of ``-M microvm`` with three ``-device`` options, type names aside."""
    tm.isa_bus()
    chr = object_new("chardev-null")
    assert isinstance(chr, Chardev)
    chr.label = "c1"
    container_get(tm.root, "/chardevs").add_child("c1", chr)
    chr.unref()
    for options in (
        {"driver": "test-qdev-serial", "id": "s0", "index": "0", "iobase": "0x3f8", "irq": "4"},
        {"driver": "test-qdev-debugcon", "iobase": "0x402", "chardev": "c1"},
        {"driver": "test-qdev-debug-exit", "iobase": "0xf4", "iosize": "0x04"},
    ):
        qdev_device_add(tm.machine, options)
    expected = _reference_block("qtree_microvm_kvm_isa_devices.txt", '  dev: isabus-bridge, id ""',
                                '      dev: isa-pit, id ""')
    for real in ("isa-debug-exit", "isa-debugcon", "isa-serial"):
        expected = expected.replace(f"dev: {real},", f"dev: test-qdev-{real.removeprefix('isa-')},")
    assert qtree_info(tm.machine) == "bus: main-system-bus\n  type System\n" + expected


def test_sysbus_device_gpio_and_mmio(tm):
    dev = qdev_new("test-qdev-gpio")
    qdev_realize_and_unref(dev, tm.sysbus)
    sysbus_mmio_map(dev, 0, 0xFEC00000)
    assert qtree_info(tm.machine) == (
        "bus: main-system-bus\n"
        "  type System\n"
        '  dev: test-qdev-gpio, id ""\n'
        '    gpio-out "sysbus-irq" 2\n'
        '    gpio-in "" 4\n'
        '    gpio-out "" 1\n'
        "    version = 32 (0x20)\n"
        "    mmio 00000000fec00000/0000000000001000\n"
        "    mmio ffffffffffffffff/0000000000000018\n"
    )


def test_every_property_format_and_nesting(tm):
    bridge = qdev_new("test-qdev-bridge")
    qdev_realize_and_unref(bridge, tm.sysbus)
    qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "id": "d", "addr": "1f.3",
                                 "mac": "52:54:00:12:34:56"})
    qdev_device_add(tm.machine, {"driver": "test-qdev-dev-child"})
    assert qtree_info(tm.machine) == (
        "bus: main-system-bus\n"
        "  type System\n"
        '  dev: test-qdev-bridge, id ""\n'
        "    bus: test-qdev-bus.0\n"
        "      type test-qdev-bus\n"
        '      dev: test-qdev-dev-child, id ""\n'
        "        extra = 7 (0x7)\n"
        + _all_defaults("        ", addr="<unset>", mac='"00:00:00:00:00:00"')
        + '      dev: test-qdev-dev, id "d"\n'
        + _all_defaults("        ", addr="1f.3", mac='"52:54:00:12:34:56"')
    )


def _all_defaults(indent: str, addr: str, mac: str) -> str:
    lines = [
        "u8 = 1 (0x1)",
        "u16 = 2 (0x2)",
        "iobase = 1016 (0x3f8)",
        "u64 = 18446744073709551615 (0xffffffffffffffff)",
        "i32 = -1 (0xffffffffffffffff)",
        "wakeup = false",
        "flag = true",
        'romfile = ""',
        "size = 2147483648 (2 GiB)",
        'disable-legacy = "auto"',
        'lost_tick_policy = "discard"',
        'chardev = ""',
        'memdev = ""',
        'netdev = ""',
        'drive = ""',
        f"addr = {addr}",
        f"mac = {mac}",
    ]
    return "".join(f"{indent}{line}\n" for line in lines)
