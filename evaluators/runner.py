"""A runner: one forked process that hosts one module (the candidate's, or the problem's reference) and runs
it when the judge says so.  Nothing a runner reports is trusted: the judge times it from outside, reads its
outputs from shared memory, and compares them itself; a lying runner can only fail its own candidate.

Messages from the judge: setup, set_globals, bind_inputs (+ input fd, and output fd once the output layout is
known), probe, load, call, recopy, finish.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
import traceback
from pathlib import Path

import torch

from evaluators.channel import Channel, ChannelClosed
from evaluators.compare import CandidateFailure, flatten_outputs
from evaluators.errors import classify_exception, where_raised
from evaluators.records import FailureKind
from evaluators.seeding import seed_torch
from evaluators.shared_memory import Layout, SharedRegion, dtype_name, slot_views


class Runner:
    def __init__(self, channel: Channel, device: str):
        self.channel = channel
        self.device = torch.device(device)
        self.modules: list = []
        self.inputs: SharedRegion | None = None
        self.outputs: SharedRegion | None = None
        self.arg_specs: list = []
        self.device_args: list = []
        self.null_outputs: list[torch.Tensor] = []
        self.last: list[torch.Tensor] = []
        self.protected: dict = {}
        self.keep_alive: object = None
        self.device_outputs: list[torch.Tensor] = []
        """On a GPU, the outputs' slots in the device buffer the judge has mapped (evaluators/device_outputs.py)."""
        self.device_inputs: list[torch.Tensor] = []
        """On a GPU, the inputs' slots in the device buffer the judge writes each round's inputs into."""

    def serve(self) -> None:
        while True:
            try:
                received = self.channel.receive()
            except ChannelClosed:
                return
            message, fds = received
            handler = getattr(self, "on_" + message["type"], None)
            try:
                reply = handler(message, fds)
            except CandidateFailure as failure:
                reply = {"type": "failed", "kind": failure.kind.value, "message": failure.message}
            except Exception as exc:  # noqa: BLE001 - anything the hosted module raises is reported, not fatal
                failure = classify_exception(exc)
                reply = {"type": "failed", "kind": failure.kind.value,
                         "message": failure.message + where_raised(exc, "candidate.py")}
                traceback.print_exc()
                if os.environ.get("STARK_RUNNER_TRACEBACKS"):  # debugging the judge itself: the whole story
                    reply["message"] += "\n" + traceback.format_exc()
            if "nonce" in message:
                reply["nonce"] = message["nonce"]
            sys.stdout.flush()
            sys.stderr.flush()
            self.channel.send(reply)
            if message["type"] == "finish":
                return

    # -- setup -----------------------------------------------------------------------------------------
    def on_setup(self, message: dict, fds: list[int]) -> dict:
        from evaluators import integrity

        init_inputs = pickle.loads(Path(message["init_path"]).read_bytes())
        if message["role"] == "reference":
            from kernelbench.problem import load_module

            problem = load_module(message["module_path"], prefix="stark_problem")
            for key, value in message.get("globals", {}).items():
                setattr(problem, key, value)
            self.problem = problem
            model = _construct(problem.Model, init_inputs, message["seed"], self.device, FailureKind.INIT_ERROR,
                               **_mode(message))
            self.modules = [model]
            if message.get("compile"):
                self.modules.append(torch.compile(model))
            return {"type": "ready"}
        self.protected = integrity.ZYGOTE_SNAPSHOT or integrity.protected_objects()
        from evaluators.extension_client import install_build_client
        from evaluators.forbidden import block_in_dispatcher, block_library_routes

        forbidden = tuple(message.get("forbidden_ops", ()))
        self.keep_alive = block_in_dispatcher(forbidden, self.device.type.upper())
        block_library_routes(forbidden)
        install_build_client(self.channel, message["build_cache"])
        candidate = _import_candidate(message["module_path"])
        for key, value in message.get("globals", {}).items():   # CPU sizes: a candidate that copied the problem's
            if hasattr(candidate, key):                          # size globals (state sized at init) follows them
                setattr(candidate, key, value)
        model_new = getattr(candidate, "ModelNew", None)
        if not isinstance(model_new, type):
            raise CandidateFailure(FailureKind.NO_MODEL_NEW, "candidate defines no class ModelNew")
        self.modules = [_construct(model_new, init_inputs, message["seed"], self.device, FailureKind.INIT_ERROR,
                                   **_mode(message))]
        integrity.check_untampered(self.protected)
        return {"type": "ready"}

    def on_set_globals(self, message: dict, fds: list[int]) -> dict:
        for key, value in message["globals"].items():
            setattr(self.problem, key, value)
        return {"type": "ok"}

    # -- data ------------------------------------------------------------------------------------------
    def on_bind_inputs(self, message: dict, fds: list[int]) -> dict:
        if self.inputs is not None:
            self.inputs.close()
        inputs = Layout.from_dict(message["layout"])
        self.inputs = SharedRegion(inputs, fds[0])
        self.arg_specs = message["args"]
        self.device_inputs = []
        if "outputs" not in message:
            return {"type": "bound"}
        layout = Layout.from_dict(message["outputs"])
        self._bind_outputs(layout, fds[1])
        self.device_outputs, outputs = self._export_device_buffer(layout, "device_outputs")
        self.device_inputs, inputs = self._export_device_buffer(inputs, "device_inputs")
        return {"type": "bound", **outputs, **inputs}

    def _export_device_buffer(self, layout: Layout, key: str) -> tuple[list[torch.Tensor], dict]:
        """On a GPU, a device buffer laid out as `layout` that the judge maps by CUDA IPC (or why there is none)."""
        if self.device.type != "cuda":
            return [], {}
        from evaluators.device_outputs import DeviceHandoffUnavailable, export_buffer

        buffer = torch.empty(layout.size, dtype=torch.uint8, device=self.device)
        try:
            exported = export_buffer(buffer)
        except DeviceHandoffUnavailable as exc:
            return [], {f"{key}_error": str(exc)}
        return slot_views(buffer, layout), {key: exported.to_dict()}     # the views keep the buffer alive

    def _fresh_args(self) -> list:
        """New tensor objects over the region for every call, so metadata a module changed on its inputs
        (a failed resize_, a set_) does not carry into the next call."""
        return self._args_from(self.inputs.fresh_views())

    def _args_from(self, tensors: list[torch.Tensor]) -> list:
        """The call's arguments: the bound tensors in order, the non-tensor values where the problem has them."""
        remaining = iter(tensors)
        return [next(remaining) if spec == "tensor" else spec["value"] for spec in self.arg_specs]

    def on_probe(self, message: dict, fds: list[int]) -> dict:
        self.on_load(message, fds)
        with torch.no_grad():
            outputs = flatten_outputs(self.modules[message["module"]](*self._call_args()), "reference output")
        return {"type": "specs", "outputs": [[list(t.shape), dtype_name(t.dtype)] for t in outputs]}

    def _bind_outputs(self, layout: Layout, fd: int) -> None:
        if self.outputs is not None:
            self.outputs.close()
        self.outputs = SharedRegion(layout, fd)
        self.null_outputs = [torch.zeros_like(t, device=self.device) for t in self.outputs.tensors]

    def on_load(self, message: dict, fds: list[int]) -> dict:
        if self.device.type != "cpu":
            self.device_args = [a.to(self.device) if isinstance(a, torch.Tensor) else a for a in self._fresh_args()]
            torch.cuda.synchronize()
        return {"type": "loaded"}

    def _call_args(self, inputs: str = "loaded") -> list:
        """The host region's tensors on the CPU; on a GPU the buffer the judge wrote (fresh tensor objects per call,
        as on the CPU) or, where it could not map one, what the last load copied."""
        if self.device.type == "cpu":
            return self._fresh_args()
        if inputs != "device":
            return self.device_args
        if not self.device_inputs:
            raise CandidateFailure(FailureKind.OUTPUT_STRUCTURE, "no device buffer for the inputs")
        return self._args_from([slot.view(slot.shape) for slot in self.device_inputs])

    # -- the timed call ----------------------------------------------------------------------------------
    def on_call(self, message: dict, fds: list[int]) -> dict:
        index = message["module"]
        args = self._call_args(message.get("inputs", "loaded"))
        with torch.no_grad():
            result = self.null_outputs if index < 0 else self.modules[index](*args)
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        self.last = flatten_outputs(result)
        return self._copy_out(message.get("to") == "device")

    def on_recopy(self, message: dict, fds: list[int]) -> dict:
        return self._copy_out(message.get("to") == "device")

    def _copy_out(self, to_device: bool = False) -> dict:
        """Into host shared memory, or on a GPU into the device buffer the judge maps (then synchronized: the
        judge copies that buffer as soon as this answer arrives)."""
        slots = self.outputs.tensors
        if to_device and not self.device_outputs and slots:
            raise CandidateFailure(FailureKind.OUTPUT_STRUCTURE, "no device buffer for the outputs")
        if len(self.last) != len(slots):
            raise CandidateFailure(FailureKind.OUTPUT_STRUCTURE, f"returned {len(self.last)} tensors, expected {len(slots)}")
        for index, (got, region) in enumerate(zip(self.last, slots)):
            name = f"output {index}" if len(slots) > 1 else "output"
            if tuple(got.shape) != tuple(region.shape):
                raise CandidateFailure(FailureKind.SHAPE_MISMATCH,
                                       f"{name} has shape {tuple(got.shape)}, expected {tuple(region.shape)}")
            if got.dtype != region.dtype:
                raise CandidateFailure(FailureKind.DTYPE_MISMATCH, f"{name} has dtype {got.dtype}, expected {region.dtype}")
            if self._aliases_input(got):
                raise CandidateFailure(FailureKind.OUTPUT_ALIASES_INPUT, "an output shares memory with an input tensor")
            (self.device_outputs[index] if to_device else region).copy_(got)
        if to_device:
            torch.cuda.synchronize()
        return {"type": "done"}

    def _aliases_input(self, tensor: torch.Tensor) -> bool:
        if tensor.device.type != "cpu" or not tensor.numel() or self.inputs is None:
            return False
        start = tensor.untyped_storage().data_ptr()
        return any(t.numel() and t.untyped_storage().data_ptr() == start for t in self.inputs.tensors)

    def on_finish(self, message: dict, fds: list[int]) -> dict:
        from evaluators import integrity

        if self.protected:
            integrity.check_untampered(self.protected)
        return {"type": "finished"}


def _import_candidate(path: str):
    from kernelbench.problem import load_module

    try:
        return load_module(path, prefix="stark_candidate")
    except CandidateFailure:
        raise
    except Exception as exc:
        if "Error building extension" in str(exc) and classify_exception(exc).kind is FailureKind.RUNTIME_ERROR:
            raise CandidateFailure(FailureKind.BUILD_ERROR, f"{type(exc).__name__}: {exc}") from exc
        failure = classify_exception(exc)
        kind = FailureKind.IMPORT_ERROR if failure.kind is FailureKind.RUNTIME_ERROR else failure.kind
        raise CandidateFailure(kind, failure.message + where_raised(exc, "candidate.py")) from exc


def _mode(message: dict) -> dict:
    dtype = message.get("dtype") or ""
    return {"train_mode": bool(message.get("train_mode")), "dtype": getattr(torch, dtype) if dtype else None}


def _construct(model_class, init_inputs: list, seed: int, device: torch.device, kind: FailureKind,
               train_mode: bool = False, dtype: torch.dtype | None = None):
    """Build a module from the shared seed.  stark puts it in eval mode (BatchNorm's running statistics, no
    dropout); KernelBench's harness leaves it in train mode and casts it to its precision."""
    try:
        seed_torch(seed, device.type)
        model = model_class(*init_inputs)
        if isinstance(model, torch.nn.Module):
            model = model.to(device) if dtype is None else model.to(device=device, dtype=dtype)
            if not train_mode:
                model = model.eval()
        return model
    except CandidateFailure:
        raise
    except Exception as exc:
        failure = classify_exception(exc)
        if failure.kind is FailureKind.RUNTIME_ERROR:
            failure = CandidateFailure(kind, f"{model_class.__name__}(...) raised {type(exc).__name__}: {exc}")
        where = where_raised(exc, "candidate.py") or where_raised(exc, "problem.py")
        raise CandidateFailure(failure.kind, failure.message + where) from exc


def run_discovery(channel: Channel, message: dict) -> None:
    """Discovery problems score a policy inside one process (the simulator calls the candidate's functions
    millions of times); the runner is still fresh per job and confined like any candidate."""
    from evaluators.discovery_stages import run_discovery_cascade
    from kernelbench.problem import ProblemRef
    from evaluators.config import EvalConfig, EvalRequest

    request = EvalRequest(ProblemRef(**message["problem"]), "", EvalConfig(backend="cpu"))
    result = run_discovery_cascade(request, message["module_path"], {},
                                   on_stage=lambda stage: channel.send({"type": "stage", "stage": stage,
                                                                        "at": time.time()}))
    channel.send({"type": "result", "result": result.to_dict()})


def serve(channel: Channel, message: dict) -> None:
    if message["role"] == "discovery":
        run_discovery(channel, message)
    elif message["role"] == "builder":
        from evaluators.extension_builder import build_in_runner

        channel.send(build_in_runner(message))
    else:
        Runner(channel, message["device"]).serve()
    os._exit(0)
