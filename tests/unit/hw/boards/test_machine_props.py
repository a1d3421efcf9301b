"""Machine properties compared with QEMU 7.2: ``qom-list /machine``, ``-M TYPE,help``, ``qom-get``, errors.

Every expected value and error text below was read from QEMU 7.2
(``qemu-system-x86_64 -nodefaults -S`` with ``qom-list`` / ``qom-get`` /
``qom-set`` over QMP, or its first line of stderr).  ``data/*-qom.json`` are
QEMU's ``qom-list /machine``; ``data/machine-*-help.txt`` its ``-M TYPE,help``
(pyqemu words its descriptions itself, so only names, types and whether a
description is shown are compared).  Where QEMU accepts a value pyqemu cannot
honour, pyqemu refuses it with its "not implemented" error.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from pyqemu.system.emulator import Emulator
from pyqemu.system.help import machine_help_text
from pyqemu.util.errors import ConfigError, QemuError
from pyqemu.util.units import GiB, MiB

from .conftest import DATA, board

PROG = "qemu-system-x86_64"
NONE_MACHINE_PROPS = {
    ("append", "string"), ("boot", "BootConfiguration"),
    ("confidential-guest-support", "link<confidential-guest-support>"), ("dt-compatible", "string"),
    ("dtb", "string"), ("dump-guest-core", "bool"), ("dumpdtb", "string"), ("firmware", "string"),
    ("graphics", "bool"), ("initrd", "string"), ("kernel", "string"), ("mem-merge", "bool"),
    ("memory", "MemorySizeConfiguration"), ("memory-backend", "link<memory-backend>"),
    ("memory-encryption", "string"), ("phandle-start", "int"), ("smp", "SMPConfiguration"),
    ("suppress-vmdesc", "bool"), ("type", "string"), ("usb", "bool"),
}


def _not_children(obj: Any) -> set[tuple[str, str]]:
    return {(p.name, p.type) for p in obj.iter_properties() if not p.type.startswith("child<")}


def _reference_props(machine: str) -> set[tuple[str, str]]:
    if machine == "none":
        return NONE_MACHINE_PROPS
    reference = json.loads((DATA / f"{machine}-qom.json").read_text())["machine"]
    return {(p["name"], p["type"]) for p in reference if not p["type"].startswith("child<")}


def _error(*argv: str) -> str:
    """The first line QEMU-style error reporting prints when starting with ``argv`` fails."""
    with pytest.raises(QemuError) as info, board(*argv):
        pass
    return info.value.cli_message(PROG).splitlines()[0]


def _warnings(*argv: str) -> list[str]:
    stderr = io.StringIO()
    vm = Emulator(["-M", *argv, "-accel", "qtest", "-nodefaults", "-S"], stderr=stderr)
    try:
        vm.sequence.start()
    finally:
        vm.cleanup.close()
    return [line for line in stderr.getvalue().splitlines() if "warning:" in line]


# -- the property lists -------------------------------------------------------------------------


@pytest.mark.parametrize("machine", ["none", "pc", "q35", "microvm"])
def test_qom_list_names_and_types_match_qemu(machine: str) -> None:
    with board(machine) as vm:
        assert _not_children(vm.machine) == _reference_props(machine)


def test_an_old_pc_version_has_the_same_properties() -> None:
    with board("pc-i440fx-2.0") as vm:
        assert _not_children(vm.machine) == _reference_props("pc")


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_board_init_adds_acpi_device_and_rtc_state(machine: str) -> None:
    from pyqemu.hw.core.machine import find_machine_class

    fresh = find_machine_class(machine)()
    names = {p.name for p in fresh.iter_properties()}
    assert {"pcspk-audiodev", "nvdimm", "nvdimm-persistence", "cxl", "cxl-fmw", "hmat"} <= names
    assert not {"acpi-device", "rtc_state", "smram"} & names


def _help_shape(text: str) -> dict[str, bool]:
    """``name=<type>`` of each line of a ``-M TYPE,help``, and whether it has a description."""
    lines = text.splitlines()[1:]
    return {line.split()[0]: " - " in line for line in lines}


@pytest.mark.parametrize("machine", ["none", "pc", "microvm"])
def test_machine_help_lists_qemus_properties(machine: str) -> None:
    reference = (DATA / f"machine-{machine}-help.txt").read_text()
    ours = machine_help_text({"type": machine})
    assert ours.splitlines()[0] == reference.splitlines()[0]
    assert _help_shape(ours) == _help_shape(reference)


def test_q35_help_lists_the_pc_properties() -> None:
    reference = _help_shape((DATA / "machine-pc-help.txt").read_text())
    assert _help_shape(machine_help_text({"type": "q35"})) == reference


# -- values -----------------------------------------------------------------------------------

PC_VALUES = {
    "bus-lock-ratelimit": 0, "confidential-guest-support": "", "cxl": False, "cxl-fmw": [],
    "default-bus-bypass-iommu": False, "device-memory-region-size": 0, "hmat": False,
    "max-fw-size": 8 * MiB, "nvdimm": False, "nvdimm-persistence": "", "pcspk-audiodev": "",
    "sgx-epc": [], "smbios-entry-point-type": "32", "firmware": "bios-256k.bin", "boot": {"order": "cad"},
    "memory-backend": "/objects/pc.ram", "memory-encryption": "", "kernel": "", "vmport": "on",
    "memory": {"size": 128 * MiB}, "x-oem-id": "BOCHS ", "x-oem-table-id": "BXPC    ",
    "suppress-vmdesc": False,
}


@pytest.mark.parametrize(("machine", "extra"), [
    ("pc", {"max-ram-below-4g": 0xE0000000}),
    ("q35", {"max-ram-below-4g": 4 * GiB}),
])
def test_qom_get_gives_qemus_values(machine: str, extra: dict[str, Any]) -> None:
    with board(machine) as vm:
        assert vm.machine is not None
        for name, value in {**PC_VALUES, **extra}.items():
            assert vm.machine.property_get(name) == value, name


@pytest.mark.parametrize(("machine", "values"), [
    ("none", {"boot": {"order": ""}, "memory": {"size": 0}, "memory-backend": "", "firmware": ""}),
    ("microvm", {"boot": {"order": ""}, "memory-backend": "/objects/microvm.ram", "hmat": False,
                 "sgx-epc": [], "bus-lock-ratelimit": 0, "firmware": ""}),
    ("pc-i440fx-2.2", {"suppress-vmdesc": True, "firmware": "bios-256k.bin"}),
    ("pc-i440fx-1.7", {"suppress-vmdesc": False, "firmware": ""}),
])
def test_qom_get_on_other_boards(machine: str, values: dict[str, Any]) -> None:
    with board(machine) as vm:
        assert vm.machine is not None
        for name, value in values.items():
            assert vm.machine.property_get(name) == value, name


def test_acpi_device_links_the_acpi_function() -> None:
    with board("pc") as vm, board("q35") as vm35:
        pm = vm.machine.acpi_dev  # type: ignore[union-attr]
        assert pm.typename == "PIIX4_PM"
        assert vm.machine.property_get("acpi-device") == pm.canonical_path()  # type: ignore[union-attr]
        assert vm35.machine.acpi_dev.typename == "ICH9-LPC"  # type: ignore[union-attr]
    with board("pc,acpi=off") as vm:
        assert vm.machine.property_find("acpi-device") is None  # type: ignore[union-attr]
    with board("q35,acpi=off") as vm:
        assert vm.machine.property_find("acpi-device") is not None  # type: ignore[union-attr]


def test_structured_values_come_in_qemus_member_order() -> None:
    with board("pc", "-smp", "4,sockets=2", "-boot", "menu=on,strict=on,splash-time=5") as vm:
        smp = vm.machine.property_get("smp")  # type: ignore[union-attr]
        assert list(smp.items()) == [("cpus", 4), ("maxcpus", 4), ("threads", 1), ("cores", 2),
                                     ("dies", 1), ("sockets", 2), ("clusters", 1)]
        boot = vm.machine.property_get("boot")  # type: ignore[union-attr]
        assert list(boot) == ["order", "menu", "splash-time", "strict"]


def test_accepted_values_read_back_as_in_qemu() -> None:
    fmw = ("cxl-fmw.0.size=256M,cxl-fmw.0.targets.0=a,cxl-fmw.1.size=512M,cxl-fmw.1.targets.0=b,"
           "cxl-fmw.1.targets.1=c,cxl-fmw.1.interleave-granularity=1k")
    with board(f"pc,i8042=off,vmport=on,x-oem-id=abc,nvdimm-persistence=cpu,{fmw}") as vm:
        machine = vm.machine
        assert machine is not None
        assert machine.property_get("cxl-fmw") == [
            {"targets": ["a"], "size": 256 * MiB},
            {"targets": ["b", "c"], "size": 512 * MiB, "interleave-granularity": 1024},
        ]
        assert machine.property_get("nvdimm-persistence") == "cpu"
        assert machine.property_get("x-oem-id") == "abc"
        assert machine.property_get("vmport") == "on"
        isa_types = {dev.typename for dev in machine.isa_bus.devices}  # type: ignore[attr-defined]
        assert "vmport" not in isa_types and "i8042" not in isa_types  # QEMU 7.2: no error, no vmport
    with board("microvm,sgx-epc.0.memdev=m,sgx-epc.0.node=-1") as vm:  # microvm ignores sgx-epc
        assert vm.machine.property_get("sgx-epc") == [{"memdev": "m", "node": -1}]  # type: ignore[union-attr]


def test_bypass_iommu_reaches_the_q35_host_only() -> None:
    with board("q35,default-bus-bypass-iommu=on") as vm:
        assert vm.root.child("machine").child("q35").property_get("bypass-iommu") is True  # type: ignore
    with board("pc,default-bus-bypass-iommu=on") as vm:
        assert vm.root.child("machine").child("i440fx").property_get("bypass-iommu") is False  # type: ignore


# -- device memory (-m ...,maxmem=) ---------------------------------------------------------------


@pytest.mark.parametrize(("machine", "memory", "size", "base"), [
    ("pc", "1G,slots=2,maxmem=4G", 5 * GiB, 4 * GiB),
    ("q35", "1G,slots=2,maxmem=4G", 5 * GiB, 4 * GiB),
    ("pc-i440fx-2.1", "1G,slots=2,maxmem=4G", 3 * GiB, 4 * GiB),
    ("pc", "1G,maxmem=4G", 3 * GiB, 4 * GiB),
    ("pc", "4G,slots=2,maxmem=8G", 6 * GiB, 5 * GiB),
])
def test_device_memory_region(machine: str, memory: str, size: int, base: int) -> None:
    with board(machine, "-m", memory) as vm:
        assert vm.machine is not None
        assert vm.machine.property_get("device-memory-region-size") == size
        region = vm.machine.child("device-memory[0]")
        assert region is not None and region.size == size  # type: ignore[attr-defined]
        assert region.addr == base  # type: ignore[attr-defined]


# -- errors -------------------------------------------------------------------------------------

QEMU_ERRORS = [
    (("pc,smbios-entry-point-type=16",), "Parameter 'smbios-entry-point-type' does not accept value '16'"),
    (("pc,max-fw-size=32M",), "User specified max allowed firmware size 33554432 is greater than 16MiB. "
     "If combined firwmare size exceeds 16MiB the system may not boot, or experience "
     "intermittentstability issues."),
    (("pc,max-fw-size=foo",), "Parameter 'max-fw-size' expects size"),
    (("pc,nvdimm-persistence=foo",), "-machine nvdimm-persistence=foo: unsupported option"),
    (("pc,pcspk-audiodev=foo",), "Property 'isa-pcspk.audiodev' can't find value 'foo'"),
    (("pc,bus-lock-ratelimit=foo",), "Parameter 'bus-lock-ratelimit' expects integer"),
    (("pc,confidential-guest-support=foo",), "Device 'foo' not found"),
    (("pc,memory-encryption=foo",), "No such memory encryption object 'foo'"),
    (("pc,cxl-fmw=foo",), "Invalid parameter type for 'cxl-fmw', expected: array"),
    (("pc,cxl-fmw.0.size=1G",), "Parameter 'cxl-fmw.0.targets' is missing"),
    (("pc,cxl-fmw.0.targets=a,cxl-fmw.0.size=1G",),
     "Invalid parameter type for 'cxl-fmw.0.targets', expected: array"),
    (("pc,cxl-fmw.0.targets.0=a,cxl-fmw.0.size=1000",),
     "Size of a CXL fixed memory window must my a multiple of 256MiB"),
    (("pc,cxl-fmw.0.targets.0=a,cxl-fmw.0.size=1G,cxl-fmw.0.interleave-granularity=3",),
     "Interleave granularity: 3 invalid"),
    (("pc,cxl-fmw.0.size=256M" + "".join(f",cxl-fmw.0.targets.{i}=t" for i in range(5)),),
     "Interleave ways: 5 not supported"),
    (("pc,sgx-epc.0=1",), "Invalid parameter type for 'sgx-epc.0', expected: object"),
    (("pc,sgx-epc.0.memdev=foo",), "Parameter 'sgx-epc.0.node' is missing"),
    (("pc,sgx-epc.0.memdev=m,sgx-epc.0.node=0,sgx-epc.0.foo=1",), "Parameter 'sgx-epc.0.foo' is unexpected"),
    (("q35,sgx-epc.0.memdev=foo,sgx-epc.0.node=0",), "Device 'foo' not found"),
    (("pc,sgx-epc.0.memdev=m,sgx-epc.0.node=0", "-object", "memory-backend-ram,id=m,size=1M"),
     "Invalid parameter type for 'memdev', expected: memory-backend-epc"),
    (("pc,device-memory-region-size=5",),
     "Property 'pc-i440fx-7.2-machine.device-memory-region-size' is not writable"),
    (("pc,acpi-device=foo",), "Property 'pc-i440fx-7.2-machine.acpi-device' not found"),
    (("none,hmat=on",), "Property 'none-machine.hmat' not found"),
    (("microvm,nvdimm=on",), "Property 'microvm-machine.nvdimm' not found"),
    (("pc,x-oem-id=1234567",), "User specified x-oem-id value is bigger than 6 bytes in size"),
    (("pc,x-oem-table-id=123456789",), "User specified x-oem-table-id value is bigger than 8 bytes in size"),
    (("pc,max-ram-below-4g=5G",),
     "Machine option 'max-ram-below-4g=5368709120' expects size less than or equal to 4G"),
    (("pc", "-m", "1G,slots=300,maxmem=4G"), "unsupported amount of memory slots: 300"),
    (("pc-i440fx-2.0", "-m", "1G,slots=2,maxmem=4G"),
     "\"-memory 'slots|maxmem'\" is not supported by: pc-i440fx-2.0"),
    (("pc", "-m", "1G,slots=2,maxmem=4294967297"),
     "maximum memory size must by aligned to multiple of 4096 bytes"),
    # Struct members are read in declaration order before leftover keys are looked at.
    (("pc,smp.foo=1,smp.cpus=x",), "Parameter 'smp.cpus' expects integer"),
    (("pc,memory.foo=1,memory.size=x",), "Parameter 'memory.size' expects size"),
    (("pc,boot.bar=1,boot.menu=x",), "Parameter 'boot.menu' expects 'on' or 'off'"),
]


@pytest.mark.parametrize(("argv", "message"), QEMU_ERRORS)
def test_invalid_values_fail_with_qemus_text(argv: tuple[str, ...], message: str) -> None:
    assert _error(*argv) == f"{PROG}: {message}"


@pytest.mark.parametrize(("option", "name"), [
    ("nvdimm=on", "nvdimm"), ("cxl=on", "cxl"), ("hmat=on", "hmat"), ("usb=on", "usb"),
    ("smbios-entry-point-type=64", "smbios-entry-point-type"),
    ("bus-lock-ratelimit=-1", "bus-lock-ratelimit"),
])
def test_values_pyqemu_cannot_honour_are_refused(option: str, name: str) -> None:
    assert _error(f"pc,{option}") == f"{PROG}: machine property '{name}' is not implemented in pyqemu yet"


@pytest.mark.parametrize(("prop", "value", "message"), [
    ("cxl-fmw", [{"targets": [], "size": 0}], "Interleave ways: 0 not supported"),
    ("cxl-fmw", [{"targets": ["a"]}], "Parameter 'cxl-fmw[0].size' is missing"),
    ("cxl-fmw", [1], "Invalid parameter type for 'cxl-fmw[0]', expected: object"),
    ("sgx-epc", [{"memdev": "a", "node": "x"}],
     "Invalid parameter type for 'sgx-epc[0].node', expected: integer"),
    ("max-fw-size", -1,
     "User specified max allowed firmware size 18446744073709551615 is greater than 16MiB."),
    ("max-fw-size", "1", "Parameter 'max-fw-size' expects uint64"),
    ("bus-lock-ratelimit", "0", "Parameter 'bus-lock-ratelimit' expects uint64"),
    ("acpi-device", "x", "Device 'x' not found"),
    ("acpi-device", "/machine/i440fx", "Invalid parameter type for 'acpi-device', expected: hotplug-handler"),
    ("confidential-guest-support", "/machine/i440fx",
     "Invalid parameter type for 'confidential-guest-support', expected: confidential-guest-support"),
])
def test_qom_set_errors_are_qemus(prop: str, value: Any, message: str) -> None:
    with board("pc") as vm:
        with pytest.raises(QemuError) as info:
            vm.machine.property_set(prop, value)  # type: ignore[union-attr]
        assert info.value.desc.startswith(message)
        vm.machine.property_set("max-fw-size", 1)  # type: ignore[union-attr]
        assert vm.machine.property_get("max-fw-size") == 1  # type: ignore[union-attr]


def test_acpi_device_may_be_set_to_itself_only() -> None:
    with board("q35") as vm:
        machine = vm.machine
        assert machine is not None
        machine.property_set("acpi-device", machine.property_get("acpi-device"))
        with pytest.raises(ConfigError, match="'acpi-device' is not implemented"):
            machine.property_set("acpi-device", "")


def test_big_bios_is_not_checked_against_max_fw_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(9 * MiB))
    with board("pc,max-fw-size=1M", "-bios", str(big)) as vm:  # QEMU checks only flash images
        assert vm.machine.property_get("max-fw-size") == 1 * MiB  # type: ignore[union-attr]


# -- RAM split and its warnings ---------------------------------------------------------------------


@pytest.mark.parametrize(("machine", "memory", "below"), [
    ("q35,max-ram-below-4g=2500M", "3G", 2 * GiB),
    ("q35,max-ram-below-4g=1G", "3G", 1 * GiB),
    ("pc,max-ram-below-4g=3500M", "4G", 3 * GiB),
    ("pc,max-ram-below-4g=1500M", "4G", 1500 * MiB),
])
def test_max_ram_below_4g_limits_the_split_as_in_qemu(machine: str, memory: str, below: int) -> None:
    with board(machine, "-m", memory) as vm:
        assert vm.machine.below_4g_mem_size == below  # type: ignore[union-attr]


@pytest.mark.parametrize(("argv", "warnings"), [
    (("pc,max-ram-below-4g=512k",), [
        "Only 524288 bytes of RAM below the 4GiB boundary,BIOS may not work with less than 1MiB",
        "Large machine and max_ram_below_4g (524288) not a multiple of 1G; possible bad performance."]),
    (("q35,max-ram-below-4g=1500M", "-m", "4G"), [
        "There is possibly poor performance as the ram size  (0x100000000) is more then twice the size of "
        "max-ram-below-4g (1572864000) and max-ram-below-4g is not a multiple of 1G."]),
    (("pc",), []),
])
def test_ram_split_warnings(argv: tuple[str, ...], warnings: list[str]) -> None:
    assert [re.sub(r"^.*warning: ", "", w) for w in _warnings(*argv)] == warnings
