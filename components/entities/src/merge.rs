//! `POST /v1/entities/{id}/merge`: fold duplicates into one entity. Who may learn what, in
//! order ([`involved`], which unmerge shares): a deleted or merged entity the caller may not
//! change answers as a missing id does; then ownership (403); then the relationships that would
//! move (409 when others' are among them and the caller is no admin, see [`store::merge`]).

use serde_json::Value;
use spingraph_guest::audit::Audit;
use spingraph_guest::body::DEFAULT_LIMIT;
use spingraph_guest::db::Db;
use spingraph_guest::routes::Call;
use spingraph_guest::{ApiError, Reply, Result};
use spingraph_guest::{record, validate};
use spingraph_identity::Principal;

use crate::entity::{entity_id, not_found, with_etag};
use crate::input::{self, MergeMetadata};
use crate::store::Entity;
use crate::{access, store};

/// `entity` as `p` may learn of it: a deleted (or merged) entity only when `p` may change it
/// (its owner, or an admin). To anyone else it is missing, so the answers of a merge or unmerge
/// are no oracle for soft-deleted or merged ids.
fn known<'e>(p: &Principal, entity: Option<&'e Entity>) -> Option<&'e Entity> {
    entity.filter(|e| !e.is_deleted() || access::may_modify(p, &e.owner_id))
}

/// The entities of a merge or unmerge (`op`) of `from` into `id`, from `locked`: the live
/// survivor and the `from` entities, every one the caller's to change. In order: a survivor
/// missing to `p` (see [`known`]) is a 404, a deleted one what `gone` says; then a survivor the
/// caller may not change is a 403; then each `from[i]` missing to `p`, or what `unfit` names
/// wrong with it, is a 422; then one the caller may not change a 403.
pub(crate) fn involved<'e>(
    p: &Principal,
    locked: &'e [Entity],
    id: &str,
    from: &[String],
    op: &str,
    gone: impl Fn(&Entity) -> ApiError,
    unfit: impl Fn(&Entity) -> Option<String>,
) -> Result<(&'e Entity, Vec<&'e Entity>)> {
    let find = |wanted: &str| known(p, locked.iter().find(|e| e.id == wanted));
    let forbidden = || {
        ApiError::forbidden(format!(
            "Only an admin, or the owner of every entity involved, may {op} them."
        ))
    };
    let survivor = find(id).ok_or_else(|| not_found(id))?;
    if survivor.is_deleted() {
        return Err(gone(survivor));
    }
    if !access::may_modify(p, &survivor.owner_id) {
        return Err(forbidden());
    }
    let mut errors = validate::Errors::new();
    let mut entities = Vec::new();
    let mut others = false;
    for (i, wanted) in from.iter().enumerate() {
        match find(wanted) {
            None => errors.push(format!("from[{i}]"), "no such entity"),
            Some(e) => match unfit(e) {
                Some(wrong) => errors.push(format!("from[{i}]"), wrong),
                None if !access::may_modify(p, &e.owner_id) => others = true,
                None => entities.push(e),
            },
        }
    }
    errors.into_result()?;
    if others {
        return Err(forbidden());
    }
    Ok((survivor, entities))
}

/// `POST /{id}/merge` → 200 with the survivor: the entities of `from` are folded into `id` in
/// one transaction (see [`store::merge`]); the caller must own every one of them, or be an
/// admin, and only an admin's merge may move or delete other users' relationships.
pub fn merge(c: &Call, p: &Principal, db: &Db) -> Result<Reply> {
    access::require_write(p)?;
    let id = entity_id(c.param("id"))?;
    let request = input::parse_merge(validate::json_value(c.req, DEFAULT_LIMIT)?, &id)?;
    let actor = p.user_id.to_string();
    db.transaction(|db| {
        let mut ids = request.from.clone();
        ids.push(id.clone());
        let locked = store::lock(db, &ids)?;
        let gone = |survivor: &Entity| match &survivor.merged_into {
            Some(into) => ApiError::conflict(format!(
                "Entity {id} was merged into {into}; merge into that one."
            )),
            None => not_found(&id),
        };
        let unfit = |e: &Entity| match &e.merged_into {
            Some(into) => Some(format!("was already merged into {into}")),
            None if e.is_deleted() => Some("is deleted".to_string()),
            None => None,
        };
        let (survivor, victims) = involved(p, &locked, &id, &request.from, "merge", gone, unfit)?;
        let metadata = match request.metadata {
            MergeMetadata::Keep => None,
            MergeMetadata::Merge => {
                let mut merged = serde_json::Map::new();
                for e in victims
                    .iter()
                    .rev()
                    .copied()
                    .chain(std::iter::once(survivor))
                {
                    merged.extend(e.metadata.clone());
                }
                let mut errors = validate::Errors::new();
                let checked = record::metadata(&mut errors, "metadata", &Value::Object(merged));
                errors.into_result()?;
                checked
            }
        };
        let entity = store::merge(
            db,
            &Audit::by(c.ctx, &actor),
            p.is_admin(),
            &id,
            &request.from,
            metadata.as_ref(),
            request.metadata.as_str(),
        )?;
        Ok(with_etag(Reply::ok(&entity), &entity))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spingraph_identity::{Credential, Role};

    fn entity(owner: &str, deleted: bool, merged_into: Option<&str>) -> Entity {
        let mut e = json!({
            "confidence": 1, "created_at": "t", "external_id": null, "id": "e", "metadata": {},
            "name": "n", "owner_id": owner, "type": "t", "updated_at": "t", "version": 2,
        });
        if deleted {
            e["deleted_at"] = json!("t");
            e["deleted_by"] = json!(owner);
        }
        if let Some(into) = merged_into {
            e["merged_into"] = json!(into);
        }
        serde_json::from_value(e).unwrap()
    }

    #[test]
    fn a_deleted_or_merged_entity_is_known_only_to_who_may_change_it() {
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        let me = user.user_id.to_string();
        let other = uuid::Uuid::now_v7().to_string();
        for (owner, deleted, merged, user_knows) in [
            (&me, false, None, true),
            (&me, true, None, true),
            (&me, true, Some("s"), true),
            (&other, false, None, true),
            (&other, true, None, false),
            (&other, true, Some("s"), false),
        ] {
            let e = entity(owner, deleted, merged);
            let case = format!(
                "owner is me: {}, deleted {deleted}, merged {merged:?}",
                owner == &me
            );
            assert_eq!(known(&user, Some(&e)).is_some(), user_knows, "{case}");
            assert!(known(&admin, Some(&e)).is_some(), "{case}");
        }
        assert!(known(&user, None).is_none());
    }
}
