"""RAM size from ``-m`` / ``-machine memory.*``: QEMU 7.2's ``machine_set_mem`` checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyqemu.util.errors import ConfigError
from pyqemu.util.units import round_up

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState

RAM_ALIGN = 8192


def apply_memory_config(machine: MachineState, config: dict[str, Any]) -> None:
    """Set the machine's RAM size, maximum and slots from a MemorySizeConfiguration."""
    size = config.get("size") or type(machine).DEFAULT_RAM_SIZE
    size = round_up(size, RAM_ALIGN)
    slots = config.get("slots", 0)
    max_size = config.get("max-size")
    if slots and max_size is None:
        raise ConfigError("slots specified but no max-size")
    if max_size is not None:
        if max_size < size:
            raise ConfigError(
                "invalid value of maxmem: maximum memory size "
                f"(0x{max_size:x}) must be at least the initial memory size (0x{size:x})"
            )
        if slots and max_size == size:
            raise ConfigError(
                "invalid value of maxmem: memory slots were specified but maximum memory size "
                f"(0x{max_size:x}) is equal to the initial memory size (0x{size:x})"
            )
    machine.ram_size = size
    machine.maxram_size = max_size if max_size is not None else size
    machine.ram_slots = slots
