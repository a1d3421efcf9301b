"""Binary size units (QEMU's ``qemu/units.h``): one home for KiB, MiB and the rest, and rounding to them."""

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
PiB = 1 << 50
EiB = 1 << 60


def round_up(value: int, align: int) -> int:
    """``value`` rounded up to a multiple of ``align`` (QEMU's ``ROUND_UP`` / ``QEMU_ALIGN_UP``)."""
    return -(-value // align) * align
