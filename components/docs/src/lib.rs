//! The docs component: `GET /v1/openapi.json` (the repository's `openapi.yaml`, converted to JSON
//! at build time) and `GET /docs` (Swagger UI, its files bundled at build time from the npm
//! package `swagger-ui-dist`, so the page loads nothing from a CDN).

use spin_sdk::http::{Request, Response};
use spingraph_guest::{ApiError, Ctx, Reply, Result, serve};

/// The OpenAPI description served at `/v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// Where the description is served (the page loads it from there).
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// `(file name, content type, bytes)` of each bundled Swagger UI file, served below `/docs/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui.css")),
    ),
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui-bundle.js")),
    ),
    (
        "favicon-32x32.png",
        "image/png",
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/favicon-32x32.png")),
    ),
];

/// The page: Swagger UI reading `/v1/openapi.json`, assets from `/docs/`.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>spingraph API</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"#;

/// Kept out of the HTML so a strict `script-src 'self'` policy holds.
const INIT_JS: &str = r##"window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  validatorUrl: null
});
"##;

// Native unit-test builds cannot link the `wasi:http` export symbol: export only on wasm.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn handle(req: Request) -> Response {
    serve("docs", req, route)
}

fn route(ctx: &Ctx, _req: &Request) -> Result<Reply> {
    let reply = match ctx.path.as_str() {
        OPENAPI_PATH => Reply::bytes(200, "application/json", OPENAPI_JSON),
        "/docs" | "/docs/" | "/docs/index.html" => {
            Reply::bytes(200, "text/html; charset=utf-8", PAGE).header(
                "content-security-policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
            )
        }
        "/docs/init.js" => Reply::bytes(200, "text/javascript; charset=utf-8", INIT_JS),
        path => {
            let asset = path
                .strip_prefix("/docs/")
                .and_then(|name| ASSETS.iter().find(|(n, _, _)| *n == name));
            match asset {
                Some((_, content_type, bytes)) => Reply::bytes(200, content_type, *bytes)
                    .header("cache-control", "public, max-age=3600"),
                None => return Err(ApiError::not_found("No such route.")),
            }
        }
    };
    match ctx.method.as_str() {
        "GET" => Ok(reply),
        "HEAD" => Ok(Reply::empty(reply.status())),
        _ => Err(ApiError::MethodNotAllowed(&["GET", "HEAD"])),
    }
}
