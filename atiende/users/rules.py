"""Role predicates. Services check them (`core.permissions.require`): no caller skips them."""

import rules

from atiende.users.models import Role


@rules.predicate
def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and (
        user.role == Role.ADMIN or user.is_superuser
    )


@rules.predicate
def is_supervisor(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and user.role == Role.SUPERVISOR


@rules.predicate
def is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


@rules.predicate
def is_self(user, target) -> bool:
    return target is not None and user.pk == target.pk


rules.add_perm("users.manage_users", is_admin)
rules.add_perm("users.manage_teams", is_admin)
rules.add_perm("users.view_users", is_admin | is_supervisor)
rules.add_perm("users.view_presence", is_admin | is_supervisor)
rules.add_perm("users.change_agent_status", is_staff_member & (is_self | is_admin | is_supervisor))
rules.add_perm("users.manage_own_tokens", is_staff_member)
