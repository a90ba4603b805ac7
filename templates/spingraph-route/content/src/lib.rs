{%- assign name = project-name | kebab_case -%}
//! {{ project-description }}: the {{ name }} component, made from the
//! `spingraph-route` template. `GET /v1/{{ name }}/hello` answers who is calling.
//!
//! Every request is authenticated first, through the `authn` component dependency
//! (`spingraph_authn_client::signed_in`): no or bad credentials are a 401, a client past its
//! failed-authentication limit or a principal past its api rate limit a 429, authn's Postgres or
//! Redis down a 503, each problem+json with the `RateLimit-*` headers, as on every spingraph
//! route. Then the route's rule: an API key without [`SCOPE`] is a 403. Add a route as a row of
//! [`ROUTES`] and a function below; a handler returns `Err(ApiError::...)` with `?`, never a
//! hand-made error response.

use serde_json::{Value, json};
use spin_sdk::http::Request;
use spingraph_authn_client::{Principal, Scope, require_scope, signed_in};
use spingraph_guest::routes::{Route, Routes};
use spingraph_guest::{Ctx, Reply, Result};
#[cfg(target_arch = "wasm32")]
use {spin_sdk::http::Response, spingraph_guest::serve};

/// The component's name in spin.toml (logs).
pub const COMPONENT: &str = "{{ name }}";

/// What an API key must hold to be answered here. Bearer tokens and session cookies hold every
/// scope of their user's role (`Role::scopes`).
pub const SCOPE: Scope = Scope::{{ scope | pascal_case }};

/// A route's handler: the signed-in caller in, the answer out.
pub type Answer = fn(&Ctx, &Principal) -> Result<Reply>;

/// Every route of the component, one row a route (unformatted: it reads as a table), paths
/// as openapi.yaml writes them. Another method on one of them is a 405 naming the methods it
/// allows; a path none matches is a 404.
#[rustfmt::skip]
pub static ROUTES: Routes<Answer> = Routes::<Answer>::new(&[
    Route::new("GET", "/v1/{{ name }}/hello", hello),
])
.not_found("No such {{ name }} route.");

// Exported only for wasm: natively (unit tests) the `wasi:http/incoming-handler` export symbol
// is not a valid linker symbol name.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: Request) -> Response {
    serve(COMPONENT, req, route)
}

/// Authenticate (a failure counts against the client's auth-failure limit), count the request
/// against the principal's api rate limit, then answer from the route table.
pub fn route(ctx: &Ctx, req: &Request) -> Result<Reply> {
    signed_in(ctx, req, |principal| {
        let (answer, _) = ROUTES.route(ctx)?;
        answer(ctx, principal)
    })
}

/// `GET /v1/{{ name }}/hello`: the caller, as authn proved it.
fn hello(_ctx: &Ctx, principal: &Principal) -> Result<Reply> {
    require_scope(principal, SCOPE)?;
    Ok(Reply::ok(&caller(principal)))
}

/// What the example route tells a caller about itself.
pub fn caller(principal: &Principal) -> Value {
    json!({
        "user_id": principal.user_id,
        "email": principal.email,
        "role": principal.role,
        "credential": principal.credential,
        "scopes": principal.scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;
    use spingraph_authn_client::{Credential, Role};
    use spingraph_guest::respond_to;

    /// What `GET /v1/{{ name }}/hello` answers `principal` once authn has named it.
    fn hello_as(principal: &Principal) -> (u16, Option<String>, Value) {
        let path = format!("/v1/{COMPONENT}/hello");
        let reply = respond_to(COMPONENT, Method::Get, &path, |ctx, _| {
            hello(ctx, principal)
        });
        let body = serde_json::from_slice(reply.body()).expect("a JSON body");
        let content_type = reply.header_value("content-type").map(str::to_string);
        (reply.status(), content_type, body)
    }

    #[test]
    fn hello_answers_get_alone_and_other_paths_are_not_found() {
        ROUTES.assert_allow("POST /v1/{{ name }}/hello -> GET");
        ROUTES.assert_not_found(
            "No such {{ name }} route.",
            "GET /v1/{{ name }}
             GET /v1/{{ name }}/hello/again",
        );
    }

    #[test]
    fn an_api_key_without_the_scope_is_a_403_problem_naming_it() {
        let other = Scope::ALL.into_iter().find(|s| *s != SCOPE).unwrap();
        let key = Principal::for_tests(Role::Admin, Credential::ApiKey, &[other]);
        let (status, content_type, body) = hello_as(&key);
        assert_eq!(status, 403);
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        assert_eq!(body["status"], 403);
        assert_eq!(
            body["detail"],
            format!("This credential lacks the `{SCOPE}` scope.")
        );
    }

    #[test]
    fn a_key_with_the_scope_and_a_user_whose_role_holds_it_are_told_who_they_are() {
        let key = Principal::for_tests(Role::User, Credential::ApiKey, &[SCOPE]);
        let (status, _, body) = hello_as(&key);
        assert_eq!(status, 200);
        assert_eq!(body["user_id"], key.user_id.to_string());
        assert_eq!(body["credential"], "api-key");
        // Admins hold every scope; users the first four (`Role::scopes`).
        let role = [Role::User, Role::Admin]
            .into_iter()
            .find(|role| role.scopes().contains(&SCOPE))
            .unwrap();
        let person = Principal::for_tests(role, Credential::Bearer, role.scopes());
        let (status, _, body) = hello_as(&person);
        assert_eq!(status, 200);
        assert_eq!(body["email"], person.email);
        assert_eq!(body["role"], role.as_str());
        assert_eq!(body["credential"], "bearer");
    }
}
