"""Known-wrong submissions for a3_parameter_counting.

Each mutant is the answer key with one mistake a student could make; `fails` is
exactly the set of hidden checks it must lose.

Read by `autograder.authoring.known_wrong.load_mutants` (for `nngrade validate`, the tests and
the demo), never while grading a student: it is not a `test_*` module and the grader does not import it.
"""

from autograder.authoring.known_wrong import Mutant

MUTANTS = [
    Mutant(
        name="biases_forgotten",
        description="linear_params counts the weights only, so every layer loses its n_out biases",
        patch=[("n_biases = n_out if bias else 0  # b: (n_out,)", "n_biases = 0")],
        fails={
            "linear::test_worked_example_layers",
            "linear::test_against_pytorch",
            "mlp::test_worked_example",
            "mlp::test_practice_problem",
            "mlp::test_random_layer_lists",
        },
    ),
    Mutant(
        name="linear_returns_float",
        description="linear_params returns a float count (e.g. 200960.0) instead of an int",
        patch=[("return int(n_weights + n_biases)", "return float(n_weights + n_biases)")],
        fails={"linear::test_returns_int"},
    ),
    Mutant(
        name="input_layer_bias",
        description="mlp_params also gives the input layer a bias per input feature",
        replace={"mlp_params": '''
def mlp_params(layer_sizes, bias=True):
    total = layer_sizes[0] if bias else 0  # biases for the input "layer" too
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        total += linear_params(n_in, n_out, bias=bias)
    return total
'''},
        fails={"mlp::test_worked_example", "mlp::test_practice_problem", "mlp::test_random_layer_lists"},
    ),
    Mutant(
        name="one_layer_too_few",
        description="mlp_params stops one pair early and leaves out the output layer",
        patch=[("zip(layer_sizes[:-1], layer_sizes[1:]):  # L pairs",
                "zip(layer_sizes[:-2], layer_sizes[1:-1]):")],
        fails={"mlp::test_worked_example", "mlp::test_practice_problem", "mlp::test_random_layer_lists"},
    ),
    Mutant(
        name="hardcoded_tables",
        description="mlp_params returns the two table answers from a lookup and guesses otherwise",
        replace={"mlp_params": '''
def mlp_params(layer_sizes, bias=True):
    answers = {(784, 256, 128, 10): 235146, (784, 512, 256, 128, 10): 567434,
               (2, 3, 1): 9, (5, 4): 24}
    return answers.get(tuple(layer_sizes), 0)
'''},
        fails={"mlp::test_random_layer_lists"},
    ),
    Mutant(
        name="relu_on_output",
        description="build_mlp puts a ReLU after the output layer too, so the logits are clipped at zero",
        replace={"build_mlp": '''
def build_mlp(layer_sizes, dropout=0.0, batchnorm=False):
    layers = []
    n_layers = len(layer_sizes) - 1
    for i in range(n_layers):
        layers.append(nn.Linear(layer_sizes[i], layer_sizes[i + 1]))
        if batchnorm and i < n_layers - 1:
            layers.append(nn.BatchNorm1d(layer_sizes[i + 1]))
        layers.append(nn.ReLU())
        if dropout > 0 and i < n_layers - 1:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
'''},
        fails={"build::test_layer_order", "build::test_single_layer"},
    ),
    Mutant(
        name="batchnorm_after_relu",
        description="build_mlp normalises after the activation instead of before it",
        replace={"build_mlp": '''
def build_mlp(layer_sizes, dropout=0.0, batchnorm=False):
    layers = []
    n_layers = len(layer_sizes) - 1
    for i in range(n_layers):
        n_out = layer_sizes[i + 1]
        layers.append(nn.Linear(layer_sizes[i], n_out))
        if i == n_layers - 1:
            break
        layers.append(nn.ReLU())
        if batchnorm:
            layers.append(nn.BatchNorm1d(n_out))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
'''},
        fails={"build::test_layer_order"},
    ),
    Mutant(
        name="dropout_always",
        description="build_mlp adds a Dropout layer even when dropout is 0",
        patch=[("        if dropout > 0:\n            layers.append(nn.Dropout(dropout))",
                "        layers.append(nn.Dropout(dropout))")],
        fails={"build::test_layer_order"},
    ),
    Mutant(
        name="build_without_bias",
        description="build_mlp builds its Linear layers with bias=False",
        patch=[("layers.append(nn.Linear(n_in, n_out))", "layers.append(nn.Linear(n_in, n_out, bias=False))")],
        fails={"build::test_layer_sizes", "build::test_parameter_count"},
    ),
    Mutant(
        name="state_dict_counted",
        description="count_parameters adds up model.state_dict(), so BatchNorm running statistics count "
                    "and a tied weight appears twice",
        replace={"count_parameters": '''
def count_parameters(model, trainable_only=True):
    total = sum(t.numel() for t in model.state_dict().values())
    if trainable_only:
        total -= sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return total
'''},
        fails={"count::test_batchnorm_buffers_excluded", "count::test_tied_weight"},
    ),
    Mutant(
        name="frozen_counted",
        description="count_parameters ignores requires_grad, so frozen parameters count as trainable",
        replace={"count_parameters": '''
def count_parameters(model, trainable_only=True):
    return sum(p.numel() for p in model.parameters())
'''},
        fails={"count::test_frozen_excluded"},
    ),
    Mutant(
        name="tied_weight_twice",
        description="count_parameters sums each layer's own parameters over model.modules(), "
                    "so a weight shared by two layers is counted twice",
        replace={"count_parameters": '''
def count_parameters(model, trainable_only=True):
    total = 0
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if p.requires_grad or not trainable_only:
                total += p.numel()
    return total
'''},
        fails={"count::test_tied_weight"},
    ),
    Mutant(
        name="batchnorm_running_stats",
        description="batchnorm_params counts the running mean and variance as parameters (4 per feature)",
        patch=[("return int(n_scale + n_shift)", "return int(n_scale + n_shift + 2 * n_features)")],
        fails={"batchnorm::test_batchnorm_256", "batchnorm::test_against_pytorch"},
    ),
    Mutant(
        name="megabytes_1e6",
        description="param_memory_mb divides by 10**6 (megabytes) instead of 2**20 (mebibytes)",
        patch=[("return n_params * bytes_per_param / 2**20", "return n_params * bytes_per_param / 1e6")],
        fails={"memory::test_dtypes", "memory::test_default_float32"},
    ),
    Mutant(
        name="memory_ignores_dtype",
        description="param_memory_mb always assumes 4 bytes per parameter",
        patch=[("bytes_per_param = torch.empty((), dtype=dtype).element_size()  # 2, 4 or 8",
                "bytes_per_param = 4")],
        fails={"memory::test_dtypes"},
    ),
    Mutant(
        name="batchnorm_sized_by_input",
        description="build_mlp gives each BatchNorm1d the width of the Linear layer's input, not its output "
                    "(the model then raises when it runs)",
        patch=[("layers.append(nn.BatchNorm1d(n_out))", "layers.append(nn.BatchNorm1d(n_in))")],
        fails={"build::test_layer_sizes", "build::test_parameter_count", "build::test_forward_shape"},
    ),
]
