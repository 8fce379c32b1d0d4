"""Who is who in the governance workflow, from a small file (`manage.py setup_governance FILE`):
teams and their members, people (e-mail, staff status, password, default team), the review
boards' members and chairs, the model-risk officers and the auditors.

The file is read and checked whole before anything changes, then applied in one transaction
through the commands that own each fact: board memberships and chairs are events
(boards.commands), a default team is an event (registry.commands.choose_default_team),
accounts, teams and role groups are Django's. Applying a file twice changes nothing the second
time: a member already seated, a chair already appointed, a default team already chosen append
nothing. The file only adds: nobody is removed from a board or a group it does not name.

    teams:                              # a team is a Django group that owns models
      credit-ml: [mia-ml]
    users:
      mia-ml: {email: mia@example.org, default_team: credit-ml}
      rosa-risk: {email: rosa@example.org, password: "..."}
    boards:                             # the default boards, or new ones
      model-risk: {members: [rosa-risk, raj-risk], chair: rosa-risk}
      legal: {members: [lena-legal]}
    risk_officers: [otto-officer]       # group risk-officers: governance.assign_risk_tier
    auditors: [audrey-auditor]          # group auditors: reads everything, exports

Everyone named on a board, as a risk officer or as an auditor is a reviewer: staff (the admin
is where they work) and reachable by e-mail, so the file must give their e-mail. A user the file
creates without a password gets a random one, reported once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import validate_email
from django.db import transaction
from django.forms import ValidationError

from approvals.permissions import AUDITORS
from boards import commands as board_commands
from boards.errors import BoardNotFound
from boards.queries import board_by_name
from boards.rules import BOARD_NAME
from core.actors import Actor
from governance.commands.common import OFFICER_PERM
from registry import commands as registry_commands
from registry.models import DefaultTeam
from registry.permissions import is_role_group
from registry.rules import is_role_group_name

RISK_OFFICERS = "risk-officers"
SECTIONS = ("teams", "users", "boards", "risk_officers", "auditors")
USER_FIELDS = ("email", "password", "default_team", "staff", "first_name", "last_name")
BOARD_FIELDS = ("members", "chair", "title")
MAX_NAME = 150
MAX_EMAIL = 254
USERNAME = UnicodeUsernameValidator()


class SetupError(Exception):
    """The file is not a valid setup; `problems` lists every one found (nothing was changed)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Setup:
    teams: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    boards: dict[str, dict[str, Any]] = field(default_factory=dict)
    risk_officers: list[str] = field(default_factory=list)
    auditors: list[str] = field(default_factory=list)

    def reviewers(self) -> set[str]:
        names = set(self.risk_officers) | set(self.auditors)
        for board in self.boards.values():
            names |= set(board["members"])
        return names


@dataclass
class Report:
    """What applying a setup changed; empty when it changed nothing."""

    changes: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # generated, shown once

    def note(self, change: str) -> None:
        self.changes.append(change)


# -- reading and checking ----------------------------------------------------------------


def read_file(path: Path) -> Any:
    """The file's data: YAML (JSON is YAML too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError([f"cannot read {path}: {exc}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SetupError([f"{path} is not valid YAML or JSON: {exc}"]) from None


def _name_list(value: Any, where: str, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where} must be a list of user names")
        return []
    for name in value:
        _check_username(name, where, problems)
    return list(dict.fromkeys(value))


def _check_username(name: str, where: str, problems: list[str]) -> None:
    try:
        USERNAME(name)
    except ValidationError:
        problems.append(f"{where}: {name[:40]!r} is not a user name (letters, digits, @.+-_)")
        return
    if len(name) > MAX_NAME:
        problems.append(f"{where}: {name[:20]!r}... is longer than {MAX_NAME} characters")


def _mapping(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        problems.append(f"{where} must be a mapping of names")
        return {}
    return value


def _check_user(name: str, spec: Any, problems: list[str]) -> dict[str, Any]:
    where = f"users.{name}"
    spec = _mapping(spec, where, problems)
    for key in spec:
        if key not in USER_FIELDS:
            problems.append(f"{where}: unknown field {key!r} (fields: {', '.join(USER_FIELDS)})")
    for key in ("email", "password", "default_team", "first_name", "last_name"):
        if key in spec and not isinstance(spec[key], str):
            problems.append(f"{where}.{key} must be text")
        elif key in spec and ("\x00" in spec[key] or len(spec[key]) > MAX_NAME):
            problems.append(f"{where}.{key} is at most {MAX_NAME} characters, without NUL")
    if isinstance(spec.get("email"), str):
        try:
            if len(spec["email"]) > MAX_EMAIL:
                raise ValidationError("too long")
            validate_email(spec["email"])
        except ValidationError:
            problems.append(f"{where}.email {spec['email']!r} is not an e-mail address")
    if "staff" in spec and not isinstance(spec["staff"], bool):
        problems.append(f"{where}.staff must be true or false")
    if isinstance(spec.get("password"), str) and len(spec["password"]) < 8:
        problems.append(f"{where}.password must be at least 8 characters")
    return spec


def parse(data: Any) -> Setup:
    """Check the file's data; every problem is reported at once (SetupError)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise SetupError([f"the file must hold a mapping with the sections {', '.join(SECTIONS)}"])
    for key in data:
        if key not in SECTIONS:
            problems.append(f"unknown section {key!r} (sections: {', '.join(SECTIONS)})")
    setup = Setup()
    for team, members in _mapping(data.get("teams"), "teams", problems).items():
        if len(team) > MAX_NAME or "\x00" in team:
            problems.append(f"teams: {team[:20]!r}... is not a team name (at most {MAX_NAME})")
        elif is_role_group_name(team) or team in (AUDITORS, RISK_OFFICERS):
            problems.append(f"teams.{team}: {team!r} is the name of a role, not of a team")
        setup.teams[team] = _name_list(members, f"teams.{team}", problems)
    for name, spec in _mapping(data.get("users"), "users", problems).items():
        _check_username(name, "users", problems)
        setup.users[name] = _check_user(name, spec, problems)
    for board, spec in _mapping(data.get("boards"), "boards", problems).items():
        where = f"boards.{board}"
        if not BOARD_NAME.match(board):
            problems.append(f"{where}: {board!r} is not a board name (lowercase, digits, -)")
        spec = _mapping(spec, where, problems)
        for key in spec:
            if key not in BOARD_FIELDS:
                problems.append(f"{where}: unknown field {key!r} (fields: members, chair, title)")
        members = _name_list(spec.get("members"), f"{where}.members", problems)
        chair = spec.get("chair")
        if chair is not None and (not isinstance(chair, str) or chair not in members):
            problems.append(f"{where}.chair must be one of the board's members")
        title = spec.get("title", "")
        if not isinstance(title, str):
            problems.append(f"{where}.title must be text")
        setup.boards[board] = {"members": members, "chair": chair, "title": title}
    setup.risk_officers = _name_list(data.get("risk_officers"), "risk_officers", problems)
    setup.auditors = _name_list(data.get("auditors"), "auditors", problems)
    _check_references(setup, problems)
    if problems:
        raise SetupError(problems)
    return setup


def _check_references(setup: Setup, problems: list[str]) -> None:
    """Names point at users of the file or of the database; default teams at teams the user
    joins; reviewers have an e-mail."""
    users = get_user_model().objects
    named = set(setup.users)
    for members in setup.teams.values():
        named |= set(members)
    named |= setup.reviewers()
    existing = {u.username: u for u in users.filter(username__in=named - set(setup.users))}
    for name in sorted(named - set(setup.users) - set(existing)):
        problems.append(f"{name!r} is neither under users nor an existing user")
    # A deactivated account stays so: the file does not bring it back.
    for name in users.filter(username__in=named, is_active=False).values_list(
        "username", flat=True
    ):
        problems.append(f"{name!r} is deactivated: reactivate it in the admin first")
    for team in setup.teams:
        group = Group.objects.filter(name=team).first()
        if group is not None and is_role_group(group):
            problems.append(f"teams.{team}: the group {team!r} holds a role, not models")
    for name, spec in setup.users.items():
        team = spec.get("default_team")
        if isinstance(team, str) and name not in setup.teams.get(team, ()):
            user = users.filter(username=name).first()
            if user is None or not user.groups.filter(name=team).exists():
                problems.append(f"users.{name}.default_team: {name!r} is not in team {team!r}")
    for name in sorted(setup.reviewers()):
        email = setup.users.get(name, {}).get("email")
        if not email and not (name in existing and existing[name].email):
            problems.append(f"{name!r} reviews (a board, risk officer or auditor): give an email")


# -- applying ------------------------------------------------------------------------------


def apply(setup: Setup, *, admin: Any) -> Report:
    """Apply a checked setup in one transaction, acting as `admin` (a superuser). A refusal
    by a command rolls everything back."""
    actor = Actor.user(admin, auth_method="command")
    report = Report()
    with transaction.atomic():
        accounts = _accounts(setup, report)
        _teams(setup, accounts, report)
        _roles(setup, accounts, report)
        for board, spec in setup.boards.items():
            _board(actor, board, spec, accounts, report)
        for name, spec in setup.users.items():
            if spec.get("default_team"):
                _default_team(actor, accounts[name], spec["default_team"], report)
    return report


def _accounts(setup: Setup, report: Report) -> dict[str, Any]:
    users = get_user_model().objects
    reviewers = setup.reviewers()
    accounts = {}
    names = set(setup.users) | reviewers
    for members in setup.teams.values():
        names |= set(members)
    for name in sorted(names):
        spec = setup.users.get(name, {})
        user = users.filter(username=name).first()
        created = user is None
        if created:
            password = spec.get("password") or secrets.token_urlsafe(12)
            if not spec.get("password"):
                report.passwords[name] = password
            user = users.create_user(username=name, password=password)
        changed = []
        wanted = {
            "email": spec.get("email"),
            "first_name": spec.get("first_name"),
            "last_name": spec.get("last_name"),
            "is_staff": True if name in reviewers else spec.get("staff"),
        }
        for attribute, value in wanted.items():
            if value is not None and getattr(user, attribute) != value:
                setattr(user, attribute, value)
                changed.append(attribute)
        if spec.get("password") and not user.check_password(spec["password"]):
            user.set_password(spec["password"])
            changed.append("password")
        if changed:
            user.save()
        if created:
            report.note(f"created user {name}" + (" (staff)" if user.is_staff else ""))
        elif changed:
            report.note(f"user {name}: {', '.join(changed)}")
        accounts[name] = user
    return accounts


def _join(group: Group, user: Any, what: str, report: Report) -> None:
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
        report.note(f"{user.username} joined {what}")


def _teams(setup: Setup, accounts: dict[str, Any], report: Report) -> None:
    for team, members in setup.teams.items():
        group, created = Group.objects.get_or_create(name=team)
        if created:
            report.note(f"created team {team}")
        for name in members:
            _join(group, accounts[name], f"team {team}", report)


def _roles(setup: Setup, accounts: dict[str, Any], report: Report) -> None:
    if setup.risk_officers:
        officers, created = Group.objects.get_or_create(name=RISK_OFFICERS)
        app_label, codename = OFFICER_PERM.split(".")
        grant = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        if created or not officers.permissions.filter(pk=grant.pk).exists():
            officers.permissions.add(grant)
            report.note(f"group {RISK_OFFICERS} holds {OFFICER_PERM}")
        for name in setup.risk_officers:
            _join(officers, accounts[name], RISK_OFFICERS, report)
    if setup.auditors:
        auditors, _ = Group.objects.get_or_create(name=AUDITORS)
        for name in setup.auditors:
            _join(auditors, accounts[name], AUDITORS, report)


def _board(
    actor: Actor, board: str, spec: dict[str, Any], accounts: dict[str, Any], report: Report
) -> None:
    try:
        state = board_by_name(board)
    except BoardNotFound:
        state = board_commands.create_board(actor=actor, name=board, title=spec["title"])
        report.note(f"created board {board}")
    for name in spec["members"]:
        user = accounts[name]
        if user.pk not in state.members:
            state = board_commands.add_board_member(actor=actor, board=board, user_id=user.pk)
            report.note(f"{name} sits on {board}")
    chair = spec["chair"]
    if chair and state.chair_id != accounts[chair].pk:
        board_commands.appoint_chair(actor=actor, board=board, user_id=accounts[chair].pk)
        report.note(f"{chair} chairs {board}")


def _default_team(actor: Actor, user: Any, team: str, report: Report) -> None:
    chosen = DefaultTeam.objects.filter(user_id=user.pk).values_list("team_id", flat=True).first()
    if chosen is not None and chosen == Group.objects.get(name=team).pk:
        return
    registry_commands.choose_default_team(actor=actor, user_id=user.pk, team=team)
    report.note(f"{user.username}'s default team is {team}")
