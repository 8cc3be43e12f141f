"""Build source/a2_xor_backprop/a2_xor_backprop.ipynb.

Run from the repository root:

    python tools/notebooks/a2_xor_backprop.py
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

ID = "a2_xor_backprop"

CELLS = [
    markdown(r"""
    # Assignment 2: backpropagation by hand

    In Assignment 1 a single perceptron learned AND and OR but could not learn XOR.
    Here you build the network that can: two inputs, a hidden layer of four sigmoid
    units, one sigmoid output (a **2-4-1** network), trained with binary cross-entropy
    and plain gradient descent. You write every step yourself in NumPy, including
    the backward pass, so that nothing about backpropagation stays hidden.

    You will write eight functions: `sigmoid`, `init_params`, `forward`, `bce_loss`,
    `backward`, `sgd_step`, `train` and `predict`.

    **Rules.** NumPy only: no PyTorch, JAX or autograd, in any cell (the grader
    looks, while your `forward` and `backward` run, for those libraries being called
    or imported into the notebook). Keep the
    function names and signatures exactly as given, and replace each stub's
    `raise NotImplementedError()` with your code. Each function is followed by a
    test cell with a few quick checks; passing them is a good sign, but the grader
    runs many more checks on inputs you do not see. Run the notebook from top to
    bottom before you submit (*Kernel > Restart & Run All*).
    """),
    locked("imports", """
    import numpy as np
    import matplotlib.pyplot as plt
    """),
    markdown(r"""
    ## 1. Why XOR needs a hidden layer

    XOR is 1 when exactly one of its two inputs is 1:

    | $x_1$ | $x_2$ | XOR |
    |---|---|---|
    | 0 | 0 | 0 |
    | 0 | 1 | 1 |
    | 1 | 0 | 1 |
    | 1 | 1 | 0 |

    Plot the four points and colour them by label: the two 1s sit on one diagonal
    of the square and the two 0s on the other. No straight line puts both 1s on
    one side and both 0s on the other, and a single unit
    $\sigma(\mathbf{w}\cdot\mathbf{x} + b)$ can only draw a straight line. That
    is Minsky and Papert's 1969 objection to the perceptron.

    A hidden layer fixes this by changing the space the output unit works in.
    Each hidden unit draws its own line through the input square and then bends
    the plane around it: its output is close to 0 on one side and close to 1 on
    the other. Suppose one hidden unit learns "$x_1 + x_2 > 0.5$" (an OR) and
    another learns "$x_1 + x_2 > 1.5$" (an AND). In the coordinates
    $(h_1, h_2)$ the inputs $(0,1)$ and $(1,0)$ land on the same point, $(1, 0)$,
    while $(0,0)$ goes to $(0,0)$ and $(1,1)$ to $(1,1)$. Now one line separates
    the classes, and the output unit can draw it.

    The bend matters. Without a non-linear activation two layers collapse into
    one: $W_2(W_1 x) = (W_2 W_1)x$, a single linear map, and we are back to one
    straight line however many layers we stack.
    """),
    locked("xor_data", """
    # The four XOR inputs and their labels.
    X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
    y_xor = np.array([[0.0], [1.0], [1.0], [0.0]])                      # (4, 1)
    """),
    markdown(r"""
    ## 2. The sigmoid, computed safely

    $$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr).$$

    The formula as written overflows: for $z = -1000$, $e^{-z} = e^{1000}$ is far
    beyond the largest float64 (about $1.8 \times 10^{308}$), and NumPy warns
    `overflow encountered in exp`. Since $\sigma(z) = \dfrac{e^{z}}{1 + e^{z}}$ as
    well, use the first form where $z \ge 0$ and the second where $z < 0$: then
    `np.exp` only ever sees numbers $\le 0$ and cannot overflow.

    Write `sigmoid` so that it works on arrays of any shape and gives no
    overflow (or divide-by-zero, or invalid-value) warning for $|z|$ up to $10^4$.
    The grader runs it inside
    `np.errstate(over="raise", divide="raise", invalid="raise")`, which turns
    those warnings into errors. Underflow ($e^{-10000}$ rounding to 0) is
    harmless and allowed: NumPy ignores it by default.
    """),
    solution("sigmoid", '''
    def sigmoid(z):
        """The logistic function, without overflow for large |z|.

        Args:
            z: array of any shape (or a number).

        Returns:
            array of the same shape as z, with values in [0, 1].
        """
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        out = np.empty_like(z)
        pos = z >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))  # exp of a number <= 0
        ez = np.exp(z[~pos])                       # exp of a number < 0
        out[~pos] = ez / (1.0 + ez)
        return out
        ### END SOLUTION
    '''),
    tests("test_sigmoid", 3, """
    _s = sigmoid(np.array([-2.0, 0.0, 2.0]))
    assert np.shape(_s) == (3,), f"expected shape (3,), got {np.shape(_s)}"
    assert np.allclose(_s, [0.11920292, 0.5, 0.88079708]), f"expected [0.1192, 0.5, 0.8808], got {_s}"
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        _s = sigmoid(np.array([-1e4, 1e4]))
    assert np.allclose(_s, [0.0, 1.0]), f"expected [0, 1] at z = -1e4 and 1e4, got {_s}"
    print("Visible sigmoid checks passed. More checks run at grading.")
    """, part="sigmoid"),
    markdown(r"""
    ## 3. The parameters

    Row $i$ of the input matrix $X$ is one example, so a batch of $N$ examples
    with $D$ features is an $(N, D)$ array. For a network with $D$ inputs, $H$
    hidden units and $K$ outputs:

    | parameter | shape | meaning |
    |---|---|---|
    | `W1` | $(D, H)$ | input-to-hidden weights |
    | `b1` | $(H,)$ | hidden biases |
    | `W2` | $(H, K)$ | hidden-to-output weights |
    | `b2` | $(K,)$ | output biases |

    Initialise them exactly like this, so that your runs can be compared with the
    grader's: `rng = np.random.default_rng(seed)`, then
    `W1 = rng.standard_normal((D, H))`, then `W2 = rng.standard_normal((H, K))`
    (in that order), and both biases zero.

    Why not small weights? With the weights scaled by 0.1, the hidden units all
    start out nearly identical and nearly linear, and on XOR only about 4 seeds
    in 10 train to a solution in 5000 epochs; scaled by 0.01, none do. With
    standard normal weights every seed we tried works.
    """),
    solution("init_params", '''
    def init_params(n_in, n_hidden, n_out, seed=0):
        """Random weights, zero biases.

        Args:
            n_in: number of inputs D.
            n_hidden: number of hidden units H.
            n_out: number of outputs K.
            seed: seed for np.random.default_rng.

        Returns:
            dict with "W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,), all float64.
        """
        ### BEGIN SOLUTION
        rng = np.random.default_rng(seed)
        W1 = rng.standard_normal((n_in, n_hidden))   # (D, H)
        W2 = rng.standard_normal((n_hidden, n_out))  # (H, K)
        return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(n_out)}
        ### END SOLUTION
    '''),
    tests("test_init_params", 3, """
    _p = init_params(2, 4, 1, seed=0)
    assert set(_p) == {"W1", "b1", "W2", "b2"}, f"expected keys W1, b1, W2, b2, got {sorted(_p)}"
    for _k, _shape in [("W1", (2, 4)), ("b1", (4,)), ("W2", (4, 1)), ("b2", (1,))]:
        assert np.shape(_p[_k]) == _shape, f"expected {_k}.shape == {_shape}, got {np.shape(_p[_k])}"
    assert np.all(_p["b1"] == 0) and np.all(_p["b2"] == 0), "expected both biases to be zero"
    _rng = np.random.default_rng(0)
    assert np.allclose(_p["W1"], _rng.standard_normal((2, 4))), (
        "expected W1 to be the first draw of np.random.default_rng(seed)")
    print("Visible init_params checks passed. More checks run at grading.")
    """, part="init_params"),
    markdown(r"""
    ## 4. The forward pass

    For a batch $X$ of shape $(N, D)$:

    $$
    \begin{aligned}
    z_1 &= X W_1 + b_1 && (N, H) \\
    a_1 &= \sigma(z_1) && (N, H) \\
    z_2 &= a_1 W_2 + b_2 && (N, K) \\
    \hat y &= \sigma(z_2) && (N, K)
    \end{aligned}
    $$

    Adding the bias vector to an $(N, H)$ matrix adds it to every row (NumPy
    broadcasting). `forward` returns the prediction $\hat y$ and a `cache`: the
    intermediate values that `backward` will need later. What you put in the
    cache is up to you (a dict is the usual choice). Think ahead: the backward
    pass below uses $X$, $a_1$ and $\hat y$.
    """),
    solution("forward", '''
    def forward(params, X):
        """Forward pass of the two-layer sigmoid network.

        Args:
            params: dict with "W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,).
            X: inputs, shape (N, D).

        Returns:
            (y_hat, cache): y_hat of shape (N, K) with values in (0, 1), and
            cache, whatever backward needs.
        """
        ### BEGIN SOLUTION
        z1 = X @ params["W1"] + params["b1"]   # (N, H)
        a1 = sigmoid(z1)                       # (N, H)
        z2 = a1 @ params["W2"] + params["b2"]  # (N, K)
        y_hat = sigmoid(z2)                    # (N, K)
        cache = {"X": X, "a1": a1, "y_hat": y_hat}
        return y_hat, cache
        ### END SOLUTION
    '''),
    tests("test_forward", 3, """
    _p = {"W1": np.array([[0.1, 0.3], [0.2, 0.4]]), "b1": np.array([0.01, 0.02]),
          "W2": np.array([[0.5], [0.6]]), "b2": np.array([0.03])}
    _out = forward(_p, np.array([[0.5, 0.8]]))
    assert isinstance(_out, tuple) and len(_out) == 2, "expected forward to return a pair (y_hat, cache)"
    _y_hat = _out[0]
    assert np.shape(_y_hat) == (1, 1), f"expected y_hat.shape == (1, 1), got {np.shape(_y_hat)}"
    assert np.allclose(_y_hat, 0.663617), f"expected y_hat close to 0.663617, got {_y_hat}"
    _y_hat, _ = forward(init_params(2, 4, 1, seed=0), X_xor)
    assert np.shape(_y_hat) == (4, 1), f"expected y_hat.shape == (4, 1) on XOR, got {np.shape(_y_hat)}"
    print("Visible forward checks passed. More checks run at grading.")
    """, part="forward"),
    markdown(r"""
    ## 5. Binary cross-entropy

    With predictions $p$ and 0/1 labels $y$, both of shape $(N, K)$, the loss is
    the mean over all $N K$ entries:

    $$L = -\frac{1}{NK}\sum_{i,k}\Bigl[y_{ik}\log p_{ik} + (1 - y_{ik})\log(1 - p_{ik})\Bigr].$$

    The log punishes confident mistakes hard: $-\log 0.5 \approx 0.69$ but
    $-\log 0.01 \approx 4.6$, and $-\log 0 = \infty$. A prediction of exactly 0
    or 1 does happen in floating point, so clip first:
    $p = \operatorname{clip}(\hat y, 10^{-12}, 1 - 10^{-12})$.

    Use the mean, not the sum: then the loss, and its gradient, do not grow with
    the batch size, and the same learning rate works for any $N$. Return a
    Python `float`.
    """),
    solution("bce_loss", '''
    def bce_loss(y_hat, y):
        """Mean binary cross-entropy, with predictions clipped away from 0 and 1.

        Args:
            y_hat: predicted probabilities, shape (N, K).
            y: labels in {0, 1}, shape (N, K).

        Returns:
            float, the mean over all N*K entries.
        """
        ### BEGIN SOLUTION
        p = np.clip(y_hat, 1e-12, 1 - 1e-12)
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
        ### END SOLUTION
    '''),
    tests("test_bce_loss", 3, """
    _l = bce_loss(np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]]))
    _expected = -(np.log(0.9) + np.log(0.8)) / 2
    assert np.isclose(_l, _expected), f"expected {_expected:.6f}, got {_l}"
    _l = bce_loss(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    assert np.isfinite(_l), f"expected a finite loss when y_hat is exactly 0 or 1, got {_l}"
    print("Visible bce_loss checks passed. More checks run at grading.")
    """, part="bce_loss"),
    markdown(r"""
    ## 6. The chain rule and the backward pass

    Backpropagation is the chain rule applied from the loss back to each weight.
    If $L = f(g(h(w)))$, then
    $\dfrac{\partial L}{\partial w} = \dfrac{\partial f}{\partial g}\,\dfrac{\partial g}{\partial h}\,\dfrac{\partial h}{\partial w}$.
    The backward pass walks the forward pass in reverse and, at each step,
    multiplies by one local derivative, reusing what the forward pass stored.

    **Output layer.** For a single entry, $\partial \ell/\partial p = \dfrac{p - y}{p(1-p)}$
    and $\partial p/\partial z_2 = p(1-p)$. The two $p(1-p)$ cancel, which is the
    reason sigmoid and cross-entropy are used together. With the mean over $NK$
    entries:

    $$\delta_2 = \frac{\partial L}{\partial z_2} = \frac{\hat y - y}{N K} \qquad (N, K)$$

    **Second layer's parameters.** $z_2 = a_1 W_2 + b_2$, so

    $$\frac{\partial L}{\partial W_2} = a_1^{\top}\,\delta_2 \quad (H, K), \qquad
    \frac{\partial L}{\partial b_2} = \sum_{i=1}^{N} \delta_{2,i} \quad (K,)$$

    The bias is added to every row, so its gradient sums over the batch (axis 0).

    **Back into the hidden layer.** Through $W_2$, then through the sigmoid:

    $$\delta_1 = \bigl(\delta_2\,W_2^{\top}\bigr) \odot a_1 \odot (1 - a_1) \qquad (N, H)$$

    **First layer's parameters.**

    $$\frac{\partial L}{\partial W_1} = X^{\top}\,\delta_1 \quad (D, H), \qquad
    \frac{\partial L}{\partial b_1} = \sum_{i=1}^{N} \delta_{1,i} \quad (H,)$$

    A quick check on every line: the gradient of a parameter has exactly the
    parameter's shape. If a product comes out as $(K, H)$ where you need
    $(H, K)$, a transpose is in the wrong place.

    **Why not just use finite differences?** You could estimate each partial
    derivative as $\bigl(L(w + h) - L(w - h)\bigr)/2h$, but that needs two forward
    passes per parameter: for a network with $P$ parameters, $2P$ forward passes.
    Backprop gets all $P$ partial derivatives for about the cost of two forward
    passes. Finite differences are still the way to *test* a backward pass, and
    the grader does exactly that, in float64, on networks of several shapes,
    requiring a relative error $|a - b| / \max(10^{-8}, |a| + |b|)$ below
    $10^{-6}$. Backprop is also *exact*: apart from float64 rounding it gives the
    true gradient, while a finite difference only estimates it (to about
    $10^{-10}$ at best). So the grader also compares your gradients with its own
    exact ones and expects agreement to $10^{-13}$: compute in float64 (the
    dtype of the inputs; no casts to float32) and apply the chain rule, and you
    are well inside that. Time is never measured.
    """),
    solution("backward", '''
    def backward(params, cache, y):
        """Gradients of bce_loss(forward(params, X)[0], y) with respect to each parameter.

        Args:
            params: dict with "W1" (D, H), "b1" (H,), "W2" (H, K), "b2" (K,).
            cache: what forward(params, X) returned as its cache.
            y: labels, shape (N, K).

        Returns:
            dict with the same keys as params, each gradient the shape of its parameter.
        """
        ### BEGIN SOLUTION
        X, a1, y_hat = cache["X"], cache["a1"], cache["y_hat"]
        d2 = (y_hat - y) / y_hat.size                    # (N, K): mean over N*K entries
        dW2 = a1.T @ d2                                  # (H, K)
        db2 = d2.sum(axis=0)                             # (K,)
        d1 = (d2 @ params["W2"].T) * a1 * (1.0 - a1)     # (N, H)
        dW1 = X.T @ d1                                   # (D, H)
        db1 = d1.sum(axis=0)                             # (H,)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        ### END SOLUTION
    '''),
    tests("test_backward", 10, """
    # A small gradient check you can run yourself: centred differences of your own
    # forward + bce_loss against your backward, on a 3-5-2 network and 6 examples.
    _rng = np.random.default_rng(123)
    _p = {"W1": _rng.standard_normal((3, 5)), "b1": _rng.standard_normal(5),
          "W2": _rng.standard_normal((5, 2)), "b2": _rng.standard_normal(2)}
    _X = _rng.standard_normal((6, 3))
    _y = _rng.integers(0, 2, size=(6, 2)).astype(float)
    _grads = backward(_p, forward(_p, _X)[1], _y)
    for _k in _p:
        assert np.shape(_grads[_k]) == _p[_k].shape, (
            f"expected grads['{_k}'].shape == {_p[_k].shape}, got {np.shape(_grads[_k])}")
        _num = np.zeros_like(_p[_k])
        for _i in np.ndindex(*_p[_k].shape):
            _old = _p[_k][_i]
            _p[_k][_i] = _old + 1e-5
            _plus = bce_loss(forward(_p, _X)[0], _y)
            _p[_k][_i] = _old - 1e-5
            _minus = bce_loss(forward(_p, _X)[0], _y)
            _p[_k][_i] = _old
            _num[_i] = (_plus - _minus) / 2e-5
        _norms = np.linalg.norm(_grads[_k]) + np.linalg.norm(_num)
        _err = np.linalg.norm(_grads[_k] - _num) / max(1e-8, _norms)
        assert _err < 1e-6, (
            f"grads['{_k}']: relative error {_err:.2e} against finite differences (expected < 1e-6)")
    print("Visible gradient check passed. More checks run at grading.")
    """, part="backward"),
    markdown(r"""
    ## 7. The gradient descent update

    One step of gradient descent moves every parameter against its gradient:

    $$\theta \leftarrow \theta - \eta\,\nabla_\theta L$$

    with learning rate $\eta$. Write `sgd_step` so that it returns a **new** dict
    and leaves both of its arguments exactly as they were. Updating arrays in
    place (`params[k] -= ...`) would silently change every other reference to
    them, for example a copy of the initial weights you kept to compare against.
    """),
    solution("sgd_step", '''
    def sgd_step(params, grads, lr):
        """One gradient descent step.

        Args:
            params: dict of arrays.
            grads: dict with the same keys and shapes.
            lr: learning rate (a float).

        Returns:
            a new dict {k: params[k] - lr * grads[k]}; params and grads are not modified.
        """
        ### BEGIN SOLUTION
        return {k: params[k] - lr * grads[k] for k in params}
        ### END SOLUTION
    '''),
    tests("test_sgd_step", 2, """
    _p = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
    _g = {"w": np.array([0.5, -1.0]), "b": np.array([2.0])}
    _new = sgd_step(_p, _g, 0.1)
    assert np.allclose(_new["w"], [0.95, 2.1]) and np.allclose(_new["b"], [0.3]), (
        f"expected w=[0.95, 2.1], b=[0.3], got {_new}")
    assert np.all(_p["w"] == [1.0, 2.0]) and np.all(_p["b"] == [0.5]), "expected params to be left unchanged"
    print("Visible sgd_step checks passed. More checks run at grading.")
    """, part="sgd_step"),
    markdown(r"""
    ## 8. Training and predicting

    Full-batch gradient descent repeats four steps for `epochs` iterations:

    1. forward pass on the whole training set;
    2. the loss, appended to `losses` (so `losses[i]` is the loss *before* update `i`);
    3. backward pass;
    4. one `sgd_step`.

    Start from `init_params(X.shape[1], n_hidden, y.shape[1], seed)`. With the
    defaults (4 hidden units, learning rate 1.0, 5000 epochs) the loss on XOR
    should fall from somewhere near 0.7 to a few thousandths.
    """),
    solution("train", '''
    def train(X, y, n_hidden=4, lr=1.0, epochs=5000, seed=0):
        """Full-batch gradient descent from init_params(D, n_hidden, K, seed).

        Args:
            X: inputs, shape (N, D).
            y: labels in {0, 1}, shape (N, K).
            n_hidden: number of hidden units H.
            lr: learning rate.
            epochs: number of updates.
            seed: seed for init_params.

        Returns:
            (params, losses): the trained params dict, and a list of `epochs`
            floats, losses[i] being the loss before update i.
        """
        ### BEGIN SOLUTION
        params = init_params(X.shape[1], n_hidden, y.shape[1], seed)
        losses = []
        for _ in range(epochs):
            y_hat, cache = forward(params, X)
            losses.append(bce_loss(y_hat, y))
            params = sgd_step(params, backward(params, cache, y), lr)
        return params, losses
        ### END SOLUTION
    '''),
    tests("test_train", 7, """
    _params, _losses = train(X_xor, y_xor, epochs=1000, seed=0)
    assert len(_losses) == 1000, f"expected 1000 losses for 1000 epochs, got {len(_losses)}"
    assert _losses[-1] < _losses[0], f"expected the loss to fall, got {_losses[0]:.4f} -> {_losses[-1]:.4f}"
    print("Visible train checks passed. More checks run at grading (they train on XOR with several seeds).")
    """, part="train"),
    markdown(r"""
    A prediction is 1 where the network's output is at least 0.5 and 0
    otherwise. Return integers.
    """),
    solution("predict", '''
    def predict(params, X):
        """Class predictions from the network's probabilities.

        Args:
            params: dict with "W1", "b1", "W2", "b2".
            X: inputs, shape (N, D).

        Returns:
            int array of shape (N, K): 1 where y_hat >= 0.5, else 0.
        """
        ### BEGIN SOLUTION
        y_hat, _ = forward(params, X)
        return (y_hat >= 0.5).astype(int)  # (N, K)
        ### END SOLUTION
    '''),
    tests("test_predict", 2, """
    _p = {"W1": np.zeros((2, 3)), "b1": np.zeros(3), "W2": np.ones((3, 1)), "b2": np.array([-1.5])}
    _pred = predict(_p, X_xor)
    assert np.shape(_pred) == (4, 1), f"expected shape (4, 1), got {np.shape(_pred)}"
    assert np.issubdtype(np.asarray(_pred).dtype, np.integer), (
        f"expected integers, got dtype {np.asarray(_pred).dtype}")
    assert np.all(_pred == 1), f"expected all 1 (y_hat is exactly 0.5 here), got {_pred.ravel()}"
    print("Visible predict checks passed. More checks run at grading.")
    """, part="predict"),
    markdown(r"""
    ## 9. Watch it learn

    The cell below trains the 2-4-1 network on XOR with the defaults, then draws
    three things: the loss curve (on a log scale, where the long slow tail is
    visible), the decision regions the network has learned over the square
    $[-0.5, 1.5]^2$, and what each hidden unit outputs on the four inputs.
    Try other seeds, a learning rate of 0.1, or 2 hidden units, and see what changes.
    """),
    code("""
    params, losses = train(X_xor, y_xor, seed=0)
    print(f"loss: first {losses[0]:.4f}, last {losses[-1]:.5f}")
    print("predictions:", predict(params, X_xor).ravel(), " labels:", y_xor.ravel().astype(int))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].semilogy(losses)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("binary cross-entropy (log scale)")
    axes[0].set_title("Training loss on XOR")

    grid = np.linspace(-0.5, 1.5, 201)
    g1, g2 = np.meshgrid(grid, grid)
    probs, _ = forward(params, np.column_stack([g1.ravel(), g2.ravel()]))
    regions = axes[1].contourf(g1, g2, probs.reshape(g1.shape), levels=20, cmap="RdBu_r", vmin=0, vmax=1)
    axes[1].contour(g1, g2, probs.reshape(g1.shape), levels=[0.5], colors="k")
    ones = y_xor.ravel() == 1
    axes[1].scatter(X_xor[ones, 0], X_xor[ones, 1], marker="o", s=140, c="white", edgecolors="k",
                    label="XOR = 1")
    axes[1].scatter(X_xor[~ones, 0], X_xor[~ones, 1], marker="X", s=140, c="k", label="XOR = 0")
    axes[1].legend(loc="upper center", fontsize=8)
    axes[1].set_xlabel("$x_1$")
    axes[1].set_ylabel("$x_2$")
    axes[1].set_title("Learned decision regions (black: y_hat = 0.5)")
    fig.colorbar(regions, ax=axes[1])
    fig.tight_layout()
    plt.show()

    hidden = sigmoid(X_xor @ params["W1"] + params["b1"])
    print("hidden unit outputs (rows: inputs 00, 01, 10, 11; columns: hidden units):")
    print(np.round(hidden, 2))
    """),
    markdown(r"""
    ## 10. Reflection

    **Question.** Why does this problem need both a hidden layer *and* a
    non-linear activation? Look at the hidden unit outputs printed above: what
    did the hidden units learn, and how does the output unit use them? Answer in
    a few sentences in the cell below.
    """),
    free_response("reflection", 3, r"""
    XOR is not linearly separable: the 1s lie on one diagonal of the unit square
    and the 0s on the other, so the single line a lone sigmoid unit can draw
    never separates them. A hidden layer lets the network re-describe each input
    before the output unit decides. That only helps because of the sigmoid's
    bend: without it, two layers compute $W_2(W_1x + b_1) + b_2$, one linear map
    again, with the same single straight boundary.

    The hidden units became soft threshold detectors, each one a line through
    the square with a sigmoid step across it. Typically one unit is near 1
    whenever at least one input is on (OR-like) and another only when both are
    on (AND-like, or its negation); the printed table shows which of mine did
    what. In those hidden coordinates the inputs 01 and 10 land close together,
    away from 00 and 11, so the output unit separates them with one line,
    roughly "OR and not AND". Back in the input square that single line becomes
    two curved boundaries: the 0 region is a diagonal band through 00 and 11,
    with the 1 regions on either side, which no single straight line could make.
    """),
]


def main() -> None:
    write_notebook(ROOT / "source" / ID / f"{ID}.ipynb", CELLS)


if __name__ == "__main__":
    main()
