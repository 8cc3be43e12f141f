"""Draft of source/a1_perceptron/a1_perceptron.ipynb (run: python tools/notebooks/a1_perceptron.py)."""

from pathlib import Path

from autograder.authoring import code, free_response, locked, markdown, solution, tests, write_notebook

ROOT = Path(__file__).resolve().parents[2]

cells = [
    markdown("""
    # Assignment 1: The perceptron

    In 1957 Frank Rosenblatt built a machine that *learned* its weights from examples: the
    perceptron. It is a single artificial neuron: it weighs its inputs, adds a bias, and fires
    when the total reaches a threshold. Twelve years later Minsky and Papert showed that a single
    perceptron cannot compute XOR, and interest in neural networks collapsed for a decade.

    In this assignment you will implement the perceptron and its learning rule in NumPy, watch it
    learn AND and OR, and see for yourself why XOR defeats it.

    **How this notebook is graded.** Fill in every cell that says `raise NotImplementedError()`.
    The cells marked *checks* run a few quick sanity checks you can run yourself; at grading, a
    hidden set of stricter checks runs in their place (other inputs, exact values, edge cases).
    Passing the visible checks is a good sign, not a guarantee. Do not rename the functions.
    """),
    locked("imports", """
    import numpy as np
    import matplotlib.pyplot as plt
    """),
    markdown("""
    ## 1. A neuron that fires

    Given an input $\\mathbf{x} \\in \\mathbb{R}^d$, weights $\\mathbf{w} \\in \\mathbb{R}^d$ and a bias $b$,
    the perceptron computes the weighted sum $z = \\mathbf{w} \\cdot \\mathbf{x} + b$ and passes it through
    the **step function**

    $$\\text{step}(z) = \\begin{cases} 1 & z \\ge 0 \\\\ 0 & z < 0 \\end{cases}$$

    Note the convention at exactly $z = 0$: the neuron fires. Implement `step` for arrays of any
    shape (it should work elementwise, like a NumPy ufunc) and return integers.
    """),
    solution("step", """
    def step(z):
        \"\"\"Heaviside step activation.

        Args:
            z: array-like of any shape (a scalar is fine).

        Returns:
            int array of the same shape as z: 1 where z >= 0, else 0.
        \"\"\"
        ### BEGIN SOLUTION
        return (np.asarray(z) >= 0).astype(int)
        ### END SOLUTION
    """),
    tests("test_step", 5, """
    _got = step(np.array([-2.0, -0.5, 0.0, 0.5, 3.0]))
    assert list(_got) == [0, 0, 1, 1, 1], f"step([-2, -0.5, 0, 0.5, 3]) should be [0, 0, 1, 1, 1], got {_got}"
    assert step(np.zeros((2, 3))).shape == (2, 3), f"step should keep the input's shape (2, 3), got {step(np.zeros((2, 3))).shape}"
    print("Visible checks passed. Hidden checks of step run at grading.")
    """, part="step"),
    markdown("""
    ## 2. Predicting a batch

    For a batch of $n$ inputs stacked as the rows of $X$ (shape $(n, d)$), all the weighted sums are
    one matrix-vector product: $\\mathbf{z} = X\\mathbf{w} + b$, shape $(n,)$. Apply `step` to get
    the predicted classes.
    """),
    solution("predict", """
    def predict(X, w, b):
        \"\"\"Perceptron predictions for a batch.

        Args:
            X: (n, d) inputs, one sample per row.
            w: (d,) weights.
            b: float bias.

        Returns:
            (n,) int array of predictions in {0, 1}.
        \"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(X) @ np.asarray(w) + b  # (n,)
        return step(z)
        ### END SOLUTION
    """),
    tests("test_predict", 2, """
    _X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0]])
    _got = predict(_X, np.array([1.0, 1.0]), -1.5)
    assert list(_got) == [0, 1, 0], f"predict(X, w=[1, 1], b=-1.5) should be [0, 1, 0], got {_got}"
    print("Visible checks passed. Hidden checks of predict run at grading.")
    """, part="predict"),
    markdown("""
    ## 3. The learning rule

    The perceptron learns one example at a time. For a sample $(\\mathbf{x}, y)$ it predicts
    $\\hat y = \\text{step}(\\mathbf{w}\\cdot\\mathbf{x} + b)$ and nudges its parameters by the error
    $y - \\hat y$, scaled by the learning rate $\\eta$:

    $$\\mathbf{w} \\leftarrow \\mathbf{w} + \\eta\\,(y - \\hat y)\\,\\mathbf{x}, \\qquad b \\leftarrow b + \\eta\\,(y - \\hat y)$$

    When the prediction is right, $y - \\hat y = 0$ and nothing changes. A missed positive
    ($y = 1, \\hat y = 0$) pulls $\\mathbf{w}$ towards $\\mathbf{x}$; a false alarm pushes it away.

    Return *new* arrays: the caller's `w` must not change (no `+=` on the argument).
    """),
    solution("perceptron_update", """
    def perceptron_update(w, b, x, y, lr):
        \"\"\"One step of the perceptron learning rule.

        Args:
            w: (d,) weights (not modified).
            b: float bias.
            x: (d,) one input sample.
            y: its label, 0 or 1.
            lr: learning rate.

        Returns:
            (w_new, b_new): (d,) float array and float.
        \"\"\"
        ### BEGIN SOLUTION
        y_hat = int(step(np.dot(x, w) + b))
        error = y - y_hat
        w_new = np.asarray(w, dtype=float) + lr * error * np.asarray(x, dtype=float)  # (d,)
        b_new = float(b + lr * error)
        return w_new, b_new
        ### END SOLUTION
    """),
    tests("test_update", 5, """
    _w0 = np.array([0.0, 0.0])
    _w, _b = perceptron_update(_w0, 0.0, np.array([1.0, 2.0]), 0, 0.5)
    assert np.allclose(_w, [-0.5, -1.0]) and np.isclose(_b, -0.5), (
        f"a false positive (y=0, prediction 1 at z=0) with lr=0.5 should give w=[-0.5, -1.0], b=-0.5; got w={_w}, b={_b}")
    assert np.all(_w0 == 0), "perceptron_update changed the w it was given; return a new array instead"
    print("Visible checks passed. Hidden checks of perceptron_update run at grading.")
    """, part="update"),
    markdown("""
    ## 4. Training

    Training repeats the rule over the data set, epoch after epoch:

    - start from $\\mathbf{w} = \\mathbf{0}$ and $b = 0$;
    - in each epoch visit the samples **in the given order** and apply `perceptron_update` to each;
    - count the samples that were misclassified (before their own update) in that epoch;
    - stop after the first epoch with no mistakes, or after `epochs` epochs.

    If the classes can be separated by a line (a hyperplane in $d$ dimensions), the
    *perceptron convergence theorem* (Novikoff, 1962) promises that this stops: the total number of
    mistakes is at most $(R/\\gamma)^2$, where $R$ bounds the size of the inputs and $\\gamma$ is the
    margin of a separating hyperplane.
    """),
    solution("train_perceptron", """
    def train_perceptron(X, y, lr=0.1, epochs=100):
        \"\"\"Train a perceptron with the learning rule.

        Args:
            X: (n, d) inputs.
            y: (n,) labels in {0, 1}.
            lr: learning rate.
            epochs: the most epochs to run.

        Returns:
            (w, b, errors): (d,) weights, float bias, and a list with the number of
            misclassified samples in each epoch that ran.
        \"\"\"
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=float)
        w = np.zeros(X.shape[1])  # (d,)
        b = 0.0
        errors = []
        for _ in range(epochs):
            mistakes = 0
            for xi, yi in zip(X, y):
                if int(step(xi @ w + b)) != yi:
                    mistakes += 1
                w, b = perceptron_update(w, b, xi, yi, lr)
            errors.append(mistakes)
            if mistakes == 0:
                break
        return w, b, errors
        ### END SOLUTION
    """),
    tests("test_train", 9, """
    _X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    _w, _b, _err = train_perceptron(_X, np.array([0, 0, 0, 1]), lr=0.25)
    assert _err[-1] == 0, f"AND is linearly separable, so the last epoch should have 0 errors; errors were {_err}"
    assert list(predict(_X, _w, _b)) == [0, 0, 0, 1], f"the trained perceptron should compute AND, got {predict(_X, _w, _b)}"
    print("Visible checks passed. Hidden checks of train_perceptron run at grading.")
    """, part="train"),
    markdown("""
    ## 5. AND, OR and XOR

    Run the experiments below. They train one perceptron per gate and draw the learned decision
    boundary, the line $w_1 x_1 + w_2 x_2 + b = 0$.

    The learning rate is 0.25, a power of two, so every weight, bias and weighted sum below is
    computed exactly (no rounding): what the printout and the plot show is exactly what the rule
    does. For AND and OR some samples end up exactly *on* the learned boundary ($z = 0$): the
    neuron fires there (`step(0) = 1`), so they are predicted 1, and all of them are labelled 1. (With
    `lr=0.1`, which binary floating point cannot hold exactly, AND ends with
    `b = -0.20000000000000004` and a sum of `-2.8e-17` at (1, 0): right only by a rounding error.)
    """),
    locked("gates", """
    X_gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    gates = {
        "AND": np.array([0, 0, 0, 1]),
        "OR": np.array([0, 1, 1, 1]),
        "XOR": np.array([0, 1, 1, 0]),
    }
    """),
    code("""
    results = {}
    for name, labels in gates.items():
        w, b, errors = train_perceptron(X_gate, labels, lr=0.25, epochs=100)
        results[name] = (w, b, errors)
        outcome = f"converged after {len(errors)} epochs" if errors[-1] == 0 else f"still {errors[-1]} errors after {len(errors)} epochs"
        print(f"{name:>3}: w={w}, b={b}, z at the four inputs={X_gate @ w + b}, {outcome}")

    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    grid = np.linspace(-0.5, 1.5, 50)
    for ax, (name, (w, b, errors)) in zip(axes, results.items()):
        labels = gates[name]
        ax.scatter(X_gate[:, 0], X_gate[:, 1], c=labels, cmap="coolwarm", s=150, edgecolors="black")
        if abs(w[1]) > 1e-12:
            ax.plot(grid, -(w[0] * grid + b) / w[1], "k--", label="boundary")
        ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), title=name, xlabel="$x_1$", ylabel="$x_2$")
    plt.tight_layout()
    plt.show()
    """),
    markdown("""
    ## 6. Why not XOR?

    Look at the XOR panel and at the errors per epoch. In a few sentences: why can a single
    perceptron never reach zero errors on XOR, whatever the learning rate or the number of
    epochs? What would you add to the model so that it can represent XOR?
    """),
    free_response("why_not_xor", 2, """
    XOR is not linearly separable: the positives (0, 1) and (1, 0) sit on one diagonal and the
    negatives (0, 0) and (1, 1) on the other, so every straight line leaves at least one point on
    the wrong side. A perceptron's decision boundary is always a line (w . x + b = 0), so at least
    one of the four samples is misclassified in every epoch and the rule never stops updating.
    Adding a hidden layer of non-linear units fixes this: two hidden units can carve out the band
    between x1 + x2 = 0.5 and x1 + x2 = 1.5, and an output unit combines them (this is an MLP).
    """),
]

if __name__ == "__main__":
    write_notebook(ROOT / "source" / "a1_perceptron" / "a1_perceptron.ipynb", cells)
