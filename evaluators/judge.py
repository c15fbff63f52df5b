"""The judge: the trusted process that decides a candidate's verdict and score.

It never imports candidate code.  For each job it asks its zygote for fresh runner processes (one hosting
the candidate, one hosting the problem's reference and, for torch.compile's baseline, another, each with its own
uid, CPU set and seccomp filter),
serves their C++ builds through the trusted build step, and runs the rounds of `KernelJudgement` itself:
its clock, its comparisons, its statistics.  The runners are killed when the job ends, so nothing a
candidate did survives into the next job.  See docs/judge.md for the threat model.
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import json
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path

from evaluators import build_cache
from evaluators.compare import CandidateFailure
from evaluators.confinement import (BUILDER_UID, CANDIDATE_UID, REFERENCE_UID, SETUP_FAILED, Confinement,
                                    seccomp_available)
from evaluators.config import EvalConfig, EvalRequest
from evaluators.extension_builder import ExtensionCache, build_key
from evaluators.kernel_judge import KernelJudgement, ReferenceFailure, failure_from, harness_cast
from evaluators.records import EvalResult, Failure, FailureKind, Stage, StageReport
from evaluators.roofline import RooflineCheck
from evaluators.runner_handle import RunnerGone, RunnerHandle, RunnerTimeout, describe_exit
from evaluators.sandbox import (CACHE_INSIDE, INDUCTOR_INSIDE, JOBS_INSIDE, SandboxSpec, drops_privileges,
                                isolation_summary, mounts_inside, unreachable_part)
from evaluators.seeding import seed_torch
from evaluators.shared_memory import RegionPool
from evaluators.zygote_client import EvaluatorError, ZygoteClient
from kernelbench.problem import load_problem, shape_overrides

MAX_PROCESSES = 512


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # mallopt's parameter numbers (malloc.h)
JUDGE_MMAP_THRESHOLD = 32 * 2**20
JUDGE_TRIM_THRESHOLD = 128 * 2**20


def keep_scratch_memory() -> None:
    """The judge makes and frees the same megabyte-sized temporaries every round (inputs, comparisons); glibc
    served them from fresh mappings or trimmed them back, so each was faulted in again (about a tenth of
    judging a trivial candidate).  Up to 128 MiB of freed heap now stays with the process; glibc only."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_MMAP_THRESHOLD, JUDGE_MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, JUDGE_TRIM_THRESHOLD)


def judge_on_one_thread() -> None:
    """On the CPU the judge's own tensor work (inputs, poisoning, comparisons) runs on one thread: OpenMP's
    idle workers spin after every parallel op (about 24 ms of CPU per trivial candidate, measured), and they
    spin on any CPU, the runners' included, just as a timed call begins.  (Ray's workers already default to
    one OpenMP thread; `stark eval` and an in-process Judge did not.)  On a GPU too: on an H100 the eager
    reference's calls had a heavy tail (IQR 3.4 ms of a 4.4 ms median; its identical candidate 0.12 ms) under
    `stark eval` and pytest, whose judge had a thread per core, and none in a campaign's Ray-hosted judge (IQR
    0.17-0.22 ms); the judge's host work between the two calls of a round is the likely cause."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


class Judge:
    def __init__(self, scratch_root: str | Path | None = None, max_jobs: int = 500, cpu_offset: int = 0):
        keep_scratch_memory()
        self.scratch_root = Path(scratch_root or tempfile.gettempdir())
        self.max_jobs, self.cpu_offset = max_jobs, cpu_offset
        self.zygote: ZygoteClient | None = None
        self.key: tuple | None = None
        self.root: Path | None = None
        self.jobs_done = 0
        self.starts = 0
        self.job_ids = itertools.count()
        self.roofline = RooflineCheck()
        self.inside: dict[str, str] = {}
        """Where the jobs directory, the build cache and the reference's inductor cache appear to runners."""
        self.reference: RunnerHandle | None = None
        self.compiled_reference: RunnerHandle | None = None
        """torch.compile's baseline in a process of its own (see reference_runners)."""
        self.reference_key: tuple | None = None
        self.output_layouts: dict = {}
        self.regions = RegionPool()
        """Shared-memory regions kept between jobs (evaluators/shared_memory.py)."""

    # -- the sandbox ---------------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return None if self.zygote is None else self.zygote.host_pid

    def sandbox_processes(self) -> list[int]:
        """Processes left in the sandbox besides the zygote and the kept reference runner (none, between jobs)."""
        kept = {runner.host_pid for runner in (self.reference, self.compiled_reference) if runner is not None}
        return [] if self.zygote is None else [pid for pid in self.zygote.processes() if pid not in kept]

    def _ensure_zygote(self, request: EvalRequest) -> ExtensionCache:
        cache_root = Path(request.build_cache_dir or build_cache.default_root()).resolve()
        cache = ExtensionCache(cache_root)
        spec = SandboxSpec.for_config(request.config)
        key = (spec, cache_root)
        if self.zygote is None or not self.zygote.alive() or key != self.key or self.jobs_done >= self.max_jobs:
            self.close()
            cache.ensure()
            self.root = Path(tempfile.mkdtemp(prefix="stark-judge-", dir=self._reachable_scratch(spec, cache_root)))
            self.root.chmod(0o755)
            (self.root / "jobs").mkdir(mode=0o755)
            inductor = _inductor_cache(cache_root)
            self.inside = ({"jobs": JOBS_INSIDE, "cache": CACHE_INSIDE, "inductor": INDUCTOR_INSIDE}
                           if mounts_inside(spec) else
                           {"jobs": str(self.root / "jobs"), "cache": str(cache_root), "inductor": str(inductor)})
            self.zygote = ZygoteClient(spec, self.root, self.root / "jobs", cache_root, inductor, self.inside["jobs"])
            self.key, self.jobs_done = key, 0
            self.starts += 1
        return cache

    def _reachable_scratch(self, spec: SandboxSpec, cache_root: Path) -> Path:
        """Without bubblewrap the runners' uids reach jobs and caches by their host paths: a scratch root behind
        a closed directory (pytest's, a 0700 home) moves to /tmp; a closed cache is the user's to move."""
        if mounts_inside(spec) or not drops_privileges():
            return self.scratch_root
        if closed := unreachable_part(cache_root):
            raise EvaluatorError(f"the build cache {cache_root} is unreachable for the sandbox's runners ({closed} is "
                                 "closed to other users; bubblewrap is not installed): choose another --build-cache")
        return self.scratch_root if unreachable_part(self.scratch_root) is None else Path("/tmp")

    def _job_dir(self, job: int, role: str, uid: int) -> tuple[Path, str]:
        host = self.root / "jobs" / f"{job}-{role}"
        host.mkdir(mode=0o700)
        if drops_privileges():
            os.chown(host, uid, uid)
        return host, f"{self.inside['jobs']}/{host.name}"

    def _confinement(self, request: EvalRequest, uid: int, allow_processes: bool) -> dict:
        """The builder (uid BUILDER_UID) runs compilers only, so it alone may make process groups."""
        config = request.config
        available = sorted(os.sched_getaffinity(0))
        start = (self.cpu_offset * config.threads) % len(available)
        cpus = tuple(available[(start + i) % len(available)] for i in range(min(config.threads, len(available))))
        return Confinement(
            uid=uid if drops_privileges() else 0, cpus=cpus, threads=config.threads,
            address_space_bytes=int(config.memory_limit_gb * 1024**3) if config.backend == "cpu" else 0,
            file_size_bytes=config.file_size_limit_mb * 1024**2, cpu_seconds=config.cpu_seconds_per_job,
            max_processes=MAX_PROCESSES if drops_privileges() and allow_processes else 0,
            allow_processes=allow_processes or config.backend != "cpu", seccomp=seccomp_available(),
            allow_process_groups=uid == BUILDER_UID,
            open_cuda=config.backend == "cuda" and uid != BUILDER_UID,
        ).to_dict()

    def _spawn(self, request: EvalRequest, job: int, role: str, uid: int, allow_processes: bool = False,
               files: dict[str, bytes] | None = None, directory: str = "", **extra) -> RunnerHandle:
        host, inside = self._job_dir(job, directory or role, uid)
        for name, data in (files or {}).items():
            (host / name).write_bytes(data)
            if drops_privileges():
                os.chown(host / name, uid, uid)
        channel, inner, host_pid = self.zygote.spawn(role, inside, self._confinement(request, uid, allow_processes),
                                                     device=request.config.backend, inductor=self.inside["inductor"],
                                                     **extra)
        return RunnerHandle(role, channel, inner, host_pid, host)

    def reference_runners(self, request: EvalRequest, init: bytes, shapes: dict,
                          deadline: float) -> tuple[RunnerHandle, RunnerHandle | None]:
        """The reference runner set up for this problem and, when asked for, torch.compile's baseline in a second
        process; both reused across jobs.  They host only the problem's code (trusted), under a uid no candidate
        can signal or trace, so reuse carries nothing of a candidate's; it saves processes, the model's
        construction and torch.compile's tracing on every job.  The compiled baseline never shares the eager
        reference's process: compiling there changed how fast the eager reference ran (the problem's own Model
        as candidate measured 0.70x on a max reduction, 2.3-3.8x on others), so the eager reference lives
        exactly as the candidate's process does."""
        config = request.config
        problem = Path(request.problem.path).read_bytes()
        key = (problem, request.problem.shape_set, init, json.dumps(shapes, sort_keys=True), config.seed,
               config.compare_compile, config.threads, config.backend, config.harness, config.precision)
        if self.reference_key == key and not any(runner.dead for runner in self.references()):
            return self.reference, self.compiled_reference
        self.drop_reference()
        self.reference = self._reference_runner(request, problem, init, shapes, False, deadline)
        if config.compare_compile:
            self.compiled_reference = self._reference_runner(request, problem, init, shapes, True, deadline)
        self.reference_key = key
        return self.reference, self.compiled_reference

    def _reference_runner(self, request: EvalRequest, problem: bytes, init: bytes, shapes: dict, compiled: bool,
                          deadline: float) -> RunnerHandle:
        config = request.config
        job = next(self.job_ids)
        runner = self._spawn(request, job, "reference", REFERENCE_UID, allow_processes=True,
                             files={"problem.py": problem, "init.pkl": init},
                             directory=f"{'compiled' if compiled else 'reference'}-{job}")
        ready = runner.ask({"type": "setup", "role": "reference", "module_path": "problem.py", "init_path": "init.pkl",
                            "seed": config.seed, "globals": shapes, "compile": compiled, **mode_of(config)}, deadline)
        if ready["type"] != "ready":
            runner.kill()
            self.drop_reference()
            raise ReferenceFailure.from_reply("the reference failed to build", ready)
        return runner

    def references(self) -> list[RunnerHandle]:
        return [runner for runner in (self.reference, self.compiled_reference) if runner is not None]

    def drop_reference(self) -> None:
        for runner in self.references():
            runner.kill()
            shutil.rmtree(runner.job_dir, ignore_errors=True)
        self.reference, self.compiled_reference, self.reference_key = None, None, None
        self.output_layouts = {}

    # -- a job -------------------------------------------------------------------------------------------
    def evaluate(self, request: EvalRequest) -> EvalResult:
        judge_on_one_thread()
        cache = self._ensure_zygote(request)
        job = next(self.job_ids)
        self.jobs_done += 1
        environment = dict(self.zygote.environment, sandbox=isolation_summary(SandboxSpec.for_config(request.config),
                                                                              seccomp_available()))
        if request.problem.kind == "discovery":
            from evaluators.discovery_judge import judge_discovery

            result = judge_discovery(self, request, job)
        else:
            result = KernelJob(self, request, job, cache).run()
        self._clean(job)
        return _with_environment(result, environment)

    def _clean(self, job: int) -> None:
        for entry in (self.root / "jobs").glob(f"{job}-*"):
            shutil.rmtree(entry, ignore_errors=True)

    def close(self) -> None:
        self.drop_reference()
        self.regions.close()
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


class KernelJob:
    """compile → verify → profile for one kernel candidate, with failures turned into one EvalResult."""

    def __init__(self, judge: Judge, request: EvalRequest, job: int, cache: ExtensionCache):
        self.judge, self.request, self.job, self.cache = judge, request, job, cache
        self.config = request.config.protocol()
        self.stages: list[StageReport] = []
        self.runners: list[RunnerHandle] = []
        """Runners that end with this job (the candidate's, builders); the reference may serve the next job."""
        self.verify = self.profile = None
        self.shapes_note = ""

    def run(self) -> EvalResult:
        judgement = None
        stage, started = Stage.COMPILE, time.monotonic()
        try:
            problem, candidate, reference, compiled = self.compile(started + self.config.timeouts.compile)
            judgement = KernelJudgement(self.config, problem, candidate, reference, compiled,
                                        self.judge.output_layouts, self.judge.regions)
            self._passed(stage, started)
            stage, started = Stage.VERIFY, time.monotonic()
            self.verify = judgement.verify(started + self.config.timeouts.verify)
            self._passed(stage, started)
            if self.config.profile:
                stage, started = Stage.PROFILE, time.monotonic()
                self.profile = judgement.profile(started + self.config.timeouts.profile)
                self.read_against_roofline(problem)
                self._passed(stage, started)
            self.finish(candidate, time.monotonic() + 30)
            return self._result(None)
        except CandidateFailure as failure:
            return self._failed(stage, started, failure.kind, failure.message)
        except RunnerTimeout as exc:
            seconds = self.config.timeouts.for_stage(stage.value)
            blame = "reference" if exc.role == "reference" else "candidate"
            if blame == "reference":
                self.judge.drop_reference()
            return self._failed(stage, started, FailureKind.TIMEOUT,
                                f"{stage.value} stage exceeded {seconds:g} s wall clock waiting for the {exc.role}; "
                                "runner killed", blame)
        except RunnerGone:
            kind, message, blame = self._death()
            return self._failed(stage, started, kind, message, blame)
        except ReferenceFailure as exc:
            self.judge.drop_reference()
            return self._failed(stage, started, exc.kind, str(exc), "reference")
        finally:
            if judgement is not None:
                judgement.close()
            for runner in self.runners:
                runner.kill()
            if any(runner.dead for runner in self.judge.references()):
                self.judge.drop_reference()

    def compile(self, deadline: float):
        try:
            problem = load_problem(self.request.problem)
            seed_torch(self.config.seed, self.config.backend)
            init = pickle.dumps(harness_cast(list(problem.get_init_inputs()), self.config))
        except Exception as exc:  # noqa: BLE001 - the problem's own code failed: the reference's failure
            raise ReferenceFailure.from_exception(f"the problem {self.request.problem.problem_id} cannot be loaded",
                                                  exc, self.request.problem.path) from None
        shapes = shape_overrides(problem, self.request.problem.shape_set)
        self.shapes_note = getattr(problem, "SHAPES_NOTE", "")
        candidate = self.judge._spawn(self.request, self.job, "candidate", CANDIDATE_UID,
                                      files={"candidate.py": self.request.candidate_source.encode(), "init.pkl": init})
        self.runners.append(candidate)
        reference, compiled = self.judge.reference_runners(self.request, init, shapes, deadline)
        ready = candidate.ask({"type": "setup", "role": "candidate", "module_path": "candidate.py",
                               "init_path": "init.pkl", "seed": self.config.seed, "globals": shapes,
                               "forbidden_ops": list(self.config.forbidden_ops),
                               "build_cache": self.judge.inside["cache"], **mode_of(self.config)},
                              deadline, on_build=lambda message: self.build(message, deadline))
        if ready["type"] != "ready":
            raise failure_from(ready)
        return problem, candidate, reference, compiled

    def build(self, message: dict, deadline: float) -> dict:
        """Serve a candidate's load_inline: from the cache when intact, else from a fresh builder process."""
        name, arguments = str(message.get("name", "")), message.get("arguments", {})
        if not name.isidentifier() or not isinstance(arguments, dict):
            return {"type": "build_failed", "message": "load_inline needs an identifier name and plain-data arguments"}
        key = build_key(name, arguments)
        directory = self.cache.lookup(key)
        if directory is None:
            request = json.dumps({"name": name, "arguments": arguments}).encode()
            builder = self.judge._spawn(self.request, self.job, "builder", BUILDER_UID, allow_processes=True,
                                        files={"request.json": request}, directory=f"build-{key[:12]}",
                                        request_path="request.json")
            try:
                reply = builder.reply(deadline)
            except (RunnerGone, RunnerTimeout) as exc:
                builder.kill()
                return {"type": "build_failed", "message": f"the builder stopped ({type(exc).__name__}): "
                                                           f"{builder.output_tail()[-2000:]}"}
            builder.kill()
            if reply.get("type") != "built":
                return {"type": "build_failed", "message": str(reply.get("message", reply))}
            directory = self.cache.install(key, name, builder.job_dir / Path(reply["file"]).name)
        symbol = self.cache.forbidden_symbol(key, name, self.config.forbidden_ops)
        if symbol:
            return {"type": "build_failed", "kind": "forbidden_op",
                    "message": f"the extension links {symbol}, which this problem forbids"}
        return {"type": "built", "directory": directory}

    def read_against_roofline(self, problem) -> None:
        """Record the result as a fraction of the machine's limit; one faster than that limit allows fails."""
        profile = self.profile
        measured_us = profile.center(profile.candidate)
        ref = self.request.problem
        roofline = self.judge.roofline.read(problem, ref.path, ref.shape_set, self.config.backend, self.config.threads,
                                            self.judge.zygote.environment.get("gpu", ""), measured_us)
        if roofline is None:
            return
        self.profile = dataclasses.replace(profile, roofline=roofline.to_dict())
        if roofline.suspect:
            raise CandidateFailure(FailureKind.FASTER_THAN_POSSIBLE,
                                   f"measured {measured_us:.2f} µs, but reading and writing its "
                                   f"{roofline.bytes_moved / 2**20:.2f} MiB takes at least {roofline.memory_us:.2f} µs "
                                   f"at this machine's peak {roofline.peak_gbps:.1f} GB/s ({roofline.source}): the "
                                   "work was not done inside the timed call")

    def finish(self, candidate: RunnerHandle, deadline: float) -> None:
        reply = candidate.ask({"type": "finish"}, deadline)
        if reply["type"] != "finished":
            raise failure_from(reply)

    def _death(self) -> tuple[FailureKind, str, str]:
        for runner in [*self.runners, *self.judge.references()]:
            code = self.judge.zygote.exit_code(runner.inner_pid, wait_s=3.0) if not runner.dead else None
            if code == SETUP_FAILED:
                raise EvaluatorError(f"a {runner.role} runner could not be confined: {self.judge.zygote.last_log_line()}")
            if code is not None:
                runner.dead = True
                who = "the reference" if runner.role == "reference" else "the candidate's process"
                kind, message = describe_exit(code)
                return kind, f"{who}: {message}", "reference" if runner.role == "reference" else "candidate"
        return FailureKind.CRASH, "a runner hung up without exiting", "candidate"

    def _passed(self, stage: Stage, started: float) -> None:
        self.stages.append(StageReport(stage, True, time.monotonic() - started))

    def _failed(self, stage: Stage, started: float, kind: FailureKind, message: str,
                blame: str = "candidate") -> EvalResult:
        self.stages.append(StageReport(stage, False, time.monotonic() - started))
        tail = "".join(r.output_tail() for r in self.runners if r.role == "candidate")
        return self._result(Failure(stage, kind, message, tail, blame))

    def _result(self, failure: Failure | None) -> EvalResult:
        return EvalResult(self.request.problem.problem_id, self.config.backend, self.request.problem.shape_set,
                          tuple(self.stages), failure, self.verify, self.profile, shapes=self.shapes_note)


def mode_of(config: EvalConfig) -> dict:
    """What a runner needs to build its module the harness's way: KernelBench keeps train mode and casts."""
    return {"train_mode": config.kernelbench, "dtype": config.dtype if config.kernelbench else ""}


def _inductor_cache(cache_root: Path) -> Path:
    """torch.compile's cache for the reference baseline, kept across jobs and runs; only the reference's uid
    may read or write it, so no candidate can plant compiled code the reference would then run."""
    path = cache_root / "reference-inductor"
    path.mkdir(parents=True, exist_ok=True)
    if drops_privileges() and path.stat().st_uid != REFERENCE_UID:
        for root, dirs, files in os.walk(path):
            for name in (root, *(os.path.join(root, f) for f in files)):
                os.chown(name, REFERENCE_UID, REFERENCE_UID, follow_symlinks=False)
    path.chmod(0o700)
    return path


def _with_environment(result: EvalResult, environment: dict[str, str]) -> EvalResult:
    import dataclasses

    return dataclasses.replace(result, environment=environment)
