"""The campaign loop: sample → plan → code → screen → evaluate → (repair) → admit, many attempts in flight.

Everything an attempt produces is committed as soon as it exists (programs, evaluations, LLM calls), and
the loop's own state after every finished attempt, so a kill loses at most the attempts in flight; a
resume re-evaluates programs that were proposed but not yet scored.  Each attempt draws from its own RNG
seeded by (campaign seed, attempt number), so sampling does not depend on how earlier runs were cut.
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
from evaluators.pool import EvaluatorPool, PoolDispatcher
from evaluators.records import EvalResult, Stage
from evolve.config import CampaignConfig
from evolve.db.store import ProgramStore
from evolve.features import program_features, program_metrics
from evolve.islands import IslandModel
from evolve.population import oriented_objectives
from evolve.progress import CampaignProgress
from evolve.records import ProgramRecord, Status
from evolve.run_dir import RunDir
from kernelbench.registry import resolve_problem
from kernelbench.score_label import score_label
from stark.agents import CodeRequest, PlanRequest, ProgramView, RepairRequest, start_agents
from stark.agents.framing import KERNEL_FRAMING, discovery_framing
from stark.diffs import unified_diff


class CampaignError(RuntimeError):
    """The campaign cannot go on (seed program fails, name taken, ...); one line for the user."""


@dataclass
class Attempt:
    """One attempt's progress through the pipeline; lives only in the driver."""

    number: int
    island: int
    parent: ProgramRecord
    inspirations: tuple[ProgramRecord, ...] = ()
    seed: int = 0
    strategy: str = ""
    origin: str = "mutation"
    repairs_left: int = 0
    program_id: int | None = None
    pending_source: str = ""
    improved: bool = False
    remeasured: bool = False


@dataclass
class LoopState:
    next_attempt: int = 1
    completed: int = 0
    stagnation: int = 0
    best_score: float = 0.0
    elapsed_s: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)


def failure_text(result: EvalResult) -> str:
    failure = result.failure
    return (f"stage: {failure.stage.value}\nkind: {failure.kind.value}\nmessage: {failure.message}\n"
            f"output tail:\n{failure.output_tail[-2000:]}")


class Campaign:
    def __init__(self, config: CampaignConfig, run_dir: RunDir, store: ProgramStore, campaign_id: int,
                 progress: CampaignProgress):
        self.config, self.run_dir, self.store, self.campaign_id = config, run_dir, store, campaign_id
        self.progress = progress
        section = config.campaign
        self.problem = resolve_problem(section.problem, section.kernelbench_dir or None, section.shapes or None)
        self.problem_source = Path(self.problem.path).read_text()
        self.score_label = score_label(section.problem, config.evolve.objectives)
        self.islands = IslandModel(store, campaign_id, config.evolve)
        saved = store.campaign(campaign_id)["state"]
        self.state = LoopState(**saved) if saved else LoopState()
        self.refs: dict[Any, tuple[str, Attempt]] = {}
        self.active: set[int] = set()
        self.agents: dict = {}
        self.pool: EvaluatorPool | None = None
        self.dispatch: PoolDispatcher | None = None
        self.build_cache = config.campaign.build_cache or str(default_root())
        self.forbidden_ops = tuple(dict.fromkeys(config.evaluator.forbidden_ops + config.agents.forbidden_calls))
        """One list for the reviewer's screen and the judge's runtime check (agents.forbidden_calls is the old
        name of evaluator.forbidden_ops, still read)."""
        self.eval_config = replace(config.evaluator, hidden_paths=(str(run_dir.root.resolve()),),
                                   forbidden_ops=self.forbidden_ops)

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
        self.agents = start_agents(agents, self.config.campaign.seed, framing)
        pipeline = self.config.pipeline
        self.pool = EvaluatorPool(pipeline.evaluators, scratch_root=None,
                                  num_gpus_per_worker=pipeline.gpus_per_evaluator(self.config.evaluator.backend),
                                  resource=pipeline.evaluator_resource)
        self.dispatch = PoolDispatcher(self.pool)

    def shutdown(self) -> None:
        for handle in self.agents.values():
            ray.kill(handle)
        if self.pool is not None:
            try:
                self.pool.shutdown(timeout=30)
            except Exception:  # noqa: BLE001 - a dead actor must not keep the run from closing
                pass

    def request(self, source: str) -> EvalRequest:
        return EvalRequest(self.problem, source, self.eval_config, self.build_cache)

    # the loop ---------------------------------------------------------------------------------------------------
    def run(self) -> None:
        started = time.monotonic()
        self.start_workers()
        try:
            self.seed_population()
            self.resume_pending()
            while True:
                while len(self.active) < self.config.pipeline.proposals_in_flight and self.may_start(started):
                    self.start_attempt()
                if not self.refs:
                    break
                ready, _ = ray.wait(list(self.refs), num_returns=1, timeout=1.0)
                for ref in ready:
                    self.handle(ref)
                self.progress.update(self.state, self.elapsed(started))
            self.finish(started, "finished")
        except KeyboardInterrupt:
            self.finish(started, "interrupted")
            raise
        finally:
            self.shutdown()

    def elapsed(self, started: float) -> float:
        return self.state.elapsed_s + time.monotonic() - started

    def may_start(self, started: float) -> bool:
        budget = self.config.budget
        if budget.iterations and self.state.next_attempt > budget.iterations:
            return False
        if budget.wall_time_s and self.elapsed(started) >= budget.wall_time_s:
            return False
        if budget.llm_tokens or budget.usd:
            totals = self.store.llm_totals(self.campaign_id)
            if budget.llm_tokens and totals["prompt_tokens"] + totals["completion_tokens"] >= budget.llm_tokens:
                return False
            if budget.usd and totals["cost_usd"] >= budget.usd:
                return False
        return True

    def finish(self, started: float, status: str) -> None:
        self.state.elapsed_s = self.elapsed(started)
        self.state.extras = {}
        self.save(status)
        self.run_dir.append_log(status, attempts=self.state.next_attempt - 1, best_score=self.state.best_score)

    def save(self, status: str | None = None) -> None:
        state = {k: v for k, v in vars(self.state).items()}
        self.store.save_state(self.campaign_id, state, status)

    # seeding and resuming ---------------------------------------------------------------------------------------
    def seed_population(self) -> None:
        if self.store.attempts_recorded(self.campaign_id):
            return
        source = Path(self.config.campaign.seed_program).read_text()
        seed_id = self.store.add_program(self.campaign_id, attempt=0, source=source, parent_id=None, island=0,
                                         generation=0, origin="seed", strategy="seed program")
        result = self.evaluate_now(source)
        score = self.record_result(seed_id, source, result)
        if not result.passed:
            self.save("failed")
            raise CampaignError(f"seed program fails {result.failure.stage.value}/{result.failure.kind.value}: "
                                f"{result.failure.message.splitlines()[0] if result.failure.message else ''}")
        self.islands.admit(seed_id)
        for island in range(1, self.config.evolve.islands):
            self.islands.admit(self.store.clone_to_island(seed_id, island, 0))
        self.state.best_score = score
        self.run_dir.write_best(source)
        self.save()

    def evaluate_now(self, source: str) -> EvalResult:
        while True:
            ref = self.dispatch.submit(self.request(source))
            ray.wait([ref])
            result = self.dispatch.finish(ref)
            if result is not None:
                return result

    def resume_pending(self) -> None:
        """Programs proposed but never scored (the run was killed mid-evaluation) are evaluated again."""
        for program in self.store.programs(self.campaign_id, statuses=[Status.PROPOSED]):
            parent = self.store.program(program.parent_id) if program.parent_id else program
            attempt = Attempt(program.attempt, program.island, parent, strategy=program.strategy,
                              origin=program.origin, program_id=program.id)
            self.active.add(attempt.number)
            self.refs[self.dispatch.submit(self.request(program.source))] = ("evaluate", attempt)
            self.run_dir.append_log("re-evaluate", program=program.id)

    # stages of an attempt ---------------------------------------------------------------------------------------
    def start_attempt(self) -> None:
        number = self.state.next_attempt
        self.state.next_attempt += 1
        rng = random.Random(f"{self.config.campaign.seed}:{number}")
        selection = self.islands.select(rng, self.state.stagnation)
        attempt = Attempt(number, selection.island, selection.parent, selection.inspirations,
                          seed=rng.randrange(2**31), repairs_left=self.config.pipeline.repair_attempts)
        siblings = tuple(self.view(p, p.status) for p in self.store.children(selection.parent.id)
                         if p.origin != "migration")
        inspirations = tuple(self.view(p) for p in selection.inspirations)
        request = PlanRequest(number, attempt.seed, self.problem_source, self.view(selection.parent), siblings,
                              inspirations, self.profile_summary(selection.parent))
        self.active.add(number)
        self.refs[self.agents["planner"].plan.remote(request)] = ("plan", attempt)

    def profile_summary(self, program: ProgramRecord) -> str:
        evaluations = self.store.evaluations(program.id)
        profile = (evaluations[-1].get("profile") if evaluations else None) or {}
        if not profile:
            return ""
        cand, ref = profile["candidate"], profile["reference"]
        return (f"candidate median {cand['median_us']:.1f} us (IQR {cand['iqr_us']:.1f}); reference eager "
                f"{ref['median_us']:.1f} us; {profile['threads']} threads")

    def handle(self, ref) -> None:
        phase, attempt = self.refs.pop(ref)
        if phase == "evaluate":
            result = self.dispatch.finish(ref)
            if result is None:
                program = self.store.program(attempt.program_id)
                again = self.remeasure_request if attempt.remeasured else self.request
                self.refs[self.dispatch.submit(again(program.source))] = ("evaluate", attempt)
                return
            self.on_result(attempt, result)
            return
        outcome = ray.get(ref)
        self.store.add_llm_calls(self.campaign_id, attempt.number, getattr(outcome, "calls", ()))
        getattr(self, f"on_{phase}")(attempt, outcome)

    def on_plan(self, attempt: Attempt, plan) -> None:
        attempt.strategy = plan.strategy
        if not plan.instructions:
            self.record_dead_end(attempt, attempt.parent.source, Status.INVALID, "", plan.error or "empty plan")
            return
        request = CodeRequest(attempt.number, attempt.seed, plan, self.view(attempt.parent),
                              tuple(self.view(p) for p in attempt.inspirations))
        self.refs[self.agents["coder"].code.remote(request)] = ("code", attempt)

    def on_code(self, attempt: Attempt, proposal) -> None:
        if proposal.source is None:
            self.record_dead_end(attempt, attempt.parent.source, Status.INVALID, proposal.response, proposal.error)
            return
        attempt.pending_source = proposal.source
        self.refs[self.agents["reviewer"].screen.remote(proposal.source)] = ("screen", attempt)

    on_repair = on_code

    def on_screen(self, attempt: Attempt, verdict) -> None:
        source = attempt.pending_source
        parent = attempt.parent
        if not verdict.accepted:
            self.record_dead_end(attempt, source, Status.REJECTED, unified_diff(parent.source, source), verdict.reason)
            return
        attempt.program_id = self.store.add_program(
            self.campaign_id, attempt=attempt.number, source=source, parent_id=parent.id, island=attempt.island,
            generation=parent.generation + 1, origin=attempt.origin, strategy=attempt.strategy,
            diff=unified_diff(parent.source, source))
        self.refs[self.dispatch.submit(self.request(source))] = ("evaluate", attempt)

    def needs_remeasure(self, attempt: Attempt, result: EvalResult) -> bool:
        """A would-be best, or an implausibly large speedup, is measured again before it counts."""
        policy = self.config.remeasure
        if not policy.enabled or attempt.remeasured or not result.passed or self.problem.kind == "discovery":
            return False
        speedup = result.speedup_vs_eager or 0.0
        return speedup > self.state.best_score or speedup > policy.above_speedup

    def remeasure_request(self, source: str) -> EvalRequest:
        config = self.eval_config
        more = replace(config, repeats=config.repeats * self.config.remeasure.repeats_factor,
                       timeouts=replace(config.timeouts, profile=config.timeouts.profile * self.config.remeasure.repeats_factor))
        return EvalRequest(self.problem, source, more, self.build_cache)

    def on_result(self, attempt: Attempt, result: EvalResult) -> None:
        program = self.store.program(attempt.program_id)
        if self.needs_remeasure(attempt, result):
            self.record_result(program.id, program.source, result, provisional=True)
            attempt.remeasured = True
            self.run_dir.append_log("re-measure", program=program.id, speedup=result.speedup_vs_eager)
            self.refs[self.dispatch.submit(self.remeasure_request(program.source))] = ("evaluate", attempt)
            return
        score = self.record_result(program.id, program.source, result, remeasured=attempt.remeasured)
        if result.passed:
            self.islands.admit(program.id)
            if score > self.state.best_score:
                self.state.best_score = score
                attempt.improved = True
                self.run_dir.write_best(program.source)
                self.run_dir.append_log("new best", program=program.id, score=score)
        elif attempt.repairs_left > 0 and result.failure.stage in (Stage.COMPILE, Stage.VERIFY):
            attempt.repairs_left -= 1
            attempt.origin, attempt.parent = "repair", self.store.program(program.id)
            attempt.strategy = f"repair of #{program.id}"
            request = RepairRequest(attempt.number, attempt.seed, self.problem_source, self.view(program),
                                    failure_text(result))
            self.refs[self.agents["reviewer"].repair.remote(request)] = ("repair", attempt)
            return
        self.end_attempt(attempt)

    def record_result(self, program_id: int, source: str, result: EvalResult, remeasured: bool = False,
                      provisional: bool = False) -> float:
        """Store the verdict; return the program's primary score (0 when it failed).  A provisional verdict
        (awaiting re-measurement) leaves the program's status and score alone; the re-measurement sets them."""
        data = result.to_dict()
        data["remeasured"] = remeasured
        metrics = program_metrics(source, data)
        objectives = oriented_objectives(self.config.evolve.objectives, metrics) if result.passed else ()
        score = self.score(result, objectives)
        self.store.record_evaluation(program_id, data, objectives=objectives,
                                     features={**program_features(source), **metrics}, score=score,
                                     provisional=provisional)
        return score

    def score(self, result: EvalResult, objectives: tuple[float, ...]) -> float:
        """Speedup over eager for kernels; the first (oriented) objective for discovery problems."""
        if not result.passed:
            return 0.0
        if self.problem.kind == "discovery":
            return objectives[0]
        return result.speedup_vs_eager or 0.0

    def record_dead_end(self, attempt: Attempt, source: str, status: str, diff: str, note: str) -> None:
        parent = attempt.parent
        self.store.add_program(self.campaign_id, attempt=attempt.number, source=source, parent_id=parent.id,
                               island=attempt.island, generation=parent.generation + 1, origin=attempt.origin,
                               strategy=attempt.strategy, diff=diff, status=status, note=note)
        self.end_attempt(attempt)

    def end_attempt(self, attempt: Attempt) -> None:
        self.active.discard(attempt.number)
        self.state.completed += 1
        self.state.stagnation = 0 if attempt.improved else self.state.stagnation + 1
        interval = self.config.evolve.migration_interval
        if self.config.evolve.islands > 1 and interval and self.state.completed % interval == 0:
            self.islands.migrate(attempt.number)
        self.save()
