"""Build source/a3_parameter_counting/a3_parameter_counting.ipynb.

Run from the repository root:

    python tools/notebooks/a3_parameter_counting.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder.authoring import (  # noqa: E402
    code,
    free_response,
    locked,
    markdown,
    solution,
    tests,
    write_notebook,
)

ID = "a3_parameter_counting"

CELLS = [
    markdown(r"""
    # Assignment 3: Counting parameters, by hand and in PyTorch

    Every weight and every bias in a network is a number that gradient descent
    has to adjust. How many of them a model has tells you how much memory it
    needs, roughly how long one step takes, and how easily it can memorise a
    small training set instead of learning from it.

    In this notebook you will:

    1. count the parameters of one fully connected layer, then of a whole MLP, by hand;
    2. build the same MLP in PyTorch and let PyTorch count for you;
    3. meet the cases where "just add up the tensors" goes wrong: frozen layers,
       shared (tied) weights, and BatchNorm's running statistics, which are stored
       with the model but are not parameters;
    4. turn a parameter count into megabytes of memory;
    5. decide when 10 million parameters is "a lot".

    Fill in every cell marked `YOUR CODE HERE`, then run the whole notebook from the
    top (Kernel -> Restart & Run All). The test cell under each function runs a few
    quick checks; more checks run when your notebook is graded.
    """),
    locked("setup", r"""
    import numpy as np
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    """),
    markdown(r"""
    ## 1. One fully connected layer

    A fully connected layer (`nn.Linear`) with `n_in` inputs and `n_out` outputs
    computes `y = W x + b`. Every output neuron has one weight per input and one
    bias of its own, so

    $$\text{parameters} = \underbrace{n_\text{in} \times n_\text{out}}_{\text{weights}}
    + \underbrace{n_\text{out}}_{\text{biases}}.$$

    PyTorch stores `W` as `layer.weight` with shape `(n_out, n_in)` and `b` as
    `layer.bias` with shape `(n_out,)`. A layer built with `bias=False` has no bias
    vector at all, only the weights.

    For example, a layer from 784 inputs (a flattened 28x28 image) to 256 neurons has
    784 x 256 = 200,704 weights and 256 biases: 200,960 parameters.
    """),
    solution("linear_params", r'''
    def linear_params(n_in, n_out, bias=True):
        """Number of learnable parameters in one fully connected layer.

        Args:
            n_in: int, number of inputs to the layer.
            n_out: int, number of outputs (neurons) of the layer.
            bias: bool, whether the layer has one bias per output.

        Returns:
            int: the weights of the (n_out, n_in) matrix, plus the n_out biases
            when ``bias`` is True.
        """
        ### BEGIN SOLUTION
        n_weights = n_in * n_out         # W: (n_out, n_in)
        n_biases = n_out if bias else 0  # b: (n_out,)
        return int(n_weights + n_biases)
        ### END SOLUTION
    '''),
    tests("test_linear_params", 4, r'''
    got = linear_params(784, 256)
    assert got == 200_960, f"linear_params(784, 256): expected 200960, got {got}"
    got = linear_params(3, 2, bias=False)
    assert got == 6, f"linear_params(3, 2, bias=False): expected 6 (weights only), got {got}"
    got = linear_params(1, 1)
    assert got == 2, f"linear_params(1, 1): expected 2 (one weight, one bias), got {got}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="linear"),
    markdown(r"""
    ## 2. A whole MLP

    An MLP described by its layer sizes, say `[784, 256, 128, 10]`, has one fully
    connected layer between each pair of consecutive sizes: 784 -> 256, 256 -> 128
    and 128 -> 10. The input "layer" is just the data: it has no weights and no
    biases of its own. Adding the three layers up:

    | layer | weights | biases | parameters |
    |---|---:|---:|---:|
    | 784 -> 256 | 200,704 | 256 | 200,960 |
    | 256 -> 128 | 32,768 | 128 | 32,896 |
    | 128 -> 10 | 1,280 | 10 | 1,290 |
    | **total** | | | **235,146** |

    Activations such as ReLU have no parameters, so they do not change the count.

    **Practice problem.** Before you write any code, count the parameters of a
    `[784, 512, 256, 128, 10]` network on paper. Then check your answer with your
    function below.
    """),
    solution("mlp_params", r'''
    def mlp_params(layer_sizes, bias=True):
        """Number of parameters of an MLP made of fully connected layers.

        Args:
            layer_sizes: list of ints [n_0, n_1, ..., n_L], the input size first and
                the output size last; there is one layer n_i -> n_{i+1} for each
                consecutive pair.
            bias: bool, whether every layer has biases.

        Returns:
            int: the total over the L layers.
        """
        ### BEGIN SOLUTION
        total = 0
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):  # L pairs
            total += linear_params(n_in, n_out, bias=bias)
        return total
        ### END SOLUTION
    '''),
    tests("test_mlp_params", 4, r'''
    got = mlp_params([784, 256, 128, 10])
    assert got == 235_146, f"mlp_params([784, 256, 128, 10]): expected 235146, got {got}"
    got = mlp_params([2, 3, 1], bias=False)
    assert got == 9, f"mlp_params([2, 3, 1], bias=False): expected 2*3 + 3*1 = 9, got {got}"
    got = mlp_params([5, 4])
    assert got == 24, f"mlp_params([5, 4]): expected 24 (a single layer), got {got}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="mlp"),
    markdown(r"""
    ## 3. The same network in PyTorch

    Now build the network itself. `build_mlp(layer_sizes, dropout, batchnorm)` returns
    an `nn.Sequential`. Every hidden layer is a block of

    1. `nn.Linear(n_in, n_out)`,
    2. `nn.BatchNorm1d(n_out)`, only when `batchnorm=True` (normalise after the linear
       layer and before the activation),
    3. `nn.ReLU()`,
    4. `nn.Dropout(dropout)`, only when `dropout > 0`.

    The last layer is a bare `nn.Linear`: no normalisation, no activation, no dropout.
    It produces the raw scores (logits) that a loss such as `nn.CrossEntropyLoss`
    expects. For `[784, 256, 128, 10]` with `dropout=0.2` and no batch norm the layers are

    `Linear(784, 256), ReLU, Dropout(0.2), Linear(256, 128), ReLU, Dropout(0.2), Linear(128, 10)`.
    """),
    solution("build_mlp", r'''
    def build_mlp(layer_sizes, dropout=0.0, batchnorm=False):
        """Build an MLP as an ``nn.Sequential`` of standard layers.

        Args:
            layer_sizes: list of ints [n_0, ..., n_L], at least two entries.
            dropout: float in [0, 1), the dropout probability after each hidden
                ReLU; no Dropout layer at all when it is 0.
            batchnorm: bool, whether to put a BatchNorm1d between each hidden
                Linear layer and its ReLU.

        Returns:
            nn.Sequential mapping (N, n_0) inputs to (N, n_L) logits.
        """
        ### BEGIN SOLUTION
        layers = []
        n_layers = len(layer_sizes) - 1
        for i in range(n_layers):
            n_in, n_out = layer_sizes[i], layer_sizes[i + 1]
            layers.append(nn.Linear(n_in, n_out))     # (N, n_in) -> (N, n_out)
            if i == n_layers - 1:
                break                                 # the output layer stays bare
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))  # (N, n_out), before the activation
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        return nn.Sequential(*layers)
        ### END SOLUTION
    '''),
    tests("test_build_mlp", 9, r'''
    net = build_mlp([4, 3, 2])
    kinds = [type(layer).__name__ for layer in net]
    assert isinstance(net, nn.Sequential), f"build_mlp should return an nn.Sequential, got {type(net).__name__}"
    assert kinds == ["Linear", "ReLU", "Linear"], f"build_mlp([4, 3, 2]): expected layers ['Linear', 'ReLU', 'Linear'], got {kinds}"
    kinds = [type(layer).__name__ for layer in build_mlp([4, 3, 2], dropout=0.5, batchnorm=True)]
    expected = ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert kinds == expected, f"build_mlp([4, 3, 2], dropout=0.5, batchnorm=True): expected layers {expected}, got {kinds}"
    out = net(torch.zeros(7, 4))
    assert tuple(out.shape) == (7, 2), f"output of build_mlp([4, 3, 2]) on a (7, 4) batch: expected shape (7, 2), got {tuple(out.shape)}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="build"),
    markdown(r"""
    ## 4. Letting PyTorch count

    Every `nn.Module` can list its learnable tensors with `model.parameters()`, and
    each tensor knows its size (`p.numel()`) and whether the optimiser will update it
    (`p.requires_grad`). Two situations make counting less obvious than it looks:

    - **Frozen layers.** In transfer learning you often keep a pretrained part of the
      network fixed by setting `requires_grad = False` on its parameters. They still
      take memory, but they are not trained, so "trainable parameters" leaves them out.
    - **Shared (tied) weights.** Two layers can hold the *same* `Parameter` object,
      for example a language model whose output layer reuses the input embedding
      matrix. It is stored once and updated once, so it must be counted once.
      `model.parameters()` already yields every distinct parameter exactly once;
      walking over the layers one by one and adding up each layer's tensors does not.

    `count_parameters(model, trainable_only=True)` counts the parameters of any
    module: all of them when `trainable_only=False`, only those with
    `requires_grad` otherwise, each shared parameter once.
    """),
    solution("count_parameters", r'''
    def count_parameters(model, trainable_only=True):
        """Number of parameters of any nn.Module.

        Args:
            model: an nn.Module (Linear, Conv2d, Embedding, BatchNorm, containers...).
            trainable_only: bool; when True, leave out parameters with
                ``requires_grad == False`` (frozen ones).

        Returns:
            int: the number of scalar parameters, each shared Parameter counted
            once; buffers (such as BatchNorm running statistics) never count.
        """
        ### BEGIN SOLUTION
        total = 0
        for p in model.parameters():       # each distinct Parameter once, buffers excluded
            if trainable_only and not p.requires_grad:
                continue                   # frozen: the optimiser never updates it
            total += p.numel()             # e.g. (n_out, n_in) -> n_out * n_in
        return int(total)
        ### END SOLUTION
    '''),
    tests("test_count_parameters", 7, r'''
    got = count_parameters(nn.Linear(784, 256))
    assert got == 200_960, f"count_parameters(nn.Linear(784, 256)): expected 200960, got {got}"
    frozen = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    for p in frozen[0].parameters():
        p.requires_grad = False
    got = count_parameters(frozen)
    assert got == 8, f"count_parameters with the first Linear(4, 3) frozen: expected 3*2 + 2 = 8, got {got}"
    got = count_parameters(frozen, trainable_only=False)
    assert got == 23, f"count_parameters(..., trainable_only=False): expected 15 + 8 = 23, got {got}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="count"),
    markdown(r"""
    ### Hand count versus PyTorch count

    Run the next cell. It builds the worked example and the practice problem with
    your `build_mlp`, prints one row per parameter tensor, and compares your hand
    count with PyTorch's. If the two totals disagree, one of your functions is wrong.
    Try a few architectures of your own, with and without `batchnorm=True`: which
    rows appear, and why does `mlp_params` no longer match when batch norm is on?
    """),
    code(r"""
    def print_parameter_table(model):
        print(f"{'tensor':<14}{'shape':>14}{'count':>12}")
        for name, p in model.named_parameters():
            print(f"{name:<14}{str(tuple(p.shape)):>14}{p.numel():>12,}")
        print(f"{'total':<14}{'':>14}{count_parameters(model):>12,}")


    for sizes in ([784, 256, 128, 10], [784, 512, 256, 128, 10]):
        model = build_mlp(sizes, dropout=0.2)
        print(f"layer sizes {sizes}")
        print_parameter_table(model)
        by_hand, by_torch = mlp_params(sizes), count_parameters(model)
        verdict = "match" if by_hand == by_torch else "MISMATCH"
        print(f"by hand {by_hand:,}  by PyTorch {by_torch:,}  -> {verdict}\n")
    """),
    markdown(r"""
    ## 5. Weights versus buffers: BatchNorm

    `nn.BatchNorm1d(n)` normalises each of its `n` features with the batch mean and
    variance, then rescales and shifts them with a learnable scale $\gamma$
    (`weight`) and shift $\beta$ (`bias`), one of each per feature.

    It also keeps a running mean and a running variance per feature, used in
    evaluation mode instead of the batch statistics (and a counter of the batches
    seen). Those are updated by the forward pass, not by gradient descent: PyTorch
    stores them as **buffers**. Buffers are saved in `model.state_dict()` and move
    with `model.to(device)`, but they are not returned by `model.parameters()` and
    the optimiser never touches them. So a BatchNorm layer has $2n$ parameters,
    even though its `state_dict` holds more numbers than that.
    """),
    solution("batchnorm_params", r'''
    def batchnorm_params(n_features):
        """Number of trainable parameters of a BatchNorm layer.

        Args:
            n_features: int, the number of features (channels) it normalises.

        Returns:
            int: one scale and one shift per feature; running statistics are
            buffers and do not count.
        """
        ### BEGIN SOLUTION
        n_scale = n_features  # gamma: (n_features,)
        n_shift = n_features  # beta: (n_features,)
        return int(n_scale + n_shift)
        ### END SOLUTION
    '''),
    tests("test_batchnorm_params", 2, r'''
    got = batchnorm_params(3)
    assert got == 6, f"batchnorm_params(3): expected 6 (3 scales + 3 shifts), got {got}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="batchnorm"),
    code(r"""
    bn = nn.BatchNorm1d(256)
    print("parameters:", {name: tuple(t.shape) for name, t in bn.named_parameters()})
    print("buffers:   ", {name: tuple(t.shape) for name, t in bn.named_buffers()})
    print("batchnorm_params(256) =", batchnorm_params(256))
    print("numbers in state_dict =", sum(t.numel() for t in bn.state_dict().values()))
    """),
    markdown(r"""
    ## 6. From parameters to memory

    Each parameter is stored as one number of the tensor's dtype:

    | dtype | bytes per parameter |
    |---|---:|
    | `torch.float16` | 2 |
    | `torch.float32` (PyTorch's default) | 4 |
    | `torch.float64` | 8 |

    The memory of the parameters is `n_params * bytes_per_parameter`. We report it
    in mebibytes, 1 MiB = $2^{20}$ = 1,048,576 bytes (the unit `nvidia-smi` reports
    GPU memory in), not in millions of bytes.
    For instance one million float32 parameters take 4,000,000 / 1,048,576 = 3.81 MiB.

    This is only the weights. Training needs more: every parameter also gets a
    gradient of the same size, and Adam keeps two running averages per parameter,
    so training with Adam holds about four copies, before counting activations.
    """),
    solution("param_memory_mb", r'''
    def param_memory_mb(n_params, dtype=torch.float32):
        """Memory taken by n_params parameters of the given dtype, in MiB.

        Args:
            n_params: int, the number of parameters.
            dtype: a torch floating dtype (torch.float16, torch.float32, torch.float64).

        Returns:
            float: n_params * (bytes per element of dtype) / 2**20.
        """
        ### BEGIN SOLUTION
        bytes_per_param = torch.empty((), dtype=dtype).element_size()  # 2, 4 or 8
        return n_params * bytes_per_param / 2**20
        ### END SOLUTION
    '''),
    tests("test_param_memory_mb", 4, r'''
    got = param_memory_mb(2**20)
    assert abs(got - 4.0) < 1e-9, f"param_memory_mb(2**20): expected 4.0 MiB (float32 is 4 bytes), got {got}"
    got = param_memory_mb(1_000_000, torch.float32)
    assert abs(got - 3.814697265625) < 1e-9, f"param_memory_mb(1_000_000, torch.float32): expected 3.8147, got {got}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="memory"),
    code(r"""
    for sizes in ([784, 256, 128, 10], [784, 512, 256, 128, 10]):
        n = mlp_params(sizes)
        sizes_mib = ", ".join(
            f"{name} {param_memory_mb(n, dtype):.2f} MiB"
            for name, dtype in [("float16", torch.float16), ("float32", torch.float32), ("float64", torch.float64)]
        )
        print(f"{str(sizes):<28}{n:>10,} parameters: {sizes_mib}")
    n = 10_000_000
    print(f"{'10 million parameters':<28}{n:>10,} parameters: float32 {param_memory_mb(n):.1f} MiB, "
          f"about {4 * param_memory_mb(n):.0f} MiB while training with Adam")
    """),
    markdown(r"""
    ## 7. Is 10 million parameters a lot?

    A count on its own says little. What matters is how it compares with the data the
    model learns from. The cell below computes the ratio for the scikit-learn digits
    data set (`sklearn.datasets.load_digits`: 1,797 images of 8x8 pixels, so 64
    inputs and 10 classes) and a few MLPs you might train on it.
    """),
    code(r"""
    n_samples = 1797   # images in sklearn.datasets.load_digits(), each (64,)
    for sizes in ([64, 32, 10], [64, 128, 10], [64, 512, 512, 10]):
        n = mlp_params(sizes)
        print(f"{str(sizes):<20}{n:>9,} parameters, {n_samples:,} samples: "
              f"{n / n_samples:6.1f} parameters per sample")
    """),
    markdown(r"""
    **Question.** A model has 10 million parameters. Is that a lot? What decides
    whether it is appropriate? Answer in a short paragraph (4-6 sentences): use the
    data-to-parameter ratio, give one situation where 10 million is too many and one
    where it is reasonable, and name at least one thing that lets a large model work
    with less data.
    """),
    free_response("ten_million_params", 3, r"""
    It depends on the data, not on the number alone. What matters is the ratio of
    training examples to parameters (and how hard the task is). With 1,000 labelled
    examples, 10 million parameters can memorise the training set many times over:
    training loss goes to zero while validation loss rises, i.e. the model overfits.
    With 10 million or more examples the same model is reasonable, and for a complex
    task such as ImageNet classification it is even small. A large model can still
    work on less data when it is regularised (dropout, weight decay, early stopping,
    data augmentation) or when most of it is pretrained and frozen (transfer learning),
    so that only a few parameters are fitted to the small data set. The count also
    has practical costs: 10 million float32 parameters take about 38 MiB, and about
    four times that while training with Adam.
    """),
]


def main() -> None:
    """Write the source notebook."""
    write_notebook(ROOT / "source" / ID / f"{ID}.ipynb", CELLS)


if __name__ == "__main__":
    main()
