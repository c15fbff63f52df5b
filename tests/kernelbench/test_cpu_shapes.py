"""The CPU scaling policy for problems sized for a GPU: deterministic, batch first, within budget, and it keeps
the sizes a problem cannot change."""

import textwrap

import pytest

from kernelbench import cpu_shapes
from kernelbench.problem import ProblemRef, load_problem

GEMM = """
import torch
import torch.nn as nn

batch_size = 64
M = 4096
K = 8192
N = 4096
kernel_size = 3


class Model(nn.Module):
    def forward(self, a, b):
        return torch.matmul(a, b)


def get_inputs():
    return [torch.randn(batch_size, M, K), torch.randn(batch_size, K, N)]


def get_init_inputs():
    return []
"""

TIED = """
import torch
import torch.nn as nn

batch_size = 128
in_channels = 64
out_channels = 128
height = width = 512
bias_shape = (out_channels, 1, 1)


class Model(nn.Module):
    def __init__(self, in_channels, out_channels, bias_shape):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bias = nn.Parameter(torch.randn(bias_shape))

    def forward(self, x):
        return self.conv(x) + self.bias


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, bias_shape]
"""

FIXED_CLASSIFIER = """
import torch
import torch.nn as nn

batch_size = 256
image = 224


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(32)
        self.head = nn.Linear(3 * 7 * 7, 10)    # only right at 224 x 224: the size cannot change

    def forward(self, x):
        return self.head(self.pool(x).flatten(1))


def get_inputs():
    return [torch.randn(batch_size, 3, image, image)]


def get_init_inputs():
    return []
"""

LOSS = """
import torch
import torch.nn as nn

batch_size = 32768
input_shape = (32768,)
dim = 1


class Model(nn.Module):
    def forward(self, predictions, targets):
        return torch.mean(torch.clamp(1 - predictions * targets, min=0))


def get_inputs():
    return [torch.rand(batch_size, *input_shape), torch.randint(0, 2, (batch_size,)).float() * 2 - 1]


def get_init_inputs():
    return []
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cpu_shapes, "_RESULTS", {})


def problem(tmp_path, source: str, name: str = "problem"):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return load_problem(ProblemRef(name, str(path), 1, "cpu")), path


def test_batch_goes_first_then_the_largest_sizes_until_within_budget(tmp_path):
    module, _ = problem(tmp_path, GEMM)
    policy = cpu_shapes.cpu_shapes_for(module)
    assert policy.within_budget and policy.sizes["batch_size"] == 1
    assert policy.flops <= cpu_shapes.FLOP_BUDGET and policy.bytes_moved <= cpu_shapes.MEMORY_BUDGET
    assert module.kernel_size == 3, "small constants are never scaled"
    a, b = module.get_inputs()
    assert a.shape[2] == b.shape[1] and a.shape == (1, module.M, module.K)
    assert "batch_size 64->1" in module.SHAPES_NOTE


def test_the_policy_is_deterministic_and_cached_on_disk(tmp_path):
    first = cpu_shapes.cpu_shapes_for(problem(tmp_path, GEMM)[0])
    cpu_shapes._RESULTS.clear()
    assert list(cpu_shapes.cache_dir().glob("*.json"))
    assert cpu_shapes.cpu_shapes_for(problem(tmp_path, GEMM, "again")[0]) == first


def test_sizes_that_start_equal_scale_together(tmp_path):
    module, _ = problem(tmp_path, TIED)
    policy = cpu_shapes.cpu_shapes_for(module)
    assert policy.within_budget
    assert module.bias_shape == (module.out_channels, 1, 1)
    model = module.Model(*module.get_init_inputs())
    assert model(*module.get_inputs()).shape[1] == module.out_channels


def test_a_size_the_problem_cannot_change_is_kept_and_said(tmp_path):
    module, _ = problem(tmp_path, FIXED_CLASSIFIER)
    policy = cpu_shapes.cpu_shapes_for(module)
    assert module.image == 224 and module.batch_size < 256
    assert "image" in policy.kept or policy.within_budget
    model = module.Model()
    assert model(*module.get_inputs()).shape == (module.batch_size, 10)


def test_a_batch_that_is_also_a_feature_size_scales_with_it(tmp_path):
    module, _ = problem(tmp_path, LOSS)
    policy = cpu_shapes.cpu_shapes_for(module)
    assert policy.within_budget and module.batch_size == module.input_shape[0] < 32768
    module.Model()(*module.get_inputs())


def test_the_gpu_path_keeps_the_files_sizes(tmp_path):
    path = tmp_path / "gemm.py"
    path.write_text(GEMM)
    module = load_problem(ProblemRef("gemm", str(path), 1, "gpu"))
    assert (module.batch_size, module.M, module.K, module.N) == (64, 4096, 8192, 4096)
    assert module.SHAPES_NOTE == "the file's own sizes"


def test_a_problem_that_cannot_be_built_keeps_its_sizes_with_the_reason(tmp_path):
    module, _ = problem(tmp_path, GEMM.replace("return torch.matmul(a, b)", "return a").replace(
        "class Model(nn.Module):", "class Model(nn.Module):\n    def __init__(self):\n        raise RuntimeError('no')\n"))
    assert "not sized: RuntimeError" in module.SHAPES_NOTE
    with pytest.raises(RuntimeError):
        module.Model()


def test_the_result_records_the_sizes_it_ran_at(worker, tmp_path):
    from evaluators.config import EvalRequest
    from kernelbench.problem import reference_as_candidate
    from tests.conftest import FAST

    _, path = problem(tmp_path, LOSS, "hinge")
    result = worker.evaluate(EvalRequest(ProblemRef("hinge", str(path), 1, "cpu"),
                                         reference_as_candidate(path.read_text()), FAST))
    assert result.passed, result.failure
    assert "scaled for the CPU: batch_size 32768->" in result.shapes


STATEFUL = """
import torch
import torch.nn as nn

batch_size = 4096
hidden = 8192


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.state = torch.randn(batch_size, hidden)   # sized from the module's globals at construction

    def forward(self, x):
        return torch.cat((x, self.state), dim=1)


def get_inputs():
    return [torch.randn(batch_size, 64)]


def get_init_inputs():
    return []
"""


def test_a_candidate_that_copies_the_size_globals_is_built_at_the_cpu_sizes(worker, tmp_path):
    """KernelBench's VanillaRNN sizes its hidden state from `batch_size` in __init__: the problem's own Model as
    candidate failed at scaled sizes until the candidate's copies of the globals followed them."""
    from evaluators.config import EvalRequest
    from kernelbench.problem import reference_as_candidate
    from tests.conftest import FAST

    _, path = problem(tmp_path, STATEFUL, "stateful")
    result = worker.evaluate(EvalRequest(ProblemRef("stateful", str(path), 1, "cpu"),
                                         reference_as_candidate(path.read_text()), FAST))
    assert result.passed, result.failure
    assert "batch_size 4096->" in result.shapes
