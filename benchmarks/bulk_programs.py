"""Grow a campaign's database to a given number of programs by copying its own recorded attempts.

A real loop would take days to reach 100k programs; the copies have the shapes a real campaign leaves behind
(programs with sources and diffs, their evaluations, three LLM calls each with compressed text, ledger rows,
lineage) because they are the campaign's own rows with new ids and attempt numbers.  Copies are out of the
population (evicted, as nearly all of a long campaign's programs are) and get fingerprints of their own, so
they neither join the islands nor make new proposals look like repeats.  The campaign's counters are advanced
past the copies, so a resume numbers its attempts after them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def program_count(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM programs").fetchone()[0]


def grow(database: Path, target_programs: int, deep: bool = False, block: int | None = None) -> int:
    """Copy attempts until the database holds at least `target_programs` programs; returns attempts added.

    Copies hang from the programs their originals hang from (a wide tree under the seed), or with `deep`, each
    copy's roots hang from the newest program before it, so the lineage gets as deep as a long run's chain of
    improvements (the viewer must draw both).  `block`: copy only the first so many attempts each time (what
    a running campaign adds between two looks), not all the campaign's real ones."""
    conn = sqlite3.connect(database)
    try:
        campaign_id, state_text = conn.execute("SELECT id, state FROM campaigns").fetchone()
        state = json.loads(state_text)
        last_real = block or conn.execute("SELECT max(number) FROM attempts WHERE status = 'done'").fetchone()[0]
        added = 0
        while conn.execute("SELECT count(*) FROM programs").fetchone()[0] < target_programs:
            offset = state["next_attempt"] - 1
            _copy_block(conn, campaign_id, last_real, offset, deep)
            state["next_attempt"] += last_real
            state["completed"] += last_real
            added += last_real
        conn.execute("UPDATE campaigns SET state = ? WHERE id = ?", (json.dumps(state), campaign_id))
        conn.commit()
        return added
    finally:
        conn.close()


def _copy_block(conn: sqlite3.Connection, campaign_id: int, attempts: int, offset: int, deep: bool = False) -> None:
    """Attempts 1..`attempts` again as attempts offset+1..offset+attempts, in one transaction."""
    id_shift = conn.execute("SELECT max(id) FROM programs").fetchone()[0]
    first, last = conn.execute("SELECT min(id), max(id) FROM programs WHERE attempt BETWEEN 1 AND ?",
                               (attempts,)).fetchone()
    conn.execute("""
        INSERT INTO programs (id, campaign_id, parent_id, attempt, island, generation, origin, strategy, source, diff,
                              note, status, correct, score, code_size, objectives, features, in_population, children,
                              evicted_at, created_at, fingerprint, duplicate_of)
        SELECT id + :shift, campaign_id,
               CASE WHEN parent_id BETWEEN :first AND :last THEN parent_id + :shift
                    WHEN :deep AND parent_id IS NOT NULL THEN :shift ELSE parent_id END,
               attempt + :offset, island, generation, origin, strategy, source, diff, note, status, correct, score,
               code_size, objectives, features, 0, children, coalesce(evicted_at, created_at), created_at,
               substr(fingerprint, 1, 16) || printf('%016x', id + :shift), duplicate_of
        FROM programs WHERE id BETWEEN :first AND :last""",
                 {"shift": id_shift, "first": first, "last": last, "offset": offset, "deep": deep})
    conn.execute("""
        INSERT INTO evaluations (program_id, passed, failure_stage, failure_kind, message, speedup_vs_eager,
                                 speedup_vs_compile, runtime_us, stages, result, created_at)
        SELECT program_id + :shift, passed, failure_stage, failure_kind, message, speedup_vs_eager, speedup_vs_compile,
               runtime_us, stages, result, created_at
        FROM evaluations WHERE program_id BETWEEN :first AND :last""",
                 {"shift": id_shift, "first": first, "last": last})
    conn.execute("""
        INSERT INTO llm_calls (campaign_id, attempt, role, model, status, prompt_tokens, completion_tokens, latency_s,
                               cost_usd, prompt_hash, error, created_at, finish_reason, prompt_z, response_z)
        SELECT campaign_id, attempt + :offset, role, model, status, prompt_tokens, completion_tokens, latency_s,
               cost_usd, prompt_hash, error, created_at, finish_reason, prompt_z, response_z
        FROM llm_calls WHERE attempt BETWEEN 1 AND :attempts""", {"offset": offset, "attempts": attempts})
    conn.execute("""
        INSERT INTO attempts (campaign_id, number, status, outcome, program_id, started_at, ended_at)
        SELECT campaign_id, number + :offset, status, outcome, program_id + :shift, started_at, ended_at
        FROM attempts WHERE number BETWEEN 1 AND :attempts AND campaign_id = :campaign""",
                 {"offset": offset, "shift": id_shift, "attempts": attempts, "campaign": campaign_id})
    conn.commit()


def copy_run(source: Path, target: Path, name: str) -> Path:
    """A run directory copied under a new campaign name (config and database agree on it), so one real campaign
    can stand for many in a runs directory."""
    target.mkdir(parents=True)
    with sqlite3.connect(source / "campaign.db") as conn, sqlite3.connect(target / "campaign.db") as copy:
        conn.backup(copy)
        copy.execute("UPDATE campaigns SET name = ?", (name,))
    config = json.loads((source / "config.json").read_text())
    config["campaign"]["name"] = name
    (target / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    return target
