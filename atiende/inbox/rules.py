"""Who sees and works a conversation. Agents see their teams' and their own (or all, by setting)."""

import rules
from django.conf import settings

from atiende.users.rules import is_admin, is_staff_member, is_supervisor


@rules.predicate
def sees_conversation(user, conversation) -> bool:
    if conversation is None:
        return False
    if conversation.assignee_id == user.pk or settings.ATIENDE_INBOX_AGENT_SCOPE == "all":
        return True
    return conversation.team_id is not None and user.teams.filter(pk=conversation.team_id).exists()


@rules.predicate
def holds_or_unassigned(user, conversation) -> bool:
    return conversation is not None and conversation.assignee_id in (None, user.pk)


@rules.predicate
def manages_team(user, team) -> bool:
    return team is not None and user.teams.filter(pk=team.pk).exists()


rules.add_perm("inbox.view_inbox", is_staff_member)
rules.add_perm(
    "inbox.view_conversation", is_staff_member & (is_admin | is_supervisor | sees_conversation)
)
rules.add_perm(
    "inbox.reply_conversation", is_staff_member & (is_admin | is_supervisor | sees_conversation)
)
rules.add_perm(
    "inbox.transfer_conversation",
    is_staff_member & (is_admin | is_supervisor | (sees_conversation & holds_or_unassigned)),
)
rules.add_perm("inbox.start_conversation", is_staff_member)
rules.add_perm("inbox.manage_canned_responses", is_admin | is_supervisor)
rules.add_perm("inbox.manage_channels", is_admin)
