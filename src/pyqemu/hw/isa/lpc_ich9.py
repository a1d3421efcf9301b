"""The ICH9 LPC bridge of the ``q35`` board (``ICH9-LPC``, 8086:2918, function 1f.0).

Like PIIX3 on ``pc`` it owns ``isa.0`` and the reset control register at
0xcf9 (``lpc-reset-control``).  It also has 24 ``gsi`` outputs, which the
board connects to its interrupt lines.  Not modelled yet: the ACPI / power
management block, SMI, the root complex register block and PIRQ routing.
"""

from __future__ import annotations

from pyqemu.hw.core.irq import qdev_init_gpio_out_named
from pyqemu.hw.core.qdev_properties import prop_bool
from pyqemu.hw.isa.piix3 import PCIIsaBridge
from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_ISA, PCI_VENDOR_ID_INTEL
from pyqemu.qom.object import register_type

TYPE_ICH9_LPC_DEVICE = "ICH9-LPC"
PCI_DEVICE_ID_INTEL_ICH9_8 = 0x2918
ICH9_LPC_REVISION = 0x02
ICH9_LPC_DEV = 31
ICH9_LPC_FUNC = 0
GSI_NUM_PINS = 24
ICH9_GPIO_GSI = "gsi"


@register_type
class ICH9LPC(PCIIsaBridge):
    """The ICH9 LPC bridge (``ICH9-LPC``)."""

    TYPE = TYPE_ICH9_LPC_DEVICE
    USER_CREATABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_ICH9_8
    REVISION = ICH9_LPC_REVISION
    CLASS_ID = PCI_CLASS_BRIDGE_ISA
    RESET_CONTROL_NAME = "lpc-reset-control"
    PROPERTIES = (
        prop_bool("noreboot", default=True),
        prop_bool("smm-compat", default=False),
        prop_bool("x-smi-broadcast", default=True),
        prop_bool("x-smi-cpu-hotplug", default=True),
        prop_bool("x-smi-cpu-hotunplug", default=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.gsi = qdev_init_gpio_out_named(self, ICH9_GPIO_GSI, GSI_NUM_PINS)
