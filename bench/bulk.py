"""Drive bench/bulk (issue 29): a graph of BULK_ENTITIES entities (default 100,000) and
BULK_ENTITIES * 5 relationships, exported through `GET /v1/export` and imported into an empty
database with `spingraph import`, each next to `psql \\copy` of the same rows on the same database
(the floor: no HTTP, no JSON, no audit or change rows), with the host's RSS sampled while it
exports. Stdlib only; reuses bench/run.py's helpers."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import run as r

ENTITIES = int(os.environ.get("BULK_ENTITIES", "100000"))
DEGREE = 5
ADMIN = "bulk-admin@example.com"
# Long enough for the slowest import here; the import CLI reads the token from the environment.
TOKEN_TTL = {"SPIN_VARIABLE_ACCESS_TOKEN_TTL_SECONDS": "7200"}


def seed(db_url):
    """ENTITIES entities with natural keys (`n<k>`), each with DEGREE outgoing relationships."""
    r.psql(db_url, f"""
        CREATE TEMP TABLE seed AS SELECT g AS n, uuid_generate_v7() AS id
          FROM generate_series(0, {ENTITIES - 1}) g;
        INSERT INTO entities (id, type, name, confidence, metadata, owner_id, external_id)
          SELECT id, CASE WHEN n % 3 = 0 THEN 'org' ELSE 'person' END, 'node ' || n, 0.5,
                 jsonb_build_object('n', n, 'tags', jsonb_build_array('a', 'b')),
                 (SELECT id FROM users WHERE email = 'bench@example.com'), 'n' || n FROM seed;
        INSERT INTO relationships (source_id, target_id, type, created_by)
          SELECT a.id, b.id, 'link', (SELECT id FROM users WHERE email = 'bench@example.com')
          FROM seed a CROSS JOIN generate_series(1, {DEGREE}) k
          JOIN seed b ON b.n = (a.n + 7 * k) % {ENTITIES};
        -- each row's `create` in the change history, as the API would have written it, so an
        -- as-of export reads the same graph
        INSERT INTO changes (kind, op, resource_id, type, version, document)
          SELECT 'entity', 'create', e.id, e.type, e.version, jsonb_build_object('id', e.id,
                 'type', e.type, 'name', e.name, 'confidence', e.confidence, 'metadata', e.metadata,
                 'owner_id', e.owner_id, 'external_id', e.external_id, 'version', e.version,
                 'created_at', e.created_at, 'updated_at', e.updated_at) FROM entities e;
        INSERT INTO changes (kind, op, resource_id, type, version, document)
          SELECT 'relationship', 'create', x.id, x.type, x.version, jsonb_build_object('id', x.id,
                 'source_id', x.source_id, 'target_id', x.target_id, 'type', x.type,
                 'confidence', x.confidence, 'metadata', x.metadata, 'created_by', x.created_by,
                 'version', x.version, 'created_at', x.created_at, 'updated_at', x.updated_at)
          FROM relationships x;
        ANALYZE entities; ANALYZE relationships; ANALYZE changes;""")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    """The peak RSS of `pid` while running, sampled every 20 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def stop(self):
        self.done.set()
        self.join()
        return round(self.peak, 1)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def export(base, token, fmt, path, as_of=None):
    query = f"format={fmt}" + (f"&as_of={as_of}" if as_of else "")
    req = urllib.request.Request(f"{base}/v1/export?{query}",
                                 headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=600) as resp, open(path, "wb") as out:
        while chunk := resp.read(1 << 20):
            out.write(chunk)
    return os.path.getsize(path)


def last_line(path):
    """The last line of a file (an NDJSON export's end line, which counts what it holds)."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 4096))
        return f.read().decode().strip().splitlines()[-1]


def copy_out(db_url, table, path):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", db_url, "-c",
                    f"\\copy (SELECT * FROM {table} WHERE deleted_at IS NULL) TO '{path}'"],
                   check=True)


def copy_in(db_url, table, path):
    """`\\copy` into a table shaped (and indexed) like `table`, without its foreign keys."""
    r.psql(db_url, f"CREATE TABLE IF NOT EXISTS floor_{table} (LIKE {table} INCLUDING ALL)")
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", db_url, "-c",
                    f"\\copy floor_{table} FROM '{path}'"], check=True)


def admin_token(base, db_url, password):
    subprocess.run([r.HOST_BIN, "admin", "create-user", "--email", ADMIN, "--role", "admin",
                    "--database-url", db_url], input=password + "\n", text=True, check=True,
                   cwd=r.ROOT, stdout=subprocess.DEVNULL)
    _, tok = r.http("POST", f"{base}/v1/auth/token", {"email": ADMIN, "password": password})
    return tok["access_token"]


def rate(rows, seconds):
    return round(rows / seconds) if seconds else None


def main():
    rows = ENTITIES * (1 + DEGREE)
    work = tempfile.mkdtemp(prefix="spingraph-bulk-")
    dbs, procs, report = [], [], {"entities": ENTITIES, "relationships": ENTITIES * DEGREE}
    try:
        src, src_url, password = r.fresh_database()
        dbs.append(src)
        print(f"==> seeding {ENTITIES} entities and {ENTITIES * DEGREE} relationships", file=sys.stderr)
        seed(src_url)
        port = r.free_port()
        host = r.start_host(src_url, port, TOKEN_TTL)
        procs.append(host)
        base = f"http://127.0.0.1:{port}"
        r.wait_ready(f"{base}/v1/health/live", 120)
        token = admin_token(base, src_url, password)

        print("==> exporting (each format), then psql \\copy of the same rows", file=sys.stderr)
        idle = round(rss_mib(host.pid), 1)
        exports = {}
        # the last: the same graph read from the change history (`as_of` now)
        now = subprocess.run(
            ["psql", "-tAq", src_url, "-c", "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"],
            capture_output=True, text=True, check=True).stdout.strip()
        for name, fmt, as_of in (("ndjson", "ndjson", None), ("graphml", "graphml", None),
                                 ("jsonld", "jsonld", None), ("ndjson_as_of", "ndjson", now)):
            sampler = RssSampler(host.pid)
            sampler.start()
            path = os.path.join(work, f"export.{name}")
            seconds, size = timed(lambda: export(base, token, fmt, path, as_of))
            exports[name] = {"seconds": round(seconds, 2), "rows_per_s": rate(rows, seconds),
                             "bytes": size, "host_rss_peak_mib": sampler.stop()}
        ends = {name: last_line(os.path.join(work, f"export.{name}")) for name in ("ndjson", "ndjson_as_of")}
        if ends["ndjson"] != ends["ndjson_as_of"]:
            raise SystemExit(f"the as-of export is not the live one: {ends}")
        floor_s, _ = timed(lambda: (copy_out(src_url, "entities", os.path.join(work, "e.copy")),
                                    copy_out(src_url, "relationships", os.path.join(work, "r.copy"))))
        report["export"] = {
            **exports,
            "psql_copy_floor": {"seconds": round(floor_s, 2), "rows_per_s": rate(rows, floor_s)},
            "ndjson_vs_floor": round(floor_s / exports["ndjson"]["seconds"], 3),
            "host_rss_idle_mib": idle,
        }
        host.terminate()
        host.wait(10)

        print("==> importing the NDJSON export into an empty database, then psql \\copy", file=sys.stderr)
        dst, dst_url, dst_password = r.fresh_database()
        dbs.append(dst)
        dport = r.free_port()
        dhost = r.start_host(dst_url, dport, TOKEN_TTL)
        procs.append(dhost)
        dbase = f"http://127.0.0.1:{dport}"
        r.wait_ready(f"{dbase}/v1/health/live", 120)
        _, tok = r.http("POST", f"{dbase}/v1/auth/token",
                        {"email": "bench@example.com", "password": dst_password})
        env = dict(os.environ, SPINGRAPH_TOKEN=tok["access_token"], SPINGRAPH_URL=dbase)
        seconds, done = timed(lambda: subprocess.run(
            [r.HOST_BIN, "import", os.path.join(work, "export.ndjson"), "--chunk-size", "1000"],
            env=env, cwd=work, capture_output=True, text=True))
        if done.returncode != 0:
            raise SystemExit(f"import failed:\n{done.stderr[-4000:]}")
        floor_s, _ = timed(lambda: (copy_in(dst_url, "entities", os.path.join(work, "e.copy")),
                                    copy_in(dst_url, "relationships", os.path.join(work, "r.copy"))))
        report["import"] = {
            "seconds": round(seconds, 2), "rows_per_s": rate(rows, seconds),
            "psql_copy_floor": {"seconds": round(floor_s, 2), "rows_per_s": rate(rows, floor_s)},
            "vs_floor": round(floor_s / seconds, 3),
            "summary": done.stderr.strip().splitlines()[-6:],
        }
        print(json.dumps(report, indent=2))
    finally:
        r.stop(procs)
        for db in dbs:
            r.drop_database(db)
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
