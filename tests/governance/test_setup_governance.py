"""manage.py setup_governance FILE --as ADMIN: teams, people, board seats and chairs, risk
officers and auditors from a YAML or JSON file; checked whole first (exit 2, nothing changed),
applied in one transaction, and a second run changes nothing and appends no event."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError

from boards.queries import board_by_name
from eventstore.models import Event
from registry.models import DefaultTeam
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SETUP = """
teams:
  credit-ml: [mia-ml, max-ml]
users:
  mia-ml: {email: mia@example.org, password: mia-password-2026, default_team: credit-ml}
  max-ml: {email: max@example.org}
  rosa-risk: {email: rosa@example.org, password: rosa-password-2026}
  raj-risk: {email: raj@example.org}
  lena-legal: {email: lena@example.org, first_name: Lena}
  otto-officer: {email: otto@example.org}
  audrey-auditor: {email: audrey@example.org}
boards:
  model-risk: {members: [rosa-risk, raj-risk], chair: rosa-risk}
  legal: {members: [lena-legal]}
  fairness-panel: {members: [lena-legal], title: Fairness panel}
risk_officers: [otto-officer]
auditors: [audrey-auditor]
"""


@pytest.fixture
def admin(db):
    return make_user("ada-admin", superuser=True)


def run(tmp_path, text: str, *args: str, name: str = "setup.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    out = io.StringIO()
    call_command("setup_governance", str(path), "--as", "ada-admin", *args, stdout=out)
    return out.getvalue()


def test_a_setup_makes_teams_reviewers_seats_and_roles(admin, tmp_path):
    out = run(tmp_path, SETUP)
    users = {u.username: u for u in get_user_model().objects.all()}
    mia, rosa, otto, audrey = (
        users[n] for n in ("mia-ml", "rosa-risk", "otto-officer", "audrey-auditor")
    )
    assert mia.check_password("mia-password-2026") and not mia.is_staff
    assert mia.groups.filter(name="credit-ml").exists()
    assert DefaultTeam.objects.get(user_id=mia.pk).team == "credit-ml"
    for reviewer in (rosa, users["raj-risk"], users["lena-legal"], otto, audrey):
        assert reviewer.is_staff and reviewer.email and reviewer.has_usable_password()
    assert rosa.check_password("rosa-password-2026")
    model_risk = board_by_name("model-risk")
    assert set(model_risk.members) == {rosa.pk, users["raj-risk"].pk}
    assert model_risk.chair_id == rosa.pk
    assert set(board_by_name("fairness-panel").members) == {users["lena-legal"].pk}
    assert otto.has_perm("governance.assign_risk_tier")
    assert audrey.groups.filter(name="auditors").exists()
    # People without a password in the file get one, shown once.
    for name in ("max-ml", "raj-risk", "lena-legal", "otto-officer", "audrey-auditor"):
        assert f"password of {name} (shown once): " in out
    assert "password of mia-ml" not in out


def test_running_the_same_file_again_changes_nothing(admin, tmp_path):
    run(tmp_path, SETUP)
    events = Event.objects.count()
    passwords = dict(get_user_model().objects.values_list("username", "password"))
    out = run(tmp_path, SETUP)
    assert out.strip() == "nothing to change"
    assert Event.objects.count() == events
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords


def test_json_works_as_well(admin, tmp_path):
    data = {"teams": {"vision-ml": ["vic-ml"]}, "users": {"vic-ml": {"default_team": "vision-ml"}}}
    run(tmp_path, json.dumps(data), name="setup.json")
    vic = get_user_model().objects.get(username="vic-ml")
    assert DefaultTeam.objects.get(user_id=vic.pk).team == "vision-ml"


BAD = """
teams:
  credit-ml: [mia-ml]
  auditors: [mia-ml]
users:
  mia-ml: {email: not-an-address, default_team: fraud-ml, shoe_size: 42}
  rosa-risk: {password: short}
boards:
  model-risk: {members: [rosa-risk, ghost], chair: lena-legal}
risk_officers: [otto-officer]
colour: blue
"""


def test_a_bad_file_changes_nothing_and_names_every_problem(admin, tmp_path):
    events = Event.objects.count()
    with pytest.raises(CommandError) as raised:
        run(tmp_path, BAD)
    assert raised.value.returncode == 2
    message = str(raised.value)
    for problem in (
        "unknown section 'colour'",
        "teams.auditors: 'auditors' is the name of a role",
        "users.mia-ml: unknown field 'shoe_size'",
        "users.mia-ml.email 'not-an-address' is not an e-mail address",
        "users.rosa-risk.password must be at least 8 characters",
        "boards.model-risk.chair must be one of the board's members",
        "'ghost' is neither under users nor an existing user",
        "'otto-officer' is neither under users nor an existing user",
        "users.mia-ml.default_team: 'mia-ml' is not in team 'fraud-ml'",
        "'rosa-risk' reviews (a board, risk officer or auditor): give an email",
    ):
        assert problem in message, message
    assert Event.objects.count() == events
    assert not get_user_model().objects.filter(username="mia-ml").exists()
    assert not Group.objects.filter(name="credit-ml").exists()


def test_names_and_text_the_database_cannot_hold_are_problems_of_the_file(admin, tmp_path):
    data = {
        "teams": {"t" * 151: ["mia-ml"]},
        "users": {"mia ml!": {}, "mia-ml": {"first_name": "x" * 151, "last_name": "a\x00b"}},
    }
    with pytest.raises(CommandError) as raised:
        run(tmp_path, json.dumps(data), name="setup.json")
    message = str(raised.value)
    assert "is not a team name" in message
    assert "'mia ml!' is not a user name" in message
    assert "users.mia-ml.first_name is at most 150 characters" in message
    assert "users.mia-ml.last_name is at most 150 characters, without NUL" in message
    assert not get_user_model().objects.filter(username="mia-ml").exists()


@pytest.mark.parametrize(
    "text", ["[unclosed", "- a list\n- not a mapping\n", "teams: [credit-ml]\n"]
)
def test_what_is_not_a_setup_is_refused_with_exit_status_2(admin, tmp_path, text):
    with pytest.raises(CommandError) as raised:
        run(tmp_path, text)
    assert raised.value.returncode == 2
    assert "nothing was changed" in str(raised.value)


def test_a_refusal_by_a_command_rolls_back_the_whole_file(admin, tmp_path):
    """A user already in a role group cannot take it as default team: the registry command
    refuses, and the people and seats made before it are gone."""
    officers = Group.objects.create(name="officers-room")
    officers.permissions.add(Permission.objects.get(codename="assign_risk_tier"))
    mia = make_user("mia-ml", officers)
    mia.groups.add(Group.objects.create(name="credit-ml"))
    text = """
teams:
  credit-ml: [mia-ml]
users:
  mia-ml: {default_team: officers-room}
  rosa-risk: {email: rosa@example.org}
boards:
  model-risk: {members: [rosa-risk]}
"""
    events = Event.objects.count()
    with pytest.raises(CommandError) as raised:
        run(tmp_path, text)
    assert raised.value.returncode == 2
    assert "holds a role" in str(raised.value)
    assert Event.objects.count() == events
    assert not get_user_model().objects.filter(username="rosa-risk").exists()


def test_a_deactivated_account_is_not_brought_back(admin, tmp_path):
    gone = make_user("rosa-risk")
    gone.is_active = False
    gone.save()
    with pytest.raises(CommandError, match="'rosa-risk' is deactivated") as raised:
        run(tmp_path, SETUP)
    assert raised.value.returncode == 2
    assert not get_user_model().objects.get(username="rosa-risk").is_active
    assert not get_user_model().objects.filter(username="mia-ml").exists()


def test_only_a_superuser_applies_a_setup(admin, tmp_path):
    """The file makes staff accounts and grants a permission: a board administrator may not."""
    make_user("mia-ml")
    make_user("bob-boards", perms=("approvals.manage_board", "auth.change_user"))
    events = Event.objects.count()
    path = tmp_path / "setup.yaml"
    path.write_text(SETUP)
    for who in ("mia-ml", "bob-boards", "nobody"):
        with pytest.raises(CommandError) as raised:
            call_command("setup_governance", str(path), "--as", who)
        assert raised.value.returncode == 2
    assert Event.objects.count() == events
    assert not get_user_model().objects.filter(username="rosa-risk").exists()
