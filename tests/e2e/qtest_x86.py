"""What the x86 board qtests share: starting a board, PCI configuration access, waiting for events.

:func:`start` runs pyqemu under ``-accel qtest``.  With the environment
variable ``PYQEMU_QTEST_REFERENCE`` set to a QEMU binary (for instance
``/usr/bin/qemu-system-x86_64``) it runs that QEMU instead, with ``-accel
tcg -S`` in front of the ``-accel qtest`` libqtest adds: QEMU's qtest
server works under any accelerator, so every register value these tests
expect can be checked against QEMU 7.2 itself.  Only the virtual clock
commands need the qtest accelerator, which Debian does not package; tests
that step the clock carry :data:`needs_virtual_clock` and are skipped there.

PCI configuration space is reached the way firmware reaches it: the
address goes to port 0xcf8, the data moves through 0xcfc-0xcff.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .qtest_client import QtestClient

REFERENCE_ENV = "PYQEMU_QTEST_REFERENCE"
REFERENCE_ARGS = "-accel tcg -S"

PCI_CONFIG_ADDRESS = 0xCF8
PCI_CONFIG_DATA = 0xCFC
PCI_CONFIG_ENABLE = 0x8000_0000
PCI_COMMAND = 0x04
PCI_COMMAND_IO = 0x1
PCI_COMMAND_MEMORY = 0x2
PCI_COMMAND_MASTER = 0x4
PCI_INTERRUPT_PIN = 0x3D


def reference_qemu() -> str | None:
    """The QEMU binary the tests run against instead of pyqemu, if one is asked for."""
    return os.environ.get(REFERENCE_ENV) or None


needs_virtual_clock = pytest.mark.skipif(
    reference_qemu() is not None, reason="QEMU's qtest accelerator (clock_step) is not packaged"
)


def pyqemu_bug(reason: str) -> pytest.MarkDecorator:
    """Expect this test to fail on pyqemu (strictly) for ``reason``; it must pass on the reference QEMU."""
    return pytest.mark.xfail(reference_qemu() is None, strict=True, reason=reason)


def start(args: str) -> QtestClient:
    """A board started with ``args`` under qtest: pyqemu, or the reference QEMU when one is set."""
    qemu = reference_qemu()
    if qemu is None:
        return QtestClient(args)
    return QtestClient(f"{args} {REFERENCE_ARGS}", command=[qemu])


def started(name: str) -> Iterator[QtestClient]:
    """Board ``name`` with only its built-in devices and its IOAPIC inputs intercepted (a fixture body)."""
    with start(f"-M {name} -nodefaults") as qts:
        qts.irq_intercept_in("ioapic")
        yield qts


def devfn(slot: int, function: int = 0) -> int:
    return slot << 3 | function


def pci_address(dev_fn: int, offset: int, bus: int = 0) -> int:
    """The value written to 0xcf8 to reach ``offset`` of bus/devfn (configuration mechanism #1)."""
    return PCI_CONFIG_ENABLE | bus << 16 | dev_fn << 8 | (offset & 0xFC)


def cfg_readb(qts: QtestClient, dev_fn: int, offset: int) -> int:
    qts.outl(PCI_CONFIG_ADDRESS, pci_address(dev_fn, offset))
    return qts.inb(PCI_CONFIG_DATA + (offset & 3))


def cfg_readw(qts: QtestClient, dev_fn: int, offset: int) -> int:
    qts.outl(PCI_CONFIG_ADDRESS, pci_address(dev_fn, offset))
    return qts.inw(PCI_CONFIG_DATA + (offset & 2))


def cfg_readl(qts: QtestClient, dev_fn: int, offset: int) -> int:
    qts.outl(PCI_CONFIG_ADDRESS, pci_address(dev_fn, offset))
    return qts.inl(PCI_CONFIG_DATA)


def cfg_writeb(qts: QtestClient, dev_fn: int, offset: int, value: int) -> None:
    qts.outl(PCI_CONFIG_ADDRESS, pci_address(dev_fn, offset))
    qts.outb(PCI_CONFIG_DATA + (offset & 3), value)


def cfg_writew(qts: QtestClient, dev_fn: int, offset: int, value: int) -> None:
    qts.outl(PCI_CONFIG_ADDRESS, pci_address(dev_fn, offset))
    qts.outw(PCI_CONFIG_DATA + (offset & 2), value)


def cfg_writel(qts: QtestClient, dev_fn: int, offset: int, value: int) -> None:
    qts.outl(PCI_CONFIG_ADDRESS, pci_address(dev_fn, offset))
    qts.outl(PCI_CONFIG_DATA, value)


def map_bar(qts: QtestClient, dev_fn: int, bar: int, address: int, command: int) -> None:
    """Place BAR number ``bar`` at ``address`` and turn on ``command`` (I/O, memory, bus master)."""
    cfg_writel(qts, dev_fn, 0x10 + 4 * bar, address)
    cfg_writew(qts, dev_fn, PCI_COMMAND, command)
