//! The verified-token cache and the one Redis round trip of an authenticated request (issue 14,
//! items 1-3), against the real host and a Redis of the test's own: `authn` keeps a verified
//! token's claims in Redis under a MAC keyed with its component group's `token_cache_key`, so
//! whoever writes Redis can neither mint nor extend an identity; revocation is read on every
//! request in the same `EVAL` that counts the api rate limit.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use spingraph_e2e::servers::RedisServer;
use spingraph_e2e::{
    AUDIENCE, Caller, ISSUER, Response, TestApp, TestOptions, header, host_property, json,
    json_body,
};
use spingraph_identity::token_cache::{KEY_PREFIX, TokenCache};
use spingraph_identity::{Role, TokenRules};

/// A component group's cache, as that group's authn derives it.
#[derive(Clone, Copy)]
enum Group {
    Auth,
    Data,
}

fn cache(app: &TestApp, group: Group) -> TokenCache {
    let secret = match group {
        Group::Auth => &app.keys.auth_cache_key,
        Group::Data => &app.keys.data_cache_key,
    };
    TokenCache::from_secret(secret)
        .unwrap()
        .expect("the harness sets the cache keys")
}

/// The Redis key of `token`'s entry in `group`'s cache.
fn slot_key(app: &TestApp, group: Group, token: &str) -> String {
    cache(app, group)
        .slot(
            &app.keys.public_keys,
            &TokenRules::new(ISSUER, AUDIENCE),
            token,
        )
        .key
}

fn start(redis: &RedisServer, opts: TestOptions) -> TestApp {
    TestApp::start(redis.app_options(opts))
}

/// `GET path` with `token`: the status.
fn status(app: &TestApp, path: &str, token: &str) -> u16 {
    app.get(path)
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// `GET /v1/entities?limit=1` with `token`.
fn list_one(app: &TestApp, token: &str) -> Response {
    app.get("/v1/entities?limit=1")
        .bearer_auth(token)
        .send()
        .unwrap()
}

/// [`list_one`], answered 200 under an api limit of `limit` a minute: the response.
fn list_one_within_limit(app: &TestApp, token: &str, limit: &str) -> Response {
    let resp = list_one(app, token);
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "ratelimit-limit"), limit);
    resp
}

/// `INFO commandstats` as `{command: calls}`.
fn command_calls(redis: &RedisServer) -> HashMap<String, u64> {
    redis
        .command_text(&["INFO", "commandstats"])
        .lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_string(), calls.parse().ok()?))
        })
        .collect()
}

/// A field of `INFO stats` (`total_connections_received`, ...).
fn info_stat(redis: &RedisServer, field: &str) -> u64 {
    redis
        .command_text(&["INFO", "stats"])
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO stats has no {field}"))
}

/// The base64url parts of an entry `v1.<claims>.<mac>`, the claims as JSON.
fn entry_claims(entry: &str) -> (serde_json::Value, String) {
    let parts: Vec<&str> = entry.split('.').collect();
    assert_eq!(parts.len(), 3, "{entry}");
    let claims = serde_json::from_slice(&b64_decode(parts[1])).unwrap();
    (claims, parts[2].to_string())
}

fn b64_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn a_verified_token_is_cached_per_group_under_a_name_that_reveals_nothing_and_expires_with_it() {
    let redis = RedisServer::start();
    let app = start(&redis, TestOptions::default());
    let user = app.caller("cached", "user");
    assert_eq!(status(&app, "/v1/entities?limit=1", &user.token), 200);
    assert_eq!(status(&app, "/v1/auth/me", &user.token), 200);
    for group in [Group::Data, Group::Auth] {
        let key = slot_key(&app, group, &user.token);
        assert_eq!(redis.command(&["EXISTS", &key]), ":1", "{key}");
        let ttl: i64 = redis.command(&["TTL", &key])[1..].parse().unwrap();
        // access_token_ttl_seconds (900) plus the verifier's 30 s leeway, at most.
        assert!((800..=930).contains(&ttl), "TTL {ttl}");
        let (claims, _) = entry_claims(&redis.command_text(&["GET", &key]));
        assert_eq!(claims["sub"], user.id);
        assert_eq!(claims["role"], "user");
    }
    // The two groups' entries are apart, and no key names the token or its id.
    assert_ne!(
        slot_key(&app, Group::Data, &user.token),
        slot_key(&app, Group::Auth, &user.token)
    );
    let keys = redis.command_text(&[
        "EVAL",
        "return table.concat(redis.call('KEYS', ARGV[1]), ' ')",
        "0",
        &format!("{KEY_PREFIX}*"),
    ]);
    assert_eq!(keys.split(' ').count(), 2, "{keys}");
    let (claims, _) =
        entry_claims(&redis.command_text(&["GET", &slot_key(&app, Group::Data, &user.token)]));
    let jti = claims["jti"].as_str().unwrap();
    assert!(
        !keys.contains(jti) && !keys.contains(&user.token[..20]),
        "{keys}"
    );
}

#[test]
fn an_edited_or_forged_cache_entry_is_never_accepted() {
    let redis = RedisServer::start();
    let app = start(&redis, TestOptions::default());
    let user = app.caller("mallory", "user");
    // Admin-only on both sides: the change feed (data) and the user list (auth).
    let admin_only = [
        (Group::Data, "/v1/changes?limit=1"),
        (Group::Auth, "/v1/auth/users"),
    ];
    for (group, path) in admin_only {
        assert_eq!(status(&app, path, &user.token), 403, "{path} as a user");
        let key = slot_key(&app, group, &user.token);
        let entry = redis.command_text(&["GET", &key]);
        let (claims, mac) = entry_claims(&entry);
        // Promote the cached claims (and extend them an hour), keeping the MAC.
        let mut promoted = claims.clone();
        promoted["role"] = json!("admin");
        promoted["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
        let forged = format!("v1.{}.{mac}", b64_encode(promoted.to_string().as_bytes()));
        assert_eq!(redis.command(&["SET", &key, &forged, "EX", "7200"]), "+OK");
        assert_eq!(
            status(&app, path, &user.token),
            403,
            "{path}: an edited entry must not make the caller an admin"
        );
        // The forged entry was ignored and replaced by the genuine claims.
        let (again, _) = entry_claims(&redis.command_text(&["GET", &key]));
        assert_eq!(again["role"], "user", "{path}");
        assert_eq!(again["exp"], claims["exp"], "{path}");
    }

    // A token with a forged payload (admin) and the user's genuine entry copied under its key,
    // or an entry sealed with a key of the attacker's: refused (the signature is checked).
    let user_id = user.id.parse().unwrap();
    let forged_token = {
        let genuine = app.access_token(user_id, "mallory@example.com", Role::User, |_| {});
        let admin = app.access_token(user_id, "mallory@example.com", Role::Admin, |_| {});
        let g: Vec<&str> = genuine.split('.').collect();
        let a: Vec<&str> = admin.split('.').collect();
        format!("{}.{}.{}", g[0], a[1], g[2])
    };
    assert_eq!(status(&app, "/v1/changes?limit=1", &forged_token), 401);
    let genuine_entry = redis.command_text(&["GET", &slot_key(&app, Group::Data, &user.token)]);
    let forged_key = slot_key(&app, Group::Data, &forged_token);
    let attacker = TokenCache::from_secret("an attacker's own key, 32 chars or more")
        .unwrap()
        .unwrap();
    let (claims, _) = entry_claims(&genuine_entry);
    let mut admin_claims: spingraph_identity::Claims = serde_json::from_value(claims).unwrap();
    admin_claims.role = Role::Admin;
    let attacker_entry = attacker.seal(
        &attacker.slot(
            &app.keys.public_keys,
            &TokenRules::new(ISSUER, AUDIENCE),
            &forged_token,
        ),
        &admin_claims,
    );
    for planted in [genuine_entry, attacker_entry] {
        assert_eq!(redis.command(&["SET", &forged_key, &planted]), "+OK");
        assert_eq!(
            status(&app, "/v1/changes?limit=1", &forged_token),
            401,
            "a planted entry must not vouch for a forged token"
        );
    }
    // Only the genuine token still works.
    assert_eq!(status(&app, "/v1/entities?limit=1", &user.token), 200);
}

#[test]
fn a_cached_token_is_refused_at_once_after_logout_deactivation_or_demotion() {
    let redis = RedisServer::start();
    let app = start(&redis, TestOptions::signing_in_freely(&[]));
    let admin = app.caller("root", "admin");
    let warm = |c: &Caller| {
        assert_eq!(status(&app, "/v1/entities?limit=1", &c.token), 200);
        assert_eq!(status(&app, "/v1/entities?limit=1", &c.token), 200);
        assert_eq!(
            redis.command(&["EXISTS", &slot_key(&app, Group::Data, &c.token)]),
            ":1",
            "cached"
        );
    };

    // Each way of taking a signed-in user's standing away, with the paths it must close at once.
    let logout = |c: &Caller| app.logout(&c.token);
    let deactivate = |c: &Caller| {
        let path = format!("/v1/auth/users/{}", c.id);
        app.patch_as(&admin, &path, &json!({"active": false}))
    };
    let demote = |c: &Caller| {
        let path = format!("/v1/auth/users/{}", c.id);
        app.patch_as(&admin, &path, &json!({"role": "user"}))
    };
    type Revoke<'a> = &'a dyn Fn(&Caller) -> Response;
    let cases: [(&str, &str, Revoke, u16, &[&str]); 3] = [
        ("logout", "user", &logout, 204, &["/v1/entities?limit=1"]),
        (
            "deactivation",
            "user",
            &deactivate,
            200,
            &["/v1/entities?limit=1"],
        ),
        (
            "demotion",
            "admin",
            &demote,
            200,
            &["/v1/changes?limit=1", "/v1/entities?limit=1"],
        ),
    ];
    for (what, role, revoke, revoked_status, paths) in cases {
        let c = app.caller(what, role);
        warm(&c);
        for path in paths {
            assert_eq!(status(&app, path, &c.token), 200, "{what}: {path} before");
        }
        assert_eq!(revoke(&c).status(), revoked_status, "{what}");
        for path in paths {
            assert_eq!(status(&app, path, &c.token), 401, "{what}: {path}");
        }
    }
}

/// A user, an entity of theirs and its path, and the counters of `redis` reset after one warm-up
/// read (so the token is in the cache).
fn counted_reads_set_up(app: &TestApp, redis: &RedisServer) -> (Caller, String) {
    let user = app.caller("counted", "user");
    let created = app
        .post_json("/v1/entities", &json!({"type": "node", "name": "n"}))
        .bearer_auth(&user.token)
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let path = format!(
        "/v1/entities/{}",
        json_body(created)["id"].as_str().unwrap()
    );
    assert_eq!(status(app, &path, &user.token), 200);
    assert_eq!(redis.command(&["CONFIG", "RESETSTAT"]), "+OK");
    (user, path)
}

/// App behaviour, on every host: an authenticated request sends Redis one EVAL (denylist, cache,
/// rate limit in one script) and no other data command. How a host gets its connection (a new
/// one with its hand-shake, or a pooled one) is the host's; the next test holds ours to pooling.
#[test]
fn an_authenticated_request_costs_one_redis_round_trip() {
    let redis = RedisServer::start();
    let app = start(&redis, TestOptions::default());
    let (user, path) = counted_reads_set_up(&app, &redis);
    const N: u64 = 10;
    for _ in 0..N {
        assert_eq!(status(&app, &path, &user.token), 200);
    }
    let calls = command_calls(&redis);
    // Our own INFO/CONFIG calls aside, the requests sent one EVAL each (the commands a script
    // calls are counted under their own names: EXISTS, GET, INCR, TTL).
    assert_eq!(calls.get("eval"), Some(&N), "{calls:?}");
    for top_level in ["set", "evalsha", "ping"] {
        assert!(!calls.contains_key(top_level), "{top_level}: {calls:?}");
    }
}

/// Host property: spingraph's host runs those requests on pooled connections, Redis and Postgres:
/// no connection is opened per request (Spin opens a Redis connection per `open`).
#[test]
fn authenticated_requests_run_on_pooled_redis_and_postgres_connections() {
    if !host_property("pooled Redis connections") {
        return;
    }
    let redis = RedisServer::start();
    let app = start(&redis, TestOptions::default());
    let (user, path) = counted_reads_set_up(&app, &redis);
    let connections = info_stat(&redis, "total_connections_received");
    let backends = postgres_backends(&app);
    assert!(!backends.is_empty(), "the pool keeps its sessions open");
    const N: u64 = 10;
    for _ in 0..N {
        assert_eq!(status(&app, &path, &user.token), 200);
    }
    // Postgres too: the requests ran on the pool's open sessions; none was opened for them.
    let after = postgres_backends(&app);
    assert!(
        after.iter().all(|pid| backends.contains(pid)),
        "new Postgres sessions {after:?} beside {backends:?}"
    );
    // `+ 1`: this INFO's own connection (every test command opens one).
    assert_eq!(
        info_stat(&redis, "total_connections_received"),
        connections + 1,
        "the host opened Redis connections per request"
    );
    let calls = command_calls(&redis);
    // No connection hand-shake either.
    for top_level in ["hello", "client|setinfo", "auth", "select"] {
        assert!(!calls.contains_key(top_level), "{top_level}: {calls:?}");
    }
}

/// The server pids of the host's sessions on the test's database (the components connect as their
/// roles; the test's own queries, as `postgres`, are left out).
fn postgres_backends(app: &TestApp) -> Vec<u64> {
    app.db
        .query_json(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND usename <> current_user",
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["pid"].as_u64().unwrap())
        .collect()
}

#[test]
fn the_api_limit_is_counted_on_cache_hits_and_misses_and_forged_tokens_cannot_spend_it() {
    let redis = RedisServer::start();
    let app = start(
        &redis,
        TestOptions::default().variable("api_rate_limit_per_minute", "3"),
    );
    let victim = app.caller("victim", "user");
    // Tokens naming the victim but with a bad signature: refused, and not counted as theirs.
    let user_id = victim.id.parse().unwrap();
    let other = app.access_token(user_id, "victim@example.com", Role::User, |_| {});
    let forged = format!(
        "{}.{}",
        other.rsplit_once('.').unwrap().0,
        victim.token.rsplit_once('.').unwrap().1
    );
    for _ in 0..5 {
        assert_eq!(status(&app, "/v1/entities?limit=1", &forged), 401);
    }
    // The first request misses the cache (counted with the entry's store), the next hit it.
    for remaining in ["2", "1", "0"] {
        let resp = list_one_within_limit(&app, &victim.token, "3");
        assert_eq!(header(&resp, "ratelimit-remaining"), remaining);
    }
    let resp = list_one(&app, &victim.token);
    assert_eq!(resp.status(), 429);
    assert!(!header(&resp, "retry-after").is_empty());
}

#[test]
fn with_the_cache_off_every_request_is_verified_and_still_one_round_trip() {
    let redis = RedisServer::start();
    let app = start(
        &redis,
        TestOptions::default()
            .variable("data_token_cache_key", "")
            .variable("api_rate_limit_per_minute", "1000"),
    );
    let user = app.caller("uncached", "user");
    assert_eq!(status(&app, "/v1/entities?limit=1", &user.token), 200);
    assert_eq!(redis.command(&["CONFIG", "RESETSTAT"]), "+OK");
    for _ in 0..5 {
        list_one_within_limit(&app, &user.token, "1000");
    }
    assert_eq!(command_calls(&redis).get("eval"), Some(&5));
    assert_eq!(
        redis.command(&["EXISTS", &slot_key(&app, Group::Data, &user.token)]),
        ":0"
    );
    // A key too short to be a MAC key is a configuration error, answered 503, never ignored.
    drop(app);
    let app = start(
        &redis,
        TestOptions::default().variable("data_token_cache_key", "short"),
    );
    let user = app.caller("misconfigured", "user");
    assert_eq!(status(&app, "/v1/entities?limit=1", &user.token), 503);
}
