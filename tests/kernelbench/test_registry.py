"""Finding problems: shipped ids, file paths, and an external KernelBench checkout (levels 1-3)."""

from pathlib import Path

import pytest

from kernelbench.problem import ProblemError, ProblemRef, load_problem
from kernelbench.registry import builtin_problems, kernelbench_problems, resolve_problem

KERNELBENCH_STYLE = '''
import torch
import torch.nn as nn

batch_size = 8
dim = 32


class Model(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return torch.tanh(x) * self.scale


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return [{scale}]
'''


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory laid out like a KernelBench clone: KernelBench/level{1,2,3}/N_Name.py."""
    for level, names in {1: ["1_Tanh.py", "10_Scaled_tanh.py", "2_Other.py"], 2: ["1_Fused.py"], 3: ["1_MLP.py"]}.items():
        folder = tmp_path / "KernelBench" / f"level{level}"
        folder.mkdir(parents=True)
        for i, name in enumerate(names):
            (folder / name).write_text(KERNELBENCH_STYLE.format(scale=level + i))
    (tmp_path / "KernelBench" / "level1" / "__init__.py").write_text("")
    (tmp_path / "KernelBench" / "notes").mkdir()
    return tmp_path


def test_external_checkout_lists_levels_one_to_three_in_natural_order(checkout):
    ids = [ref.problem_id for ref in kernelbench_problems(checkout)]
    assert ids == ["kb/level1/1_Tanh", "kb/level1/2_Other", "kb/level1/10_Scaled_tanh", "kb/level2/1_Fused",
                   "kb/level3/1_MLP"]
    assert {ref.level for ref in kernelbench_problems(checkout)} == {1, 2, 3}


def test_external_problem_loads_with_its_own_shapes_on_the_gpu_path(checkout):
    assert resolve_problem("kb/level3/1_MLP", kernelbench_dir=checkout).shape_set == "cpu"
    ref = resolve_problem("kb/level3/1_MLP", kernelbench_dir=checkout, shape_set="gpu")
    module = load_problem(ref)
    assert module.get_inputs()[0].shape == (8, 32)
    assert module.get_init_inputs() == [3]


def test_inner_folder_can_be_given_directly(checkout):
    assert len(kernelbench_problems(checkout / "KernelBench")) == 5


def test_cpu_shape_set_of_external_problem_comes_from_the_scaling_policy(checkout):
    module = load_problem(resolve_problem("level1/1_Tanh", kernelbench_dir=checkout, shape_set="cpu"))
    assert module.SHAPES_NOTE  # already small: the file's own sizes, said so
    assert module.get_inputs()[0].shape == (8, 32)


def test_missing_checkout_is_a_clear_error(tmp_path):
    with pytest.raises(ProblemError, match="not found"):
        kernelbench_problems(tmp_path / "absent")
    with pytest.raises(ProblemError, match="no level1/level2/level3"):
        kernelbench_problems(tmp_path)


def test_builtin_ids_and_shape_sets():
    ref = resolve_problem("level1/softmax")
    assert ref in builtin_problems()
    cpu = load_problem(ref)
    gpu = load_problem(ProblemRef(ref.problem_id, ref.path, ref.level, "gpu"))
    assert cpu.get_inputs()[0].shape == (32, 8192)
    assert (gpu.batch_size, gpu.dim) == (4096, 393216)


def test_problem_by_path_and_errors(tmp_path):
    path = tmp_path / "level2" / "mine.py"
    path.parent.mkdir()
    path.write_text(KERNELBENCH_STYLE.format(scale=2))
    ref = resolve_problem(str(path))
    assert (ref.problem_id, ref.level, ref.shape_set) == ("mine", 2, "cpu")  # scaled by the policy
    with pytest.raises(ProblemError, match="not found"):
        resolve_problem(str(tmp_path / "missing.py"))
    with pytest.raises(ProblemError, match="unknown problem"):
        resolve_problem("level1/no_such_problem")
    not_a_problem = tmp_path / "plain.py"
    not_a_problem.write_text("x = 1\n")
    with pytest.raises(ProblemError, match="defines no Model"):
        load_problem(resolve_problem(str(not_a_problem)))
