"""IDE and AHCI disk controllers, without drives (pyqemu has no block layer yet).

``core`` is the ATA register file of a channel whose positions are empty and
``commands`` how QEMU runs commands on such a position; ``bus`` the IDE bus
type and the legacy port windows; ``piix`` the PIIX3 IDE function of ``pc``;
``ahci`` the AHCI host bus adapter and ``ich9_ahci`` the ICH9 SATA function
of ``q35`` in front of it.
"""
