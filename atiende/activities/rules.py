"""Who may change an activity: its author or assignee, or an admin or supervisor."""

import rules

from atiende.users.rules import is_admin, is_staff_member, is_supervisor


@rules.predicate
def is_author(user, activity) -> bool:
    author_id = getattr(activity, "author_id", None) or getattr(activity, "created_by_id", None)
    return activity is not None and author_id == user.pk


@rules.predicate
def is_assignee(user, activity) -> bool:
    return activity is not None and getattr(activity, "assignee_id", None) == user.pk


rules.add_perm("activities.change_note", is_staff_member & (is_author | is_admin | is_supervisor))
rules.add_perm(
    "activities.change_task", is_staff_member & (is_author | is_assignee | is_admin | is_supervisor)
)
