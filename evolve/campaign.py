"""The campaign loop: sample → plan → code → screen → evaluate → (repair) → admit, many attempts in flight.

Exactly once, across any kill: an attempt number is handed out in the transaction that writes its row in
the attempt ledger, and its outcome (the program, its evaluation, the admission to the population, the
ledger row marked done, the loop's counters) commits in one transaction.  A resume finds the unfinished
numbers in the ledger: a program that was being evaluated is evaluated (or re-measured) again, an attempt
that had produced nothing yet starts over under the same number, so every number in the budget ends up
done exactly once.  Most programs reach the driver already evaluated (the agents' pipeline sends an accepted
proposal straight on to an evaluator: one reply an attempt), so their LLM calls, program, evaluation and the
attempt's end commit together; a kill while one is evaluated leaves nothing of that attempt, which starts over
(its model calls made again, a cached reply where `agents.response_cache` is on).  Each attempt draws from its
own RNG seeded by (campaign seed, attempt number).

An LLM endpoint that is down does not consume attempts: the stalled call waits, no new attempts start,
the campaign shows "waiting for LLM" and probes the endpoint until it answers (then the stalled calls are
sent again) or `pipeline.llm_outage_s` passes (then it stops cleanly, resumable).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ray

from evaluators.build_cache import default_root
from evaluators.config import EvalRequest
from evaluators.dispatch import EvaluatorLost
from evaluators.pool import EvaluatorPool
from evaluators.records import EvalResult
from evolve.attempt_steps import Attempt, AttemptSteps, RecentProfiles
from evolve.campaign_error import CampaignError
from evolve.config import CampaignConfig
from evolve.db.store import ProgramStore
from evolve.event_log import EventLog
from evolve.islands import IslandModel
from evolve.llm_outage import ACTOR_OF_PHASE, LLMUnavailable, Outage, OutageHandling
from evolve.progress import CampaignProgress
from evolve.rank_stage import RankStage
from evolve.records import ProgramRecord, RunStatus, Status
from evolve.run_control import RunControl
from evolve.run_dir import RunDir
from evolve.skills import SkillOffer
from kernelbench.problem import problem_sizes
from kernelbench.registry import resolve_problem
from kernelbench.score_label import score_label
from stark.agents import ProgramView, start_agents
from stark.agents.framing import KERNEL_FRAMING, discovery_framing
from stark.edits.normalized_code import fingerprint


HEARTBEAT_S = 5.0


@dataclass
class LoopState:
    next_attempt: int = 1
    completed: int = 0
    stagnation: int = 0
    best_score: float = 0.0
    elapsed_s: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)


class Campaign(OutageHandling, AttemptSteps):
    def __init__(self, config: CampaignConfig, run_dir: RunDir, store: ProgramStore, campaign_id: int,
                 progress: CampaignProgress, control: RunControl | None = None):
        self.config, self.run_dir, self.store, self.campaign_id = config, run_dir, store, campaign_id
        self.events = EventLog(run_dir.log)
        self.progress = progress
        self.control = control or RunControl()
        section = config.campaign
        self.problem = resolve_problem(section.problem, section.kernelbench_dir or None, config.shape_set)
        self.problem_source = Path(self.problem.path).read_text()
        self.score_label = score_label(section.problem, config.evolve.objectives)
        self.islands = IslandModel(store, campaign_id, config.evolve)
        saved = store.campaign(campaign_id)["state"]
        self.state = LoopState(**saved) if saved else LoopState()
        self.state.next_attempt = max(self.state.next_attempt, store.last_attempt(campaign_id) + 1)
        self.refs: dict[Any, tuple[str, Attempt, Any]] = {}
        self.active: set[int] = set()
        self.restarts: list[int] = []
        """Unfinished attempt numbers from an earlier run that had produced nothing: they start over first."""
        self.reserved: int | None = None
        """The next attempt's number, its ledger row committed with the last attempt's outcome (not started)."""
        self.stalled: list[tuple[str, Attempt, Any]] = []
        self.outage: Outage | None = None
        self.probe_ref = None
        self.started = time.monotonic()
        self.base_elapsed = self.state.elapsed_s
        self.last_heartbeat = 0.0
        self.llm_spent: list[float] | None = None
        self.profiles = RecentProfiles()
        self.skills = SkillOffer(store, section.problem, enabled=config.agents.planner.kind == "llm")
        self.agents: dict = {}
        self.gates: list = []
        self.pool: EvaluatorPool | None = None
        self.build_cache = config.campaign.build_cache or str(default_root())
        self.forbidden_ops = tuple(dict.fromkeys(config.evaluator.forbidden_ops + config.agents.forbidden_calls))
        """One list for the reviewer's screen and the judge's runtime check (agents.forbidden_calls is the old
        name of evaluator.forbidden_ops, still read)."""
        self.eval_config = replace(config.evaluator, hidden_paths=(str(run_dir.root.resolve()),),
                                   forbidden_ops=self.forbidden_ops)
        self.ranker = RankStage(config.cost_model, section.seed, problem_sizes(self.problem)) \
            if config.cost_model.enabled and self.problem.kind != "discovery" else None

    def view(self, record: ProgramRecord, outcome: str = "") -> ProgramView:
        """A program as the agents see it, its score in the campaign's own units."""
        return ProgramView(record.id, record.source, record.score, record.correct, outcome, record.strategy,
                           self.score_label)

    # setup ------------------------------------------------------------------------------------------------------
    def start_workers(self) -> None:
        agents, framing = self.config.agents, KERNEL_FRAMING
        if self.problem.kind == "discovery":
            from kernelbench.problem import load_module

            entry_points = load_module(self.problem.path, prefix="stark_discovery").ENTRY_POINTS
            framing = discovery_framing(self.score_label.name, self.score_label.better(), entry_points)
        agents = replace(agents, forbidden_calls=self.forbidden_ops)
        if agents.response_cache == "run":
            agents = replace(agents, response_cache=str(self.run_dir.llm_cache))
        self.agents, self.gates = start_agents(agents, self.config.campaign.seed, framing)
        pipeline = self.config.pipeline
        self.pool = EvaluatorPool(pipeline.evaluators, scratch_root=None,
                                  num_gpus_per_worker=pipeline.gpus_per_evaluator(self.config.evaluator.backend),
                                  resource=pipeline.evaluator_resource, first_block=self.control.evaluator_block)
        self.show_pipeline_the_pool()
        self._log_quietly("evaluators", count=pipeline.evaluators, first_cpu_block=self.control.evaluator_block)

    def show_pipeline_the_pool(self) -> None:
        """Every evaluation goes through the agents' pipeline (one dispatcher for the whole load), which also sends
        accepted proposals straight on to an evaluator where nothing has to be decided in between: no rank stage
        (it decides whether to time the candidate) and no near-duplicate check (it reads the island's members).
        It is told what the campaign already evaluated, so that it does not evaluate a twin only to have it set
        aside."""
        direct = self.ranker is None and self.config.evolve.novelty.similarity <= 0
        pipeline = self.agents["pipeline"]
        ray.get([pipeline.use_evaluators.remote(self.pool.actors, self.pool.generations,
                                                self.request("") if direct else None),
                 pipeline.remember.remote(self.store.evaluated_fingerprints(self.campaign_id))], timeout=300)

    def replace_evaluator(self, lost: EvaluatorLost) -> None:
        """An evaluator gone for good is replaced once, however many calls found it gone."""
        if lost.slot < 0:                    # the pipeline was restarted, without the pool it had been shown
            self.show_pipeline_the_pool()
        elif self.pool.replace(lost):
            self._log_quietly("evaluator replaced", slot=lost.slot)
            self.agents["pipeline"].use_evaluator.remote(lost.slot, self.pool.actors[lost.slot],
                                                         self.pool.generations[lost.slot])

    def shutdown(self) -> None:
        for handle in [*self.agents.values(), *self.gates]:
            ray.kill(handle)         # a killed role closes its streams: a local server stops generating for it
        if self.pool is not None:
            try:
                self.pool.shutdown(timeout=30)
            except Exception:  # noqa: BLE001 - a dead actor must not keep the run from closing
                pass
        self.events.close()

    def request(self, source: str, timed: bool = True) -> EvalRequest:
        """The campaign's evaluation; untimed (the rank stage skipped its profile) it is verified only."""
        config = self.eval_config if timed else replace(self.eval_config, profile=False)
        return EvalRequest(self.problem, source, config, self.build_cache)

    # the loop ---------------------------------------------------------------------------------------------------
    def run(self) -> None:
        self.started, self.base_elapsed = time.monotonic(), self.state.elapsed_s
        self.save(RunStatus.RUNNING)
        try:
            self.start_workers()
            self.seed_population()
            if self.ranker is not None:
                self.ranker.train_from(self.store.timed_programs(self.campaign_id, self.config.cost_model.history))
            self.resume_unfinished()
            while True:
                self.control.check()
                self.tend_outage()
                while self.outage is None and len(self.active) < self.config.pipeline.proposals_in_flight and (
                        self.restarts or self.reserved is not None or self.may_start()):
                    self.start_attempt(self.restarts.pop(0) if self.restarts else None)
                if not self.refs and not self.stalled:
                    break
                if self.refs:
                    ready, _ = ray.wait(list(self.refs), num_returns=1, timeout=1.0)
                    for ref in ready:
                        self.handle(ref)
                else:
                    time.sleep(0.25)
                self.progress.update(self.state, self.elapsed(), self.outage_text())
                self.heartbeat()
            self.finish(RunStatus.FINISHED)
        except KeyboardInterrupt:
            self.finish(RunStatus.INTERRUPTED)
            raise
        except LLMUnavailable as exc:
            self.finish(RunStatus.STOPPED, reason=str(exc))
            raise CampaignError(str(exc)) from None
        except BaseException as exc:
            self.finish(RunStatus.FAILED, reason=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.shutdown()

    def elapsed(self) -> float:
        """Wall time spent on this campaign across all its runs (kills included, up to the last heartbeat)."""
        return self.base_elapsed + time.monotonic() - self.started

    def heartbeat(self) -> None:
        """Save the loop's state now and then, so a kill -9 loses at most a few seconds of counted wall time."""
        if time.monotonic() - self.last_heartbeat >= HEARTBEAT_S:
            self.save()

    def may_start(self) -> bool:
        budget = self.config.budget
        if budget.iterations and self.state.next_attempt > budget.iterations:
            return False
        if budget.wall_time_s and self.elapsed() >= budget.wall_time_s:
            return False
        return self.llm_budget_left()

    def llm_budget_left(self) -> bool:
        budget = self.config.budget
        if not (budget.llm_tokens or budget.usd):
            return True
        if self.llm_spent is None:       # summed by the database once; then counted as calls are recorded
            totals = self.store.llm_totals(self.campaign_id)
            self.llm_spent = [totals["prompt_tokens"] + totals["completion_tokens"], totals["cost_usd"]]
        tokens, dollars = self.llm_spent
        return not (budget.llm_tokens and tokens >= budget.llm_tokens) and not (budget.usd and dollars >= budget.usd)

    def record_llm_calls(self, attempt: Attempt, calls) -> None:
        self.store.add_llm_calls(self.campaign_id, attempt.number, calls)
        if self.llm_spent is not None:
            for call in calls:
                self.llm_spent[0] += call.prompt_tokens + call.completion_tokens
                self.llm_spent[1] += call.cost_usd

    def submit_evaluation(self, attempt: Attempt, source: str, remeasure: bool) -> None:
        """To the pool: the plain evaluation, or the longer re-measurement of a would-be best."""
        request = self.remeasure_request(source) if remeasure else self.request(source, attempt.timed)
        ref = self.agents["pipeline"].evaluate.remote(request, attempt.fingerprint)
        self.refs[ref] = ("evaluate", attempt, None)

    def call_agent(self, phase: str, attempt: Attempt, request: Any) -> None:
        actor, method = ACTOR_OF_PHASE[phase]
        self.refs[getattr(self.agents[actor], method).remote(request)] = (phase, attempt, request)

    def finish(self, status: str, reason: str = "") -> None:
        """Record how the run ended; a failure to record it (disk full) must not hide the error that ended it."""
        self.state.extras = {}
        for tries_left in (2, 1, 0):   # a signal that landed mid-transaction can fail the first write; not the next
            try:
                self.save(status)
                break
            except Exception as exc:  # noqa: BLE001 - the original error is the one worth reporting
                if status == RunStatus.FINISHED and not tries_left:
                    raise
                if not tries_left:
                    self._log_quietly("status not recorded", status=status, error=str(exc).splitlines()[0][:300])
                    return
                time.sleep(0.2)
        self._log_quietly(status, attempts=self.state.next_attempt - 1, best_score=self.state.best_score,
                          **({"reason": reason[:500]} if reason else {}))

    def _log_quietly(self, event: str, **fields) -> None:
        try:
            self.events.append(event, **fields)
        except OSError:
            pass  # a full disk: the database row is what counts

    def state_data(self) -> dict[str, Any]:
        self.state.elapsed_s = self.elapsed()
        return {k: v for k, v in vars(self.state).items()}

    def save(self, status: str | None = None) -> None:
        self.store.save_state(self.campaign_id, self.state_data(), status)
        self.last_heartbeat = time.monotonic()

    # seeding and resuming ---------------------------------------------------------------------------------------
    def seed_population(self) -> None:
        """Evaluate the seed and admit it to every island, in one transaction; a seed left unscored by a kill is
        evaluated again (its row is reused)."""
        seed = self.store.seed_program(self.campaign_id)
        if seed is not None and seed.status != Status.PROPOSED:
            if not seed.correct:
                raise CampaignError(f"seed program #{seed.id} failed its evaluation; `stark status` shows why")
            return
        source = seed.source if seed is not None else Path(self.config.campaign.seed_program).read_text()
        seed_id = seed.id if seed is not None else self.store.add_program(
            self.campaign_id, attempt=0, source=source, parent_id=None, island=0, generation=0, origin="seed",
            strategy="seed program")
        result = self.evaluate_now(source)
        if not result.passed and not result.failure.charged_to_candidate:
            raise CampaignError(self.reference_line(result))     # nothing recorded: a resume evaluates the seed
        with self.store.atomic():
            score, _, _ = self.record_result(seed_id, source, result)
            if result.passed:
                self.islands.admit(seed_id)
                for island in range(1, self.config.evolve.islands):
                    self.islands.admit(self.store.clone_to_island(seed_id, island, 0))
                self.state.best_score = score
            self.save(None if result.passed else RunStatus.FAILED)
        if not result.passed:
            raise CampaignError(f"seed program fails {result.failure.stage.value}/{result.failure.kind.value}: "
                                f"{result.failure.message.splitlines()[0] if result.failure.message else ''}")
        self.run_dir.write_best(source)

    def evaluate_now(self, source: str) -> EvalResult:
        while True:
            ref = self.agents["pipeline"].evaluate.remote(self.request(source), fingerprint(source))
            while not ray.wait([ref], timeout=1.0)[0]:
                self.control.check()
            result = ray.get(ref)
            if not isinstance(result, EvaluatorLost):
                return result
            self.replace_evaluator(result)

    def resume_unfinished(self) -> None:
        """Attempts the ledger still holds open (the last run was killed or stopped while they were in flight)."""
        for number in self.store.unfinished_attempts(self.campaign_id):
            programs = self.store.attempt_programs(self.campaign_id, number)
            if not programs:
                self.restarts.append(number)
                continue
            last = programs[-1]
            if last.status in (Status.DUPLICATE, Status.NEAR_DUPLICATE):
                self.restarts.append(number)     # killed while re-planning after a repeat: plan again
                continue
            parent = self.store.program(last.parent_id) if last.parent_id else last
            repairs = sum(p.origin == "repair" for p in programs)
            attempt = Attempt(number, last.island, parent, strategy=last.strategy, origin=last.origin,
                              program_id=last.id, repairs_left=max(0, self.config.pipeline.repair_attempts - repairs),
                              pending_source=last.source)
            if last.status != Status.PROPOSED:
                with self.store.atomic():     # its outcome was recorded; only the ledger missed it
                    self.end_attempt(attempt, last.status, last.id)
                continue
            attempt.remeasured = self.store.provisional_result(last.id)
            self.active.add(number)
            self.submit_evaluation(attempt, last.source, attempt.remeasured)
            self.events.append("re-evaluate", program=last.id, attempt=number, remeasure=attempt.remeasured)

    # stages of an attempt ---------------------------------------------------------------------------------------
    def start_attempt(self, number: int | None = None) -> None:
        """A new attempt number (its ledger row committed before the counter moves), or an unfinished one started
        over."""
        if number is None:
            if self.reserved is None:          # none came with the last outcome: its row in a commit of its own
                with self.store.atomic():
                    self._reserve(self.state.next_attempt)
            number, self.reserved = self.reserved, None
        rng = random.Random(f"{self.config.campaign.seed}:{number}")
        selection = self.islands.select(rng, self.state.stagnation)
        attempt = Attempt(number, selection.island, selection.parent, selection.inspirations,
                          seed=rng.randrange(2**31), repairs_left=self.config.pipeline.repair_attempts,
                          replans_left=self.config.evolve.novelty.replans)
        self.active.add(number)
        self.plan(attempt)

    def reserve_next_attempt(self) -> None:
        """Inside an attempt's outcome transaction: the attempt that will start next gets its ledger row in the
        same commit, one transaction an attempt fewer.  A resume finds the row open and starts the attempt over,
        as for any attempt that had produced nothing."""
        if self.reserved is None and not self.restarts and self.outage is None and self.may_start():
            self._reserve(self.state.next_attempt)

    def _reserve(self, number: int) -> None:
        """The attempt's ledger row, in the open transaction; the number is taken only once that commits, so a
        failed commit skips no number."""
        self.store.begin_attempt(self.campaign_id, number)
        self.store.after_commit(lambda: self._take_reserved(number))

    def _take_reserved(self, number: int) -> None:
        self.reserved = number
        self.state.next_attempt = number + 1

    def handle(self, ref) -> None:
        phase, attempt, request = self.refs.pop(ref)
        if phase == "evaluate":
            result = ray.get(ref)
            if isinstance(result, EvaluatorLost):
                self.replace_evaluator(result)
                self.submit_evaluation(attempt, attempt.pending_source, attempt.remeasured)
                return
            self.on_result(attempt, result)
            return
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:     # an agent's own bug on odd model output: this attempt only
            cause = exc.as_instanceof_cause()
            line = (str(cause).strip().splitlines() or [type(cause).__name__])[-1][:300]
            self.record_dead_end(attempt, attempt.parent.source, Status.INVALID, "", f"{phase} agent raised: {line}")
            return
        if phase == "propose":
            with self.store.atomic():      # its LLM calls and what they made: one transaction
                self.record_llm_calls(attempt, outcome.calls)
                if outcome.calls:
                    self.end_outage()
                self.on_propose(attempt, outcome, request)
            return
        self.record_llm_calls(attempt, getattr(outcome, "calls", ()))
        if unavailable := getattr(outcome, "unavailable", ""):
            self.stall(phase, attempt, request, unavailable)
            return
        if getattr(outcome, "calls", ()):
            self.end_outage()          # an answer from the model: whatever was down is back
        getattr(self, f"on_{phase}")(attempt, outcome)
