//! The export component: `GET /v1/export` streams the whole live graph — every entity, then
//! every relationship between exported entities — as NDJSON, GraphML or JSON-LD, read from one
//! snapshot a page at a time, so memory stays flat however large the graph (SPEC §4
//! "Retrieval, history, bulk"). For an admin or an API key with the `export` scope.
//!
//! Everything that can fail before the first byte (credentials, scope, parameters, the
//! database) is a problem+json answer like any other component's. After the head is sent a
//! failure cannot change the status: the body stops where it is, without the document's end
//! (NDJSON's end line, which counts what was written; GraphML's closing tags; JSON-LD's closing
//! brackets), so a reader can always tell a cut export from a whole one. Spin and our host both
//! end a body whose writer is gone as a finished one, so the end is what tells.

pub mod document;
pub mod format;
pub mod input;
pub mod snapshot;
pub mod sql;

use futures::SinkExt;
use serde_json::json;
use spin_sdk::http::{OutgoingResponse, Request, Response, ResponseOutparam};
use spingraph_authn_client::{Principal, Scope, require_scope_or_admin, signed_in};
use spingraph_guest::audit::Audit;
use spingraph_guest::db::Db;
use spingraph_guest::history::AsOf;
use spingraph_guest::routes::{Route, Routes};
use spingraph_guest::{ApiError, Ctx, Reply, Result, respond};

use crate::document::Document;
use crate::input::ExportRequest;
use crate::snapshot::Snapshot;

/// The component's one route.
pub static ROUTES: Routes<()> = Routes::new(&[Route::new("GET", "/v1/export", ())]);

/// An export whose head is ready to send: its snapshot and where it is in the document.
struct Started {
    snapshot: Snapshot,
    document: Document,
}

// Exported only on wasm: natively (unit tests, the OpenAPI test reading `ROUTES`) the export's
// `wasi:http/...` symbol name is not valid in a linker version script.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
async fn handle(req: Request, out: ResponseOutparam) {
    let ctx = Ctx::from_request("export", &req);
    let mut started = None;
    let reply = respond(&ctx, &req, |ctx, req| start(ctx, req, &mut started));
    let response = reply.into_response(&ctx.request_id);
    match started {
        Some(started) => stream(&ctx, response, started, out).await,
        None => send_whole(&ctx, response, out).await,
    }
}

/// Who may export: an admin, or an API key holding `export`.
pub fn require_exporter(p: &Principal) -> Result<()> {
    require_scope_or_admin(p, Scope::Export, "Exporting the graph")
}

/// Authenticate, check the route, the scope and the parameters, write the audit row and open
/// the snapshot; the reply is the head of the answer (its status and headers).
fn start(ctx: &Ctx, req: &Request, started: &mut Option<Started>) -> Result<Reply> {
    signed_in(ctx, req, |p| {
        ROUTES.route(ctx)?;
        require_exporter(p)?;
        let request = ExportRequest::parse(&ctx.query_pairs())?;
        let db = Db::connect(ctx)?;
        if let Some(t) = &request.as_of {
            t.check(ctx, &db)?;
        }
        let actor = p.user_id.to_string();
        snapshot::audit(&db, &Audit::by(ctx, &actor), &request)?;
        let snapshot = Snapshot::open(db, &request)?;
        let document = Document::new(request.format, &snapshot.taken_at, request.types.as_deref())
            .as_of(request.as_of.as_ref().map(AsOf::instant));
        *started = Some(Started { snapshot, document });
        let disposition = format!("attachment; filename=\"{}\"", request.format.file_name());
        Ok(Reply::empty(200)
            .header("content-type", request.format.content_type())
            .header("content-disposition", &disposition)
            .header("cache-control", "no-store"))
    })
}

/// Send `response` (an error, or a head with no export behind it) as it is.
async fn send_whole(ctx: &Ctx, mut response: Response, out: ResponseOutparam) {
    let body = std::mem::take(response.body_mut());
    match OutgoingResponse::try_from(response) {
        Ok(head) => {
            if let Err(e) = out.set_with_body(head, body).await {
                ctx.info("client went away", json!({"error": format!("{e:?}")}));
            }
        }
        Err(e) => ctx.error(
            "cannot send the response",
            json!({"error": format!("{e:#}")}),
        ),
    }
}

/// Send the head, then the document page by page; each page waits until the client has taken
/// the one before (the body is a bounded stream), so a slow reader slows the export, never
/// grows it in memory.
async fn stream(ctx: &Ctx, response: Response, started: Started, out: ResponseOutparam) {
    let Started {
        mut snapshot,
        mut document,
    } = started;
    let head = match OutgoingResponse::try_from(response) {
        Ok(head) => head,
        Err(e) => {
            ctx.error(
                "cannot send the response",
                json!({"error": format!("{e:#}")}),
            );
            return;
        }
    };
    let mut body = head.take_body();
    out.set(head);
    loop {
        let chunk = match document.next_chunk(&mut snapshot) {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return failed(ctx, &e, document.counts()),
        };
        if let Err(e) = body.send(chunk.into_bytes()).await {
            ctx.info(
                "export stopped: the client went away",
                json!({"error": format!("{e:?}"), "written": document.counts()}),
            );
            return;
        }
    }
    if let Err(e) = snapshot.close() {
        // Every page was read and sent: the export is whole; only the read-only transaction's
        // end failed (the session is closed with the instance).
        ctx.warn(
            "closing the export's snapshot failed",
            json!({"error": e.internal_detail()}),
        );
    }
    ctx.info("export written", json!({"written": document.counts()}));
}

/// A failure after the head: log it and stop writing; the body ends without the document's end.
fn failed(ctx: &Ctx, err: &ApiError, counts: document::Counts) {
    ctx.error(
        "export failed after its head was sent; the body ends without its end",
        json!({"status": err.status(), "error": err.internal_detail(), "written": counts}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_identity::{Credential, Role};

    #[test]
    fn only_get_is_served_and_other_paths_are_not_found() {
        ROUTES.assert_allow(
            "POST /v1/export -> GET
             HEAD /v1/export -> GET",
        );
        assert_eq!(
            ROUTES.find("GET", "/v1/export/x").unwrap_err().status(),
            404
        );
    }

    #[test]
    fn an_admin_or_the_export_scope_may_export_and_no_one_else() {
        let admin = Principal::for_tests(Role::Admin, Credential::Bearer, Role::Admin.scopes());
        let user = Principal::for_tests(Role::User, Credential::Bearer, Role::User.scopes());
        let export_key = Principal::for_tests(Role::Admin, Credential::ApiKey, &[Scope::Export]);
        let read_key =
            Principal::for_tests(Role::Admin, Credential::ApiKey, &[Scope::EntitiesRead]);
        assert!(require_exporter(&admin).is_ok());
        assert!(require_exporter(&export_key).is_ok());
        assert_eq!(require_exporter(&user).unwrap_err().status(), 403);
        assert_eq!(require_exporter(&read_key).unwrap_err().status(), 403);
    }
}
