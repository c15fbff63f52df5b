"""The program database's tables (typed SQLAlchemy 2.x models); the latest schema version lives here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = 5


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SchemaInfo(Base):
    """One row: the schema version this file was last migrated to."""

    __tablename__ = "schema_info"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    problem_id: Mapped[str] = mapped_column(String(300))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    programs: Mapped[list[Program]] = relationship(back_populates="campaign")


class Program(Base):
    """One candidate program; rows are never deleted, so lineage stays whole after eviction."""

    __tablename__ = "programs"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    island: Mapped[int] = mapped_column(Integer, default=0)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(String(20))
    strategy: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    correct: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float | None] = mapped_column(Float)
    code_size: Mapped[int] = mapped_column(Integer, default=0)
    objectives: Mapped[list[Any]] = mapped_column(JSON, default=list)
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    in_population: Mapped[bool] = mapped_column(Boolean, default=False)
    children: Mapped[int] = mapped_column(Integer, default=0)
    evicted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(32), default="")
    """Hash of the normalized code (evolve/normalized_code.py): equal for twins however they are written."""
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    """For a duplicate or near-duplicate: the program it repeats."""
    campaign: Mapped[Campaign] = relationship(back_populates="programs")
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="program")

    __table_args__ = (
        Index("ix_programs_campaign_attempt", "campaign_id", "attempt"),
        Index("ix_programs_population", "campaign_id", "in_population", "island"),
        Index("ix_programs_tree", "campaign_id", "status", "id", "score", "correct", "children"),
        Index("ix_programs_fingerprint", "campaign_id", "fingerprint", "status", "id"),
    )


class Evaluation(Base):
    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    failure_stage: Mapped[str | None] = mapped_column(String(20))
    failure_kind: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    speedup_vs_eager: Mapped[float | None] = mapped_column(Float)
    speedup_vs_compile: Mapped[float | None] = mapped_column(Float)
    runtime_us: Mapped[float | None] = mapped_column(Float)
    stages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    program: Mapped[Program] = relationship(back_populates="evaluations")


class LLMCall(Base):
    __tablename__ = "llm_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    attempt: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    prompt_hash: Mapped[str] = mapped_column(String(64), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finish_reason: Mapped[str | None] = mapped_column(String(20))
    prompt_z: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The messages sent (JSON), zlib-compressed: prompts repeat the program, so they shrink several-fold."""
    response_z: Mapped[bytes | None] = mapped_column(LargeBinary)


class AttemptRow(Base):
    """The attempt ledger: a row is written when an attempt number is handed out (in the same transaction that
    advances the campaign's counter) and marked done in the transaction that records its outcome, so after any
    kill the unfinished numbers are exactly the rows still `running`, and no number can be handed out twice."""

    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")
    outcome: Mapped[str] = mapped_column(String(20), default="")
    program_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_attempts_campaign_number"),
                      Index("ix_attempts_status", "campaign_id", "status"))
