"""Who may do what with a ticket. Services check these; views and the API only show the result.

The rule (documented here, applied everywhere):
- every active staff member sees tickets, creates them and writes notes on them (collaboration:
  anyone may leave a note or follow a ticket);
- changing a ticket (fields, stage, escalation, owner, close/reopen, links) is for an admin or a
  supervisor, the ticket's owner, a member of the ticket's team, or anyone while the ticket is
  unclaimed (no owner and no team) — so a new ticket can be picked up;
- pipelines and stages are configured by admins.
"""

import rules

from atiende.users.rules import is_admin, is_staff_member, is_supervisor


@rules.predicate
def is_owner(user, ticket) -> bool:
    return ticket is not None and ticket.owner_id is not None and ticket.owner_id == user.pk


@rules.predicate
def in_ticket_team(user, ticket) -> bool:
    return (
        ticket is not None
        and ticket.team_id is not None
        and user.teams.filter(pk=ticket.team_id).exists()
    )


@rules.predicate
def is_unclaimed(user, ticket) -> bool:
    return ticket is not None and ticket.owner_id is None and ticket.team_id is None


works_ticket = is_staff_member & (
    is_admin | is_supervisor | is_owner | in_ticket_team | is_unclaimed
)

rules.add_perm("tickets.view_ticket", is_staff_member)
rules.add_perm("tickets.add_ticket", is_staff_member)
rules.add_perm("tickets.note_ticket", is_staff_member)
rules.add_perm("tickets.follow_ticket", is_staff_member)
rules.add_perm("tickets.change_ticket", works_ticket)
rules.add_perm("tickets.manage_pipelines", is_admin)
