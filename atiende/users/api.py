from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from atiende.core.permissions import require
from atiende.users import selectors, services
from atiende.users.models import ApiToken, Team, User

router = Router(tags=["users"])


class TeamRef(Schema):
    id: int
    name: str


class UserOut(Schema):
    id: int
    username: str
    name: str
    initials: str
    email: str
    role: str
    agent_status: str
    time_zone: str
    language: str
    is_active: bool
    teams: list[TeamRef]

    @staticmethod
    def resolve_teams(obj: User) -> list[Team]:
        return list(obj.teams.all())


class AgentStatusIn(Schema):
    status: str = Field(description="active | paused | offline")


class UserIn(Schema):
    username: str
    password: str
    display_name: str = ""
    email: str = ""
    role: str = "agent"
    team_ids: list[int] = []


class UserPatch(Schema):
    display_name: str | None = None
    email: str | None = None
    role: str | None = None
    is_active: bool | None = None
    team_ids: list[int] | None = None


class TeamOut(Schema):
    id: int
    name: str
    description: str
    member_ids: list[int]

    @staticmethod
    def resolve_member_ids(obj: Team) -> list[int]:
        return [member.pk for member in obj.members.all()]


class TeamIn(Schema):
    name: str
    description: str = ""
    member_ids: list[int] | None = None


class PresenceOut(Schema):
    id: int
    name: str
    agent_status: str
    teams: list[TeamRef]

    @staticmethod
    def resolve_teams(obj: User) -> list[Team]:
        return list(obj.teams.all())


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown only in this response.")


def _existing(model, ids: list[int], field: str):
    """The rows for `ids`, refusing the whole request when any is missing."""
    rows = list(model.objects.filter(pk__in=ids))
    if len(rows) != len(set(ids)):
        raise ValidationError({field: _("Alguno de los elementos indicados no existe.")})
    return rows


@router.get("/me", response=UserOut)
def me(request: HttpRequest):
    return request.user


@router.put("/me/status", response=UserOut)
def set_my_status(request: HttpRequest, payload: AgentStatusIn):
    return services.set_agent_status(user=request.user, status=payload.status, by=request.user)


@router.get("/users", response=list[UserOut])
@paginate(PageNumberPagination, page_size=50)
def list_users(request: HttpRequest, q: str = "", role: str = "", team: int | None = None):
    return selectors.users_list(viewer=request.user, q=q, role=role, team_id=team)


@router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserIn):
    user = services.create_user(
        by=request.user,
        username=payload.username,
        password=payload.password,
        display_name=payload.display_name,
        email=payload.email,
        role=payload.role,
        teams=_existing(Team, payload.team_ids, "team_ids"),
    )
    return Status(201, user)


@router.get("/users/{user_id}", response=UserOut)
def get_user(request: HttpRequest, user_id: int):
    return get_object_or_404(selectors.users_list(viewer=request.user), pk=user_id)


@router.patch("/users/{user_id}", response=UserOut)
def update_user(request: HttpRequest, user_id: int, payload: UserPatch):
    require(request.user, "users.manage_users")
    target = get_object_or_404(User, pk=user_id)
    return services.update_user(
        by=request.user,
        user=target,
        display_name=target.display_name if payload.display_name is None else payload.display_name,
        email=target.email if payload.email is None else payload.email,
        role=payload.role or target.role,
        is_active=target.is_active if payload.is_active is None else payload.is_active,
        teams=list(target.teams.all())
        if payload.team_ids is None
        else _existing(Team, payload.team_ids, "team_ids"),
    )


@router.put("/users/{user_id}/status", response=UserOut)
def set_user_status(request: HttpRequest, user_id: int, payload: AgentStatusIn):
    target = get_object_or_404(User, pk=user_id)
    return services.set_agent_status(user=target, status=payload.status, by=request.user)


@router.get("/presence", response=list[PresenceOut])
def presence(request: HttpRequest):
    return list(selectors.online_users(viewer=request.user)[:500])


@router.get("/teams", response=list[TeamOut])
@paginate(PageNumberPagination, page_size=50)
def list_teams(request: HttpRequest):
    return selectors.teams_list(viewer=request.user)


@router.post("/teams", response={201: TeamOut})
def create_team(request: HttpRequest, payload: TeamIn):
    team = services.save_team(
        by=request.user,
        name=payload.name,
        description=payload.description,
        members=None
        if payload.member_ids is None
        else _existing(User, payload.member_ids, "member_ids"),
    )
    return Status(201, team)


@router.put("/teams/{team_id}", response=TeamOut)
def update_team(request: HttpRequest, team_id: int, payload: TeamIn):
    require(request.user, "users.manage_teams")
    team = get_object_or_404(Team, pk=team_id)
    return services.save_team(
        by=request.user,
        team=team,
        name=payload.name,
        description=payload.description,
        members=None
        if payload.member_ids is None
        else _existing(User, payload.member_ids, "member_ids"),
    )


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest):
    return list(selectors.api_tokens_of(user=request.user)[:100])


@router.post("/tokens", response={201: TokenCreated})
def create_token(request: HttpRequest, payload: TokenIn):
    token, plain = services.issue_api_token(user=request.user, name=payload.name, by=request.user)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": plain})


@router.delete("/tokens/{token_id}", response=TokenOut)
def revoke_token(request: HttpRequest, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    return services.revoke_api_token(token=token, by=request.user)
