"""Who may do what with a contact. Services check these; views and the API only show the result."""

import rules

from atiende.users.rules import is_admin, is_staff_member, is_supervisor


@rules.predicate
def is_assigned_user(user, contact) -> bool:
    return (
        contact is not None
        and contact.assigned_to_id is not None
        and contact.assigned_to_id == user.pk
    )


@rules.predicate
def has_no_assigned_user(user, contact) -> bool:
    return contact is not None and contact.assigned_to_id is None


rules.add_perm("contacts.view_contact", is_staff_member)
rules.add_perm("contacts.change_contact", is_staff_member)
# Sagicc's rule: only an admin or the assigned user changes or removes the assignment.
rules.add_perm(
    "contacts.assign_contact",
    is_staff_member & (is_admin | is_assigned_user | (has_no_assigned_user & is_supervisor)),
)
rules.add_perm("contacts.delete_contact", is_admin | is_supervisor)
rules.add_perm("contacts.merge_contacts", is_admin | is_supervisor)
rules.add_perm("contacts.import_contacts", is_admin | is_supervisor)
rules.add_perm("contacts.export_contacts", is_admin | is_supervisor)
rules.add_perm("contacts.manage_fields", is_admin)
