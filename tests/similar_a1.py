"""Hand-written a1 submissions for the similarity tests: independent correct solutions and a copied pair.

Each solution maps a solution cell's grade id to (code before the function, the function's body,
code after it); :func:`notebook` fills the release's stubs with them, keeping the stubs' signatures
and docstrings as students do. ``copier`` is ``original`` with every variable renamed, the helper
functions reordered, comments rewritten and one statement reshaped.
"""

from __future__ import annotations

import copy
import textwrap

from nbformat.notebooknode import NotebookNode

STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

Solution = dict[str, tuple[str, str, str]]


def _body(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), "    ")


# vectorised, np.where, index loop
VECTORISED: Solution = {
    "step": ("", _body("""
        return np.where(np.asarray(z) >= 0, 1, 0)
    """), ""),
    "predict": ("", _body("""
        scores = np.dot(X, w) + b
        return step(scores)
    """), ""),
    "perceptron_update": ("", _body("""
        x = np.asarray(x, dtype=float)
        guess = int(step(np.dot(w, x) + b))
        delta = lr * (y - guess)
        return np.asarray(w, dtype=float) + delta * x, float(b) + delta
    """), ""),
    "train_perceptron": ("", _body("""
        data = np.asarray(X, dtype=float)
        weights, bias = np.zeros(data.shape[1]), 0.0
        history = []
        for epoch in range(epochs):
            wrong = 0
            for i in range(len(data)):
                if step(data[i] @ weights + bias) != y[i]:
                    wrong += 1
                weights, bias = perceptron_update(weights, bias, data[i], y[i], lr)
            history.append(wrong)
            if wrong == 0:
                break
        return weights, bias, history
    """), ""),
}

# explicit Python loops, early returns, a while loop
LOOPS: Solution = {
    "step": ("", _body("""
        values = np.array(z, dtype=float)
        fired = np.zeros(values.shape, dtype=int)
        fired[values >= 0] = 1
        return fired
    """), ""),
    "predict": ("", _body("""
        rows = np.atleast_2d(np.asarray(X, dtype=float))
        labels = []
        for row in rows:
            total = float(np.dot(row, w)) + b
            labels.append(1 if total >= 0 else 0)
        return np.array(labels, dtype=int)
    """), ""),
    "perceptron_update": ("", _body("""
        new_w = np.array(w, dtype=float, copy=True)
        features = np.asarray(x, dtype=float)
        activation = float(np.dot(features, new_w)) + b
        guess = 1 if activation >= 0 else 0
        if guess == y:
            return new_w, float(b)
        direction = 1.0 if y == 1 else -1.0
        new_w += lr * direction * features
        return new_w, float(b + lr * direction)
    """), ""),
    "train_perceptron": ("", _body("""
        samples = np.array(X, dtype=float)
        targets = np.array(y)
        weights = np.zeros(samples.shape[1])
        bias = 0.0
        per_epoch = []
        while len(per_epoch) < epochs:
            missed = 0
            for features, target in zip(samples, targets):
                missed += int(predict(features[None, :], weights, bias)[0] != target)
                weights, bias = perceptron_update(weights, bias, features, target, lr)
            per_epoch.append(missed)
            if not missed:
                break
        return weights, bias, per_epoch
    """), ""),
}

# library calls (heaviside, einsum), a state tuple and a helper after the function
LIBRARY: Solution = {
    "step": ("", _body("""
        return np.heaviside(np.asarray(z, dtype=float), 1.0).astype(int)
    """), ""),
    "predict": ("", _body("""
        net = np.einsum("nd,d->n", np.asarray(X, dtype=float), np.asarray(w, dtype=float))
        return step(net + b)
    """), ""),
    "perceptron_update": ("", _body("""
        err = y - step(float(np.dot(x, w)) + b).item()
        return np.add(w, lr * err * np.asarray(x, dtype=float), dtype=float), float(b + lr * err)
    """), ""),
    "train_perceptron": ("", _body("""
        X = np.array(X, dtype=float)
        y = np.array(y, dtype=int)
        state = (np.zeros(X.shape[1]), 0.0)
        log = []
        for _ in range(epochs):
            state, errs = _one_epoch(state, X, y, lr)
            log.append(errs)
            if errs == 0:
                break
        return state[0], state[1], log
    """), textwrap.dedent('''

        def _one_epoch(state, X, y, lr):
            """One pass over the data: the new (w, b) and the mistakes made on the way."""
            w, b = state
            errs = 0
            for x_i, y_i in zip(X, y):
                errs += int(step(x_i @ w + b)) != y_i
                w, b = perceptron_update(w, b, x_i, y_i, lr)
            return (w, b), errs
    ''').rstrip()),
}

# masks and boolean arithmetic, an enumerate loop with an epoch counter kept by hand
MASKS: Solution = {
    "step": ("", _body("""
        z = np.asarray(z)
        return (z >= 0).astype(np.int64)
    """), ""),
    "predict": ("", _body("""
        X = np.asarray(X, dtype=float)
        return (X @ np.asarray(w, dtype=float) + b >= 0).astype(int)
    """), ""),
    "perceptron_update": ("", _body("""
        w_arr = np.asarray(w, dtype=float)
        x_arr = np.asarray(x, dtype=float)
        fired = bool(w_arr @ x_arr + b >= 0)
        correction = lr * (int(y) - int(fired))
        return w_arr + correction * x_arr, b + correction
    """), ""),
    "train_perceptron": ("", _body("""
        inputs = np.array(X, dtype=float)
        w = np.zeros(inputs.shape[1])
        b = 0.0
        counts = []
        done = 0
        while done < epochs:
            n_bad = 0
            for k, row in enumerate(inputs):
                before = int(row @ w + b >= 0)
                n_bad += before != int(y[k])
                w, b = perceptron_update(w, b, row, y[k], lr)
            counts.append(int(n_bad))
            done += 1
            if n_bad == 0:
                break
        return w, b, counts
    """), ""),
}

# the original of the copied pair: list comprehensions and three helpers before train_perceptron
ORIGINAL: Solution = {
    "step": ("", _body("""
        # threshold at zero, inclusive
        arr = np.asarray(z)
        return (arr >= 0) * 1
    """), ""),
    "predict": ("", _body("""
        # one prediction per row of X
        return np.array([step(np.dot(row, w) + b) for row in np.asarray(X, dtype=float)], dtype=int)
    """), ""),
    "perceptron_update": ("", _body("""
        x = np.asarray(x, dtype=float)
        mistake = y - step(x.dot(w) + b)  # 0 when right, +1 or -1 when wrong
        scale = lr * mistake
        updated = np.array(w, dtype=float) + scale * x
        return updated, float(b + scale)
    """), ""),
    "train_perceptron": (textwrap.dedent('''
        def init_params(n_features):
            # all-zero start, as the rule says
            return np.zeros(n_features), 0.0


        def count_errors(X, y, w, b):
            """How many samples (w, b) gets wrong."""
            return int(np.sum(predict(X, w, b) != y))


        def run_epoch(X, y, w, b, lr):
            # visit the samples in order, count each mistake before fixing it
            mistakes = 0
            for sample, label in zip(X, y):
                if step(sample.dot(w) + b) != label:
                    mistakes += 1
                w, b = perceptron_update(w, b, sample, label, lr)
            return w, b, mistakes


    ''').lstrip(), _body("""
        X = np.asarray(X, dtype=float)
        w, b = init_params(X.shape[1])
        errors = []
        for epoch in range(epochs):
            w, b, mistakes = run_epoch(X, y, w, b, lr)
            errors.append(mistakes)
            if mistakes == 0:
                break
        return w, b, errors
    """), ""),
}

# ORIGINAL, disguised
COPIER: Solution = {
    "step": ("", _body("""
        # the neuron fires from 0 upwards
        values = np.asarray(z)
        return (values >= 0) * 1
    """), ""),
    "predict": ("", _body("""
        # classify every sample
        return np.array([step(np.dot(sample, w) + b) for sample in np.asarray(X, dtype=float)], dtype=int)
    """), ""),
    "perceptron_update": ("", _body("""
        xs = np.asarray(x, dtype=float)
        diff = y - step(xs.dot(w) + b)  # error signal
        amount = lr * diff
        new_weights = np.array(w, dtype=float) + amount * xs
        return new_weights, float(b + amount)
    """), ""),
    "train_perceptron": ("", _body("""
        data = np.asarray(X, dtype=float)
        weights, bias = start_values(data.shape[1])
        mistakes_per_epoch = []
        for ep in range(epochs):
            weights, bias, wrong = one_pass(data, y, weights, bias, lr)
            mistakes_per_epoch.append(wrong)
            if wrong == 0:
                break
        return weights, bias, mistakes_per_epoch
    """), textwrap.dedent('''


        def one_pass(data, labels, weights, bias, rate):
            # a single sweep through the training set
            wrong = 0
            for point, target in zip(data, labels):
                if step(point.dot(weights) + bias) != target:
                    wrong += 1
                weights, bias = perceptron_update(weights, bias, point, target, rate)
            return weights, bias, wrong


        def misclassified(data, labels, weights, bias):
            """Number of wrong predictions."""
            return int(np.sum(predict(data, weights, bias) != labels))


        def start_values(dim):
            # begin at zero
            return np.zeros(dim), 0.0
    ''').rstrip()),
}

INDEPENDENT = {"vectorised": VECTORISED, "loops": LOOPS, "library": LIBRARY, "masks": MASKS}


def notebook(release: NotebookNode, solution: Solution) -> NotebookNode:
    """The release with its solution cells filled by ``solution``."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in solution:
            before, body, after = solution[gid]
            if STUB not in cell.source:
                raise ValueError(f"cell {gid} of the release has no stub to fill")
            cell.source = before + cell.source.replace(STUB, body) + after
    return nb
