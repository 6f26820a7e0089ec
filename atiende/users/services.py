"""Every write about users, teams, agent status, presence, API tokens and logins."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atiende.core import audit
from atiende.core.permissions import require
from atiende.core.realtime import SUPERVISORS_GROUP, publish_on_commit, user_group
from atiende.users.models import (
    TIME_ZONE_CHOICES,
    AgentStatus,
    ApiToken,
    LoginAttempt,
    Presence,
    Role,
    Team,
    User,
)

USER_AUDITED_FIELDS = ["username", "display_name", "email", "role", "is_active"]
PROFILE_FIELDS = ["display_name", "email", "time_zone", "language"]
PRESENCE_TIMEOUT = timedelta(seconds=90)
VALID_TIME_ZONES = frozenset(tz for tz, _label in TIME_ZONE_CHOICES)


# --- users -------------------------------------------------------------------------


def _validate_user_fields(*, role: str, username: str, exclude_pk: int | None = None) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Rol desconocido.")})
    if not username or not username.strip():
        raise ValidationError({"username": _("El nombre de usuario es obligatorio.")})
    clash = User.objects.filter(username__iexact=username.strip())
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"username": _("Ya existe un usuario con ese nombre de usuario.")})


@transaction.atomic
def create_user(
    *,
    by: User | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    role: str = Role.AGENT,
    teams: list[Team] | None = None,
) -> User:
    """Create a person who can log in. `by=None` only from management commands."""
    if by is not None:
        require(by, "users.manage_users")
    _validate_user_fields(role=role, username=username)
    user = User(
        username=username.strip(),
        display_name=display_name.strip(),
        email=email.strip().lower(),
        role=role,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    if teams:
        user.teams.set(teams)
    audit.record(
        actor=by, action="create", obj=user, after=audit.snapshot(user, USER_AUDITED_FIELDS)
    )
    return user


@transaction.atomic
def update_user(
    *,
    by: User,
    user: User,
    display_name: str,
    email: str,
    role: str,
    is_active: bool,
    teams: list[Team],
) -> User:
    """An admin edits a person's name, role, teams or access."""
    require(by, "users.manage_users")
    _validate_user_fields(role=role, username=user.username, exclude_pk=user.pk)
    # No exemption for superusers: a deactivated superuser is locked out like anyone else.
    if user.pk == by.pk and (role != Role.ADMIN or not is_active):
        raise ValidationError(
            {"role": _("No puedes quitarte a ti mismo el rol de administrador ni desactivarte.")}
        )
    before = audit.snapshot(user, USER_AUDITED_FIELDS)
    before["teams"] = sorted(t.name for t in user.teams.all())
    user.display_name = display_name.strip()
    user.email = email.strip().lower()
    user.role = role
    user.is_active = is_active
    user.save(update_fields=["display_name", "email", "role", "is_active"])
    user.teams.set(teams)
    after = audit.snapshot(user, USER_AUDITED_FIELDS)
    after["teams"] = sorted(t.name for t in teams)
    audit.record(actor=by, action="update", obj=user, before=before, after=after)
    return user


@transaction.atomic
def update_profile(
    *, user: User, display_name: str, email: str, time_zone: str, language: str
) -> User:
    """A person edits their own name, e-mail, time zone and language."""
    valid_languages = {code for code, _name in settings.LANGUAGES}
    if language not in valid_languages:
        raise ValidationError({"language": _("Idioma no disponible.")})
    if time_zone not in VALID_TIME_ZONES:
        raise ValidationError({"time_zone": _("Zona horaria desconocida.")})
    before = audit.snapshot(user, PROFILE_FIELDS)
    user.display_name = display_name.strip()
    user.email = email.strip().lower()
    user.time_zone = time_zone
    user.language = language
    user.save(update_fields=PROFILE_FIELDS)
    audit.record(
        actor=user,
        action="update",
        obj=user,
        before=before,
        after=audit.snapshot(user, PROFILE_FIELDS),
    )
    return user


def set_language(*, user: User, language: str) -> User:
    """The English/Spanish switch in the user menu."""
    return update_profile(
        user=user,
        display_name=user.display_name,
        email=user.email,
        time_zone=user.time_zone,
        language=language,
    )


@transaction.atomic
def set_agent_status(*, user: User, status: str, by: User) -> User:
    """Pausar / activar: a paused or offline agent receives no new conversations."""
    require(by, "users.change_agent_status", user)
    if status not in AgentStatus.values:
        raise ValidationError({"status": _("Estado desconocido.")})
    if user.agent_status == status:
        return user
    before = audit.snapshot(user, ["agent_status"])
    user.agent_status = status
    user.agent_status_changed_at = timezone.now()
    user.save(update_fields=["agent_status", "agent_status_changed_at"])
    audit.record(
        actor=by,
        action="update",
        obj=user,
        before=before,
        after=audit.snapshot(user, ["agent_status"]),
    )
    event = {
        "type": "agent_status",
        "user_id": user.pk,
        "status": user.agent_status,
        "label": str(user.get_agent_status_display()),
    }
    publish_on_commit(user_group(user.pk), event)
    publish_on_commit(SUPERVISORS_GROUP, event)
    return user


# --- teams ---------------------------------------------------------------------------


@transaction.atomic
def save_team(
    *,
    by: User,
    name: str,
    description: str = "",
    members: list[User] | None = None,
    team: Team | None = None,
) -> Team:
    """Create a team, or rename it and set its members when `team` is given."""
    require(by, "users.manage_teams")
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("El nombre del equipo es obligatorio.")})
    clash = Team.objects.filter(name__iexact=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError({"name": _("Ya existe un equipo con ese nombre.")})
    action = "update" if team else "create"
    team = team or Team()
    before = {"name": team.name, "description": team.description} if team.pk else {}
    if team.pk:
        before["members"] = sorted(u.username for u in team.members.all())
    team.name = name
    team.description = description.strip()
    team.save()
    if members is not None:
        team.members.set(members)
    after = {
        "name": team.name,
        "description": team.description,
        "members": sorted(u.username for u in team.members.all()),
    }
    audit.record(actor=by, action=action, obj=team, before=before, after=after)
    return team


# --- API tokens ------------------------------------------------------------------------

TOKEN_PREFIX = "atk"


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def issue_api_token(*, user: User, name: str, by: User | None) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain text, which is never stored nor shown again."""
    if by is not None:
        require(by, "users.manage_own_tokens")
        if by.pk != user.pk:
            require(by, "users.manage_users")
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Ponle un nombre al token para reconocerlo luego.")})
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        plain = f"{TOKEN_PREFIX}_{prefix}_{secret}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, name=name, prefix=prefix, key_hash=_hash_token(plain)
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - 5 collisions of 32 random bits in a row
        raise RuntimeError("could not generate a unique token prefix")
    audit.record(actor=by, action="create", obj=token, after={"name": name, "user": user.username})
    return token, plain


@transaction.atomic
def revoke_api_token(*, token: ApiToken, by: User) -> ApiToken:
    if token.user_id != by.pk:
        require(by, "users.manage_users")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=by, action="revoke", obj=token, after={"revoked": True})
    return token


def authenticate_api_token(plain: str) -> User | None:
    """The user behind a bearer token, or None; constant-time comparison of the hash."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=parts[1], revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, _hash_token(plain)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- login throttling ------------------------------------------------------------------


def login_lockout_minutes(*, username: str, ip_address: str | None) -> int:
    """Minutes left of a lockout for this username or address, 0 when a login may be tried."""
    window = timedelta(minutes=settings.ATIENDE_LOGIN_LOCKOUT_MINUTES)
    since = timezone.now() - window
    limit = settings.ATIENDE_LOGIN_MAX_FAILURES
    worst = None
    checks = [("username", username.strip().lower())]
    if ip_address:
        # An address gets more room: a whole office may sit behind one NAT.
        checks.append(("ip_address", ip_address))
    for field, value in checks:
        recent = LoginAttempt.objects.filter(**{field: value, "at__gte": since})
        last_success = recent.filter(succeeded=True).order_by("-at").values_list("at", flat=True)
        failures = recent.filter(succeeded=False)
        if last_success:
            failures = failures.filter(at__gt=last_success[0])
        allowed = limit if field == "username" else limit * 4
        times = list(failures.order_by("-at").values_list("at", flat=True)[:allowed])
        if len(times) >= allowed:
            unlock = times[-1] + window
            worst = max(worst, unlock) if worst else unlock
    if worst is None:
        return 0
    seconds = (worst - timezone.now()).total_seconds()
    return max(1, int(seconds // 60) + 1)


def record_login_attempt(*, username: str, ip_address: str | None, succeeded: bool) -> None:
    LoginAttempt.objects.create(
        username=username.strip().lower()[:150], ip_address=ip_address, succeeded=succeeded
    )


# --- presence (who is online) -----------------------------------------------------------


def _presence_event(user: User, online: bool) -> dict:
    return {
        "type": "presence",
        "user_id": user.pk,
        "name": user.name,
        "online": online,
        "status": user.agent_status,
    }


@transaction.atomic
def register_connection(*, user: User, channel_name: str) -> Presence:
    """A socket opened; the user's first one makes them online for supervisors."""
    was_online = Presence.objects.filter(
        user=user, last_seen_at__gte=timezone.now() - PRESENCE_TIMEOUT
    ).exists()
    presence, _created = Presence.objects.update_or_create(
        channel_name=channel_name,
        defaults={"user": user, "last_seen_at": timezone.now()},
    )
    if not was_online:
        publish_on_commit(SUPERVISORS_GROUP, _presence_event(user, True))
    return presence


def touch_connection(*, channel_name: str) -> None:
    Presence.objects.filter(channel_name=channel_name).update(last_seen_at=timezone.now())


@transaction.atomic
def unregister_connection(*, channel_name: str) -> None:
    """A socket closed; the user's last one makes them offline for supervisors."""
    presence = Presence.objects.select_related("user").filter(channel_name=channel_name).first()
    if presence is None:
        return
    presence.delete()
    if not Presence.objects.filter(user=presence.user_id).exists():
        publish_on_commit(SUPERVISORS_GROUP, _presence_event(presence.user, False))


@transaction.atomic
def sweep_stale_presence() -> int:
    """Drop sockets not heard from in a while (a crashed process never says goodbye)."""
    cutoff = timezone.now() - PRESENCE_TIMEOUT
    stale = list(Presence.objects.filter(last_seen_at__lt=cutoff).values_list("user_id", flat=True))
    if not stale:
        return 0
    deleted, _detail = Presence.objects.filter(last_seen_at__lt=cutoff).delete()
    still_online = set(Presence.objects.filter(user_id__in=stale).values_list("user_id", flat=True))
    for user in User.objects.filter(pk__in=set(stale) - still_online):
        publish_on_commit(SUPERVISORS_GROUP, _presence_event(user, False))
    return deleted
