"""The x86 boards compared with QEMU 7.2: memory tree, device tree, QOM tree, versions, limits.

References in ``data/`` were taken from QEMU 7.2 with ``-nodefaults -S
-accel tcg`` (``info mtree``, ``info qtree``, ``info qom-tree``,
``qom-list``, ``-M help``); Debian's QEMU has no qtest accelerator, and TCG
builds the same devices.  Only what TCG adds for its own CPU emulation is
left out: the CPU's SMM address space ``cpu-smm-0`` (and the
``memory-region:`` sections that exist only because it aliases them) and
the CPU's ``memory[N]`` / ``smram[0]`` regions.  The ACPI table blobs that
QEMU exposes through fw_cfg are left out too: pyqemu builds no ACPI tables.
"""

from __future__ import annotations

import json
import re

import pytest

from pyqemu.hw.core.qtree import qtree_info
from pyqemu.memory.mtree import mtree_info
from pyqemu.system.help import machine_help_text
from pyqemu.util.errors import ConfigError

from .conftest import DATA, board

BOARDS = ("microvm", "pc", "q35")
APIC_ID_LIMIT = 255


def _lines(text: str) -> set[str]:
    return {line for line in text.splitlines() if line.strip()}


def _device_block(qtree: str, device: str) -> list[str]:
    """The lines of the first ``dev: DEVICE`` of a qtree, up to its first child bus."""
    lines = qtree.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"dev: {device},"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start]]
    for line in lines[start + 1:]:
        depth = len(line) - len(line.lstrip())
        if depth <= indent or line.strip().startswith("bus: "):
            break
        block.append(line)
    return block


#: ``info mtree`` sections that only TCG's CPU emulation creates.
TCG_ONLY_SECTIONS = ("address-space: cpu-smm-0", "memory-region: smram", "memory-region: system")
#: ``info qom-tree`` paths of TCG's CPU emulation (the CPU's SMM view) and of ACPI tables in fw_cfg.
QOM_LEFT_OUT = re.compile(r"^/machine/unattached/device\[0\]/(memory\[\d\]|smram\[0\])$|\\x2from@etc")


def _qom_paths(text: str) -> list[str]:
    """Each ``info qom-tree`` line as the full path of its object, with its type."""
    stack: list[str] = []
    paths = []
    for line in filter(None, text.splitlines()):
        depth = (len(line) - len(line.lstrip())) // 2
        name, kind = line.strip().split(" ", 1)
        del stack[depth:]
        stack.append(name)
        path = "".join(stack)
        if not QOM_LEFT_OUT.search(path):
            paths.append(f"{path} {kind}")
    return paths



def _mtree_sections(text: str) -> set[str]:
    """The address-space groups and region sections, without the TCG-only ones (QEMU's order varies)."""
    sections = {section.strip("\n") for section in text.split("\n\n") if section.strip()}
    return {section for section in sections if not section.startswith(TCG_ONLY_SECTIONS)}


@pytest.mark.parametrize("machine", BOARDS)
def test_mtree_matches_qemu(machine: str) -> None:
    reference = _mtree_sections((DATA / f"{machine}-mtree.txt").read_text())
    with board(machine) as vm:
        ours = _mtree_sections(mtree_info(vm.machine.memory_system))  # type: ignore[union-attr]
    assert ours == reference


@pytest.mark.parametrize("machine", BOARDS)
def test_qtree_matches_qemu(machine: str) -> None:
    with board(machine) as vm:
        assert qtree_info(vm.machine) == (DATA / f"{machine}-qtree.txt").read_text()


@pytest.mark.parametrize("machine", BOARDS)
def test_qom_tree_matches_qemu(machine: str) -> None:
    from pyqemu.monitor.hmp import _qom_tree

    reference = _qom_paths((DATA / f"{machine}-qomtree.txt").read_text())
    with board(machine) as vm:
        ours = _qom_paths(_qom_tree(vm, []))
    assert ours == reference


@pytest.mark.parametrize("machine", ("pc", "q35"))
def test_mtree_has_the_pc_memory_map_and_config_ports(machine: str) -> None:
    with board(machine) as vm:
        ours = _lines(mtree_info(vm.machine.memory_system))  # type: ignore[union-attr]
    for line in (
        "    0000000000000000-ffffffffffffffff (prio -1, i/o): pci",
        "      00000000000c0000-00000000000dffff (prio 1, rom): pc.rom",
        "      00000000000e0000-00000000000fffff (prio 1, rom): alias isa-bios @pc.bios "
        "0000000000020000-000000000003ffff",
        "      00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios",
        "    0000000000000cf8-0000000000000cfb (prio 0, i/o): pci-conf-idx",
        "    0000000000000cfc-0000000000000cff (prio 0, i/o): pci-conf-data",
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): bus master container",
    ):
        assert line in ours


@pytest.mark.parametrize(("machine", "devices"), [
    ("pc", ("i440FX-pcihost", "i440FX", "PIIX3", "mc146818rtc", "i8042")),
    ("q35", ("q35-pcihost", "mch", "ICH9-LPC", "mc146818rtc", "i8042")),
    ("microvm", ("mc146818rtc",)),
])
def test_qtree_devices_print_as_in_qemu(machine: str, devices: tuple[str, ...]) -> None:
    reference = (DATA / f"{machine}-qtree.txt").read_text()
    with board(machine) as vm:
        ours = qtree_info(vm.machine)
    for device in devices:
        assert _device_block(ours, device) == _device_block(reference, device)


@pytest.mark.parametrize(("machine", "bus_line"), [("pc", "bus: pci.0"), ("q35", "bus: pcie.0")])
def test_qtree_root_bus_and_isa_bus(machine: str, bus_line: str) -> None:
    with board(machine) as vm:
        ours = qtree_info(vm.machine)
    assert f"    {bus_line}" in ours.splitlines()
    assert "        bus: isa.0" in ours.splitlines()


@pytest.mark.parametrize("machine", BOARDS)
def test_qom_children_match_qemu(machine: str) -> None:
    reference = json.loads((DATA / f"{machine}-qom.json").read_text())
    with board(machine) as vm:
        assert vm.machine is not None
        got = {
            where: {(p.name, p.type) for p in obj.iter_properties() if p.type.startswith("child<")}
            for where, obj in (("machine", vm.machine), ("unattached", vm.machine.unattached()))
        }
    for where in ("machine", "unattached"):
        ref = {(p["name"], p["type"]) for p in reference[where] if p["type"].startswith("child<")}
        # Device numbering differs while QEMU has devices pyqemu lacks; the rest must agree.
        ours = {item for item in got[where] if not item[0].startswith("device[")}
        assert ours - ref == set()
    assert ("device[0]", "child<qemu64-x86_64-cpu>") in got["unattached"]
    host = {"pc": ("i440fx", "child<i440FX-pcihost>"), "q35": ("q35", "child<q35-pcihost>")}.get(machine)
    if host is not None:
        assert host in got["machine"]


def test_mch_is_a_child_of_the_q35_host() -> None:
    with board("q35") as vm:
        mch = vm.machine.child("q35").child("mch")  # type: ignore[union-attr]
        assert mch is not None and mch.canonical_path() == "/machine/q35/mch"


def test_machine_help_lines_are_qemus() -> None:
    reference = _lines((DATA / "machine-help.txt").read_text())
    ours = _lines(machine_help_text({}))
    ours_x86 = {line for line in ours if re.match(r"(pc|q35|microvm)", line)}
    ref_x86 = {line for line in reference if re.match(r"(pc|q35|microvm)", line)}
    assert ours_x86 == ref_x86


@pytest.mark.parametrize(("machine", "device", "prop", "value"), [
    # What QEMU 7.2's ``info qtree`` shows for these versions.
    ("pc-i440fx-7.2", "i440FX-pcihost", "x-config-reg-migration-enabled", True),
    ("pc-i440fx-5.0", "i440FX-pcihost", "x-config-reg-migration-enabled", False),
    ("pc-i440fx-2.10", "i440FX-pcihost", "x-pci-hole64-fix", False),
    ("pc-i440fx-2.11", "i440FX-pcihost", "x-pci-hole64-fix", True),
    ("pc-i440fx-2.8", "i440FX", "x-pcie-extcap-init", False),
    ("pc-i440fx-2.3", "PIIX3", "x-pcie-lnksta-dllla", False),
    ("pc-i440fx-2.4", "PIIX3", "x-pcie-lnksta-dllla", True),
    ("pc-i440fx-1.6", "i440FX-pcihost", "short_root_bus", 1),
    ("pc-i440fx-1.5", "i440FX-pcihost", "short_root_bus", 0),
    ("pc-q35-5.2", "ICH9-LPC", "smm-compat", True),
    ("pc-q35-6.0", "ICH9-LPC", "smm-compat", False),
    ("pc-q35-5.1", "ICH9-LPC", "x-smi-cpu-hotplug", False),
    ("pc-q35-4.2", "mch", "smbase-smram", False),
    ("pc-q35-2.9", "mch", "extended-tseg-mbytes", 0),
    ("pc-q35-2.8", "ICH9-LPC", "x-smi-broadcast", False),
])
def test_compat_properties_of_older_versions(machine: str, device: str, prop: str, value: object) -> None:
    with board(machine) as vm:
        found = [obj for obj in _all_devices(vm.machine) if obj.typename == device]
        assert len(found) == 1
        assert found[0].property_get(prop) == value


def _all_devices(machine):  # type: ignore[no-untyped-def]
    from pyqemu.hw.core.bus import bus_walk, main_system_bus

    for bus in bus_walk(main_system_bus(machine)):
        yield from bus.devices


@pytest.mark.parametrize(("machine", "max_cpus"), [
    ("pc", 255), ("q35", 288), ("pc-q35-2.7", 255), ("pc-q35-2.8", 288), ("microvm", 288),
])
def test_max_cpus(machine: str, max_cpus: int) -> None:
    error = rf"Invalid SMP CPUs {max_cpus + 1}\. The max CPUs supported by machine '[\w.-]+' is {max_cpus}"
    with pytest.raises(ConfigError, match=error), board(machine, "-smp", str(max_cpus + 1)):
        pass
    if max_cpus > APIC_ID_LIMIT:
        # QEMU 7.2 under TCG: APIC IDs past 254 need KVM's in-kernel x2APIC.
        with pytest.raises(ConfigError, match="requires kernel irqchip and X2APIC API support"), \
                board(machine, "-smp", str(max_cpus)):
            pass
        max_cpus = APIC_ID_LIMIT
    with board(machine, "-smp", str(max_cpus)) as vm:
        assert len(vm.machine.cpus) == max_cpus  # type: ignore[union-attr]


@pytest.mark.parametrize(("machine", "size", "below", "above"), [
    # From QEMU 7.2's ``info mtree`` with ``-m 4G`` and ``-m 3584M``.
    ("pc", "4G", 0xC0000000, 0x40000000),
    ("pc", "3584M", 0xC0000000, 0x20000000),
    ("q35", "4G", 0x80000000, 0x80000000),
    ("q35", "3584M", 0x80000000, 0x60000000),
    ("microvm", "4G", 0xC0000000, 0x40000000),
    ("pc", "128M", 0x8000000, 0),
])
def test_ram_split_around_4g(machine: str, size: str, below: int, above: int) -> None:
    with board(machine, "-m", size) as vm:
        assert vm.machine.below_4g_mem_size == below  # type: ignore[union-attr]
        assert vm.machine.above_4g_mem_size == above  # type: ignore[union-attr]
        text = mtree_info(vm.machine.memory_system)  # type: ignore[union-attr]
    if above:
        assert f"{0x100000000:016x}-{0x100000000 + above - 1:016x} (prio 0, ram): alias ram-above-4g" in text
    else:
        assert "ram-above-4g" not in text


def test_default_ram_is_128_mib_in_a_backend_named_like_qemus() -> None:
    with board("pc") as vm:
        assert vm.machine.ram_size == 128 << 20  # type: ignore[union-attr]
        assert vm.root.child("objects").child("pc.ram").typename == "memory-backend-ram"  # type: ignore[union-attr]


@pytest.mark.parametrize(("cpu", "error"), [
    ("host", "CPU model 'host' requires KVM or HVF"),
    ("foo", "unable to find CPU model 'foo'"),
])
def test_cpu_model_errors(cpu: str, error: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(error)), board("pc", "-cpu", cpu):
        pass


def test_cpu_max_is_created_with_apic_ids() -> None:
    with board("q35", "-cpu", "max", "-smp", "2") as vm:
        cpus = vm.machine.cpus  # type: ignore[union-attr]
        assert [c.typename for c in cpus] == ["max-x86_64-cpu"] * 2
        assert [c.property_get("apic-id") for c in cpus] == [0, 1]
        assert cpus[1].canonical_path() == "/machine/unattached/device[2]"  # the first APIC made kvmvapic [1]


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_machine_rtc_time_is_the_rtc_date(machine: str) -> None:
    """QEMU's ``/machine`` ``rtc-time``: an alias of the RTC's ``date`` (struct tm, UTC)."""
    import time

    from pyqemu.system.emulator import Emulator

    vm = Emulator(["-M", machine, "-accel", "qtest", "-nodefaults", "-S"])
    vm.sequence.start()
    assert vm.machine is not None
    now = time.gmtime()
    rtc = vm.machine.property_get("rtc-time")
    expected = (now.tm_year - 1900, now.tm_mon - 1, now.tm_mday)
    assert (rtc["tm_year"], rtc["tm_mon"], rtc["tm_mday"]) == expected
    assert [p.type for p in vm.machine.iter_properties() if p.name == "rtc-time"] == ["struct tm"]
    vm.cleanup.close()


@pytest.mark.parametrize("machine", ["pc", "microvm"])
def test_missing_or_odd_firmware_is_fatal_as_in_qemu(machine: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pyqemu.util.errors import BareError

    odd = tmp_path / "odd.bin"
    odd.write_bytes(bytes(100000))
    for name in ("nonexist", str(odd)):
        with pytest.raises(BareError) as info, board(machine, "-bios", name):
            pass
        assert info.value.cli_message("prog") == f"qemu: could not load PC BIOS '{name}'"


def test_microvm_firmware_is_ram_below_4g_and_1m() -> None:
    reference = _lines((DATA / "microvm-mtree.txt").read_text())
    with board("microvm") as vm:
        ours = _lines(mtree_info(vm.machine.memory_system))  # type: ignore[union-attr]
        memory = vm.machine.memory_system.address_space_memory  # type: ignore[union-attr]
        assert memory.read(0xFFFFFFF0, 1) == memory.read(0xFFFF0, 1) != 0  # qboot's reset vector, twice
    for line in (
        "    00000000000f0000-00000000000fffff (prio 1, ram): alias isa-bios @pc.bios "
        "0000000000000000-000000000000ffff",
        "    00000000ffff0000-00000000ffffffff (prio 0, ram): pc.bios",
    ):
        assert line in ours and line in reference


@pytest.mark.parametrize(("machine", "paths"), [
    ("pc", ("/machine/unattached/device[2]", "/machine/unattached/device[3]",
            "/machine/unattached/device[17]", "/machine/unattached/device[18]")),
    ("q35", ("/machine/q35/mch", "/machine/unattached/device[2]",
             "/machine/unattached/device[15]", "/machine/unattached/device[16]")),
])
def test_chipset_functions_are_not_hotpluggable(machine: str, paths: tuple[str, ...]) -> None:
    """i440FX, PIIX3, piix3-ide, PIIX4_PM; mch, ICH9-LPC, ich9-ahci, ICH9-SMB: QEMU 7.2's qom-get."""
    from pyqemu.qom.path import resolve_absolute

    with board(machine) as vm:
        for path in paths:
            dev = resolve_absolute(vm.root, path)
            assert dev is not None and dev.property_get("hotpluggable") is False, path


def test_piix4_removable_slots_skip_the_chipset_slots() -> None:
    from .conftest import io_space

    with board("pc") as vm:
        assert io_space(vm).read(0xAE0C, 4) == 0xFFFFFFFC  # PCI hot-plug "removable slots" (QEMU 7.2)


def test_memory_backend_named_before_its_object_is_the_guest_ram() -> None:
    """``-M pc,memory-backend=m`` is resolved once ``-object`` made ``m``; its size is the RAM size."""
    with board("pc,memory-backend=m", "-object", "memory-backend-ram,id=m,size=256M") as vm:
        machine = vm.machine
        assert machine is not None and machine.ram_size == 256 << 20
        assert machine.property_get("memory-backend") == "/objects/m"
        assert machine.ram.owner.canonical_path() == "/objects/m"


@pytest.mark.parametrize(("machine", "memory", "holes"), [
    ("pc", "128M", (0x8000000, 0xFEC00000, 4 << 30, 6 << 30)),
    ("pc", "5G", (3 << 30, 0xFEC00000, 6 << 30, 8 << 30)),
    ("pc", "1G,maxmem=3G,slots=2", (1 << 30, 0xFEC00000, 8 << 30, 10 << 30)),  # after device memory
    ("pc-i440fx-2.7", "128M", (0x8000000, 0xFEC00000, 0, 0)),  # x-pci-hole64-fix=off
    ("q35", "5G", (2 << 30, 0xFEC00000, 7 << 30, 39 << 30)),
])
def test_pci_holes_are_qemus(machine: str, memory: str, holes: tuple[int, ...]) -> None:
    """pci-hole{,64}-{start,end} of the host bridge, as QEMU 7.2's qom-get reads them."""
    with board(machine, "-m", memory) as vm:
        host = vm.machine.child("q35" if machine.startswith("q35") else "i440fx")  # type: ignore[union-attr]
        names = ("pci-hole-start", "pci-hole-end", "pci-hole64-start", "pci-hole64-end")
        assert tuple(host.property_get(name) for name in names) == holes


def test_q35_host_links_and_mcfg_size() -> None:
    from .conftest import pci_config_write

    with board("q35") as vm:
        host = vm.machine.child("q35")  # type: ignore[union-attr]
        assert [host.property_get(name) for name in ("io-mem", "pci-mem", "ram-mem", "system-mem")] == [
            "/machine/unattached/io[0]", "/machine/unattached/pci[0]", "/objects/pc.ram/pc.ram[0]",
            "/machine/unattached/system[0]"]
        assert host.property_get("mcfg_size") == 0
        pci_config_write(vm, 0, 0x60, 0xB0000001)
        assert host.property_get("mcfg_size") == 256 << 20
