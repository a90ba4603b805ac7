"""Drive bench/run: start spingraph and the FastAPI baseline on one database (seeded with a graph),
load both with wrk, print each measurement next to its baseline as a ratio. `--compare` also runs
the same load against another host command (`SPINGRAPH_HOST_CMD`, e.g. `spin up`) serving the same
manifest on the same database. Stdlib only (plus the baseline's venv)."""
import base64
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST_BIN = os.environ.get("BENCH_HOST_BIN", os.path.join(ROOT, "target", "release", "spingraph"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "64")
LOGIN_ROUNDS = int(os.environ.get("BENCH_LOGIN_ROUNDS", "20"))
# The server (a postgres:// URL without a database): BENCH_PG (e.g. a throw-away cluster with
# auto_explain), else the PostgreSQL with pgvector `./dev` uses (`./dev postgres url`: the
# machine's when it has pgvector, else ./dev's own, started if need be). The hosts get its
# host:port as the `postgres_host` variable (SPIN_VARIABLE_POSTGRES_HOST).
PG = os.environ.get("BENCH_PG") or subprocess.run(
    [os.path.join(ROOT, "dev"), "postgres", "url"], check=True, capture_output=True, text=True,
    cwd=ROOT).stdout.strip()
PG_HOST = PG.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
if ":" not in PG_HOST.rsplit("]", 1)[-1]:
    PG_HOST += ":5432"
# The seeded graph: SEED_ENTITIES entities, each with SEED_DEGREE outgoing relationships.
SEED_ENTITIES = int(os.environ.get("BENCH_SEED_ENTITIES", "10000"))
SEED_DEGREE = int(os.environ.get("BENCH_SEED_DEGREE", "5"))
LIMITS = ["--variable", "login_rate_limit_per_minute=100000",
          "--variable", "api_rate_limit_per_minute=100000000"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def wait_ready(url, deadline_s=30):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"{url} did not answer within {deadline_s}s")


def wrk(url, token=None, post=None):
    """`wrk` against `url` for DURATION; `post` (a dict) makes every request a JSON POST of it."""
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    script = None
    if post is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        body = json.dumps(post).replace("\\", "\\\\").replace("'", "\\'")
        script.write(f"wrk.method = 'POST'\nwrk.body = '{body}'\n"
                     "wrk.headers['Content-Type'] = 'application/json'\n")
        script.close()
        cmd[1:1] = ["-s", script.name]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    finally:
        if script:
            os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(pct):
        m = re.search(rf"{pct}%\s+([\d.]+)(us|ms|s)", out)
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)], 2)

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": latency(50), "p99_ms": latency(99),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def psql(db_url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", db_url, "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def seed_graph(db_url, owner_email, entities=None):
    """`entities` (default SEED_ENTITIES) entities and `entities` * SEED_DEGREE relationships
    (entity n links to n + 7k mod N for k = 1..SEED_DEGREE), written directly; returns one
    entity's id. Every node's depth-2 neighbourhood has the same size, whatever N."""
    entities = entities or SEED_ENTITIES
    psql(db_url, f"""
        CREATE TEMP TABLE seed AS SELECT g AS n, uuid_generate_v7() AS id
          FROM generate_series(0, {entities - 1}) g;
        INSERT INTO entities (id, type, name, confidence, metadata, owner_id)
          SELECT id, 'node', 'node ' || n, 0.5, '{{}}'::jsonb,
                 (SELECT id FROM users WHERE email = '{owner_email}') FROM seed;
        INSERT INTO relationships (source_id, target_id, type, created_by)
          SELECT a.id, b.id, 'link', (SELECT id FROM users WHERE email = '{owner_email}')
          FROM seed a CROSS JOIN generate_series(1, {SEED_DEGREE}) k
          JOIN seed b ON b.n = (a.n + 7 * k) % {entities};
        ANALYZE entities; ANALYZE relationships;""")
    out = subprocess.run(["psql", "-Atq", db_url, "-c",
                          "SELECT id FROM entities WHERE name = 'node 0'"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out


def ratio(ours, theirs):
    return round(ours["rps"] / theirs["rps"], 2) if theirs and theirs["rps"] else None


def start_host(db_url, port, extra_env=None):
    env = dict(os.environ, SPIN_VARIABLE_DATABASE_URL=db_url, SPIN_VARIABLE_POSTGRES_HOST=PG_HOST,
               **(extra_env or {}))
    return subprocess.Popen(
        [HOST_BIN, "up", "--dev", "--listen", f"127.0.0.1:{port}", *LIMITS],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_other_host(command, db_url, port):
    """`SPINGRAPH_HOST_CMD -f spin.toml --listen ...` with a fresh key pair (`spingraph admin
    gen-keys`, handed over in the environment, never in argv) and the same limits."""
    keys = subprocess.run([HOST_BIN, "admin", "gen-keys"], check=True, capture_output=True,
                          text=True, cwd=ROOT).stdout
    env = dict(os.environ, SPIN_VARIABLE_DATABASE_URL=db_url, SPIN_VARIABLE_POSTGRES_HOST=PG_HOST)
    # Each component group connects as its own role (what `up --dev` derives by itself).
    for group in ("auth", "data", "health"):
        env[f"SPIN_VARIABLE_{group.upper()}_DATABASE_URL"] = db_url.replace(
            "postgres://postgres@", f"postgres://spingraph_{group}@", 1)
    for line in keys.splitlines():
        name, _, value = line.partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return subprocess.Popen(
        [*shlex.split(command), "-f", "spin.toml", "--listen", f"127.0.0.1:{port}", *LIMITS],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load(base, token, entity_id, graph_node, prefix="/v1", graph_prefix="/v1/graph"):
    """The read loads of one server (paths under `prefix`), then its write load."""
    out = {
        "get_entity": wrk(f"{base}{prefix}/entities/{entity_id}", token),
        "list_entities": wrk(f"{base}{prefix}/entities?limit=20", token),
        "neighbors_depth2": wrk(f"{base}{graph_prefix}/neighbors/{graph_node}?depth=2", token),
    }
    out["create_entity"] = wrk(f"{base}{prefix}/entities", token,
                               post={"type": "bench", "name": "Written", "metadata": {"k": 1}})
    return out


def fresh_database():
    """A new, migrated database with the bench user: (name, url, password)."""
    db = f"spingraph_bench_{uuid.uuid4().hex[:8]}"
    db_url = f"{PG}/{db}?sslmode=disable"
    subprocess.run([HOST_BIN, "migrate", "up", "--database-url", db_url], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    subprocess.run([HOST_BIN, "admin", "create-user", "--email", "bench@example.com", "--role", "user",
                    "--database-url", db_url], input=password + "\n", text=True, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return db, db_url, password


def stop(procs):
    """Terminate every process of `procs`, killing the ones that do not exit within 10 s."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def drop_database(db):
    subprocess.run(["psql", "-q", f"{PG}/postgres", "-c",
                    f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False)


def walk_scaling():
    """`--walk-scaling` (issue 26): the depth-2 neighbors walk on a graph of 10,000 and one of
    100,000 relationships (the same walk: every node's neighbourhood has the same size), each on
    a fresh database and host, one after the other; the 100k/10k latency ratios are the result
    (target: within 1.3x)."""
    sizes = {"10k": 10_000 // SEED_DEGREE, "100k": 100_000 // SEED_DEGREE}
    out = {}
    for label, entities in sizes.items():
        db, db_url, password = fresh_database()
        port = free_port()
        host = start_host(db_url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/v1/health/live", 120)
            _, tok = http("POST", f"{base}/v1/auth/token",
                          {"email": "bench@example.com", "password": password})
            print(f"==> walk on {label} relationships ({entities} entities)", file=sys.stderr)
            node = seed_graph(db_url, "bench@example.com", entities)
            url = f"{base}/v1/graph/neighbors/{node}?depth=2"
            wrk(url, tok["access_token"])  # warm-up: pools, plan caches
            out[label] = wrk(url, tok["access_token"])
        finally:
            host.terminate()
            host.wait(10)
            drop_database(db)
    small, large = out["10k"], out["100k"]
    out["ratio_100k_to_10k"] = {
        "p50": round(large["p50_ms"] / small["p50_ms"], 2),
        "p99": round(large["p99_ms"] / small["p99_ms"], 2),
        "rps": round(large["rps"] / small["rps"], 2),
        "target": "latency within 1.3x",
    }
    print(json.dumps({"neighbors_depth2_walk_scaling": out}, indent=2))


def main():
    if "--walk-scaling" in sys.argv[1:]:
        return walk_scaling()
    compare = "--compare" in sys.argv[1:]
    other_cmd = os.environ.get("SPINGRAPH_HOST_CMD", "")
    if compare and not other_cmd:
        raise SystemExit("--compare needs SPINGRAPH_HOST_CMD, e.g. SPINGRAPH_HOST_CMD='spin up'")
    db, db_url, password = fresh_database()
    port = free_port()
    host = start_host(db_url, port)
    base = f"http://127.0.0.1:{port}"
    procs = [host]
    try:
        wait_ready(f"{base}/v1/health/live", 120)  # first start may compile
        _, tok = http("POST", f"{base}/v1/auth/token", {"email": "bench@example.com", "password": password})
        token = tok["access_token"]
        _, ent = http("POST", f"{base}/v1/entities", {"type": "person", "name": "Ada", "metadata": {}},
                      {"authorization": f"Bearer {token}"})
        _, jwks = http("GET", f"{base}/v1/auth/.well-known/jwks.json")
        print(f"==> seeding {SEED_ENTITIES} entities and {SEED_ENTITIES * SEED_DEGREE} relationships",
              file=sys.stderr)
        graph_node = seed_graph(db_url, "bench@example.com")

        # Baseline: the old FastAPI service's GET /entities/{id} on the same database.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        x = jwks["keys"][0]["x"]
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        bport = free_port()
        benv = dict(os.environ, BASELINE_DATABASE_URL=PG.replace("postgres://", "postgresql+asyncpg://", 1) + f"/{db}",
                    BASELINE_PUBLIC_KEY_PEM=pem)
        baseline = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "uvicorn"), "app:app", "--host", "127.0.0.1",
             "--port", str(bport), "--workers", "2", "--log-level", "warning"],
            cwd=os.path.join(ROOT, "bench", "baseline"), env=benv)
        procs.append(baseline)
        wait_ready(f"http://127.0.0.1:{bport}/docs", 60)

        print("==> loading spingraph, then the FastAPI baseline", file=sys.stderr)
        ours = load(base, token, ent["id"], graph_node)
        theirs = load(f"http://127.0.0.1:{bport}", token, ent["id"], graph_node, prefix="",
                      graph_prefix="/graph")
        live = wrk(f"{base}/v1/health/live")
        # Login: wasm argon2id vs native argon2id (argon2-cffi) with the same parameters.
        from argon2 import PasswordHasher
        ph = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
        digest = ph.hash(password)
        t0 = time.perf_counter()
        for _ in range(LOGIN_ROUNDS):
            ph.verify(digest, password)
        native = (time.perf_counter() - t0) / LOGIN_ROUNDS
        t0 = time.perf_counter()
        for _ in range(LOGIN_ROUNDS):
            http("POST", f"{base}/v1/auth/token", {"email": "bench@example.com", "password": password})
        login = (time.perf_counter() - t0) / LOGIN_ROUNDS
        # The same argon2 crate and parameters compiled natively (crates/password/examples).
        native_rust = float(subprocess.run(
            ["cargo", "run", "-q", "--release", "-p", "spingraph-password", "--example", "verify_time", str(LOGIN_ROUNDS)],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip())

        # Start to first answer, components already compiled and cached.
        host.terminate()
        host.wait(10)
        t0 = time.monotonic()
        host = start_host(db_url, port)
        procs[0] = host
        startup = wait_ready(f"{base}/v1/health/live", 30)

        other = None
        if compare:
            # The other host runs alone: ours and the baseline stop first, so their connection
            # pools (Postgres allows 100 connections) and CPU are not shared with it.
            for p in procs:
                p.terminate()
                p.wait(10)
            print(f"==> loading {other_cmd!r} on the same database", file=sys.stderr)
            oport = free_port()
            procs.append(start_other_host(other_cmd, db_url, oport))
            obase = f"http://127.0.0.1:{oport}"
            wait_ready(f"{obase}/v1/health/live", 120)
            _, otok = http("POST", f"{obase}/v1/auth/token",
                           {"email": "bench@example.com", "password": password})
            other = load(obase, otok["access_token"], ent["id"], graph_node)
            other["health_live"] = wrk(f"{obase}/v1/health/live")

        report = {
            name: {"spingraph": ours[name], "fastapi_baseline": theirs[name],
                   "throughput_ratio": ratio(ours[name], theirs[name])}
            for name in ours
        }
        report["get_entity"]["target"] = ">= 10x, p99 <= 20 ms"
        report["seeded_graph"] = {"entities": SEED_ENTITIES, "relationships": SEED_ENTITIES * SEED_DEGREE}
        if other:
            report["compare"] = {
                "host_cmd": other_cmd,
                **{name: {"spingraph": (ours[name] if name in ours else live), "other": other[name],
                          "throughput_ratio": ratio(ours[name] if name in ours else live, other[name])}
                   for name in other},
            }
        print(json.dumps({
            **report,
            "health_live": live,
            "login": {"wasm_login_s": round(login, 4), "native_argon2id_s": round(native, 4),
                      "ratio": round(login / native, 2),
                      "native_same_crate_s": round(native_rust, 4),
                      "ratio_same_crate": round(login / native_rust, 2), "target": "<= 1.5x"},
            "startup_s": round(startup, 3),
        }, indent=2))
    finally:
        stop(procs)
        drop_database(db)


if __name__ == "__main__":
    main()
