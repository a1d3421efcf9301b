"""Non-volatile configuration devices: QEMU's firmware configuration device (``fw_cfg``)."""
