//! Who may do what inside an organization: one pure function, tested over every pair.
//!
//! Membership itself (is the caller in the organization at all?) is checked before this, and
//! non-members get 404. The "at least one owner" invariant is not a permission: it depends on
//! the other members and is enforced in the store, inside the transaction that changes roles.

use crate::role::Role;

/// Something a member asks to do in their organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the organization.
    ViewOrganization,
    /// Change its name or slug.
    UpdateOrganization,
    /// Delete it with everything it owns.
    DeleteOrganization,
    /// List its members.
    ViewMembers,
    /// Add an existing user with the given role.
    AddMember {
        /// The role the new member would get.
        role: Role,
    },
    /// Remove a member.
    RemoveMember {
        /// The role of the member being removed.
        target: Role,
        /// Whether callers are removing themselves.
        is_self: bool,
    },
    /// Change a member's role.
    ChangeRole {
        /// The member's current role.
        from: Role,
        /// The role asked for.
        to: Role,
    },
    /// Read the organization's audit log.
    ViewAuditLog,
}

/// The role does not allow the action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("your role in this organization does not allow this")]
pub struct Denied;

/// Decides whether a member with `role` may perform `action`.
pub fn authorize(role: Role, action: Action) -> Result<(), Denied> {
    let allowed = match action {
        Action::ViewOrganization | Action::ViewMembers => true,
        Action::UpdateOrganization | Action::ViewAuditLog => role >= Role::Admin,
        Action::DeleteOrganization => role == Role::Owner,
        // Only an owner may create another owner.
        Action::AddMember { role: granted } => match role {
            Role::Owner => true,
            Role::Admin => granted != Role::Owner,
            Role::Member => false,
        },
        // Anyone may leave; admins may remove anyone but owners.
        Action::RemoveMember { target, is_self } => {
            is_self
                || match role {
                    Role::Owner => true,
                    Role::Admin => target != Role::Owner,
                    Role::Member => false,
                }
        }
        // Admins move people between member and admin only, and never touch an owner.
        Action::ChangeRole { from, to } => match role {
            Role::Owner => true,
            Role::Admin => from != Role::Owner && to != Role::Owner,
            Role::Member => false,
        },
    };
    if allowed { Ok(()) } else { Err(Denied) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Admin, Member, Owner};

    /// Every action the API can ask for, with every combination of its parameters.
    fn every_action() -> Vec<Action> {
        let mut actions = vec![
            Action::ViewOrganization,
            Action::UpdateOrganization,
            Action::DeleteOrganization,
            Action::ViewMembers,
            Action::ViewAuditLog,
        ];
        for role in Role::ALL {
            actions.push(Action::AddMember { role });
            for is_self in [false, true] {
                actions.push(Action::RemoveMember {
                    target: role,
                    is_self,
                });
            }
            for to in Role::ALL {
                actions.push(Action::ChangeRole { from: role, to });
            }
        }
        actions
    }

    /// The permission table, written out by hand: (caller, action, allowed).
    fn expected(caller: Role, action: Action) -> bool {
        use Action::*;
        match (caller, action) {
            (_, ViewOrganization | ViewMembers) => true,
            (Owner | Admin, UpdateOrganization | ViewAuditLog) => true,
            (Member, UpdateOrganization | ViewAuditLog) => false,
            (Owner, DeleteOrganization) => true,
            (Admin | Member, DeleteOrganization) => false,

            (Owner, AddMember { .. }) => true,
            (
                Admin,
                AddMember {
                    role: Member | Admin,
                },
            ) => true,
            (Admin, AddMember { role: Owner }) => false,
            (Member, AddMember { .. }) => false,

            (_, RemoveMember { is_self: true, .. }) => true,
            (Owner, RemoveMember { .. }) => true,
            (
                Admin,
                RemoveMember {
                    target: Member | Admin,
                    ..
                },
            ) => true,
            (Admin, RemoveMember { target: Owner, .. }) => false,
            (Member, RemoveMember { .. }) => false,

            (Owner, ChangeRole { .. }) => true,
            (
                Admin,
                ChangeRole {
                    from: Member | Admin,
                    to: Member | Admin,
                },
            ) => true,
            (Admin, ChangeRole { .. }) => false,
            (Member, ChangeRole { .. }) => false,
        }
    }

    #[test]
    fn every_role_and_action_pair_matches_the_table() {
        let actions = every_action();
        assert_eq!(actions.len(), 5 + 3 + 6 + 9);
        for caller in Role::ALL {
            for &action in &actions {
                assert_eq!(
                    authorize(caller, action).is_ok(),
                    expected(caller, action),
                    "{caller} {action:?}"
                );
            }
        }
    }

    #[test]
    fn an_admin_cannot_promote_anyone_to_owner() {
        assert_eq!(
            authorize(
                Admin,
                Action::ChangeRole {
                    from: Admin,
                    to: Owner
                }
            ),
            Err(Denied)
        );
        assert_eq!(
            authorize(Admin, Action::AddMember { role: Owner }),
            Err(Denied)
        );
    }

    #[test]
    fn a_member_may_leave_but_not_remove_others() {
        let leave = Action::RemoveMember {
            target: Member,
            is_self: true,
        };
        assert!(authorize(Member, leave).is_ok());
        let remove_other = Action::RemoveMember {
            target: Member,
            is_self: false,
        };
        assert_eq!(authorize(Member, remove_other), Err(Denied));
    }
}
