"""I2C and SMBus: the bus, the SMBus device protocol, SPD EEPROMs and the PC's SMBus host controller.

``core`` is the bus (``i2c-bus``) and the slave base type; ``smbus_slave``
runs the SMBus protocol on the device side and ``smbus_master`` on the host
side; ``smbus_eeprom`` is the memory modules' SPD EEPROM; ``pm_smbus`` the
PIIX4 / ICH9 host controller registers; ``smbus_ich9`` the q35 PCI function.
"""
