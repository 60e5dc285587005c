"""FastAPI Users, set up as its documentation shows, for the cross-language anchor.

One of three backends by FASTAPI_MODE: jwt (JWTStrategy, user from PostgreSQL), redis
(RedisStrategy, user from PostgreSQL) or database (DatabaseStrategy on SQLAlchemy).
`GET /me` answers the current active user's id, as the Node variants do. The orchestrator
creates and seeds the tables (test/bench/lib/seed.ts) and starts it with uvicorn.
"""

import os
import uuid
from collections.abc import AsyncGenerator

import redis.asyncio
from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    JWTStrategy,
    RedisStrategy,
)
from fastapi_users.authentication.strategy.db import AccessTokenDatabase, DatabaseStrategy
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from fastapi_users_db_sqlalchemy.access_token import (
    SQLAlchemyAccessTokenDatabase,
    SQLAlchemyBaseAccessTokenTableUUID,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

MODE = os.environ["FASTAPI_MODE"]
SECRET = os.environ["JWT_SECRET"]
LIFETIME = int(os.environ["SESSION_LIFETIME_SECONDS"])
DATABASE_URL = os.environ["FASTAPI_POSTGRES_URL"].replace("postgres://", "postgresql+asyncpg://")


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class AccessToken(SQLAlchemyBaseAccessTokenTableUUID, Base):
    pass


engine = create_async_engine(DATABASE_URL)
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_async_session() -> AsyncGenerator[AsyncSession, None]:
    async with async_session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_async_session)):
    yield SQLAlchemyUserDatabase(session, User)


async def get_access_token_db(session: AsyncSession = Depends(get_async_session)):
    yield SQLAlchemyAccessTokenDatabase(session, AccessToken)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db: SQLAlchemyUserDatabase = Depends(get_user_db)):
    yield UserManager(user_db)


bearer_transport = BearerTransport(tokenUrl="auth/login")

if MODE == "jwt":

    def get_strategy() -> JWTStrategy:
        return JWTStrategy(secret=SECRET, lifetime_seconds=LIFETIME)

elif MODE == "redis":
    redis_client = redis.asyncio.from_url(os.environ["REDIS_URL"], decode_responses=True)

    def get_strategy() -> RedisStrategy:
        return RedisStrategy(redis_client, lifetime_seconds=LIFETIME)

elif MODE == "database":

    def get_strategy(
        access_token_db: AccessTokenDatabase[AccessToken] = Depends(get_access_token_db),
    ) -> DatabaseStrategy:
        return DatabaseStrategy(access_token_db, lifetime_seconds=LIFETIME)

else:
    raise SystemExit(f"FASTAPI_MODE must be jwt, redis or database, not {MODE!r}")

auth_backend = AuthenticationBackend(
    name=MODE, transport=bearer_transport, get_strategy=get_strategy
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])
current_active_user = fastapi_users.current_user(active=True)

app = FastAPI()


@app.get("/me")
async def me(user: User = Depends(current_active_user)):
    return {"id": str(user.id)}
