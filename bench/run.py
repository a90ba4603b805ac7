"""Drive bench/run: start spingraph and the FastAPI baseline on one database, load both with wrk,
print each measurement next to its baseline as a ratio. Stdlib only (plus the baseline's venv)."""
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST_BIN = os.environ.get("BENCH_HOST_BIN", os.path.join(ROOT, "target", "release", "spingraph"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "64")
LOGIN_ROUNDS = int(os.environ.get("BENCH_LOGIN_ROUNDS", "20"))
PG = "postgres://postgres@127.0.0.1:5432"


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


def wrk(url, token=None):
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "errors": int(non2xx.group(1)) if non2xx else 0}


def start_host(db_url, port, extra_env=None):
    env = dict(os.environ, SPIN_VARIABLE_DATABASE_URL=db_url, **(extra_env or {}))
    return subprocess.Popen(
        [HOST_BIN, "up", "--dev", "--listen", f"127.0.0.1:{port}",
         "--variable", "login_rate_limit_per_minute=100000",
         "--variable", "api_rate_limit_per_minute=100000000"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    db = f"spingraph_bench_{uuid.uuid4().hex[:8]}"
    db_url = f"{PG}/{db}?sslmode=disable"
    subprocess.run([HOST_BIN, "migrate", "up", "--database-url", db_url], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    subprocess.run([HOST_BIN, "admin", "create-user", "--email", "bench@example.com", "--role", "user",
                    "--database-url", db_url], input=password + "\n", text=True, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
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

        # Baseline: the old FastAPI service's GET /entities/{id} on the same database.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        x = jwks["keys"][0]["x"]
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        bport = free_port()
        benv = dict(os.environ, BASELINE_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}",
                    BASELINE_PUBLIC_KEY_PEM=pem)
        baseline = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "uvicorn"), "app:app", "--host", "127.0.0.1",
             "--port", str(bport), "--workers", "2", "--log-level", "warning"],
            cwd=os.path.join(ROOT, "bench", "baseline"), env=benv)
        procs.append(baseline)
        wait_ready(f"http://127.0.0.1:{bport}/docs", 60)

        ours = wrk(f"{base}/v1/entities/{ent['id']}", token)
        theirs = wrk(f"http://127.0.0.1:{bport}/entities/{ent['id']}", token)
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

        print(json.dumps({
            "get_entity": {"spingraph": ours, "fastapi_baseline": theirs,
                           "throughput_ratio": round(ours["rps"] / theirs["rps"], 2),
                           "target": ">= 10x, p99 <= 20 ms"},
            "health_live": live,
            "login": {"wasm_login_s": round(login, 4), "native_argon2id_s": round(native, 4),
                      "ratio": round(login / native, 2),
                      "native_same_crate_s": round(native_rust, 4),
                      "ratio_same_crate": round(login / native_rust, 2), "target": "<= 1.5x"},
            "startup_s": round(startup, 3),
        }, indent=2))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                       check=False)


if __name__ == "__main__":
    main()
