"""Who is staff, and the role each kind of Slack user acts with."""

from __future__ import annotations

import pytest

from bot.domain.errors import PermissionDenied
from bot.domain.roles import Role, Standing, Unverified, require, role_for
from handlers.people import standing_of


@pytest.mark.parametrize(
    ("facts", "standing"),
    [
        ({"team_id": "T0"}, Standing.STAFF),
        ({"team_id": "T0", "is_restricted": True}, Standing.GUEST),
        ({"team_id": "T0", "is_ultra_restricted": True}, Standing.GUEST),
        ({"team_id": "TOTHER"}, Standing.EXTERNAL),
        ({"team_id": "TOTHER", "enterprise_user": {"teams": ["T0", "TOTHER"]}}, Standing.STAFF),
        ({"team_id": "T0", "deleted": True}, Standing.EXTERNAL),
        ({"team_id": "T0", "is_bot": True}, Standing.EXTERNAL),
        ({"team_id": "TOTHER", "is_stranger": True}, Standing.EXTERNAL),
    ],
)
def test_slack_facts_decide_who_is_staff(facts: dict, standing: Standing) -> None:  # type: ignore[type-arg]
    assert standing_of({"id": "U1", **facts}, "T0") is standing


def test_roles_by_standing() -> None:
    assert role_for(Standing.STAFF, None, False) is Role.TECHNICIAN
    assert role_for(Standing.STAFF, Role.MANAGER, False) is Role.MANAGER
    assert role_for(Standing.GUEST, None, False) is Role.CLIENT
    assert role_for(Standing.GUEST, Role.TECHNICIAN, False) is Role.TECHNICIAN  # a contractor
    assert role_for(Standing.EXTERNAL, Role.ADMIN, True) is Role.CLIENT  # whatever anyone tried
    assert role_for(Standing.STAFF, None, True) is Role.ADMIN
    with pytest.raises(Unverified, match="could not verify you"):
        role_for(Standing.UNVERIFIED, None, True)


def test_a_client_contact_is_told_to_ask_the_account_manager() -> None:
    with pytest.raises(PermissionDenied, match="Only the MSP's staff can log time.*account manager"):
        require(Role.CLIENT, Role.TECHNICIAN, "log time")
