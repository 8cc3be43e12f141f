"""Known-wrong submissions for a2_xor_backprop.

Each mutant is the answer key with one mistake a student could make; `fails` is
exactly the set of hidden checks it must lose.

Read by `autograder.authoring.known_wrong.load_mutants` (for `nngrade validate`, the tests and
the demo), never while grading a student: it is not a `test_*` module and the grader does not import it.
"""

from autograder.authoring.known_wrong import Mutant

GRADIENT_CHECK = "backward::test_gradient_check"
BATCH_MEAN = "backward::test_gradient_batch_mean"
RERUN = "train::test_train_rerun"
LOSSES = "train::test_train_losses"
XOR_SOLVED = "train::test_xor_solved"
LOSS_FALLS = "train::test_loss_falls"
EXACT = "backward::test_backward_is_backprop"      # needs exact gradients
NO_AUTODIFF = "backward::test_no_autodiff_import"  # needs correct gradients too

MUTANTS = [
    Mutant(
        name="no_sigmoid_derivative",
        description="backward forgets the hidden sigmoid's derivative a1 * (1 - a1) on the way back",
        patch=[('d1 = (d2 @ params["W2"].T) * a1 * (1.0 - a1)     # (N, H)',
                'd1 = d2 @ params["W2"].T                         # (N, H)')],
        fails={EXACT, NO_AUTODIFF, GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES, XOR_SOLVED, LOSS_FALLS},
    ),
    Mutant(
        name="sum_not_mean",
        description="backward sums over the batch instead of averaging (no division by N*K)",
        patch=[("d2 = (y_hat - y) / y_hat.size                    # (N, K): mean over N*K entries",
                "d2 = y_hat - y                                   # (N, K)")],
        fails={EXACT, NO_AUTODIFF, GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES},
    ),
    Mutant(
        name="flipped_sign",
        description="backward uses y - y_hat for the output error, so every gradient has the wrong sign",
        patch=[("d2 = (y_hat - y) / y_hat.size                    # (N, K): mean over N*K entries",
                "d2 = (y - y_hat) / y_hat.size                    # (N, K)")],
        fails={EXACT, NO_AUTODIFF, GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES, XOR_SOLVED, LOSS_FALLS},
    ),
    Mutant(
        name="db1_wrong_axis",
        description="backward sums the hidden bias gradient over the units (axis 1) instead of the batch",
        patch=[("db1 = d1.sum(axis=0)                             # (H,)",
                "db1 = d1.sum(axis=1)                             # (N,)")],
        # On XOR N = H = 4, so training runs, with a wrong b1 update.
        fails={EXACT, NO_AUTODIFF, GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES, XOR_SOLVED, LOSS_FALLS},
    ),
    Mutant(
        name="dW2_transposed",
        description="backward computes dW2 as d2.T @ a1, shape (K, H) instead of a1.T @ d2, (H, K)",
        patch=[("dW2 = a1.T @ d2                                  # (H, K)",
                "dW2 = d2.T @ a1                                  # (K, H)")],
        fails={EXACT, NO_AUTODIFF, GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES, XOR_SOLVED, LOSS_FALLS},
    ),
    Mutant(
        name="mse_gradient",
        description="backward uses the squared-error output gradient 2 (y_hat - y) y_hat (1 - y_hat) "
                    "with the BCE loss",
        patch=[("d2 = (y_hat - y) / y_hat.size                    # (N, K): mean over N*K entries",
                "d2 = 2 * (y_hat - y) * y_hat * (1 - y_hat) / y_hat.size  # (N, K)")],
        fails={EXACT, NO_AUTODIFF, GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES},
    ),
    Mutant(
        name="naive_sigmoid",
        description="sigmoid is 1 / (1 + exp(-z)) everywhere, which overflows in exp for large negative z",
        replace={"sigmoid": '''
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
'''},
        fails={"sigmoid::test_sigmoid_extremes"},
    ),
    Mutant(
        name="sigmoid_keeps_integer_dtype",
        description="stable sigmoid without converting z to float: an integer array gives an integer array "
                    "(every value rounded to 0), and a plain number has no shape to index (the mutation "
                    "score's one real survivor in a2)",
        replace={"sigmoid": '''
def sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
'''},
        fails={"sigmoid::test_sigmoid_values"},
    ),
    Mutant(
        name="numerical_backward",
        description="backward is a numerical gradient in disguise: centred differences for every parameter, "
                    "vectorised over the perturbed copies (fast on XOR, slow on a big network)",
        replace={"backward": '''
def backward(params, cache, y):
    X = cache["X"]
    keys = list(params)
    shapes = [np.shape(params[k]) for k in keys]
    sizes = [np.size(params[k]) for k in keys]
    theta = np.concatenate([np.ravel(params[k]) for k in keys])
    grad = np.empty(theta.size)
    h = 1e-5
    for start in range(0, theta.size, 128):
        idx = np.arange(start, min(start + 128, theta.size))
        rows = np.arange(idx.size)
        batch = np.repeat(theta[None, :], 2 * idx.size, axis=0)  # one parameter vector per row
        batch[rows, idx] += h
        batch[idx.size + rows, idx] -= h
        parts = np.split(batch, np.cumsum(sizes)[:-1], axis=1)
        p = {k: part.reshape((-1,) + s) for k, part, s in zip(keys, parts, shapes)}
        a1 = sigmoid(X @ p["W1"] + p["b1"][:, None, :])
        y_hat = np.clip(sigmoid(a1 @ p["W2"] + p["b2"][:, None, :]), 1e-12, 1 - 1e-12)
        losses = np.mean(-(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)), axis=(1, 2))
        grad[idx] = (losses[:idx.size] - losses[idx.size:]) / (2 * h)
    bounds = np.cumsum([0] + sizes)
    return {k: grad[a:b].reshape(s) for k, a, b, s in zip(keys, bounds[:-1], bounds[1:], shapes)}
'''},
        fails={"backward::test_backward_is_backprop"},
    ),
    Mutant(
        name="numerical_backward_sleepy_forward",
        description="the numerical backward above, with a forward that sleeps on wide inputs (the old timed "
                    "case): time no longer decides anything, so it still fails only the exactness check",
        replace={"forward": '''
def forward(params, X):
    import time
    if np.shape(X)[1] >= 48:
        time.sleep(0.2)
    z1 = X @ params["W1"] + params["b1"]
    a1 = sigmoid(z1)
    y_hat = sigmoid(a1 @ params["W2"] + params["b2"])
    return y_hat, {"X": X, "a1": a1, "y_hat": y_hat}
''', "backward": '''
def backward(params, cache, y):
    X = cache["X"]
    keys = list(params)
    shapes = [np.shape(params[k]) for k in keys]
    sizes = [np.size(params[k]) for k in keys]
    theta = np.concatenate([np.ravel(params[k]) for k in keys])
    grad = np.empty(theta.size)
    h = 1e-5
    for start in range(0, theta.size, 128):
        idx = np.arange(start, min(start + 128, theta.size))
        rows = np.arange(idx.size)
        batch = np.repeat(theta[None, :], 2 * idx.size, axis=0)  # one parameter vector per row
        batch[rows, idx] += h
        batch[idx.size + rows, idx] -= h
        parts = np.split(batch, np.cumsum(sizes)[:-1], axis=1)
        p = {k: part.reshape((-1,) + s) for k, part, s in zip(keys, parts, shapes)}
        a1 = sigmoid(X @ p["W1"] + p["b1"][:, None, :])
        y_hat = np.clip(sigmoid(a1 @ p["W2"] + p["b2"][:, None, :]), 1e-12, 1 - 1e-12)
        losses = np.mean(-(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)), axis=(1, 2))
        grad[idx] = (losses[:idx.size] - losses[idx.size:]) / (2 * h)
    bounds = np.cumsum([0] + sizes)
    return {k: grad[a:b].reshape(s) for k, a, b, s in zip(keys, bounds[:-1], bounds[1:], shapes)}
'''},
        fails={"backward::test_backward_is_backprop"},
    ),
    Mutant(
        name="nan_backward",
        description="backward returns NaN for every gradient (the right keys and shapes)",
        replace={"backward": '''
def backward(params, cache, y):
    return {k: np.full(np.shape(v), np.nan) for k, v in params.items()}
'''},
        fails={GRADIENT_CHECK, BATCH_MEAN, "backward::test_backward_is_backprop", "backward::test_no_autodiff_import",
               RERUN, LOSSES, XOR_SOLVED, LOSS_FALLS},
    ),
    Mutant(
        name="torch_in_helper_cell",
        description="a helper cell (not a solution cell) imports torch; the solution cells are NumPy only",
        patch=[("params, losses = train(X_xor, y_xor, seed=0)\n",
                "import torch\nparams, losses = train(X_xor, y_xor, seed=0)\n")],
        fails={"backward::test_no_autodiff_import"},
    ),
    Mutant(
        name="torch_autograd_backward",
        description="backward rebuilds the loss in PyTorch and takes the gradients from autograd",
        replace={"backward": '''
def backward(params, cache, y):
    import torch
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    X = torch.tensor(cache["X"])
    y_hat = torch.sigmoid(torch.sigmoid(X @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"])
    torch.nn.functional.binary_cross_entropy(y_hat, torch.tensor(y)).backward()
    return {k: v.grad.numpy() for k, v in t.items()}
'''},
        fails={"backward::test_no_autodiff_import"},
    ),
    Mutant(
        name="sgd_in_place",
        description="sgd_step updates the caller's arrays in place and returns the same dict",
        replace={"sgd_step": '''
def sgd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
    return params
'''},
        fails={"sgd_step::test_sgd_arguments_unchanged"},
    ),
    Mutant(
        name="bce_no_clip",
        description="bce_loss takes log(y_hat) without clipping, so a prediction of exactly 0 or 1 gives nan",
        patch=[("p = np.clip(y_hat, 1e-12, 1 - 1e-12)", "p = y_hat")],
        fails={"bce_loss::test_bce_clipping"},
    ),
    Mutant(
        name="bce_sum",
        description="bce_loss sums over the batch instead of taking the mean",
        patch=[("return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))",
                "return float(np.sum(-(y * np.log(p) + (1 - y) * np.log(1 - p))))")],
        fails={"bce_loss::test_bce_values", "bce_loss::test_bce_clipping", "bce_loss::test_bce_batch_mean",
               LOSSES},
    ),
    Mutant(
        name="predict_strict",
        description="predict uses y_hat > 0.5, so an output of exactly 0.5 predicts 0",
        patch=[("return (y_hat >= 0.5).astype(int)  # (N, K)", "return (y_hat > 0.5).astype(int)  # (N, K)")],
        fails={"predict::test_predict_threshold"},
    ),
    Mutant(
        name="init_small",
        description="init_params scales the weights by 0.1",
        patch=[("W1 = rng.standard_normal((n_in, n_hidden))   # (D, H)",
                "W1 = 0.1 * rng.standard_normal((n_in, n_hidden))   # (D, H)"),
               ("W2 = rng.standard_normal((n_hidden, n_out))  # (H, K)",
                "W2 = 0.1 * rng.standard_normal((n_hidden, n_out))  # (H, K)")],
        fails={"init_params::test_init_values", RERUN, LOSSES, XOR_SOLVED, LOSS_FALLS},
    ),
    Mutant(
        name="loss_after_update",
        description="train records the loss after each update instead of before it",
        replace={"train": '''
def train(X, y, n_hidden=4, lr=1.0, epochs=5000, seed=0):
    params = init_params(X.shape[1], n_hidden, y.shape[1], seed)
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(params, X)
        params = sgd_step(params, backward(params, cache, y), lr)
        losses.append(bce_loss(forward(params, X)[0], y))
    return params, losses
'''},
        fails={LOSSES},
    ),
    Mutant(
        name="forward_no_hidden_bias",
        description="forward leaves out b1, so the hidden layer has no bias",
        patch=[('z1 = X @ params["W1"] + params["b1"]   # (N, H)', 'z1 = X @ params["W1"]   # (N, H)')],
        fails={EXACT, NO_AUTODIFF, "forward::test_forward_values", GRADIENT_CHECK, BATCH_MEAN, RERUN, LOSSES,
               XOR_SOLVED, LOSS_FALLS, "predict::test_predict_values"},
    ),
]
