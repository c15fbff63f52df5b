"""The steps of one attempt after it is started: plan/code/screen (through the agents' pipeline), the repeat
check, the evaluation's verdict, repair, re-measurement, and the attempt's end in the ledger.

A mixin of `Campaign` (evolve/campaign.py), which owns the loop, the workers and the budget; the campaign provides
`config`, `store`, `campaign_id`, `run_dir`, `events`, `state`, `islands`, `problem`, `problem_source`, `score_label`,
`active`, `profiles`, `eval_config`, `build_cache`, `ranker`, and the methods `view`, `call_agent`, `submit_evaluation`,
`record_llm_calls`, `llm_budget_left`, `stall`, `reserve_next_attempt`, `replace_evaluator` and `save`.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import Any

from evaluators.config import EvalRequest
from evaluators.dispatch import EvaluatorLost
from evaluators.records import EvalResult, Stage
from evolve.campaign_error import CampaignError
from evolve.features import program_metrics
from evolve.novelty import Repeat, find_repeat
from evolve.population import Individual, oriented_objectives
from evolve.rank_stage import RankDecision
from evolve.records import ProgramRecord, Status
from stark.agents import CodeRequest, PlanRequest, ProgramView, Proposed, RepairRequest
from stark.agents.program_features import program_features
from stark.edits import unified_diff
from stark.edits.normalized_code import fingerprint

SIBLINGS_SHOWN = 32
"""The planner sees the newest this many children of its parent: more would not fit a prompt, and reading them
all would make every attempt cost more the more often its parent was chosen."""


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
    fingerprint: str = ""
    """pending_source's fingerprint, when the agents worked it out."""
    diff: str | None = None
    source_features: dict[str, float] | None = None
    """pending_source's diff against the parent and its descriptors, when the agents worked them out."""
    evaluation: EvalResult | EvaluatorLost | None = None
    """pending_source's evaluation, when the agents' pipeline sent it straight on to an evaluator."""
    improved: bool = False
    remeasured: bool = False
    replans_left: int = 0
    reference_failures: int = 0
    rank: RankDecision | None = None
    """The cost model's call on pending_source (None: no rank stage, or a resumed attempt: timed)."""
    rank_features: dict[str, float] | None = None

    @property
    def timed(self) -> bool:
        return self.rank is None or self.rank.timed


def profile_line(profile: dict[str, Any] | None) -> str:
    """A program's last profile in one line, for the planner."""
    if not profile:
        return ""
    cand, ref = profile["candidate"], profile["reference"]
    return (f"candidate median {cand['median_us']:.1f} us (IQR {cand['iqr_us']:.1f}); reference eager "
            f"{ref['median_us']:.1f} us; {profile['threads']} threads")


class RecentProfiles(OrderedDict):
    """Profile lines of recently evaluated programs: parents are drawn from the islands, which hold recent
    programs, so most lookups never reach the database.  Bounded."""

    def __init__(self, size: int = 512):
        super().__init__()
        self.size = size

    def remember(self, program_id: int, line: str) -> None:
        self[program_id] = line
        self.move_to_end(program_id)
        while len(self) > self.size:
            self.popitem(last=False)


def failure_text(result: EvalResult) -> str:
    failure = result.failure
    return (f"stage: {failure.stage.value}\nkind: {failure.kind.value}\nmessage: {failure.message}\n"
            f"output tail:\n{failure.output_tail[-2000:]}")


class AttemptSteps:
    def plan(self, attempt: Attempt) -> None:
        """Ask for a plan; the parent's children so far (a rejected repeat of this attempt included) are shown."""
        parent = attempt.parent
        siblings = tuple(ProgramView(pid, "", score, correct, status, strategy, self.score_label)
                         for pid, score, correct, status, strategy in self.store.tried_from(parent.id, SIBLINGS_SHOWN))
        inspirations = tuple(self.view(p) for p in attempt.inspirations)
        request = PlanRequest(attempt.number, attempt.seed, self.problem_source, self.view(parent), siblings,
                              inspirations, self.profile_summary(parent), self.skills.text(attempt.number))
        self.call_agent("propose", attempt, request)

    def profile_summary(self, program: ProgramRecord) -> str:
        line = self.profiles.get(program.id)
        if line is None:
            line = profile_line(self.store.latest_evaluation(program.id).get("profile"))
            self.profiles.remember(program.id, line)
        return line

    def on_propose(self, attempt: Attempt, proposed: Proposed, request: PlanRequest) -> None:
        """The pipeline's stages, taken in turn as if each had been its own call; a stage whose endpoint was
        down stalls there, and is sent again to its role alone."""
        if proposed.plan.unavailable:
            self.stall("plan", attempt, request, proposed.plan.unavailable)
            return
        if not self.after_plan(attempt, proposed.plan):
            return
        if proposed.proposal.unavailable:
            self.stall("code", attempt, self.code_request(attempt, proposed.plan), proposed.proposal.unavailable)
            return
        if self.after_code(attempt, proposed.proposal):
            attempt.fingerprint, attempt.diff, attempt.source_features = (proposed.fingerprint, proposed.diff,
                                                                          proposed.features)
            attempt.evaluation = proposed.evaluation
            self.on_screen(attempt, proposed.verdict)

    def on_plan(self, attempt: Attempt, plan) -> None:
        if self.after_plan(attempt, plan):
            self.call_agent("code", attempt, self.code_request(attempt, plan))

    def after_plan(self, attempt: Attempt, plan) -> bool:
        """Whether there is a plan to code (else the attempt ended here)."""
        attempt.strategy = plan.strategy
        if getattr(plan, "repaired", ""):
            self.events.append("plan repaired", attempt=attempt.number, what=plan.repaired)
        if not plan.instructions:
            self.record_dead_end(attempt, attempt.parent.source, Status.INVALID, "", plan.error or "empty plan")
            return False
        return True

    def code_request(self, attempt: Attempt, plan) -> CodeRequest:
        """What the coder is sent for a plan (the pipeline builds the same from the planner's request)."""
        return CodeRequest(attempt.number, attempt.seed, plan, self.view(attempt.parent),
                           tuple(self.view(p) for p in attempt.inspirations))

    def on_code(self, attempt: Attempt, proposal) -> None:
        if self.after_code(attempt, proposal):
            self.call_agent("screen", attempt, proposal.source)

    on_repair = on_code

    def after_code(self, attempt: Attempt, proposal) -> bool:
        """Whether there is a program to screen (else the attempt ended here)."""
        if proposal.source is None:
            self.record_dead_end(attempt, attempt.parent.source, Status.INVALID, proposal.response, proposal.error)
            return False
        attempt.pending_source = proposal.source
        attempt.fingerprint, attempt.diff, attempt.source_features, attempt.evaluation = "", None, None, None
        if getattr(proposal, "form", ""):
            self.events.append("edit read", attempt=attempt.number, form=proposal.form)
        return True

    def on_screen(self, attempt: Attempt, verdict) -> None:
        source = attempt.pending_source
        parent = attempt.parent
        diff = attempt.diff if attempt.diff is not None else unified_diff(parent.source, source)
        if not verdict.accepted:
            self.record_dead_end(attempt, source, Status.REJECTED, diff, verdict.reason)
            return
        attempt.fingerprint = attempt.fingerprint or fingerprint(source)
        repeat = self.find_repeat(attempt, source)
        replan = (repeat is not None and attempt.replans_left > 0 and attempt.origin == "mutation"
                  and self.llm_budget_left())
        evaluation, attempt.evaluation = attempt.evaluation, None
        if repeat is not None and (repeat.status == Status.DUPLICATE or replan):
            if evaluation is not None:      # a twin's, evaluated before the pipeline knew of it: not recorded
                self.events.append("twin's evaluation set aside", attempt=attempt.number, of=repeat.original)
            self.on_repeat(attempt, source, diff, repeat, replan)
            return
        if repeat is not None:
            self.events.append("near-duplicate evaluated", attempt=attempt.number, of=repeat.original)
        attempt.program_id = self.store.add_program(
            self.campaign_id, attempt=attempt.number, source=source, parent_id=parent.id, island=attempt.island,
            generation=parent.generation + 1, origin=attempt.origin, strategy=attempt.strategy, diff=diff,
            known_fingerprint=attempt.fingerprint)
        if isinstance(evaluation, EvalResult):
            self.on_result(attempt, evaluation)
            return
        if isinstance(evaluation, EvaluatorLost):
            self.replace_evaluator(evaluation)
        self.rank(attempt, source)
        self.submit_evaluation(attempt, source, remeasure=False)

    def rank(self, attempt: Attempt, source: str) -> None:
        """The rank stage (opt-in): whether this candidate's profile is worth its seconds."""
        attempt.rank = None
        if self.ranker is None:
            return
        parent = attempt.parent
        attempt.rank_features = self.ranker.features(source, parent.score if parent.correct else None)
        rng = random.Random(f"{self.config.campaign.seed}:{attempt.number}:rank:{attempt.program_id}")
        attempt.rank = self.ranker.decide(attempt.rank_features, self.state.best_score, rng)

    def find_repeat(self, attempt: Attempt, source: str) -> Repeat | None:
        novelty = self.config.evolve.novelty
        neighbours = []
        if novelty.similarity > 0:
            neighbours = [attempt.parent, *(m for m in self.islands.members(attempt.island)
                                            if m.id != attempt.parent.id)]
        return find_repeat(self.store, self.campaign_id, source, neighbours, novelty.similarity,
                           attempt.fingerprint)

    def on_repeat(self, attempt: Attempt, source: str, diff: str, repeat: Repeat, replan: bool) -> None:
        """A repeat is recorded (never evaluated); a mutation with re-plans left asks for a new plan, whose planner
        sees the repeat among the parent's children; otherwise the attempt ends with it."""
        if replan:
            attempt.replans_left -= 1
            with self.store.atomic():
                self.store.add_program(
                    self.campaign_id, attempt=attempt.number, source=source, parent_id=attempt.parent.id,
                    island=attempt.island, generation=attempt.parent.generation + 1, origin=attempt.origin,
                    strategy=attempt.strategy, diff=diff, status=repeat.status, note=repeat.note,
                    duplicate_of=repeat.original)
            attempt.seed = random.Random(f"{attempt.seed}:replan").randrange(2**31)
            self.events.append("re-plan", attempt=attempt.number, repeat=repeat.status, of=repeat.original)
            self.plan(attempt)
            return
        self.record_dead_end(attempt, source, repeat.status, diff, repeat.note, repeat.original)

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

    def reference_line(self, result: EvalResult) -> str:
        failure = result.failure
        return (f"the problem's reference fails ({failure.stage.value}/{failure.kind.value}), so no candidate can be "
                f"judged: {failure.message.strip()[:600]}")

    def on_reference_failure(self, attempt: Attempt, result: EvalResult) -> None:
        """Not the candidate's doing: nothing is recorded against it.  Once may be the machine (memory taken by
        something else); twice stops the run, the attempt left open for `stark resume`."""
        attempt.reference_failures += 1
        if attempt.reference_failures > 1:
            raise CampaignError(f"{self.reference_line(result)}; program #{attempt.program_id} was not charged, "
                                "`stark resume` evaluates it again")
        self.events.append("reference failed", program=attempt.program_id, kind=result.failure.kind.value,
                                message=result.failure.message[:300])
        self.submit_evaluation(attempt, attempt.pending_source, attempt.remeasured)

    def on_result(self, attempt: Attempt, result: EvalResult) -> None:
        if not result.passed and not result.failure.charged_to_candidate:
            self.on_reference_failure(attempt, result)
            return
        program_id, source = attempt.program_id, attempt.pending_source
        if self.needs_remeasure(attempt, result):
            self.record_result(program_id, source, result, provisional=True)
            attempt.remeasured = True
            self.events.append("re-measure", program=program_id, speedup=result.speedup_vs_eager)
            self.submit_evaluation(attempt, source, remeasure=True)
            return
        repair = (not result.passed and attempt.repairs_left > 0
                  and result.failure.stage in (Stage.COMPILE, Stage.VERIFY))
        untimed = result.passed and not attempt.timed
        with self.store.atomic():      # verdict, admission, and the attempt's end: all recorded or none
            score, objectives, features = self.record_result(program_id, source, result,
                                                             remeasured=attempt.remeasured, rank=attempt.rank,
                                                             source_features=attempt.source_features)
            if untimed:
                self.end_attempt(attempt, Status.UNTIMED, program_id)
                return
            if result.passed:
                if attempt.rank_features is not None:      # set only where there is a rank stage
                    self.ranker.learn(attempt.rank_features, result.speedup_vs_eager)
                resident = Individual(program_id, attempt.island, objectives, features, score, attempt.parent.id,
                                      attempt.fingerprint or fingerprint(source))
                self.islands.admit(program_id, resident)
                self.profiles.remember(program_id, profile_line(asdict(result.profile) if result.profile else None))
                if score > self.state.best_score:
                    self.state.best_score = score
                    attempt.improved = True
                    self.store.after_commit(lambda: self.announce_best(program_id, source, score))
            if not repair:
                self.end_attempt(attempt, Status.EVALUATED if result.passed else Status.FAILED, program_id)
        if repair:
            failed = self.store.program(program_id)
            attempt.repairs_left -= 1
            attempt.origin, attempt.parent = "repair", failed
            attempt.strategy = f"repair of #{program_id}"
            request = RepairRequest(attempt.number, attempt.seed, self.problem_source, self.view(failed),
                                    failure_text(result))
            self.call_agent("repair", attempt, request)

    def announce_best(self, program_id: int, source: str, score: float) -> None:
        """Once the new best is in the database (its transaction can be a proposal's, which holds its evaluation)."""
        self.run_dir.write_best(source)
        self.events.append("new best", program=program_id, score=score)

    def record_result(self, program_id: int, source: str, result: EvalResult, remeasured: bool = False,
                      provisional: bool = False, rank: RankDecision | None = None,
                      source_features: dict[str, float] | None = None
                      ) -> tuple[float, tuple[float, ...], dict[str, Any]]:
        """Store the verdict; return the program's primary score (0 when it failed), objectives and features.  A
        provisional verdict (awaiting re-measurement) leaves the program's status and score alone; the
        re-measurement sets them.  The rank stage's call, when there was one, is kept with the verdict.
        `source_features`: the source's descriptors where the agents worked them out."""
        data = result.to_dict()
        data["remeasured"] = remeasured
        if rank is not None:
            data["cost_model"] = rank.to_dict()
        untimed = result.passed and rank is not None and not rank.timed
        metrics = program_metrics(source, data)
        objectives = oriented_objectives(self.config.evolve.objectives, metrics) if result.passed and not untimed \
            else ()
        score = 0.0 if untimed else self.score(result, objectives)
        features = {**(program_features(source) if source_features is None else source_features), **metrics}
        self.store.record_evaluation(program_id, data, objectives=objectives, features=features, score=score,
                                     provisional=provisional, untimed=untimed)
        return score, objectives, features

    def score(self, result: EvalResult, objectives: tuple[float, ...]) -> float:
        """Speedup over eager for kernels; the first (oriented) objective for discovery problems."""
        if not result.passed:
            return 0.0
        if self.problem.kind == "discovery":
            return objectives[0]
        return result.speedup_vs_eager or 0.0

    def record_dead_end(self, attempt: Attempt, source: str, status: str, diff: str, note: str,
                        duplicate_of: int | None = None) -> None:
        parent = attempt.parent
        with self.store.atomic():
            program_id = self.store.add_program(
                self.campaign_id, attempt=attempt.number, source=source, parent_id=parent.id, island=attempt.island,
                generation=parent.generation + 1, origin=attempt.origin, strategy=attempt.strategy, diff=diff,
                status=status, note=note, duplicate_of=duplicate_of)
            self.end_attempt(attempt, status, program_id)

    def end_attempt(self, attempt: Attempt, outcome: str, program_id: int | None) -> None:
        """Close the attempt in the ledger with the loop's counters; called inside the outcome's transaction."""
        self.active.discard(attempt.number)
        self.state.completed += 1
        self.state.stagnation = 0 if attempt.improved else self.state.stagnation + 1
        interval = self.config.evolve.migration_interval
        if self.config.evolve.islands > 1 and interval and self.state.completed % interval == 0:
            self.islands.migrate(attempt.number)
        self.store.end_attempt(self.campaign_id, attempt.number, outcome, program_id)
        self.reserve_next_attempt()
        self.save()
