"""Binary size units (QEMU's ``qemu/units.h``): one home for KiB, MiB and the rest."""

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
PiB = 1 << 50
EiB = 1 << 60
