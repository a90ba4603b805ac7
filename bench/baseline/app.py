"""The old FastAPI service's hot path, rebuilt as the benchmark baseline.

GET /entities/{id} with a bearer token: verify the JWT, load one row with
SQLAlchemy from the same database spingraph uses; likewise the list, create
(with its audit row) and neighbours operations bench/run compares. Only for
bench/run; it is not part of the product.
"""
import json
import os
import uuid

import jwt
from fastapi import Body, Depends, FastAPI, Header, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DATABASE_URL = os.environ["BASELINE_DATABASE_URL"]
PUBLIC_KEY_PEM = os.environ["BASELINE_PUBLIC_KEY_PEM"]
AUDIENCE = os.environ.get("BASELINE_AUDIENCE", "spingraph-api")

engine = create_async_engine(DATABASE_URL, pool_size=20, max_overflow=0)
app = FastAPI()


def principal(authorization: str = Header(...)) -> dict:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise HTTPException(401)
    try:
        return jwt.decode(token, PUBLIC_KEY_PEM, algorithms=["EdDSA"], audience=AUDIENCE)
    except jwt.PyJWTError:
        raise HTTPException(401)


@app.get("/entities/{entity_id}")
async def get_entity(entity_id: uuid.UUID, claims: dict = Depends(principal)):
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT id, type, name, confidence, metadata, owner_id, version, "
                    "created_at, updated_at FROM entities "
                    "WHERE id = :id AND deleted_at IS NULL"
                ),
                {"id": entity_id},
            )
        ).mappings().first()
    if row is None:
        raise HTTPException(404)
    return dict(row)


ENTITY_COLUMNS = (
    "id, type, name, confidence, metadata, owner_id, version, created_at, updated_at"
)


@app.get("/entities")
async def list_entities(limit: int = 20, claims: dict = Depends(principal)):
    """The first page of live entities, newest first (the old service's list)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {ENTITY_COLUMNS} FROM entities WHERE deleted_at IS NULL "
                    "ORDER BY created_at DESC, id DESC LIMIT :limit"
                ),
                {"limit": min(max(limit, 1), 200)},
            )
        ).mappings().all()
    return {"items": [dict(r) for r in rows]}


@app.post("/entities", status_code=201)
async def create_entity(body: dict = Body(...), claims: dict = Depends(principal)):
    """Insert an entity and its audit row in one transaction."""
    entity_id = uuid.uuid4()
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "INSERT INTO entities (id, type, name, confidence, metadata, owner_id) "
                    "VALUES (:id, :type, :name, :confidence, CAST(:metadata AS jsonb), :owner) "
                    f"RETURNING {ENTITY_COLUMNS}"
                ),
                {
                    "id": entity_id,
                    "type": body["type"],
                    "name": body["name"],
                    "confidence": body.get("confidence", 1.0),
                    "metadata": json.dumps(body.get("metadata", {})),
                    "owner": claims["sub"],
                },
            )
        ).mappings().first()
        await conn.execute(
            text(
                "INSERT INTO audit_log (id, actor_id, action, resource_type, resource_id) "
                "VALUES (:id, :actor, 'entity.create', 'entity', :resource)"
            ),
            {"id": uuid.uuid4(), "actor": claims["sub"], "resource": entity_id},
        )
    return dict(row)


@app.get("/graph/neighbors/{entity_id}")
async def neighbors(entity_id: uuid.UUID, depth: int = 1, claims: dict = Depends(principal)):
    """Entities within `depth` hops either way (a recursive CTE), and the edges among them."""
    async with engine.connect() as conn:
        nodes = (
            await conn.execute(
                text(
                    "WITH RECURSIVE walk(node, depth) AS (SELECT CAST(:id AS uuid), 0 "
                    "UNION SELECT CASE WHEN r.source_id = w.node THEN r.target_id ELSE r.source_id END, "
                    "w.depth + 1 FROM walk w JOIN relationships r "
                    "ON (r.source_id = w.node OR r.target_id = w.node) AND r.deleted_at IS NULL "
                    "WHERE w.depth < :depth) "
                    f"SELECT {', '.join('e.' + c.strip() for c in ENTITY_COLUMNS.split(','))}, "
                    "min(w.depth) AS depth FROM walk w JOIN entities e ON e.id = w.node "
                    "WHERE e.deleted_at IS NULL GROUP BY e.id LIMIT 100"
                ),
                {"id": entity_id, "depth": min(max(depth, 1), 3)},
            )
        ).mappings().all()
        ids = [n["id"] for n in nodes]
        edges = (
            await conn.execute(
                text(
                    "SELECT id, source_id, target_id, type, confidence FROM relationships "
                    "WHERE deleted_at IS NULL AND source_id = ANY(:ids) AND target_id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        ).mappings().all()
    if not nodes:
        raise HTTPException(404)
    return {"nodes": [dict(n) for n in nodes], "edges": [dict(e) for e in edges]}
