"""The campaign loop's statements, built once with bound parameters.

A statement built per call (`update(...).where(x == value)`) is compiled from a fresh expression tree each time:
about 0.4 ms of CPU, against 0.15 ms for a prebuilt one executed with parameters.  The loop runs a dozen per
attempt, so this is most of what the database costs it (benchmarks/campaign_overhead.py); on SQLite the store
runs them prepared (evolve/db/prepared.py).  Population changes go one row per parameter set (executemany):
a statement whose text depends on how many ids it holds cannot be prepared once.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update

from evolve.db.models import AttemptRow, Campaign, Evaluation, LLMCall, Program
from evolve.records import Status

INSERT_PROGRAM = insert(Program)
INSERT_EVALUATION = insert(Evaluation)
INSERT_LLM_CALL = insert(LLMCall)
INSERT_ATTEMPT = insert(AttemptRow)

ONE_MORE_CHILD = (update(Program).where(Program.id == bindparam("program"))
                  .values(children=Program.children + 1))
SCORE_PROGRAM = (update(Program).where(Program.id == bindparam("program"))
                 .values(status=bindparam("new_status"), correct=bindparam("new_correct"),
                         score=bindparam("new_score"), objectives=bindparam("new_objectives"),
                         features=bindparam("new_features")))
SET_STATUS = update(Program).where(Program.id == bindparam("program")).values(status=bindparam("new_status"))
JOIN_POPULATION = update(Program).where(Program.id == bindparam("program")).values(in_population=True)
LEAVE_POPULATION = (update(Program).where(Program.id == bindparam("program"),
                                          Program.campaign_id == bindparam("campaign"))
                    .values(in_population=False, evicted_at=bindparam("at")))
SAVE_STATE = (update(Campaign).where(Campaign.id == bindparam("campaign"))
              .values(state=bindparam("new_state"), updated_at=bindparam("at")))
END_ATTEMPT = (update(AttemptRow).where(AttemptRow.campaign_id == bindparam("campaign"),
                                        AttemptRow.number == bindparam("the_number"))
               .values(status="done", outcome=bindparam("new_outcome"), program_id=bindparam("new_program"),
                       ended_at=bindparam("at")))

PROGRAM = select(Program).where(Program.id == bindparam("program"))
PROGRAMS = select(Program).where(Program.id.in_(bindparam("ids", expanding=True)))
TWIN = select(func.min(Program.id)).where(Program.campaign_id == bindparam("campaign"),
                                          Program.fingerprint == bindparam("fingerprint"),
                                          Program.status.in_(Status.EVALUATION_BOUND))
TRIED_FROM = (select(Program.id, Program.score, Program.correct, Program.status, Program.strategy)
              .where(Program.parent_id == bindparam("program"), Program.origin != "migration")
              .order_by(Program.id.desc()).limit(bindparam("newest")))
LATEST_EVALUATION = (select(Evaluation.result).where(Evaluation.program_id == bindparam("program"))
                     .order_by(Evaluation.id.desc()).limit(1))
FIRST_NODE_FROM = (select(Program.id).where(Program.campaign_id == bindparam("campaign"),
                                           Program.status == bindparam("status"), Program.id >= bindparam("at_least"))
                   .order_by(Program.id).limit(1))
LAST_NODE = (select(Program.id).where(Program.campaign_id == bindparam("campaign"), Program.status == bindparam("status"))
             .order_by(Program.id.desc()).limit(1))
INDIVIDUAL_COLUMNS = (Program.id, Program.island, Program.objectives, Program.features, Program.score,
                      Program.parent_id, Program.fingerprint)
INDIVIDUAL = select(*INDIVIDUAL_COLUMNS).where(Program.id == bindparam("program"))
