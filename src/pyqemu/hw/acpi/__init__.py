"""ACPI power-management hardware of the x86 chipsets (QEMU's ``hw/acpi``).

- :mod:`.core`: the fixed-feature registers every chipset shares — PM1a
  event and control, the 3.579545 MHz PM timer, the GPE0 block — and the
  SCI they drive; :mod:`.host` is what they ask of the emulator and machine;
- :mod:`.piix4`: ``PIIX4_PM`` (PCI function 01.3 of ``pc``);
- :mod:`.ich9`: the power-management block inside ``ICH9-LPC`` (``q35``),
  with :mod:`.tco` (its watchdog);
- :mod:`.generic_event_device`: ``acpi-ged`` / ``acpi-ged-x86`` (``microvm``);
- :mod:`.pcihp` and :mod:`.cpu_hotplug`: the hot-plug register blocks the
  ACPI tables talk to.
"""
