//! Authentication and authorization end to end (issue 4, "must show" 1–8 and 10): sign-in,
//! lockout, rate limits, token forgeries, refresh rotation and reuse, logout, cookie sessions
//! with CSRF, API keys, Redis outages and role checks, over HTTP against the real host.

use std::thread;
use std::time::Duration;

use spingraph_e2e::{
    PASSWORD, RequestBuilder, TestApp, TestOptions, Value, assert_problem,
    assert_retry_after_within_a_minute, free_port, header, json, json_body,
};
use spingraph_identity::session::{ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE};
use spingraph_identity::{Role, unix_now};

fn app_with(extra: &[(&str, &str)]) -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(extra))
}

fn app() -> TestApp {
    app_with(&[])
}

/// The application with its Redis on a port nothing listens on.
fn app_without_redis() -> TestApp {
    let closed = free_port();
    app_with(&[
        ("redis_url", &format!("redis://127.0.0.1:{closed}")),
        ("redis_host", &format!("127.0.0.1:{closed}")),
    ])
}

/// The access token of a new admin, root@example.com.
fn admin_token(app: &TestApp) -> String {
    app.caller("root", "admin").token
}

/// `{email, password}` with [`PASSWORD`].
fn credentials(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD})
}

/// `POST /v1/auth/register` (sign-up) with `body`.
fn register(app: &TestApp, body: &Value) -> spingraph_e2e::Response {
    app.post_json("/v1/auth/register", body).send().unwrap()
}

/// `POST /v1/auth/session` (a cookie session) as `email` with [`PASSWORD`].
fn start_session(app: &TestApp, email: &str) -> spingraph_e2e::Response {
    app.post_json("/v1/auth/session", &credentials(email))
        .send()
        .unwrap()
}

/// The tokens of an admin (root@example.com) and of a user it made (ann@example.com).
fn admin_and_user(app: &TestApp) -> (String, String) {
    let admin = admin_token(app);
    let resp = app.post_as(&admin, "/v1/auth/users", &credentials("ann@example.com"));
    assert_eq!(resp.status(), 201);
    let (user, _) = app.tokens("ann@example.com");
    (admin, user)
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn problem(resp: spingraph_e2e::Response) -> Value {
    let ct = header(&resp, "content-type");
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    json_body(resp)
}

// ------------------------------------------------------------------ 1. sign-in

#[test]
fn correct_credentials_return_bearer_and_refresh_tokens() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let resp = app.login("ROOT@example.com", PASSWORD);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = json_body(resp);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    assert!(body["refresh_token"].as_str().is_some());
    let me = json_body(app.get("/v1/auth/me").bearer_auth(access).send().unwrap());
    assert_eq!(me["email"], "root@example.com");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["credential"], "bearer");
}

#[test]
fn oauth2_password_form_signs_in() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let resp = app
        .post("/v1/auth/token")
        .form(&[
            ("grant_type", "password"),
            ("username", "root@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["token_type"], "bearer");
}

#[test]
fn wrong_password_and_unknown_email_get_identical_401_bodies() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    let wrong = app.login("root@example.com", "not the password at all");
    assert_eq!(wrong.status(), 401);
    let unknown = app.login("nobody@example.com", "not the password at all");
    assert_eq!(unknown.status(), 401);
    assert_eq!(strip(problem(wrong)), strip(problem(unknown)));
    // Failures are logged with request id and IP, never the password. A host may write a
    // component's output a moment after the answer (Spin does): wait for the line.
    let line = app
        .logs
        .wait_for(Duration::from_secs(10), |l| {
            l.contains("login failed") && l.contains("unknown email")
        })
        .expect("a login-failed log line");
    let failure: Value = serde_json::from_str(line.trim()).expect("a JSON log line");
    assert_eq!(failure["msg"], "login failed");
    let logs = app.logs.text();
    assert!(!logs.contains("not the password at all"));
    assert!(
        failure["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(failure["ip"], "127.0.0.1");
}

#[test]
fn admin_looking_email_signs_up_as_plain_user() {
    let app = app_with(&[("signup_enabled", "true")]);
    let resp = register(&app, &credentials("admin@example.com"));
    assert_eq!(resp.status(), 201);
    assert_eq!(json_body(resp)["role"], "user");
    let (access, _) = app.tokens("admin@example.com");
    let me = json_body(app.get_as(&access, "/v1/auth/me"));
    assert_eq!(me["role"], "user");
    // Sign-up cannot ask for a role either.
    let with_role = json!({"email": "b@example.com", "password": PASSWORD, "role": "admin"});
    assert_eq!(register(&app, &with_role).status(), 422);
}

#[test]
fn register_is_not_found_while_signup_is_disabled() {
    let app = app();
    let resp = register(&app, &credentials("a@example.com"));
    assert_eq!(resp.status(), 404);
}

// ------------------------------------------------------------------ 2. lockout

#[test]
fn locked_account_rejects_correct_password_until_admin_unlocks() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let victim = app.create_user("victim@example.com", "user");
    for _ in 0..6 {
        assert_eq!(
            app.login("victim@example.com", "wrong password!!").status(),
            401
        );
    }
    let locked = app.login("victim@example.com", PASSWORD);
    assert_eq!(
        locked.status(),
        401,
        "the right password is refused while locked"
    );
    let unknown = app.login("ghost@example.com", PASSWORD);
    assert_eq!(
        problem(locked)["detail"],
        problem(unknown)["detail"],
        "a lock does not reveal that the account exists"
    );
    let row = app.db.query_json(&format!(
        "SELECT locked_until > now() AS locked, lockout_count FROM users WHERE id = '{victim}'"
    ));
    assert_eq!(row[0]["locked"], true);
    assert_eq!(row[0]["lockout_count"], 1);

    let (admin, _) = app.tokens("root@example.com");
    let resp = app.send_as(&admin, app.post(&format!("/v1/auth/users/{victim}/unlock")));
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["locked"], false);
    assert_eq!(app.login("victim@example.com", PASSWORD).status(), 200);
    let audit = app.db.query_json(&format!(
        "SELECT request_id FROM audit_log WHERE action = 'user.unlock' AND resource_id = '{victim}'"
    ));
    assert_eq!(audit.as_array().unwrap().len(), 1);
    assert!(audit[0]["request_id"].as_str().is_some());
}

/// A password sign-in from client `ip`, as forwarded by the trusted proxy (127.0.0.1).
fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> spingraph_e2e::Response {
    app.post_json(
        "/v1/auth/token",
        &json!({"email": email, "password": password}),
    )
    .header("x-forwarded-for", ip)
    .send()
    .unwrap()
}

fn behind_proxy() -> TestApp {
    app_with(&[("trusted_proxies", "127.0.0.1/32")])
}

#[test]
fn a_strangers_failures_lock_out_their_network_not_the_owner_who_is_told() {
    let app = behind_proxy();
    let owner = app.create_user("owner@example.com", "user");
    let (home, stranger) = ("198.51.100.7", "203.0.113.9");
    assert_eq!(
        login_from(&app, home, "owner@example.com", PASSWORD).status(),
        200
    );
    for _ in 0..6 {
        let resp = login_from(&app, stranger, "owner@example.com", "wrong password!!");
        assert_eq!(resp.status(), 401);
    }
    // The owner, from their own address: in.
    let resp = login_from(&app, home, "owner@example.com", PASSWORD);
    assert_eq!(
        resp.status(),
        200,
        "the owner is not locked out by a stranger"
    );
    let token = json_body(resp)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The stranger's network stays locked out, even with the right password.
    let resp = login_from(&app, stranger, "owner@example.com", PASSWORD);
    assert_eq!(
        resp.status(),
        401,
        "the attacking network keeps its lockout"
    );
    // The owner is told: an audit row naming the network, and /v1/auth/me.
    let audit = app.db.query_json(&format!(
        "SELECT actor_id, details->>'network' AS network FROM audit_log \
         WHERE action = 'user.sign_in_locked' AND resource_id = '{owner}'"
    ));
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["network"], stranger);
    assert!(audit[0]["actor_id"].is_null());
    let me = json_body(app.get_as(&token, "/v1/auth/me"));
    assert_eq!(me["sign_in_failures"]["count"], 7, "{me}");
    assert_eq!(me["sign_in_failures"]["locked_networks"], 1, "{me}");
    assert!(me["sign_in_failures"]["last_at"].is_string(), "{me}");
    // An admin's unlock lifts it.
    let (admin, _) = {
        app.create_user("root@example.com", "admin");
        app.tokens("root@example.com")
    };
    let resp = app.send_as(&admin, app.post(&format!("/v1/auth/users/{owner}/unlock")));
    assert_eq!(resp.status(), 200);
    assert_eq!(
        login_from(&app, stranger, "owner@example.com", PASSWORD).status(),
        200
    );
}

#[test]
fn the_owner_from_a_new_address_gets_in_after_a_strangers_failures() {
    let app = behind_proxy();
    app.create_user("owner@example.com", "user");
    for _ in 0..6 {
        let resp = login_from(&app, "203.0.113.9", "owner@example.com", "wrong password!!");
        assert_eq!(resp.status(), 401);
    }
    // Never signed in from here: slowed down (its turn), not refused.
    let resp = login_from(&app, "192.0.2.44", "owner@example.com", PASSWORD);
    assert_eq!(resp.status(), 200);
    let token = json_body(resp)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = json_body(app.get_as(&token, "/v1/auth/me"));
    assert_eq!(me["sign_in_failures"]["locked_networks"], 1, "{me}");
}

#[test]
fn guesses_spread_over_many_networks_take_turns_the_owners_own_network_does_not() {
    let app = std::sync::Arc::new(behind_proxy());
    let owner = app.create_user("owner@example.com", "user");
    let home = "198.51.100.7";
    assert_eq!(
        login_from(&app, home, "owner@example.com", PASSWORD).status(),
        200
    );
    // As five networks with five wrong passwords each leave it (each network locked out, 25
    // failures in all; counting them is the tests above): written directly, to spare the test
    // the turns those guesses took.
    app.db.execute(&format!(
        "INSERT INTO sign_in_networks (user_id, network, failures, lockout_count, locked_until, \
         last_failed_at) SELECT '{owner}', '203.0.113.' || n, 5, 1, now() + interval '15 minutes', \
         now() FROM generate_series(1, 5) n; \
         UPDATE users SET failed_attempts = 25, last_failed_at = now() WHERE id = '{owner}'"
    ));
    // From now on one guess from a new network is checked every 8 s: the first at once, the
    // next waits for its turn, and one whose turn is further off is refused unchecked, even
    // with the right password.
    let timed = |ip: &str, password: &str| {
        let started = std::time::Instant::now();
        let status = login_from(&app, ip, "owner@example.com", password).status();
        (status, started.elapsed())
    };
    let first = timed("203.0.113.6", "wrong password!!");
    assert_eq!(first.0, 401);
    let second = {
        let app = app.clone();
        thread::spawn(move || {
            let started = std::time::Instant::now();
            let status =
                login_from(&app, "203.0.113.7", "owner@example.com", "wrong password!!").status();
            (status, started.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(500));
    let third = timed("203.0.113.8", PASSWORD);
    // The owner's own network takes no turn.
    let own = timed(home, PASSWORD);
    let (status, took) = second.join().unwrap();
    assert_eq!(
        third.0, 401,
        "a guess whose turn is over 8 s away is not checked"
    );
    assert_eq!(own.0, 200);
    assert!(
        own.1 < Duration::from_secs(4),
        "the owner waited {:?}",
        own.1
    );
    assert_eq!(status, 401);
    assert!(
        took >= Duration::from_secs(5),
        "the second guess waited its turn: {took:?}"
    );
    let paced = app.logs.wait_for(Duration::from_secs(10), |l| {
        l.contains("login failed") && l.contains("\"paced\"")
    });
    assert!(paced.is_some(), "the refused guess is logged as paced");
}

// ------------------------------------------------------------------ 3. rate limit

#[test]
fn more_than_five_token_requests_a_minute_are_rate_limited() {
    let app = TestApp::start(TestOptions::default().variable("login_rate_limit_per_minute", "5"));
    let mut limited = None;
    for i in 0..7 {
        let resp = app.login("nobody@example.com", "whatever password");
        assert_eq!(resp.headers()["ratelimit-limit"], "5");
        assert!(resp.headers().contains_key("ratelimit-remaining"));
        assert!(resp.headers().contains_key("ratelimit-reset"));
        if resp.status() == 429 {
            limited = Some((i, resp));
            break;
        }
        assert_eq!(resp.status(), 401);
    }
    let (i, resp) = limited.expect("a 429 within 7 requests");
    assert!(i <= 5, "the sixth request at the latest is limited");
    assert_eq!(resp.headers()["ratelimit-remaining"], "0");
    assert_retry_after_within_a_minute(&resp);
    assert_eq!(problem(resp)["status"], 429);
}

// ------------------------------------------------------------------ 4. forged tokens

fn sign(app: &TestApp, edit: impl FnOnce(&mut spingraph_identity::Claims)) -> String {
    let sub = app
        .db
        .query_json("SELECT id::text AS id FROM users LIMIT 1")[0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.access_token(sub, "root@example.com", Role::Admin, edit)
}

#[test]
fn forged_expired_premature_and_foreign_tokens_get_401() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let genuine = sign(&app, |_| {});
    assert_eq!(
        app.me_status(&genuine),
        200,
        "control: a well-formed token passes"
    );

    let (head, rest) = genuine.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered_sig = format!("{head}.{payload}.{flipped}{}", &sig[1..]);
    assert_eq!(app.me_status(&tampered_sig), 401, "tampered signature");

    let claims: Value = serde_json::from_slice(&b64_decode(payload)).unwrap();
    let mut escalated = claims.clone();
    escalated["email"] = json!("evil@example.com");
    let tampered_payload = format!("{head}.{}.{sig}", b64(escalated.to_string().as_bytes()));
    assert_eq!(app.me_status(&tampered_payload), 401, "tampered payload");

    let none = format!(
        "{}.{payload}.",
        b64(br#"{"alg":"none","typ":"JWT","kid":"e2e"}"#)
    );
    assert_eq!(app.me_status(&none), 401, "alg none");

    let jwks: Value = serde_json::from_str(&app.keys.public_keys).unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let mut header = spingraph_identity::jsonwebtoken::Header::new(
        spingraph_identity::jsonwebtoken::Algorithm::HS256,
    );
    header.kid = Some("e2e".into());
    let hs256 = spingraph_identity::jsonwebtoken::encode(
        &header,
        &claims,
        &spingraph_identity::jsonwebtoken::EncodingKey::from_secret(x.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        app.me_status(&hs256),
        401,
        "HS256 keyed with the public key"
    );

    let expired = sign(&app, |c| {
        c.iat -= 7200;
        c.nbf -= 7200;
        c.exp = unix_now() - 3600;
    });
    assert_eq!(app.me_status(&expired), 401, "expired");
    let premature = sign(&app, |c| {
        c.nbf = unix_now() + 3600;
        c.exp = unix_now() + 7200;
    });
    assert_eq!(app.me_status(&premature), 401, "future nbf");
    let foreign = sign(&app, |c| c.aud = "another-api".into());
    assert_eq!(app.me_status(&foreign), 401, "other audience");
}

fn b64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes() {
        acc = (acc << 6) | A.iter().position(|a| *a == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn jwks_publishes_the_public_signing_key_only() {
    let app = app();
    let resp = app.get("/v1/auth/.well-known/jwks.json").send().unwrap();
    assert_eq!(resp.status(), 200);
    let body = json_body(resp);
    let published: Value = serde_json::from_str(&app.keys.public_keys).unwrap();
    assert_eq!(body["keys"][0]["x"], published["keys"][0]["x"]);
    assert_eq!(body["keys"][0]["kid"], "e2e");
    assert!(body["keys"][0].get("d").is_none());
}

// ------------------------------------------------------------------ 5. refresh and logout

#[test]
fn refresh_rotates_and_reusing_the_old_token_revokes_the_family() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let (_, first) = app.tokens("root@example.com");
    let refresh = |token: &str| app.refresh(token);
    let resp = refresh(&first);
    assert_eq!(resp.status(), 200);
    let body = json_body(resp);
    let second = body["refresh_token"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(app.me_status(&access), 200);

    assert_eq!(refresh(&first).status(), 401, "reuse of the rotated token");
    assert_eq!(
        refresh(&second).status(),
        401,
        "the family is revoked with it"
    );
    assert_eq!(app.me_status(&access), 401, "and so are its access tokens");
    let revoked = app
        .db
        .query_json("SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL");
    assert_eq!(revoked[0]["n"], 0);
}

#[test]
fn logout_refuses_the_access_token_at_once() {
    let app = app();
    app.create_user("root@example.com", "admin");
    let (access, refresh) = app.tokens("root@example.com");
    assert_eq!(app.me_status(&access), 200);
    assert_eq!(app.logout(&access).status(), 204);
    assert_eq!(app.me_status(&access), 401, "denylisted before it expires");
    let resp = app.refresh(&refresh);
    assert_eq!(resp.status(), 401, "the session's refresh token is revoked");
    let audit = app
        .db
        .query_json("SELECT request_id FROM audit_log WHERE action = 'user.logout'");
    assert_eq!(audit.as_array().unwrap().len(), 1);
}

// ------------------------------------------------------------------ 6. cookie session

fn set_cookies(resp: &spingraph_e2e::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string()
}

/// An app whose admin root@example.com has started a cookie session: the app, the session's
/// `Set-Cookie` values and the body of its 200.
fn admin_cookie_session() -> (TestApp, Vec<String>, Value) {
    let app = app();
    app.create_user("root@example.com", "admin");
    let resp = start_session(&app, "root@example.com");
    assert_eq!(resp.status(), 200);
    let cookies = set_cookies(&resp);
    (app, cookies, json_body(resp))
}

#[test]
fn cookie_session_needs_csrf_header_for_unsafe_requests() {
    let (app, cookies, body) = admin_cookie_session();
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    for c in &cookies {
        assert!(c.contains("Secure"), "{c}");
        assert!(c.contains("SameSite=Strict"), "{c}");
    }
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        let c = cookies.iter().find(|c| c.starts_with(name)).unwrap();
        assert!(c.contains("HttpOnly"), "{c}");
    }
    assert!(
        body.get("access_token").is_none(),
        "tokens travel only in cookies"
    );
    assert_eq!(body["user"]["email"], "root@example.com");
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(cookie_value(&cookies, CSRF_COOKIE), csrf);
    let cookie_header = format!(
        "{ACCESS_COOKIE}={}; {CSRF_COOKIE}={csrf}",
        cookie_value(&cookies, ACCESS_COOKIE)
    );

    let with_cookies = |rb: RequestBuilder| rb.header("cookie", &cookie_header).send().unwrap();
    let me = with_cookies(app.get("/v1/auth/me"));
    assert_eq!(me.status(), 200, "safe methods need no CSRF header");
    assert_eq!(json_body(me)["credential"], "cookie");

    let new_key = json!({"name": "ci", "scopes": ["entities:read"]});
    let create_key = || app.post_json("/v1/auth/api-keys", &new_key);
    for (csrf_header, status, what) in [
        (None, 403, "unsafe request without X-CSRF-Token"),
        (
            Some("not-the-token"),
            403,
            "unsafe request with the wrong X-CSRF-Token",
        ),
        (
            Some(csrf.as_str()),
            201,
            "unsafe request with the matching header",
        ),
    ] {
        let request = match csrf_header {
            Some(token) => create_key().header("x-csrf-token", token),
            None => create_key(),
        };
        assert_eq!(with_cookies(request).status(), status, "{what}");
    }
}

#[test]
fn session_cookies_carry_host_prefixes_and_a_planted_refresh_twin_is_refused() {
    let (app, cookies, body) = admin_cookie_session();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    // Only this host can set a `__Host-` cookie (Secure, Path=/, no Domain); the refresh cookie
    // stays on /v1/auth under `__Secure-`.
    for (name, path) in [
        ("__Host-sg_access", "Path=/;"),
        ("__Host-sg_csrf", "Path=/;"),
        ("__Secure-sg_refresh", "Path=/v1/auth;"),
    ] {
        let c = cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {cookies:?}"));
        assert!(
            c.contains(path) && c.contains("Secure") && !c.contains("Domain"),
            "{c}"
        );
    }
    // A refresh cookie planted beside ours (by a sibling host, with a Domain) is never used.
    let ours = cookie_value(&cookies, REFRESH_COOKIE);
    let refresh = |cookie_header: String| {
        app.post("/v1/auth/refresh")
            .header("cookie", cookie_header)
            .header("x-csrf-token", &csrf)
            .send()
            .unwrap()
    };
    let (_, planted) = app.tokens("root@example.com");
    let twin = refresh(format!(
        "{REFRESH_COOKIE}={planted}; {REFRESH_COOKIE}={ours}; {CSRF_COOKIE}={csrf}"
    ));
    assert_problem(twin, 400, "two refresh cookies");
    let alone = refresh(format!("{REFRESH_COOKIE}={ours}; {CSRF_COOKIE}={csrf}"));
    assert_eq!(alone.status(), 200, "ours, alone, still rotates");
}

#[test]
fn cookie_issuing_routes_refuse_cross_site_requests() {
    let app = app_with(&[("cors_allowed_origins", "https://app.example.com")]);
    app.create_user("root@example.com", "admin");
    let own = app.url("");
    let own = own.trim_end_matches('/');
    let session = |headers: &[(&str, &str)]| {
        let mut rb = app.post_json("/v1/auth/session", &credentials("root@example.com"));
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        rb.send().unwrap()
    };
    // Login CSRF: a page of another site (a form or a fetch) cannot sign the browser in.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", own), ("sec-fetch-site", "cross-site")],
    ] {
        let resp = session(&headers);
        assert!(set_cookies(&resp).is_empty(), "{headers:?}");
        assert_problem(resp, 403, &format!("session from {headers:?}"));
    }
    let form = app
        .post("/v1/auth/session")
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username=root%40example.com&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .unwrap();
    assert_problem(form, 403, "a cross-site form");
    // Our own pages, a listed origin, and clients that are not browsers still sign in.
    for headers in [
        vec![("origin", own), ("sec-fetch-site", "same-origin")],
        vec![
            ("origin", "https://app.example.com"),
            ("sec-fetch-site", "same-site"),
        ],
        vec![],
    ] {
        assert_eq!(session(&headers).status(), 200, "{headers:?}");
    }

    // Refresh and logout by cookie: the same rule, on top of the CSRF header.
    let resp = session(&[]);
    let cookies = set_cookies(&resp);
    let csrf = json_body(resp)["csrf_token"].as_str().unwrap().to_string();
    let cookie_header = format!(
        "{ACCESS_COOKIE}={}; {REFRESH_COOKIE}={}; {CSRF_COOKIE}={csrf}",
        cookie_value(&cookies, ACCESS_COOKIE),
        cookie_value(&cookies, REFRESH_COOKIE)
    );
    let by_cookie = |path: &str, origin: &str| {
        app.post(path)
            .header("cookie", &cookie_header)
            .header("x-csrf-token", &csrf)
            .header("origin", origin)
            .send()
            .unwrap()
    };
    assert_problem(
        by_cookie("/v1/auth/refresh", "https://evil.example"),
        403,
        "a cross-site refresh by cookie",
    );
    assert_problem(
        by_cookie("/v1/auth/logout", "https://evil.example"),
        403,
        "a cross-site logout by cookie",
    );
    assert_eq!(by_cookie("/v1/auth/logout", own).status(), 204);
    // Tokens in the body are no browser session: the origin does not matter there.
    let (_, refresh) = app.tokens("root@example.com");
    let resp = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": refresh}))
        .header("origin", "https://evil.example")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

// ------------------------------------------------------------------ 7. API keys

#[test]
fn api_key_is_shown_once_scoped_and_refused_after_revocation_or_expiry() {
    let app = app();
    let admin = admin_token(&app);
    let create = |scopes: &[&str]| app.create_api_key(&admin, "reader", scopes);
    let created = create(&["entities:read"]);
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("sgk_"));

    let listed = json_body(app.get_as(&admin, "/v1/auth/api-keys"));
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert!(
        !listed.to_string().contains(&key),
        "the secret is never listed"
    );
    let stored = app.db.query_json("SELECT key_hash FROM api_keys");
    assert!(!stored.to_string().contains(&key), "only a hash is stored");

    let me = app.get_with_key(&key, "/v1/auth/me");
    assert_eq!(me.status(), 200);
    assert_eq!(json_body(me)["scopes"], json!(["entities:read"]));
    let me = app
        .get("/v1/auth/me")
        .header("authorization", format!("ApiKey {key}"))
        .send()
        .unwrap();
    assert_eq!(me.status(), 200);

    // A read-only key of an admin cannot write: neither admin operations nor entities.
    let post_with_key = |path: &str, body: Value| {
        app.post_json(path, &body)
            .header("x-api-key", &key)
            .send()
            .unwrap()
    };
    let resp = post_with_key("/v1/auth/users", credentials("x@example.com"));
    assert_eq!(resp.status(), 403);
    let resp = post_with_key("/v1/entities", json!({"type": "person", "name": "Ada"}));
    assert_eq!(resp.status(), 403, "entities:write is missing");

    let resp = app.delete_as(&admin, &format!("/v1/auth/api-keys/{id}"));
    assert_eq!(resp.status(), 204);
    let me = app.get_with_key(&key, "/v1/auth/me");
    assert_eq!(me.status(), 401, "revoked");

    let expiring = create(&["entities:read"]);
    let key = expiring["key"].as_str().unwrap();
    assert_eq!(app.get_with_key(key, "/v1/auth/me").status(), 200);
    app.db.execute(&format!(
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '{}'",
        expiring["id"].as_str().unwrap()
    ));
    let me = app.get_with_key(key, "/v1/auth/me");
    assert_eq!(me.status(), 401, "expired");

    // Any RFC 3339 offset is an instant, also one past what Postgres reads (±15:59).
    let resp = app.post_as(
        &admin,
        "/v1/auth/api-keys",
        &json!({"name": "far", "scopes": ["entities:read"], "expires_at": "9000-01-01T00:00:00+20:00"}),
    );
    assert_eq!(resp.status(), 201);
    let far = json_body(resp);
    let expires = far["expires_at"].as_str().unwrap();
    assert!(expires.starts_with("8999-12-31T04:00:00"), "{expires}");
    assert_eq!(
        app.get_with_key(far["key"].as_str().unwrap(), "/v1/auth/me")
            .status(),
        200
    );
    let resp = app.post_as(
        &admin,
        "/v1/auth/api-keys",
        &json!({"name": "feb", "scopes": ["entities:read"], "expires_at": "2030-02-31T00:00:00Z"}),
    );
    assert_eq!(resp.status(), 422);
    assert_eq!(json_body(resp)["errors"][0]["field"], "expires_at");
}

/// Walk a paged list to its end, `limit` at a time; every page but the last is full.
fn all_pages(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..20 {
        let resp = app.get_as(token, &format!("{path}?limit={limit}&cursor={cursor}"));
        assert_eq!(resp.status(), 200);
        let page = json_body(resp);
        let items = page["items"].as_array().unwrap();
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), limit, "only the last page may be short");
                cursor = next.to_string();
            }
            None => return ids,
        }
    }
    panic!("{path} did not end within 20 pages");
}

#[test]
fn api_keys_and_users_are_paged_and_bad_paging_is_400() {
    let app = app();
    let admin = admin_token(&app);
    let mut created = Vec::new();
    for n in 0..5 {
        let key = json!({"name": format!("key-{n}"), "scopes": ["entities:read"]});
        let resp = app.post_as(&admin, "/v1/auth/api-keys", &key);
        assert_eq!(resp.status(), 201);
        created.push(json_body(resp)["id"].as_str().unwrap().to_string());
        let user = credentials(&format!("u{n}@example.com"));
        assert_eq!(app.post_as(&admin, "/v1/auth/users", &user).status(), 201);
    }
    created.reverse();
    assert_eq!(
        all_pages(&app, &admin, "/v1/auth/api-keys", 2),
        created,
        "every key once, newest first"
    );
    let users = all_pages(&app, &admin, "/v1/auth/users", 2);
    assert_eq!(users.len(), 6);
    let mut sorted = users.clone();
    sorted.sort();
    assert_eq!(users, sorted, "users in creation (id) order");

    for path in ["/v1/auth/api-keys", "/v1/auth/users"] {
        for query in ["limit=0", "limit=201", "limit=x", "limit=", "cursor=nope"] {
            let resp = app.get_as(&admin, &format!("{path}?{query}"));
            assert_eq!(resp.status(), 400, "{path}?{query}");
            let field = query.split('=').next().unwrap();
            assert_eq!(problem(resp)["errors"][0]["field"], field, "{path}?{query}");
        }
    }
}

#[test]
fn api_key_scopes_cannot_exceed_the_owner_role() {
    let app = app();
    let (_, user) = admin_and_user(&app);
    let key = json!({"name": "k", "scopes": ["admin"]});
    assert_eq!(app.post_as(&user, "/v1/auth/api-keys", &key).status(), 422);
}

// ------------------------------------------------------------------ 8. Redis down

#[test]
fn login_answers_503_when_redis_is_down() {
    let app = app_without_redis();
    app.create_user("root@example.com", "admin");
    let refused = assert_problem(app.login("root@example.com", PASSWORD), 503, "login");
    assert_eq!(refused["status"], 503);
    assert_eq!(start_session(&app, "root@example.com").status(), 503);
}

#[test]
fn bearer_tokens_keep_working_without_redis_and_revocation_still_holds() {
    let app = app_without_redis();
    let id = app.create_user("root@example.com", "admin");
    let family = uuid::Uuid::now_v7();
    let token = sign(&app, |c| c.sid = Some(family.to_string()));
    assert_eq!(
        app.me_status(&token),
        200,
        "Postgres-only reads keep working"
    );
    // A revoked session is refused from the durable record.
    app.db.execute(&format!(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at) \
         VALUES ('{id}', '{family}', 'x', now() + interval '1 day', now())"
    ));
    assert_eq!(app.me_status(&token), 401);
}

// ------------------------------------------------------------------ 10. roles

#[test]
fn user_gets_403_on_user_management_and_admin_gets_200() {
    let app = app();
    let (admin, user) = admin_and_user(&app);
    assert_eq!(app.get_as(&user, "/v1/auth/users").status(), 403);
    let new_admin = json!({"email": "x@example.com", "password": PASSWORD, "role": "admin"});
    let resp = app.post_as(&user, "/v1/auth/users", &new_admin);
    assert_eq!(resp.status(), 403);

    let resp = app.get_as(&admin, "/v1/auth/users");
    assert_eq!(resp.status(), 200);
    let users = json_body(resp);
    assert_eq!(users["items"].as_array().unwrap().len(), 2);
    assert!(
        users["items"][0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(users["items"][0].get("password_hash").is_none());
}

#[test]
fn user_management_needs_an_admins_session_not_an_admin_api_key() {
    let app = app();
    let (admin, _) = admin_and_user(&app);
    let ann = json_body(app.get_as(&admin, "/v1/auth/users"))["items"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = app.create_api_key(&admin, "ops", &["admin", "entities:read"]);
    let key = key["key"].as_str().unwrap().to_string();
    let with_key = |rb: RequestBuilder| {
        rb.header("authorization", format!("ApiKey {key}"))
            .send()
            .unwrap()
    };
    let new_admin = json!({"email": "minted@example.com", "password": PASSWORD, "role": "admin"});
    let create = || app.post_json("/v1/auth/users", &new_admin);
    let promote = || {
        app.patch(&format!("/v1/auth/users/{ann}"))
            .json(&json!({"role": "admin"}))
    };
    let deactivate = || {
        app.patch(&format!("/v1/auth/users/{ann}"))
            .json(&json!({"active": false}))
    };
    let unlock = || app.post(&format!("/v1/auth/users/{ann}/unlock"));
    let list = || app.get("/v1/auth/users");
    for (what, request) in [
        ("create", create()),
        ("role change", promote()),
        ("deactivation", deactivate()),
        ("unlock", unlock()),
        ("list", list()),
    ] {
        let refused = assert_problem(with_key(request), 403, what);
        assert!(
            refused["detail"].as_str().unwrap().contains("API keys"),
            "{what}: {refused}"
        );
    }
    let users = app
        .db
        .query_json("SELECT role, active FROM users ORDER BY id");
    assert_eq!(users.as_array().unwrap().len(), 2, "no user was minted");
    assert_eq!(users[1]["role"], "user");
    assert_eq!(users[1]["active"], true);

    // The admin's own token still manages users.
    let send = |rb: RequestBuilder| rb.bearer_auth(&admin).send().unwrap().status();
    assert_eq!(send(create()), 201);
    assert_eq!(send(promote()), 200);
    assert_eq!(send(unlock()), 200);
    assert_eq!(send(deactivate()), 200);
    assert_eq!(send(list()), 200);
}

#[test]
fn demoting_a_user_refuses_their_existing_tokens() {
    let app = app();
    let admin = admin_token(&app);
    let boss = json!({"email": "boss@example.com", "password": PASSWORD, "role": "admin"});
    let resp = app.post_as(&admin, "/v1/auth/users", &boss);
    assert_eq!(resp.status(), 201);
    let boss = json_body(resp)["id"].as_str().unwrap().to_string();
    let (boss_token, _) = app.tokens("boss@example.com");
    assert_eq!(app.get_as(&boss_token, "/v1/auth/users").status(), 200);
    thread::sleep(Duration::from_millis(1100));
    let demote = json!({"role": "user"});
    let resp = app.patch_as(&admin, &format!("/v1/auth/users/{boss}"), &demote);
    assert_eq!(resp.status(), 200);
    assert_eq!(json_body(resp)["role"], "user");
    assert_eq!(
        app.me_status(&boss_token),
        401,
        "the admin token is gone at once"
    );
    let (fresh, _) = app.tokens("boss@example.com");
    assert_eq!(app.get_as(&fresh, "/v1/auth/users").status(), 403);
}

#[test]
fn null_is_not_a_value_for_optional_user_fields() {
    let app = app();
    let (admin, _) = admin_and_user(&app);
    let users = json_body(app.get_as(&admin, "/v1/auth/users"));
    let plain = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "user")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for body in [
        json!({"active": null, "role": "user"}),
        json!({"role": null}),
    ] {
        let resp = app.patch_as(&admin, &format!("/v1/auth/users/{plain}"), &body);
        assert_eq!(resp.status(), 422, "{body}");
    }
    let inactive = json!({"email": "n@example.com", "password": PASSWORD, "active": null});
    let resp = app.post_as(&admin, "/v1/auth/users", &inactive);
    assert_eq!(resp.status(), 422);
    let after = json_body(app.get_as(&admin, "/v1/auth/users"));
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        2,
        "nothing created"
    );
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["active"] == true)
    );
}

// ------------------------------------------------------------------ 9. swapping authn.wasm

/// A copy of spin.toml whose wasm paths are absolute and whose `authn` dependency is the file
/// `authn` in `dir`, which the test then swaps.
fn manifest_with_authn_at(dir: &std::path::Path) -> std::path::PathBuf {
    let root = spingraph_e2e::workspace_root();
    let release = root.join("target/wasm32-wasip2/release");
    let text = std::fs::read_to_string(spingraph_e2e::app_manifest()).unwrap();
    let text = text.replace(
        "\"target/wasm32-wasip2/release/authn.wasm\"",
        &format!("\"{}\"", dir.join("authn.wasm").display()),
    );
    let text = text.replace(
        "\"target/wasm32-wasip2/release/",
        &format!("\"{}/", release.display()),
    );
    let manifest = dir.join("spin.toml");
    std::fs::write(&manifest, text).unwrap();
    manifest
}

#[test]
fn swapping_authn_wasm_changes_entities_and_relationships_without_rebuilding_them() {
    let release = spingraph_e2e::workspace_root().join("target/wasm32-wasip2/release");
    let dir = spingraph_e2e::workspace_root()
        .join("target/e2e-authn-swap")
        .join(uuid::Uuid::now_v7().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = manifest_with_authn_at(&dir);
    // A fresh host whose `authn` is `wasm`: the statuses of the admin's entity and relationship reads.
    let reads_with = |wasm: &str| {
        std::fs::copy(release.join(wasm), dir.join("authn.wasm")).unwrap();
        let app = TestApp::start(
            TestOptions::default()
                .manifest(&manifest)
                .variable("login_rate_limit_per_minute", "100000"),
        );
        let token = admin_token(&app);
        ["/v1/entities", "/v1/relationships"].map(|path| app.get_as(&token, path).status().as_u16())
    };
    assert_eq!(
        reads_with("authn.wasm"),
        [200, 200],
        "the real authn accepts the token"
    );
    assert_eq!(
        reads_with("authn_deny.wasm"),
        [401, 401],
        "the swapped authn refuses it"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
