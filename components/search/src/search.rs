//! `POST /v1/search`: the entities nearest a vector and best matching a text, fused into one
//! ranking by reciprocal rank (RRF), within the caller's sight and the request's filters, and
//! with `expand` the subgraph around the hits (walked as `GET /v1/graph/neighbors` walks). One
//! transaction: the lists, the documents and the walk read one snapshot.

use std::collections::HashMap;

use serde_json::{Value, json};
use spingraph_authn_client::Principal;
use spingraph_guest::body;
use spingraph_guest::db::Db;
use spingraph_guest::routes::Call;
use spingraph_guest::validate;
use spingraph_guest::{ApiError, Reply, Result};

use crate::access;
use crate::input::{self, SearchRequest};
use crate::store::{self, Candidate};

/// RRF's constant: `score = Σ 1 / (K + rank)`, rank from 1 (Cormack, Clarke and Büttcher,
/// 2009). It damps the weight of the very top ranks, so an entity high in both lists outranks
/// one first in a single list.
pub const RRF_K: f64 = 60.0;

/// One fused hit before its document is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    pub id: String,
    pub score: f64,
    pub vector_rank: Option<usize>,
    pub vector_distance: Option<f64>,
    pub text_rank_position: Option<usize>,
    pub text_rank: Option<f64>,
}

/// Reciprocal-rank fusion of the vector list and the text list (each best first): the `limit`
/// best by score, ties by id.
pub fn fuse(vector: &[Candidate], text: &[Candidate], limit: usize) -> Vec<Fused> {
    let mut by_id: HashMap<&str, Fused> = HashMap::new();
    for (i, c) in vector.iter().enumerate() {
        let h = slot(&mut by_id, &c.id);
        h.vector_rank = Some(i + 1);
        h.vector_distance = Some(c.measure);
        h.score += 1.0 / (RRF_K + (i + 1) as f64);
    }
    for (i, c) in text.iter().enumerate() {
        let h = slot(&mut by_id, &c.id);
        h.text_rank_position = Some(i + 1);
        h.text_rank = Some(c.measure);
        h.score += 1.0 / (RRF_K + (i + 1) as f64);
    }
    let mut fused: Vec<Fused> = by_id.into_values().collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    fused.truncate(limit);
    fused
}

fn slot<'a, 'm>(by_id: &'m mut HashMap<&'a str, Fused>, id: &'a str) -> &'m mut Fused {
    by_id.entry(id).or_insert_with(|| Fused {
        id: id.to_string(),
        score: 0.0,
        vector_rank: None,
        vector_distance: None,
        text_rank_position: None,
        text_rank: None,
    })
}

/// `POST /v1/search`: `{hits, fusion, graph?}`.
pub fn search(c: &Call, p: &Principal) -> Result<Reply> {
    access::require_read(p)?;
    let body = validate::json_object(c.req, body::DEFAULT_LIMIT)?;
    let req = input::parse_search(&body)?;
    if req.expand.is_some() {
        access::require_expand(p)?;
    }
    let db = Db::connect(c.ctx)?;
    let answer = db.transaction(|db| answer(db, &req))?;
    Ok(Reply::ok(&answer))
}

fn answer(db: &Db, req: &SearchRequest) -> Result<Value> {
    let candidates = req.candidates();
    let vector_list = match (&req.vector, &req.space) {
        (Some(vector), Some(name)) => {
            let space = store::space_definition(db, name)?
                .ok_or_else(|| ApiError::invalid("space", format!("no embedding space {name}")))?;
            let text = input::check_vector("vector", vector, space.dimensions, space.distance()?)?;
            store::nearest(db, &space, &text, &req.filter, candidates)?
        }
        _ => Vec::new(),
    };
    let text_list = match &req.text {
        Some(text) => store::matching(db, text, &req.filter, candidates)?,
        None => Vec::new(),
    };
    let fused = fuse(&vector_list, &text_list, req.limit as usize);
    let ids: Vec<&str> = fused.iter().map(|h| h.id.as_str()).collect();
    let documents = store::entities(db, &ids)?;
    let hits: Vec<Value> = fused
        .iter()
        .map(|h| {
            json!({
                "entity": documents.get(&h.id).cloned().unwrap_or(Value::Null),
                "score": h.score,
                "vector_distance": h.vector_distance,
                "text_rank": h.text_rank,
                "vector_rank": h.vector_rank,
                "text_rank_position": h.text_rank_position,
            })
        })
        .collect();
    let mut answer = json!({
        "hits": hits,
        "fusion": {"method": "rrf", "k": RRF_K as i64},
    });
    if let Some(expand) = &req.expand {
        answer["graph"] = store::expand(db, &ids, expand)?;
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(&str, f64)]) -> Vec<Candidate> {
        items
            .iter()
            .map(|(id, measure)| Candidate {
                id: id.to_string(),
                measure: *measure,
            })
            .collect()
    }

    #[test]
    fn an_entity_in_both_lists_outranks_the_top_of_either() {
        // vector: a b c; text: d c a. a = 1/61 + 1/63, c = 1/63 + 1/62, b = 1/62, d = 1/61.
        let vector = list(&[("a", 0.1), ("b", 0.2), ("c", 0.3)]);
        let text = list(&[("d", 0.9), ("c", 0.5), ("a", 0.4)]);
        let fused = fuse(&vector, &text, 10);
        let order: Vec<&str> = fused.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(order, vec!["a", "c", "d", "b"]);
        let a = &fused[0];
        assert_eq!(a.score, 1.0 / 61.0 + 1.0 / 63.0);
        assert_eq!((a.vector_rank, a.text_rank_position), (Some(1), Some(3)));
        assert_eq!((a.vector_distance, a.text_rank), (Some(0.1), Some(0.4)));
        let d = &fused[2];
        assert_eq!((d.vector_rank, d.vector_distance), (None, None));
    }

    #[test]
    fn ties_go_by_id_and_the_limit_cuts_after_the_sort() {
        let vector = list(&[("y", 0.1)]);
        let text = list(&[("x", 0.9)]);
        let fused = fuse(&vector, &text, 1);
        assert_eq!(fused.len(), 1);
        assert_eq!(fused[0].id, "x");
        assert!(fuse(&[], &[], 10).is_empty());
    }
}
