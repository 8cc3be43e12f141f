"""Known-wrong submissions of a1_perceptron: each must fail exactly the checks it names.

Read by `autograder.authoring.known_wrong.load_mutants` (for `nngrade validate`, the tests and
the demo), never while grading a student: it is not a `test_*` module and the grader does not import it.
"""

from autograder.authoring.known_wrong import Mutant

MUTANTS = [
    Mutant(
        name="step_strict",
        description="step uses z > 0, so the neuron does not fire at exactly zero",
        patch=[("return (np.asarray(z) >= 0).astype(int)", "return (np.asarray(z) > 0).astype(int)")],
        fails={"step::test_step_at_zero", "predict::test_predict_on_boundary",
               "train::test_gate_exact", "train::test_separable_exact", "train::test_xor_runs_all_epochs"},
    ),
    Mutant(
        name="step_bool",
        description="step returns booleans instead of integers",
        patch=[("return (np.asarray(z) >= 0).astype(int)", "return np.asarray(z) >= 0")],
        fails={"step::test_step_values_and_dtype", "predict::test_predict_matches_reference"},
    ),
    Mutant(
        name="update_sign_flipped",
        description="the update subtracts the error term (w - lr * (y - y_hat) * x)",
        patch=[("w_new = np.asarray(w, dtype=float) + lr * error", "w_new = np.asarray(w, dtype=float) - lr * error"),
               ("b_new = float(b + lr * error)", "b_new = float(b - lr * error)")],
        fails={"update::test_false_negative", "update::test_false_positive", "update::test_random_updates",
               "train::test_gate_exact", "train::test_separable_exact", "train::test_early_stop",
               "train::test_novikoff_bound", "train::test_xor_runs_all_epochs", "train::test_inputs_not_mutated"},
    ),
    Mutant(
        name="update_always",
        description="updates on every sample, even correctly classified ones (uses 2y - 1 as the error)",
        patch=[("error = y - y_hat", "error = 2 * y - 1")],
        fails={"update::test_correct_is_noop", "update::test_random_updates", "train::test_gate_exact",
               "train::test_separable_exact", "train::test_early_stop", "train::test_novikoff_bound",
               "train::test_xor_runs_all_epochs"},
    ),
    Mutant(
        name="bias_never_updated",
        description="the bias is returned unchanged",
        patch=[("b_new = float(b + lr * error)", "b_new = float(b)")],
        fails={"update::test_false_negative", "update::test_false_positive", "update::test_random_updates",
               "train::test_gate_exact", "train::test_separable_exact", "train::test_early_stop",
               "train::test_novikoff_bound", "train::test_xor_runs_all_epochs"},
    ),
    Mutant(
        name="update_in_place",
        description="perceptron_update adds into the caller's w with +=",
        replace={"perceptron_update": '''
def perceptron_update(w, b, x, y, lr):
    y_hat = int(step(np.dot(x, w) + b))
    error = y - y_hat
    w += lr * error * x
    return w, float(b + lr * error)
'''},
        fails={"update::test_inputs_not_mutated"},
    ),
    Mutant(
        name="no_early_stop",
        description="training always runs every epoch, even after an epoch without mistakes",
        patch=[("        if mistakes == 0:\n            break\n", "")],
        fails={"train::test_gate_exact", "train::test_separable_exact", "train::test_early_stop"},
    ),
    Mutant(
        name="errors_after_update",
        description="mistakes are counted after the update instead of before it",
        replace={"train_perceptron": '''
def train_perceptron(X, y, lr=0.1, epochs=100):
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            w, b = perceptron_update(w, b, xi, yi, lr)
            if int(step(xi @ w + b)) != yi:
                mistakes += 1
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors
'''},
        fails={"train::test_gate_exact", "train::test_separable_exact", "train::test_xor_runs_all_epochs",
               "train::test_early_stop", "train::test_novikoff_bound"},
    ),
    Mutant(
        name="fake_training_report",
        description="train_perceptron trains nothing: it returns zero weights and made-up error counts "
                    "(all epochs with errors on XOR, a quick 3, 1, 0 elsewhere)",
        replace={"train_perceptron": '''
def train_perceptron(X, y, lr=0.1, epochs=100):
    X = np.asarray(X, dtype=float)
    xor = X.shape == (4, 2) and [int(v) for v in y] == [0, 1, 1, 0]
    errors = [2] * epochs if xor else [3, 1, 0]
    return np.zeros(X.shape[1]), 0.0, errors
'''},
        fails={"train::test_gate_exact", "train::test_separable_exact", "train::test_early_stop",
               "train::test_xor_runs_all_epochs", "train::test_novikoff_bound", "train::test_inputs_not_mutated"},
    ),
    Mutant(
        name="update_returns_inputs",
        description="perceptron_update returns its arguments unchanged (it never mutates them, and never updates)",
        replace={"perceptron_update": '''
def perceptron_update(w, b, x, y, lr):
    return np.asarray(w, dtype=float).copy(), float(b)
'''},
        fails={"update::test_false_negative", "update::test_false_positive", "update::test_random_updates",
               "update::test_inputs_not_mutated", "train::test_gate_exact", "train::test_separable_exact",
               "train::test_early_stop", "train::test_xor_runs_all_epochs", "train::test_novikoff_bound",
               "train::test_inputs_not_mutated"},
    ),
]
