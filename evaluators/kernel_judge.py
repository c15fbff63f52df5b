"""One kernel evaluation as the judge runs it, from outside both runners.

Every round draws fresh inputs from a secret seed (recorded afterwards), writes them into each runner's own
shared memory while both are stopped, times each module with the judge's clock (wake, call, answer, stop),
and compares the candidate's outputs with the reference's.  Verification rounds and timed rounds are the
same rounds: a candidate cannot behave one way when checked and another when timed, cannot predict or
cache its inputs, and cannot run while anything else is timed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import statistics
import time
import types
from pathlib import Path

import torch

from evaluators import device_idle
from evaluators.compare import CandidateFailure, Closeness, bitwise_equal, compare_outputs
from evaluators.config import EvalConfig
from evaluators.device_idle import DeviceProbe
from evaluators.device_outputs import DeviceHandoffUnavailable
from evaluators.errors import classify_exception, problem_error
from evaluators.judged_side import CUDA, Side, mapped_buffer
from evaluators.measurement import corrected, speedup_interval, summarize
from evaluators.records import FailureKind, ProfileReport, VerifyReport
from evaluators.runner_handle import RunnerHandle
from evaluators.seeding import seed_torch
from evaluators.shared_memory import Layout, RegionPool, dtype_name
from kernelbench.problem import ProblemError

POISON_BYTE = 0xFF
NULL_CALLS = 15
SETTLE_S = 0.25
DIGEST_SAMPLES = 4096
DIAGNOSED = (FailureKind.MISMATCH, FailureKind.NONFINITE)


class ReferenceFailure(Exception):
    """The reference (trusted code) failed; never charged to the candidate.  Out of memory keeps its kind (the
    problem's sizes do not fit this machine); anything else is a reference error."""

    def __init__(self, message: str, kind: FailureKind = FailureKind.REFERENCE_ERROR):
        super().__init__(message)
        self.kind = kind

    @classmethod
    def from_exception(cls, what: str, exc: BaseException, problem_path: str) -> ReferenceFailure:
        """The problem's own code raised (in the judge: loading it, get_init_inputs, get_inputs)."""
        if isinstance(exc, ProblemError):
            return cls(f"{what}: {exc}")
        kind = FailureKind.OUT_OF_MEMORY if classify_exception(exc).kind is FailureKind.OUT_OF_MEMORY \
            else FailureKind.REFERENCE_ERROR
        return cls(f"{what}: {problem_error(exc, Path(problem_path).name)}", kind)

    @classmethod
    def from_reply(cls, what: str, reply: dict) -> ReferenceFailure:
        kind = FailureKind.OUT_OF_MEMORY if reply.get("kind") == FailureKind.OUT_OF_MEMORY.value \
            else FailureKind.REFERENCE_ERROR
        return cls(f"{what}: {reply.get('message', reply)}", kind)


class KernelJudgement:
    def __init__(self, config: EvalConfig, problem: types.ModuleType, candidate: RunnerHandle,
                 reference: RunnerHandle, compiled: RunnerHandle | None, output_layouts: dict | None = None,
                 regions: RegionPool | None = None):
        self.config, self.problem = config, problem
        regions = RegionPool() if regions is None else regions
        self.candidate, self.reference = Side("candidate", candidate, regions), Side("reference", reference, regions)
        self.baseline = None if compiled is None else Side("compiled", compiled, regions)
        """torch.compile's baseline, in its own process: timed after the rounds, bound to the same inputs."""
        self.compiled_note = "not requested"
        self.output_layouts: dict[str, Layout] = {} if output_layouts is None else output_layouts
        """Output layout the reference gave for each input layout; kept by the judge with its reference runner."""
        self.globals: dict = {}
        self.sample_positions: dict[int, torch.Tensor] = {}
        self.random = secrets.SystemRandom()
        self.answers: dict[bytes, bytes] = {}
        """Digest of each output the candidate gave → digest of the reference's output in that round."""
        self.deadline = 0.0
        self.checked = 0
        self.worst = Closeness(0.0, 0.0)
        self.device_handoff = config.backend == "cuda"
        """Outputs handed over in device memory and the clock stopped at the judge's own copy of them; off (the
        host round trip, as on the CPU) where CUDA IPC fails here, for every side alike (each side's `device` is
        then None)."""
        self.clock_note = "host round trip" if config.backend == "cuda" else "host round trip (CPU)"
        self.idle_probe: DeviceProbe | None = None
        """On a GPU, the judge's check that nothing runs on the device before each timed call."""
        self.l2_scratch: torch.Tensor | None = None
        self.inputs_on_device: list[torch.Tensor] = []
        """The last write's inputs as the judge holds them on the GPU (what the candidate's buffer must still hold)."""
        self.inputs_note = ""

    # -- inputs and outputs ----------------------------------------------------------------------------
    def fresh_inputs(self) -> tuple[int, list]:
        seed = self.random.randrange(2**31)
        seed_torch(seed, self.config.backend)
        try:
            made = self._made_inputs()
        except Exception as exc:  # noqa: BLE001 - the problem's own code: its failure is the reference's
            raise ReferenceFailure.from_exception("the problem's get_inputs() failed", exc,
                                                  self.problem.__file__) from None
        values = [v.detach().contiguous() if isinstance(v, torch.Tensor) else v for v in made]
        return seed, harness_cast(values, self.config)

    def _made_inputs(self) -> list:
        """On a GPU the problem's random tensors are drawn there and stay there (on an H100 drawing two 4096x4096
        fp32 inputs took 0.1 ms on the device, 222 ms on the host, and taking them to the host 100 ms, every
        round: benchmarks/gpu_input_draw.py); a get_inputs that only works on the host is run there."""
        if self.config.backend != "cuda":
            return list(self.problem.get_inputs())
        try:
            with CUDA:
                return list(self.problem.get_inputs())
        except Exception:  # noqa: BLE001 - e.g. a get_inputs that calls .numpy(): the host way, as written
            return list(self.problem.get_inputs())

    def bind(self, inputs: list) -> None:
        """Give both runners regions shaped like `inputs`, then learn the output shapes from the reference."""
        tensors = [v for v in inputs if isinstance(v, torch.Tensor)]
        layout = Layout.of([(tuple(t.shape), dtype_name(t.dtype)) for t in tensors])
        args = ["tensor" if isinstance(v, torch.Tensor) else {"value": v} for v in inputs]
        key = json.dumps([layout.to_dict(), args, sorted(self.globals.items())], default=str)
        outputs = self.output_layouts.get(key)
        if outputs is None:
            self._bind_side(self.reference, layout, args, None)
            self.write(inputs, sides=(self.reference,))
            specs = self.reference.runner.ask({"type": "probe", "module": 0}, self.deadline)
            if specs["type"] != "specs":
                raise ReferenceFailure.from_reply("the reference failed on these inputs", specs)
            outputs = self.output_layouts[key] = Layout.of([(tuple(s), dtype) for s, dtype in specs["outputs"]])
        for side in (self.reference, self.candidate, *([self.baseline] if self.baseline else [])):
            self._bind_side(side, layout, args, outputs)

    def _bind_side(self, side: Side, layout: Layout, args: list, outputs: Layout | None) -> None:
        """One message per runner: its input region and (once known) its output region."""
        side.bind(layout, outputs)
        message = {"type": "bind_inputs", "layout": layout.to_dict(), "args": args}
        fds = (side.inputs.fd,)
        if outputs is not None:
            message["outputs"], fds = outputs.to_dict(), (side.inputs.fd, side.outputs.fd)
        reply = side.runner.ask(message, self.deadline, fds=fds)
        self._expect(side, reply, "bound")
        if outputs is not None and self.device_handoff:
            self._map_device_outputs(side, reply, outputs)
        if outputs is not None and self.config.backend == "cuda":
            self._map_device_inputs(side, reply, layout)

    def _map_device_outputs(self, side: Side, reply: dict, outputs: Layout) -> None:
        try:
            side.device = mapped_buffer(reply, "device_outputs", outputs, snapshot=True)
            self.clock_note = "device copy (CUDA IPC): stopped at the judge's own copy of the outputs"
        except (DeviceHandoffUnavailable, KeyError, TypeError, ValueError) as exc:
            self.device_handoff = False
            self.clock_note = f"host round trip (CUDA IPC unavailable: {str(exc)[:160]})"
            for other in (self.candidate, self.reference, self.baseline):
                if other is not None and other.device is not None:
                    other.device.close()
                    other.device = None

    def _map_device_inputs(self, side: Side, reply: dict, inputs: Layout) -> None:
        """The reference's buffer decides whether inputs go over on the device here; once it did, a candidate
        runner that exports none fails (else it could choose the load, with its threads running)."""
        try:
            side.device_inputs = mapped_buffer(reply, "device_inputs", inputs, snapshot=False)
        except (DeviceHandoffUnavailable, KeyError, TypeError, ValueError) as exc:
            if side is self.candidate and self.reference.device_inputs is not None:
                raise CandidateFailure(FailureKind.RUNTIME_ERROR,
                                       f"its runner gave no device buffer for the inputs: {str(exc)[:200]}") from None
            self.inputs_note = f"inputs loaded by each runner (CUDA IPC unavailable: {str(exc)[:160]})"

    def write(self, inputs: list, sides: tuple[Side, ...] = ()) -> None:
        """Into each runner's input buffer on a GPU (written here, the runner stopped), else its shared memory
        (and then, on a GPU, the runner copies it over: the fallback without CUDA IPC)."""
        if self.config.backend == "cuda":
            self.require_idle_device()     # a kernel of the candidate's still running would see the inputs land
        tensors = [v for v in inputs if isinstance(v, torch.Tensor)]
        sides = sides or (self.reference, self.candidate)
        for side in sides:
            if side.device_inputs is None:
                for region, value in zip(side.inputs.tensors, tensors):
                    region.copy_(value)
        if self.config.backend == "cpu":
            return
        on_device = [value.to(CUDA) for value in tensors] \
            if any(side.device_inputs is not None for side in sides) else []
        for side in sides:
            if side.device_inputs is not None:
                for slot, value in zip(side.device_inputs.shared_views, on_device):
                    slot.copy_(value)
            else:
                self._expect(side, side.runner.ask({"type": "load"}, self.deadline), "loaded")
        if on_device:
            torch.cuda.synchronize(CUDA)
            self.inputs_on_device = on_device

    def _expect(self, side: Side, reply: dict, kind: str) -> None:
        if reply["type"] == kind:
            return
        if side is self.reference or side is self.baseline:
            raise ReferenceFailure.from_reply("the reference failed", reply)
        raise failure_from(reply)

    # -- the timed call ----------------------------------------------------------------------------------
    def timed_call(self, side: Side, module: int) -> int:
        runner = side.runner
        if self.flushes_l2 and module >= 0:
            self.flush_l2()         # untimed, as KernelBench; by the judge, so no runner runs between write and call
        if self.config.backend == "cuda":
            self.require_idle_device()
        nonce = secrets.token_hex(8)
        device = side.device
        start = time.perf_counter_ns()
        runner.resume()
        runner.send({"type": "call", "module": module, "nonce": nonce, "to": "device" if device else "host",
                     "inputs": side.inputs_kind})
        reply = runner.reply(self.deadline, nonce=nonce)
        runner.send_stop()          # inside the clock: work after the answer counts until the stop is sent
        if device is not None and reply["type"] == "done":
            device.take()
        elapsed = time.perf_counter_ns() - start
        runner.wait_stopped()
        self._expect(side, reply, "done")
        return elapsed

    def flush_l2(self) -> None:
        """KernelBench's harness clears the GPU's L2 cache before every timed call: overwrite a buffer larger than
        any L2 (256 MiB; an H100's is 50 MiB).  The cache is the device's, so the judge's own write clears it."""
        if self.l2_scratch is None:
            self.l2_scratch = torch.empty(64 * 1024 * 1024, dtype=torch.int32, device=CUDA)
        self.l2_scratch.zero_()
        torch.cuda.synchronize(self.l2_scratch.device)

    def require_idle_device(self) -> None:
        """Every runner is stopped here, so a busy device is work left running across a stop (docs/judge.md):
        the candidate's if killing its runner frees the device, else another process's (nothing is timed)."""
        if self.idle_probe is None:
            self.idle_probe = DeviceProbe(CUDA)
        if not self.idle_probe.busy():
            return
        waits = ", ".join(f"{ns / 1000:.0f}" for ns in self.idle_probe.latest_ns)
        self.candidate.runner.kill()
        if self.idle_probe.idle_after(device_idle.SETTLE_S):
            raise CandidateFailure(FailureKind.DEFERRED_WORK,
                                   f"the GPU was busy while its runner was stopped (the judge's probe kernel waited "
                                   f"{waits} us) and idle once the runner was killed: work left running on the device")
        raise ReferenceFailure(f"the GPU stayed busy with another process's work (probe waits {waits} us) after the "
                               "candidate's runner was killed: nothing can be timed on it now")

    def round(self, inputs: list, label: str, candidate_first: bool) -> tuple[int, int]:
        """Both modules on the same fresh inputs, in the given order.  The judge's own writes leave data in the
        shared cache, so whoever runs first has its regions written last: each side gets the warm cache in
        half the rounds (writing the candidate's always last made identical memory-bound kernels 1.1-1.3x
        "faster" than their reference)."""
        order = (self.reference, self.candidate) if candidate_first else (self.candidate, self.reference)
        for side in order:
            if side.device is not None:
                side.device.poison(POISON_BYTE)
            else:
                side.outputs.fill(POISON_BYTE)
        self.write(inputs, sides=order)
        if candidate_first:
            candidate_ns = self.candidate_call(label)
            self.check_inputs(inputs, label)
            reference_ns = self.timed_call(self.reference, 0)
        else:
            reference_ns = self.timed_call(self.reference, 0)
            candidate_ns = self.candidate_call(label)
            self.check_inputs(inputs, label)
        self.compare(label)
        return candidate_ns, reference_ns

    def candidate_call(self, label: str) -> int:
        """The candidate's timed call; an error it raises says in which round (a second-shape failure reads so)."""
        try:
            return self.timed_call(self.candidate, 0)
        except CandidateFailure as failure:
            raise CandidateFailure(failure.kind, f"{label}: {failure.message}") from None

    def check_inputs(self, inputs: list, label: str) -> None:
        """On a GPU the buffer the candidate read, against the judge's device copy of the inputs written into it."""
        mapped = self.candidate.device_inputs
        if mapped is not None:
            pairs = zip(mapped.shared_views, self.inputs_on_device)
        else:
            pairs = zip(self.candidate.inputs.tensors, [v for v in inputs if isinstance(v, torch.Tensor)])
        for got, value in pairs:
            if not bitwise_equal(got, value.to(got.device)):
                raise CandidateFailure(FailureKind.INPUT_MUTATION, f"{label}: the candidate modified its input tensors")

    def compare(self, label: str) -> None:
        expected, actual = self.reference.output_tensors(), self.candidate.output_tensors()
        try:
            closeness = compare_outputs(expected, actual, self.config.tolerance,
                                        relative_to_candidate=self.config.kernelbench)
        except CandidateFailure as failure:
            kind = self.diagnose(failure.kind)
            message = failure.message
            if kind is FailureKind.RESULT_CACHING:
                message = "returned an earlier call's output for new inputs (result caching)"
            elif kind is FailureKind.DEFERRED_WORK:
                message = "outputs were only complete after the call returned (work left running)"
            raise CandidateFailure(kind, f"{label}: {message}") from None
        self.checked += 1
        self.answers[self._digest(self.candidate)] = self._digest(self.reference)
        self.worst = Closeness(max(self.worst.max_abs_error, closeness.max_abs_error),
                               max(self.worst.max_rel_error, closeness.max_rel_error))

    def _digest(self, side: Side) -> bytes:
        """A fingerprint of the outputs at byte positions drawn secretly per layout: an earlier answer handed back
        matches everywhere, a new one almost surely does not.  (It only names a failure; it decides nothing.)"""
        raw = side.output_bytes()
        if raw.numel() <= DIGEST_SAMPLES:
            return hashlib.blake2b(raw.cpu().numpy().tobytes()).digest()
        positions = self.sample_positions.get(raw.numel())
        if positions is None:
            generator = torch.Generator().manual_seed(self.random.randrange(2**62))
            positions = self.sample_positions[raw.numel()] = torch.randint(0, raw.numel(), (DIGEST_SAMPLES,),
                                                                           generator=generator)
        return hashlib.blake2b(raw[positions.to(raw.device)].cpu().numpy().tobytes()).digest()

    def diagnose(self, kind: FailureKind) -> FailureKind:
        """Name the way of being wrong where we can: an earlier call's output again, or work finished later."""
        if kind not in DIAGNOSED:
            return kind
        earlier = self.answers.get(self._digest(self.candidate))
        if earlier is not None and earlier != self._digest(self.reference):
            return FailureKind.RESULT_CACHING
        runner = self.candidate.runner
        runner.resume()
        time.sleep(SETTLE_S)
        runner.pause()
        device = self.candidate.device
        reply = runner.ask({"type": "recopy", "to": "device" if device else "host"}, time.monotonic() + 10)
        if reply["type"] == "done" and device is not None:
            device.take()
        if reply["type"] == "done":
            try:
                compare_outputs(self.reference.output_tensors(), self.candidate.output_tensors(),
                                self.config.tolerance, relative_to_candidate=self.config.kernelbench)
                return FailureKind.DEFERRED_WORK
            except CandidateFailure:
                pass
        return kind

    # -- stages ----------------------------------------------------------------------------------------
    def verify(self, deadline: float) -> VerifyReport:
        self.deadline = deadline
        seeds = []
        for trial in range(self.config.trials):
            seed, inputs = self.fresh_inputs()
            seeds.append(seed)
            if trial == 0:
                self.bind(inputs)
            self.round(inputs, f"trial {trial} (seed {seed})", candidate_first=trial % 2 == 0)
        dtype = dtype_name(self.reference.outputs.tensors[0].dtype) if self.reference.outputs.tensors else "float32"
        atol, rtol = self.config.tolerance(dtype)
        second = self.second_shape_trial() if self.config.second_shape_set else ""
        return VerifyReport(tuple(seeds), self.worst.max_abs_error, self.worst.max_rel_error, atol, rtol, second)

    def second_shape_trial(self) -> str:
        """One more round with the batch dimension changed, so kernels that hard-code the shape fail."""
        key = next((k for k in ("batch_size", "batch") if isinstance(getattr(self.problem, k, None), int)), None)
        if key is None:
            return ""
        original = getattr(self.problem, key)
        self.set_globals({key: original + 1})
        try:
            seed, inputs = self.fresh_inputs()
            self.bind(inputs)
            self.round(inputs, f"second shape set ({key}={original + 1})", candidate_first=False)
        except ReferenceFailure as exc:    # the problem itself only works at its own size (state sized at init)
            return f"skipped: the reference itself fails at {key}={original + 1} ({_first_line(str(exc))[:200]})"
        finally:
            self.set_globals({key: original})
        return f"{key}={original + 1}"

    def set_globals(self, values: dict) -> None:
        for key, value in values.items():
            setattr(self.problem, key, value)
            self.globals[key] = value
        self.reference.runner.ask({"type": "set_globals", "globals": values}, self.deadline)

    def profile(self, deadline: float) -> ProfileReport:
        self.deadline = deadline
        seed, inputs = self.fresh_inputs()
        self.bind(inputs)
        self.warm_compiled(inputs)
        null_ns = statistics.median(self.timed_call(self.reference, -1) for _ in range(NULL_CALLS))
        own_null_ns = statistics.median(self.timed_call(self.candidate, -1) for _ in range(NULL_CALLS))
        candidate_null_ns = min(own_null_ns, null_ns)
        samples: list[tuple[int, int]] = []
        rounds = self.config.warmup + self.config.repeats
        faults: FaultCount | None = None
        for index in range(rounds):
            if index:
                seed, inputs = self.fresh_inputs()
            if index == self.config.warmup:
                faults = FaultCount(self.candidate.runner, self.reference.runner)
            timing = self.round(inputs, f"timed call {index + 1} of {rounds}", candidate_first=index % 2 == 0)
            if index >= self.config.warmup:
                samples.append(timing)
        candidate_faults, reference_faults = faults.per_call(self.config.repeats) if faults else (None, None)
        candidate = corrected([s[0] for s in samples], candidate_null_ns)
        reference = corrected([s[1] for s in samples], null_ns)
        compiled = self.compiled_calls(rounds) if self.baseline is not None else None
        statistic = "mean" if self.config.kernelbench else "median"
        return ProfileReport(summarize(candidate), summarize(reference), summarize(compiled) if compiled else None,
                             self.compiled_note, self.config.threads, rounds, null_ns / 1000.0,
                             speedup_interval(reference, candidate, process_spread=self.config.process_spread),
                             self.checked, statistic, self.flushes_l2,
                             candidate_faults_per_call=candidate_faults, reference_faults_per_call=reference_faults,
                             clock=self.clock_description())

    def clock_description(self) -> str:
        notes = [self.clock_note, self.inputs_note, self.idle_probe.note() if self.idle_probe else ""]
        return "; ".join(note for note in notes if note)

    def compiled_calls(self, rounds: int) -> list[float]:
        """torch.compile's baseline, timed after the candidate's and the reference's rounds, never among them, on
        inputs of its own, against its own null round trip."""
        null_ns = statistics.median(self.timed_call(self.baseline, -1) for _ in range(NULL_CALLS))
        samples = []
        for index in range(rounds):
            _, inputs = self.fresh_inputs()
            self.write(inputs, sides=(self.baseline,))
            elapsed = self.timed_call(self.baseline, 1)
            if index >= self.config.warmup:
                samples.append(elapsed)
        return corrected(samples, null_ns)

    @property
    def flushes_l2(self) -> bool:
        return self.config.kernelbench and self.config.backend == "cuda"

    def warm_compiled(self, inputs: list) -> None:
        """Compile (or load from inductor's cache) before anything is timed; a failure only drops the baseline."""
        if self.baseline is None:
            return
        self.write(inputs, sides=(self.baseline,))
        reply = self.baseline.runner.ask({"type": "call", "module": 1, "inputs": self.baseline.inputs_kind},
                                         self.deadline)
        if reply["type"] == "done":
            self.compiled_note = "torch.compile (inductor, default mode)"
        else:
            self.baseline.close()
            self.baseline = None
            self.compiled_note = f"torch.compile failed: {str(reply.get('message', ''))[:200]}"

    def close(self) -> None:
        for side in (self.candidate, self.reference, self.baseline):
            if side is not None:
                side.close()


class FaultCount:
    """Both runners' page-fault counters at one moment, to count what the timed rounds after it cost."""

    def __init__(self, candidate: RunnerHandle, reference: RunnerHandle):
        self.runners = (candidate, reference)
        self.start = tuple(runner.page_faults() for runner in self.runners)

    def per_call(self, calls: int) -> tuple[float | None, float | None]:
        now = tuple(runner.page_faults() for runner in self.runners)
        return tuple(None if a is None or b is None or calls <= 0 else (b - a) / calls
                     for a, b in zip(self.start, now))


def harness_cast(values: list, config: EvalConfig) -> list:
    """What KernelBench does to everything it hands a model: every tensor (integers too) cast to its precision;
    stark's harness leaves dtypes as the problem made them."""
    if not config.kernelbench:
        return values
    dtype = getattr(torch, config.dtype)
    return [v.to(dtype) if isinstance(v, torch.Tensor) else v for v in values]


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def failure_from(reply: dict) -> CandidateFailure:
    """A runner's own report of its failure; an unknown kind or a message out of turn is tampering."""
    if reply.get("type") == "failed":
        try:
            kind = FailureKind(reply.get("kind"))
        except ValueError:
            kind = FailureKind.RUNTIME_ERROR
        return CandidateFailure(kind, str(reply.get("message", ""))[:2000])
    return CandidateFailure(FailureKind.TAMPERING, f"the candidate's process answered out of turn ({str(reply)[:200]})")
