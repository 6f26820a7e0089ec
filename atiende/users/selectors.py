"""Reads about users and teams, already filtered for the viewer and joined for the template."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from atiende.core.permissions import require
from atiende.users.models import ApiToken, Presence, Team, User
from atiende.users.services import PRESENCE_TIMEOUT


def _online_subquery() -> Exists:
    return Exists(
        Presence.objects.filter(
            user=OuterRef("pk"), last_seen_at__gte=timezone.now() - PRESENCE_TIMEOUT
        )
    )


def users_list(
    *, viewer: User, q: str = "", role: str = "", team_id: int | None = None
) -> QuerySet[User]:
    """The Usuarios screen and `GET /api/v1/users`: admins and supervisors only."""
    require(viewer, "users.view_users")
    users = (
        User.objects.annotate(online=_online_subquery())
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("display_name", "username")
    )
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(display_name__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    if role:
        users = users.filter(role=role)
    if team_id:
        users = users.filter(teams__id=team_id)
    return users


def online_users(*, viewer: User) -> QuerySet[User]:
    """Who is online: users with an open socket heard from recently."""
    require(viewer, "users.view_presence")
    return (
        User.objects.filter(is_active=True)
        .annotate(online=_online_subquery())
        .filter(online=True)
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("display_name", "username")
    )


def teams_list(*, viewer: User) -> QuerySet[Team]:
    require(viewer, "users.view_users")
    return Team.objects.prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("display_name", "username"))
    ).order_by("name")


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def assignable_users() -> QuerySet[User]:
    """Active people in name order: who a contact, task, conversation or ticket can be given to."""
    return User.objects.filter(is_active=True).order_by("display_name", "username")
