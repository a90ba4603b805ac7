"""The old FastAPI service's hot path, rebuilt as the benchmark baseline.

GET /entities/{id} with a bearer token: verify the JWT, load one row with
SQLAlchemy from the same database spingraph uses. Only for bench/run; it is
not part of the product.
"""
import os
import uuid

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
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
