"""Known-wrong submissions of a5_overfitting: each must fail exactly the checks it names.

Read by `autograder.authoring.known_wrong.load_mutants` (for `nngrade validate`, the tests and
the demo), never while grading a student: it is not a `test_*` module and the grader does not import it.
"""

from autograder.authoring.known_wrong import Mutant

MUTANTS = [
    Mutant(
        name="best_epoch_last_minimum",
        description="best_epoch returns the last of equal minima instead of the first",
        patch=[("return int(np.argmin(losses))  # argmin returns the first of equal minima",
                "return len(losses) - 1 - int(np.argmin(losses[::-1]))")],
        fails={"best_epoch::test_best_epoch_ties", "diagnose::test_first_minimum"},
    ),
    Mutant(
        name="gap_sign_reversed",
        description="generalization_gap returns val_acc - train_acc",
        patch=[("return train_acc - val_acc", "return val_acc - train_acc")],
        fails={"gap::test_gap_values", "gap::test_gap_negative"},
    ),
    Mutant(
        name="gap_absolute",
        description="generalization_gap drops the sign with abs()",
        patch=[("return train_acc - val_acc", "return abs(train_acc - val_acc)")],
        fails={"gap::test_gap_negative"},
    ),
    Mutant(
        name="diagnose_no_patience_window",
        description="diagnose calls overfitting without requiring the best epoch to lie patience epochs back",
        patch=[("rise_lasted = b <= n - 1 - patience", "rise_lasted = True")],
        fails={"diagnose::test_patience_window", "diagnose::test_noisy"},
    ),
    Mutant(
        name="diagnose_tolerance_not_strict",
        description="diagnose counts a rise of exactly tol as overfitting (>= instead of >)",
        patch=[("val_rose = val_losses[-1] > val_losses[b] * (1 + tol)",
                "val_rose = val_losses[-1] >= val_losses[b] * (1 + tol)")],
        fails={"diagnose::test_tolerance"},
    ),
    Mutant(
        name="diagnose_ignores_training_loss",
        description="diagnose calls overfitting from the validation curve alone",
        patch=[("train_fell = train_losses[-1] < train_losses[b]", "train_fell = True")],
        fails={"diagnose::test_training_must_fall", "diagnose::test_noisy"},
    ),
    Mutant(
        name="early_stopping_counter_never_reset",
        description="an improvement does not reset the counter of epochs without improvement",
        patch=[("self.counter = 0\n        else:", "pass\n        else:")],
        fails={"early_stopping::test_stop_call", "early_stopping::test_min_delta",
               "early_stopping::test_training_run_stop"},
    ),
    Mutant(
        name="early_stopping_patience_off_by_one",
        description="step stops only once the counter exceeds patience (> instead of >=)",
        patch=[("return self.counter >= self.patience", "return self.counter > self.patience")],
        fails={"early_stopping::test_stop_call", "early_stopping::test_min_delta",
               "early_stopping::test_training_run_stop"},
    ),
    Mutant(
        name="early_stopping_min_delta_ignored",
        description="any lower loss counts as an improvement, whatever min_delta is",
        patch=[("if val_loss < self.best_loss - self.min_delta:", "if val_loss < self.best_loss:")],
        fails={"early_stopping::test_min_delta", "early_stopping::test_best_attributes",
               "early_stopping::test_training_run_stop", "early_stopping::test_training_run_restore"},
    ),
    Mutant(
        name="early_stopping_state_dict_not_copied",
        description="step keeps model.state_dict() itself, whose tensors later training overwrites",
        patch=[("self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}",
                "self.best_state = model.state_dict()")],
        fails={"early_stopping::test_restore_best_not_last", "early_stopping::test_training_run_restore"},
    ),
    Mutant(
        name="early_stopping_equal_counts_as_better",
        description="an equal loss counts as an improvement (<= instead of <)",
        patch=[("if val_loss < self.best_loss - self.min_delta:",
                "if val_loss <= self.best_loss - self.min_delta:")],
        fails={"early_stopping::test_stop_call", "early_stopping::test_best_attributes"},
    ),
    Mutant(
        name="early_stopping_best_epoch_one_based",
        description="best_epoch counts the step calls from 1",
        patch=[("self.best_epoch = self.calls", "self.best_epoch = self.calls + 1")],
        fails={"early_stopping::test_best_attributes"},
    ),
    Mutant(
        name="plot_lines_swapped",
        description="the loss lines are swapped: validation data labelled train and the other way round",
        patch=[(('ax_loss.plot(epochs, history["train_loss"], label="train")\n'
                '    ax_loss.plot(epochs, history["val_loss"], label="validation")'),
                ('ax_loss.plot(epochs, history["val_loss"], label="train")\n'
                '    ax_loss.plot(epochs, history["train_loss"], label="validation")'))],
        fails={"plot_curves::test_line_labels"},
    ),
    Mutant(
        name="plot_unlabelled",
        description="the lines carry no labels, so the legends are empty",
        replace={"plot_curves": '''
def plot_curves(history):
    epochs = np.arange(len(history["train_loss"]))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax_loss.plot(epochs, history["train_loss"])
    ax_loss.plot(epochs, history["val_loss"])
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="cross-entropy loss")
    ax_loss.legend()
    ax_acc.plot(epochs, history["train_acc"])
    ax_acc.plot(epochs, history["val_acc"])
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    ax_acc.legend()
    return fig
'''},
        fails={"plot_curves::test_line_labels", "plot_curves::test_legends"},
    ),
    Mutant(
        name="plot_reuses_figure",
        description="plot_curves draws into the same named figure on every call",
        replace={"plot_curves": '''
def plot_curves(history):
    epochs = np.arange(len(history["train_loss"]))
    fig = plt.figure("learning curves", figsize=(10, 3.5))
    if not fig.axes:
        fig.subplots(1, 2)
    ax_loss, ax_acc = fig.axes
    ax_loss.plot(epochs, history["train_loss"], label="train")
    ax_loss.plot(epochs, history["val_loss"], label="validation")
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="cross-entropy loss")
    ax_loss.legend()
    ax_acc.plot(epochs, history["train_acc"], label="train")
    ax_acc.plot(epochs, history["val_acc"], label="validation")
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    ax_acc.legend()
    return fig
'''},
        fails={"plot_curves::test_new_figure_each_call"},
    ),
    Mutant(
        name="early_stopping_saves_every_call",
        description="step copies the weights on every call, improvement or not, so restore brings back the "
                    "last epoch's weights (the copies themselves are proper clones)",
        patch=[("        else:\n            self.counter += 1\n        self.calls += 1",
                ("        else:\n            self.counter += 1\n"
                "        self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}\n"
                "        self.calls += 1"))],
        fails={"early_stopping::test_restore_best_not_last", "early_stopping::test_training_run_restore"},
    ),
    Mutant(
        name="plot_posing_figure",
        description="plot_curves draws nothing: it returns a Figure subclass whose `axes` report made-up "
                    "axes, titles, labels, legends and lines that carry the history",
        replace={"plot_curves": '''
def plot_curves(history):
    import matplotlib.figure

    class _Text:
        def __init__(self, text):
            self.text = text

        def get_text(self):
            return self.text

    class _Legend:
        def __init__(self, labels):
            self.labels = labels

        def get_texts(self):
            return [_Text(t) for t in self.labels]

    class _Line:
        def __init__(self, values, label):
            self.values, self.label = list(values), label

        def get_label(self):
            return self.label

        def get_xdata(self):
            return list(range(len(self.values)))

        def get_ydata(self):
            return self.values

    class _Axes:
        def __init__(self, title, ylabel, keys):
            self.title, self.ylabel, self.keys = title, ylabel, keys

        def get_title(self, loc="center"):
            return self.title if loc == "center" else ""

        def get_xlabel(self):
            return "epoch"

        def get_ylabel(self):
            return self.ylabel

        def get_legend(self):
            return _Legend([label for _, label in self.keys])

        def get_lines(self):
            return [_Line(history[key], label) for key, label in self.keys]

    class PosingFigure(matplotlib.figure.Figure):
        @property
        def axes(self):
            return getattr(self, "fake_axes", [])

    fig = PosingFigure()
    fig.fake_axes = [_Axes("Loss", "loss", [("train_loss", "train"), ("val_loss", "validation")]),
                     _Axes("Accuracy", "accuracy", [("train_acc", "train"), ("val_acc", "validation")])]
    return fig
'''},
        fails={"plot_curves::test_figure_with_two_axes", "plot_curves::test_lines_carry_history",
               "plot_curves::test_line_labels", "plot_curves::test_titles_and_axis_labels",
               "plot_curves::test_legends", "plot_curves::test_new_figure_each_call"},
    ),
]
