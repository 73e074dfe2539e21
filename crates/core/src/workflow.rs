//! The editorial workflow: which status changes exist, and which role may make them.
//! `draft → in_review → scheduled → published → unpublished`, and back to draft. Checked on
//! the server for every save, whatever the form offered.

use crate::account::{Action, Role};
use crate::error::Error;
use crate::item::ItemStatus;

/// Whether `from → to` is a step of the workflow at all (`None`: a new item).
pub fn exists(from: Option<ItemStatus>, to: ItemStatus) -> bool {
    use ItemStatus::*;
    match from {
        None => matches!(to, Draft | InReview | Scheduled | Published),
        Some(Draft) => matches!(to, Draft | InReview | Scheduled | Published),
        Some(InReview) => matches!(to, InReview | Draft | Scheduled | Published),
        Some(Scheduled) => matches!(to, Scheduled | Draft | Published),
        Some(Published) => matches!(to, Published | Unpublished),
        Some(Unpublished) => matches!(to, Unpublished | Draft | Published),
    }
}

/// Checks a save by `role` that moves an item from `from` to `to`. `own` says whether the
/// person wrote the item: contributors work only on their own drafts and submissions.
pub fn check(role: Role, own: bool, from: Option<ItemStatus>, to: ItemStatus) -> Result<(), Error> {
    if !exists(from, to) {
        return Err(Error::Transition {
            from: from.map_or("new", ItemStatus::as_str),
            to: to.as_str(),
        });
    }
    let needed = match to {
        ItemStatus::Published if from == Some(ItemStatus::Published) => Action::EditAnyItem,
        ItemStatus::Published => Action::Publish,
        ItemStatus::Scheduled => Action::Schedule,
        ItemStatus::Unpublished => Action::Unpublish,
        ItemStatus::InReview => Action::SubmitForReview,
        ItemStatus::Draft => Action::WriteOwnDrafts,
    };
    let touches_others_work =
        !own || matches!(from, Some(s) if !matches!(s, ItemStatus::Draft | ItemStatus::InReview));
    let allowed = role.may(needed) && (!touches_others_work || role.may(Action::EditAnyItem));
    if allowed {
        Ok(())
    } else {
        Err(Error::Forbidden {
            role: role.as_str(),
            what: match to {
                ItemStatus::Published => "publish",
                ItemStatus::Scheduled => "schedule",
                ItemStatus::Unpublished => "unpublish",
                _ if touches_others_work => "edit someone else's item or a published one",
                _ => "edit items",
            },
        })
    }
}

/// Whether `role` may delete an item now in `status` (written by them when `own`): writers
/// their own drafts, editors any. Whether it was ever public is the service's to refuse.
pub fn check_delete(role: Role, own: bool, status: ItemStatus) -> Result<(), Error> {
    let own_draft = own && matches!(status, ItemStatus::Draft | ItemStatus::InReview);
    if role.may(Action::EditAnyItem) || (own_draft && role.may(Action::WriteOwnDrafts)) {
        Ok(())
    } else {
        Err(Error::Forbidden {
            role: role.as_str(),
            what: "delete this item",
        })
    }
}

/// How the audit log names a save that moved an item from `from` to `to`.
pub fn audit_action(from: Option<ItemStatus>, to: ItemStatus) -> &'static str {
    use ItemStatus::*;
    match (from, to) {
        (None, Draft) => "created a draft",
        (None, InReview) | (Some(_), InReview) if from != Some(InReview) => "submitted for review",
        (_, Scheduled) if from != Some(Scheduled) => "scheduled",
        (_, Published) if from != Some(Published) => "published",
        (_, Unpublished) if from != Some(Unpublished) => "unpublished",
        (Some(_), Draft) if from != Some(Draft) => "sent back to draft",
        (Some(Published), Published) => "updated the published item",
        _ => "edited",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_delete_their_own_drafts_and_editors_any_item() {
        use ItemStatus::*;
        for (role, own, status, allowed) in [
            (Role::Contributor, true, Draft, true),
            (Role::Contributor, true, InReview, true),
            (Role::Contributor, true, Scheduled, false),
            (Role::Contributor, false, Draft, false),
            (Role::Moderator, true, Draft, false),
            (Role::Editor, false, Unpublished, true),
            (Role::Admin, false, Scheduled, true),
        ] {
            assert_eq!(
                check_delete(role, own, status).is_ok(),
                allowed,
                "{role:?} own={own} {status:?}"
            );
        }
    }
    use ItemStatus::*;

    const ALL: [ItemStatus; 5] = [Draft, InReview, Scheduled, Published, Unpublished];

    #[test]
    fn every_role_and_transition_is_decided_as_the_newsroom_expects() {
        for from in std::iter::once(None).chain(ALL.map(Some)) {
            for to in ALL {
                for role in Role::ALL {
                    for own in [true, false] {
                        let got = check(role, own, from, to).is_ok();
                        let expected = exists(from, to)
                            && match role {
                                Role::Admin | Role::Editor => true,
                                Role::Moderator => false,
                                Role::Contributor => {
                                    own && matches!(to, Draft | InReview)
                                        && matches!(from, None | Some(Draft) | Some(InReview))
                                }
                            };
                        assert_eq!(got, expected, "{role:?} own={own} {from:?} -> {to:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_audit_log_names_what_a_save_did() {
        assert_eq!(audit_action(None, Draft), "created a draft");
        assert_eq!(audit_action(Some(Draft), InReview), "submitted for review");
        assert_eq!(audit_action(Some(InReview), Published), "published");
        assert_eq!(
            audit_action(Some(Published), Published),
            "updated the published item"
        );
        assert_eq!(audit_action(Some(Published), Unpublished), "unpublished");
        assert_eq!(audit_action(Some(Scheduled), Draft), "sent back to draft");
        assert_eq!(audit_action(Some(Draft), Draft), "edited");
    }

    #[test]
    fn impossible_steps_are_named() {
        assert_eq!(
            check(Role::Admin, true, Some(Published), Draft),
            Err(Error::Transition {
                from: "published",
                to: "draft"
            })
        );
        assert_eq!(
            check(Role::Contributor, true, Some(Draft), Published),
            Err(Error::Forbidden {
                role: "contributor",
                what: "publish"
            })
        );
    }
}
