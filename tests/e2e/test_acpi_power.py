"""Sleep states and the power button through the chipsets' ACPI registers, seen from QMP.

A guest writes SLP_TYP | SLP_EN to PM1a_CNT; QMP shows what QEMU 7.2 shows:
S3 sends SUSPEND and the run state ``suspended``; ``system_wakeup`` sends
WAKEUP, resets the machine and leaves WAK_STS and PWRBTN_STS in PM1a_STS.
``system_powerdown`` sends POWERDOWN and presses the power button, which
raises the SCI once the guest enabled PWRBTN_EN.  (Facts taken from QEMU
7.2 under TCG with the HMP ``i`` / ``o`` port commands.)
"""

from __future__ import annotations

import pytest

from .qtest_client import QtestClient

PMBASE = 0x600
PM1_STS, PM1_EN, PM1_CNT = PMBASE, PMBASE + 2, PMBASE + 4
PWRBTN = 0x0100
WAK_STS = 0x8000
SLP_EN = 0x2000
SLP_TYP_S3 = 1 << 10
SCI_GSI = 9

#: How each board's firmware maps the PM block: (devfn, [(config offset, value, size)]).
PM_SETUP = {
    "pc": (1 << 3 | 3, [(0x40, PMBASE | 1, 4), (0x80, 1, 1)]),  # PIIX4_PM: PMBA, PMIOSE
    "q35": (31 << 3, [(0x40, PMBASE, 4), (0x44, 0x80, 1)]),  # ICH9-LPC: PMBASE, ACPI_EN
}


def config_write(qts: QtestClient, devfn: int, offset: int, value: int, size: int) -> None:
    qts.outl(0xCF8, 0x8000_0000 | devfn << 8 | offset & 0xFC)
    {1: qts.outb, 2: qts.outw, 4: qts.outl}[size](0xCFC + (offset & 3), value)


def map_pm_block(qts: QtestClient, board: str) -> None:
    devfn, writes = PM_SETUP[board]
    for offset, value, size in writes:
        config_write(qts, devfn, offset, value, size)


def status(qts: QtestClient) -> str:
    return str(qts.qmp("query-status")["return"]["status"])


@pytest.mark.parametrize("board", ["pc", "q35"])
def test_s3_suspends_and_system_wakeup_resumes_through_a_reset(board: str) -> None:
    with QtestClient(f"-M {board} -nodefaults") as qts:
        assert qts.qmp("query-current-machine") == {"return": {"wakeup-suspend-support": True}}
        assert qts.qmp("system_wakeup")["error"] == {
            "class": "GenericError", "desc": "Unable to wake up: guest is not in suspended state"}
        map_pm_block(qts, board)
        qts.outw(PM1_EN, PWRBTN)
        qts.outw(PM1_CNT, SLP_TYP_S3 | SLP_EN)
        qts.wait_event("SUSPEND")
        assert status(qts) == "suspended"
        assert qts.qmp("cont") == {"return": {}}  # cont leaves a suspended guest alone
        assert status(qts) == "suspended"
        assert qts.qmp("system_wakeup") == {"return": {}}
        qts.wait_event("WAKEUP")
        assert status(qts) == "running"
        assert qts.inw(PM1_STS) == 0xFFFF  # the reset unmapped the PM block
        map_pm_block(qts, board)
        assert qts.inw(PM1_STS) & (WAK_STS | PWRBTN) == WAK_STS | PWRBTN
        assert qts.inw(PM1_EN) == 0


@pytest.mark.parametrize("board", ["pc", "q35"])
def test_system_powerdown_presses_the_power_button(board: str) -> None:
    with QtestClient(f"-M {board} -nodefaults") as qts:
        assert qts.command("irq_intercept_in ioapic") == "OK"
        map_pm_block(qts, board)
        assert qts.qmp("system_powerdown") == {"return": {}}
        qts.wait_event("POWERDOWN")
        assert qts.inw(PM1_STS) & PWRBTN == 0  # not enabled: nothing latched
        qts.outw(PM1_EN, PWRBTN)
        qts.qmp("system_powerdown")
        qts.wait_event("POWERDOWN")
        assert qts.inw(PM1_STS) & PWRBTN == PWRBTN
        assert qts.get_irq(SCI_GSI)
        qts.outw(PM1_STS, PWRBTN)  # the guest acknowledges
        assert not qts.get_irq(SCI_GSI)


def test_microvm_cannot_be_woken() -> None:
    with QtestClient("-M microvm -nodefaults") as qts:
        assert qts.qmp("query-current-machine") == {"return": {"wakeup-suspend-support": False}}
        assert qts.qmp("system_wakeup")["error"] == {
            "class": "GenericError", "desc": "wake-up from suspend is not supported by this guest"}
