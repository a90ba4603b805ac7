//! Hardening under abuse (issue 13, items 2 and 4–7), over HTTP against the real host, Postgres
//! and Redis: credential guessing is throttled, refresh races and lockout races obey one rule,
//! revocation leaves no window, and sessions end. docs/security.md names each control and the
//! test here that guards it. Concurrency tests release their requests together from a barrier
//! and repeat, asserting the invariant on every trial.

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use spingraph_e2e::{
    Client, PASSWORD, TestApp, TestOptions, Value, assert_retry_after_within_a_minute, header,
    json, json_body,
};
use spingraph_identity::api_key::ApiKey;
use spingraph_identity::unix_now;

fn app_with(extra: &[(&str, &str)]) -> TestApp {
    TestApp::start(TestOptions::signing_in_freely(extra))
}

fn refresh(app: &TestApp, token: &str) -> spingraph_e2e::Response {
    app.post_json("/v1/auth/refresh", &json!({"refresh_token": token}))
        .send()
        .unwrap()
}

/// Run `request` on `n` threads released at once; the answers in thread order.
fn all_at_once<T: Send>(n: usize, request: impl Fn(&Client) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (barrier, request, client) = (&barrier, &request, client.clone());
                s.spawn(move || {
                    barrier.wait();
                    request(&client)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Log lines of the host whose `msg` is `msg`.
fn logged(app: &TestApp, msg: &str) -> Vec<Value> {
    app.logs
        .json_lines()
        .into_iter()
        .filter(|l| l["msg"] == msg)
        .collect()
}

fn create_user(app: &TestApp, admin: &str, email: &str, role: &str) -> String {
    let resp = app
        .post_json(
            "/v1/auth/users",
            &json!({"email": email, "password": PASSWORD, "role": role}),
        )
        .bearer_auth(admin)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201, "creating {email}");
    json_body(resp)["id"].as_str().unwrap().to_string()
}

/// Sleep until just after the next whole second of the Unix clock (the resolution of `iat`).
fn sleep_to_next_second() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let into = Duration::from_nanos(u64::from(now.subsec_nanos()));
    thread::sleep(Duration::from_secs(1) - into + Duration::from_millis(5));
}

// ------------------------------------------------------------------ 2. credential guessing

#[test]
fn repeated_failed_authentications_from_one_address_get_429_before_any_key_lookup() {
    let app = app_with(&[("auth_failure_limit_per_minute", "3")]);
    app.create_user("root@example.com", "admin");
    let (valid, _) = app.tokens("root@example.com");

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let guess = ApiKey::generate(uuid::Uuid::now_v7()).key;
        let resp = app
            .get("/v1/entities")
            .header("x-api-key", &guess)
            .send()
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            assert_retry_after_within_a_minute(&resp);
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
    // Only the first three guesses reached the API-key lookup in Postgres.
    let looked_up = logged(&app, "authentication failed")
        .into_iter()
        .filter(|l| l["reason"] == "unknown api key")
        .count();
    assert_eq!(looked_up, 3, "keys past the limit are refused unchecked");

    // A bad bearer token from the same address is limited too, with the RateLimit-* headers
    // (on the routes of the same component group: each group counts its own failures).
    let resp = app
        .get("/v1/relationships")
        .bearer_auth("not.a.token")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "ratelimit-limit"), "3");
    assert_eq!(header(&resp, "ratelimit-remaining"), "0");
    assert!(!header(&resp, "ratelimit-reset").is_empty());
    assert!(!header(&resp, "retry-after").is_empty());
    assert_eq!(json_body(resp)["status"], 429);

    // Only failures count: a valid token from the same address keeps working.
    assert_eq!(app.me_status(&valid), 200);
    let resp = app.get("/v1/entities").bearer_auth(&valid).send().unwrap();
    assert_eq!(resp.status(), 200);
}

// ------------------------------------------------------------------ 4. refresh races

#[test]
fn concurrent_refreshes_of_one_token_have_one_winner_and_revoke_the_family() {
    let app = app_with(&[]);
    app.create_user("root@example.com", "admin");
    let url = app.url("/v1/auth/refresh");
    for trial in 0..20 {
        let (_, token) = app.tokens("root@example.com");
        let answers = all_at_once(2, |client| {
            let resp = client
                .post(&url)
                .json(&json!({"refresh_token": token}))
                .send()
                .unwrap();
            (resp.status().as_u16(), resp.text().unwrap())
        });
        let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 401], "trial {trial}: exactly one winner");
        let (_, won) = answers.iter().find(|(s, _)| *s == 200).unwrap();
        let won: Value = serde_json::from_str(won).unwrap();
        // The loser presented a used token: reuse, which revokes the family, winner included.
        assert_eq!(
            refresh(&app, won["refresh_token"].as_str().unwrap()).status(),
            401,
            "trial {trial}: the winner's new refresh token is revoked with its family"
        );
        assert_eq!(
            app.me_status(won["access_token"].as_str().unwrap()),
            401,
            "trial {trial}: and so is its access token"
        );
        let live = app
            .db
            .query_json("SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL");
        assert_eq!(
            live[0]["n"], 0,
            "trial {trial}: no refresh token left alive"
        );
    }
}

// ------------------------------------------------------------------ 5. lockout races

#[test]
fn concurrent_wrong_passwords_evaluate_at_most_five_before_the_lock() {
    let app = app_with(&[]);
    let victim = app.create_user("victim@example.com", "user");
    let url = app.url("/v1/auth/token");
    let answers = all_at_once(12, |client| {
        let resp = client
            .post(&url)
            .json(&json!({"email": "victim@example.com", "password": "not the password!!"}))
            .send()
            .unwrap();
        (resp.status().as_u16(), json_body(resp))
    });
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    let unknown = app.login("ghost@example.com", "not the password!!");
    assert_eq!(unknown.status(), 401);
    let unknown = strip(json_body(unknown));
    for (status, body) in answers {
        assert_eq!(status, 401);
        assert_eq!(strip(body), unknown, "a lock does not show in the answer");
    }

    // The log names a known account by its id (never the email as typed).
    let failures: Vec<String> = logged(&app, "login failed")
        .into_iter()
        .filter(|l| l["user_id"] == victim.as_str())
        .map(|l| l["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(failures.len(), 12, "{failures:?}");
    let evaluated = failures
        .iter()
        .filter(|r| r.starts_with("wrong password"))
        .count();
    assert!(
        evaluated <= 5,
        "{evaluated} guesses were evaluated: {failures:?}"
    );
    let row = app.db.query_json(&format!(
        "SELECT locked_until > now() AS locked, lockout_count FROM users WHERE id = '{victim}'"
    ));
    assert_eq!(row[0]["locked"], true);
    assert_eq!(
        row[0]["lockout_count"], 1,
        "locked once, not once per five racers"
    );
    assert_eq!(
        app.login("victim@example.com", PASSWORD).status(),
        401,
        "the right password is refused while locked"
    );
}

// ------------------------------------------------------------------ 6. revocation

#[test]
fn a_logged_out_token_stays_refused_while_the_clock_leeway_still_accepts_tokens() {
    let app = app_with(&[("access_token_ttl_seconds", "1")]);
    app.create_user("root@example.com", "admin");
    let (out, _) = app.tokens("root@example.com");
    let (kept, _) = app.tokens("root@example.com");
    let resp = app
        .post("/v1/auth/logout")
        .bearer_auth(&out)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    // Both tokens are past `exp` now, but within the verifier's clock leeway.
    thread::sleep(Duration::from_secs(3));
    assert_eq!(
        app.me_status(&kept),
        200,
        "the leeway still accepts an expired token"
    );
    assert_eq!(
        app.me_status(&out),
        401,
        "so the denylist entry outlives exp by the leeway"
    );
}

#[test]
fn demoting_or_deactivating_refuses_tokens_issued_in_the_same_second() {
    let app = app_with(&[]);
    app.create_user("root@example.com", "admin");
    let (admin, _) = app.tokens("root@example.com");
    let patch = |id: &str, body: Value| {
        let resp = app
            .patch(&format!("/v1/auth/users/{id}"))
            .json(&body)
            .bearer_auth(&admin)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
    };
    // A new user of `role` signed in and then changed by `change` in one second of the clock:
    // the token it signed in with, or `None` when the second ran out before the change.
    let changed_in_the_same_second = |email: &str, role: &str, change: Value| {
        let id = create_user(&app, &admin, email, role);
        sleep_to_next_second();
        let second = unix_now();
        let (token, _) = app.tokens(email);
        patch(&id, change);
        (unix_now() == second).then_some(token)
    };
    // Retried until sign-in and change fall in one second of the clock (almost always at once).
    let mut demoted = false;
    let mut deactivated = false;
    for attempt in 0..10 {
        let email = format!("boss{attempt}@example.com");
        if !demoted
            && let Some(token) =
                changed_in_the_same_second(&email, "admin", json!({"role": "user"}))
        {
            assert_eq!(app.me_status(&token), 401, "the admin token is refused");
            let (fresh, _) = app.tokens(&email);
            let resp = app.get("/v1/auth/me").bearer_auth(&fresh).send().unwrap();
            assert_eq!(resp.status(), 200, "a token issued after the change works");
            assert_eq!(json_body(resp)["role"], "user");
            demoted = true;
        }
        let email = format!("leaver{attempt}@example.com");
        if !deactivated
            && let Some(token) =
                changed_in_the_same_second(&email, "user", json!({"active": false}))
        {
            assert_eq!(
                app.me_status(&token),
                401,
                "the deactivated user's token is refused"
            );
            deactivated = true;
        }
        if demoted && deactivated {
            return;
        }
    }
    panic!(
        "sign-in and change never fell in the same second (demoted {demoted}, deactivated {deactivated})"
    );
}

// ------------------------------------------------------------------ 7. sessions end

#[test]
fn a_session_ends_at_its_absolute_lifetime_whatever_the_rotations() {
    let app = app_with(&[("session_lifetime_seconds", "3")]);
    app.create_user("root@example.com", "admin");
    let started = std::time::Instant::now();
    let (_, mut token) = app.tokens("root@example.com");
    for rotation in 0..2 {
        let resp = refresh(&app, &token);
        assert_eq!(
            resp.status(),
            200,
            "rotation {rotation} within the lifetime"
        );
        token = json_body(resp)["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
        thread::sleep(Duration::from_millis(700));
    }
    thread::sleep(Duration::from_secs(4).saturating_sub(started.elapsed()));
    let resp = refresh(&app, &token);
    assert_eq!(
        resp.status(),
        401,
        "the latest token of a session past its lifetime is refused"
    );
    let ends = app
        .db
        .query_json("SELECT count(DISTINCT session_expires_at) AS n FROM refresh_tokens");
    assert_eq!(ends[0]["n"], 1, "rotations keep the family's end");
}

// ------------------------------------------------------------------ issue 25, item 5f

#[test]
fn failed_logins_log_a_pseudonym_never_the_email_as_typed() {
    let app = app_with(&[]);
    app.create_user("ada@example.com", "user");
    // A password typed into the email field, twice, and a known account's wrong password.
    let typed = "Hunter2-Secret@example.com";
    for _ in 0..2 {
        assert_eq!(app.login(typed, "whatever-the-password").status(), 401);
    }
    assert_eq!(app.login("other@example.com", "whatever").status(), 401);
    assert_eq!(
        app.login("ada@example.com", "not the password").status(),
        401
    );

    // Guest output reaches the host's log a moment after the answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let failures = loop {
        let failures = logged(&app, "login failed");
        if failures.len() >= 4 || std::time::Instant::now() > deadline {
            break failures;
        }
        thread::sleep(Duration::from_millis(25));
    };
    assert_eq!(failures.len(), 4, "{failures:?}");
    let text = app.logs.text().to_lowercase();
    for needle in ["hunter2", "other@example.com", "ada@example.com"] {
        assert!(!text.contains(needle), "{needle} reached the logs");
    }
    let unknown: Vec<&Value> = failures
        .iter()
        .filter(|l| l["reason"] == "unknown email")
        .collect();
    assert_eq!(unknown.len(), 3);
    let pseudonym = |l: &Value| l["email_hmac"].as_str().unwrap().to_string();
    assert_eq!(pseudonym(unknown[0]).len(), 16);
    assert_eq!(
        pseudonym(unknown[0]),
        pseudonym(unknown[1]),
        "one address, one pseudonym"
    );
    assert_ne!(pseudonym(unknown[0]), pseudonym(unknown[2]));
    let known = failures
        .iter()
        .find(|l| l["reason"] == "wrong password")
        .unwrap();
    assert!(known["user_id"].is_string() && known["email_hmac"].is_null());
    assert_eq!(known["ip"], "127.0.0.1");
}

#[test]
fn register_answers_a_taken_email_as_it_answers_a_new_one() {
    let app = app_with(&[("signup_enabled", "true")]);
    let taken = app.create_user("taken@example.com", "admin");
    let register = |email: &str, password: &str| {
        app.post_json(
            "/v1/auth/register",
            &json!({"email": email, "password": password}),
        )
        .send()
        .unwrap()
    };
    let fresh = register("fresh@example.com", PASSWORD);
    let again = register("Taken@Example.com", "another long password 42");
    for resp in [&fresh, &again] {
        assert_eq!(resp.status(), 201);
        assert!(header(resp, "location").starts_with("/v1/auth/users/"));
    }
    let (fresh, again) = (json_body(fresh), json_body(again));
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<String>>()
    };
    assert_eq!(keys(&fresh), keys(&again));
    assert_eq!(again["email"], "taken@example.com");
    assert_eq!(again["role"], fresh["role"]);
    assert_ne!(
        again["id"],
        taken.as_str(),
        "the answer names no real account"
    );
    // Nothing changed: the owner keeps their role and password, and no account was added.
    let users = app
        .db
        .query_json("SELECT email, role FROM users ORDER BY email");
    assert_eq!(
        users,
        json!([{"email": "fresh@example.com", "role": "user"},
               {"email": "taken@example.com", "role": "admin"}])
    );
    assert_eq!(app.login("taken@example.com", PASSWORD).status(), 200);
    // A broken request is refused the same way for both.
    assert_eq!(register("taken@example.com", "short").status(), 422);
    assert_eq!(register("new@example.com", "short").status(), 422);
}

#[test]
fn the_docs_page_cannot_be_framed_and_persists_no_pasted_token() {
    let app = app_with(&[]);
    let page = app.get("/docs").send().unwrap();
    assert_eq!(page.status(), 200);
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let init = app.get("/docs/init.js").send().unwrap().text().unwrap();
    assert!(init.contains("persistAuthorization: false"), "{init}");
}
