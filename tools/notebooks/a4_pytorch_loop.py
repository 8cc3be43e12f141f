"""Build source/a4_pytorch_loop/a4_pytorch_loop.ipynb.

Run from the repository root:

    python tools/notebooks/a4_pytorch_loop.py
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

ID = "a4_pytorch_loop"

CELLS = [
    markdown(r"""
    # Assignment 4: The PyTorch training loop

    In assignment 2 you derived every gradient of a small network by hand. PyTorch
    computes gradients for you (*autograd*), but the loop that uses them is still
    yours to write, and it is easy to get subtly wrong: most mistakes in a training
    loop do not crash, the model just learns worse, or only on one kind of machine.

    Every PyTorch training step has the same four moves:

    1. `optimizer.zero_grad()`: forget the previous step's gradients;
    2. `outputs = model(inputs)` and `loss = criterion(outputs, labels)`: the forward pass;
    3. `loss.backward()`: the backward pass, which fills every parameter's `.grad`;
    4. `optimizer.step()`: move every parameter a little against its gradient.

    In this notebook you will build that loop piece by piece and train a small
    network to read handwritten digits:

    - `get_device`: pick the GPU when there is one;
    - `make_loaders`: split the data and serve it in mini-batches;
    - `MLP`: a one-hidden-layer network with dropout, as an `nn.Module`;
    - `train_one_epoch`, `evaluate` and `fit`: the loop itself.

    **How this notebook is graded.** Fill in every cell that says `YOUR CODE HERE`,
    then run the whole notebook from the top (Kernel -> Restart & Run All). The
    *checks* cell under each function runs a few quick sanity checks; at grading,
    a hidden set of stricter checks runs in their place. Your code may be graded
    on a machine with a GPU or on one without: it must work on both, so always use
    the `device` you are given and never write `"cuda"` or `"cpu"` into the loop.
    Do not rename the functions or change their arguments.
    """),
    locked("setup", r"""
    import numpy as np
    import matplotlib.pyplot as plt
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader, TensorDataset
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    torch.set_num_threads(1)  # a network this small trains as fast on one CPU thread, and shares the machine
    """),
    markdown(r"""
    ## The data: handwritten digits

    scikit-learn ships a small cousin of MNIST: 1,797 handwritten digits, each an
    8x8 grayscale image whose pixels take 17 levels, 0 to 16. The cell below
    flattens every image into a row of 64 numbers scaled to [0, 1], so `X` has shape
    `(1797, 64)` (float32) and `y` holds the digit shown, 0 to 9 (int64, the type
    `nn.CrossEntropyLoss` wants for class labels). Nothing is downloaded.
    """),
    locked("data", r"""
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)  # (1797, 64), pixels in [0, 1]
    y = digits.target.astype(np.int64)           # (1797,), digits 0-9
    print(f"X: {X.shape} {X.dtype}, y: {y.shape} {y.dtype}, classes: {np.unique(y).tolist()}")
    """),
    markdown(r"""
    ## 1. Tensors, autograd, and why gradients pile up

    A `torch.Tensor` is PyTorch's array. It behaves much like a NumPy array, with
    two additions: it can live on a GPU, and it can remember how it was computed.
    Create a tensor with `requires_grad=True` and PyTorch records every operation
    applied to it in a graph. Calling `.backward()` on a scalar result walks that
    graph backwards with the chain rule and leaves the derivative of the result with
    respect to the tensor in its `.grad` attribute. For $y = x^2$ at $x = 3$ that is
    $dy/dx = 2x = 6$.

    There is a catch that matters for everything below: `.backward()` **adds** to
    `.grad`, it does not overwrite it. Run the cell and watch the gradient grow
    even though $y$ and $x$ never change.
    """),
    code(r"""
    x = torch.tensor(3.0, requires_grad=True)
    for attempt in range(1, 4):
        y_demo = x ** 2       # dy/dx = 2x = 6 at x = 3
        y_demo.backward()     # adds 6 to x.grad
        print(f"after backward #{attempt}: x.grad = {x.grad.item()}")
    x.grad.zero_()            # what optimizer.zero_grad() does for every parameter
    print(f"after x.grad.zero_(): x.grad = {x.grad.item()}")
    """),
    markdown(r"""
    Accumulation is a feature: it lets you sum gradients over several small
    batches, or several losses, before taking one step. But it means a training
    loop must clear the gradients itself before every backward pass; otherwise each
    step uses the sum of all the gradients so far instead of the current one.

    ## 2. Devices

    Every tensor and every model lives on a *device*: `cpu`, or `cuda` for an NVIDIA
    GPU. A GPU runs the matrix products of a network on thousands of cores at once,
    which is a large part of why deep learning took off after 2012. An operation
    needs all of its tensors on the same device, so the model's parameters and each
    batch of data must be moved to the same place:

    - `model.to(device)` moves the parameters of a module (in place);
    - `batch = batch.to(device)` returns a copy of a tensor on the device (the
      original stays where it was, so keep the result).

    Write `get_device()`: the `cuda` device when `torch.cuda.is_available()`, else the CPU.
    Decide inside the function, each time it is called: the grader calls `get_device()`
    once while torch reports a GPU and once while it does not, and checks both answers.
    (Some tutorials pick the device once, at import time, into a global; that gives the
    same answer on one machine but cannot be checked for the other branch, so here it
    earns only the branch the grading machine has.)
    """),
    solution("get_device", r'''
    def get_device():
        """The device to train on.

        Returns:
            torch.device: cuda when torch.cuda.is_available(), otherwise cpu.
        """
        ### BEGIN SOLUTION
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        ### END SOLUTION
    '''),
    tests("test_get_device", 2, r'''
    _device = get_device()
    assert isinstance(_device, torch.device), \
        f"get_device() should return a torch.device, got {type(_device).__name__}"
    _expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert _device.type == _expected, \
        f"on this machine get_device() should be {_expected}, got {_device.type}"
    print(f"Visible checks passed (device: {_device}). Hidden checks run when your notebook is graded.")
    ''', part="get_device"),
    markdown(r"""
    ## 3. Mini-batches and data loaders

    Gradient descent can use the whole training set for each step (stable but slow
    per step), one sample (fast but noisy), or a *mini-batch* in between, which is
    what nearly everyone does. Common batch sizes are 32, 64, 128 or 256: larger
    batches give smoother gradients and use more memory; smaller ones are noisier,
    which can even help the model generalise.

    PyTorch serves mini-batches with a `DataLoader`. A `TensorDataset(X_tensor, y_tensor)`
    pairs row `i` of the inputs with label `i`; `DataLoader(dataset, batch_size=64,
    shuffle=True)` then yields `(inputs, labels)` batches of shapes `(64, 64)` and
    `(64,)`, in a new random order on every pass (every *epoch*). The last batch is
    shorter when the batch size does not divide the number of samples.

    Before training, set part of the data aside for validation: the model never
    trains on it, so its loss and accuracy there estimate how well the model does on
    new digits. Write `make_loaders`:

    - shuffle the row indices with a generator seeded by `seed`
      (`torch.randperm(n, generator=torch.Generator().manual_seed(seed))`), so the same
      seed always gives the same split;
    - put `round(n * val_fraction)` rows in the validation set and the rest in training;
    - the training loader shuffles; the validation loader does not (its numbers do not
      depend on the order, and a fixed order makes runs easy to compare);
    - hand out the rows of `X` as they are (the digits are already scaled to [0, 1]). If you
      ever standardise inputs, split first and compute the mean and standard deviation on the
      training rows only: statistics of all rows would leak the validation data into training.
    """),
    solution("make_loaders", r'''
    def make_loaders(X, y, batch_size=64, val_fraction=0.2, seed=0):
        """Split (X, y) into training and validation sets and wrap each in a DataLoader.

        Args:
            X: (n, d) float32 array or tensor of inputs.
            y: (n,) int64 array or tensor of class labels.
            batch_size: int, samples per batch.
            val_fraction: float, share of the rows that go to validation.
            seed: int, the only source of randomness in the split.

        Returns:
            (train_loader, val_loader): DataLoaders yielding (inputs (b, d) float32,
            labels (b,) int64) batches; the training one shuffles, the validation
            one does not.
        """
        ### BEGIN SOLUTION
        X = torch.as_tensor(X, dtype=torch.float32)  # (n, d)
        y = torch.as_tensor(y, dtype=torch.int64)    # (n,)
        n = len(X)
        n_val = int(round(n * val_fraction))
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))  # (n,)
        val_idx, train_idx = order[:n_val], order[n_val:]
        train_set = TensorDataset(X[train_idx], y[train_idx])
        val_set = TensorDataset(X[val_idx], y[val_idx])
        train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
        val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False)
        return train_loader, val_loader
        ### END SOLUTION
    '''),
    tests("test_make_loaders", 8, r'''
    _train, _val = make_loaders(X, y, batch_size=64, val_fraction=0.2, seed=0)
    _n_train, _n_val = len(_train.dataset), len(_val.dataset)
    assert _n_train + _n_val == len(X), \
        f"train and validation should share all {len(X)} rows, got {_n_train} + {_n_val}"
    assert _n_val in (359, 360), \
        f"20% of 1797 rows is 359.4, so validation should hold 359 or 360 rows, got {_n_val}"
    _inputs, _labels = next(iter(_train))
    assert tuple(_inputs.shape) == (64, 64), \
        f"a training batch should have shape (64, 64), got {tuple(_inputs.shape)}"
    assert _inputs.dtype == torch.float32 and _labels.dtype == torch.int64, \
        f"batches should be float32 inputs and int64 labels, got {_inputs.dtype} and {_labels.dtype}"
    _first = torch.cat([labels for _, labels in _val])
    _second = torch.cat([labels for _, labels in _val])
    assert torch.equal(_first, _second), \
        "two passes over the validation loader gave different orders: it should not shuffle"
    _again = make_loaders(X, y, seed=0)[1]
    assert torch.equal(_first, torch.cat([labels for _, labels in _again])), \
        "the same seed should give the same validation set"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="make_loaders"),
    markdown(r"""
    ## 4. A network as an `nn.Module`

    A PyTorch model is a class that subclasses `nn.Module`. Its `__init__` calls
    `super().__init__()` and creates the layers as attributes, which registers their
    parameters with the model (so that `model.parameters()` finds them and
    `model.to(device)` moves them). Its `forward(x)` says how an input flows through
    those layers; you call the model as `model(x)`, never `model.forward(x)`.

    Build this network:

    $$\text{Linear}(n_\text{in} \to n_\text{hidden}) \to \text{ReLU} \to
    \text{Dropout}(p) \to \text{Linear}(n_\text{hidden} \to n_\text{out})$$

    With the defaults that is $64 \cdot 128 + 128 + 128 \cdot 10 + 10 = 9{,}610$ parameters.

    - **Logits out.** `forward` returns the raw scores of the last layer, shape
      `(N, n_out)`, with no softmax. `nn.CrossEntropyLoss` applies log-softmax itself;
      a softmax inside the model would squash the scores twice and slow learning.
      The predicted class is simply the index of the largest logit.
    - **Dropout.** `nn.Dropout(p)` zeroes each hidden unit with probability `p` while
      training and scales the survivors by $1/(1-p)$, so no unit can be relied on
      alone; it acts like training many thinned networks at once and averaging them.
      After `model.eval()` it does nothing, so predictions use every unit.
    """),
    solution("MLP", r'''
    class MLP(nn.Module):
        """Linear -> ReLU -> Dropout -> Linear, returning logits."""

        def __init__(self, n_in=64, n_hidden=128, n_out=10, dropout=0.2):
            """Create the layers.

            Args:
                n_in: int, input features.
                n_hidden: int, hidden units.
                n_out: int, classes (outputs).
                dropout: float, probability of dropping each hidden unit in train mode.
            """
            super().__init__()
            ### BEGIN SOLUTION
            self.hidden = nn.Linear(n_in, n_hidden)
            self.dropout = nn.Dropout(dropout)
            self.output = nn.Linear(n_hidden, n_out)
            ### END SOLUTION

        def forward(self, x):
            """Map a batch of inputs to logits.

            Args:
                x: (N, n_in) float tensor.

            Returns:
                (N, n_out) tensor of logits (no softmax).
            """
            ### BEGIN SOLUTION
            h = torch.relu(self.hidden(x))  # (N, n_hidden)
            h = self.dropout(h)             # (N, n_hidden), units dropped in train mode only
            return self.output(h)           # (N, n_out)
            ### END SOLUTION
    '''),
    tests("test_mlp", 7, r'''
    _model = MLP()
    _out = _model(torch.zeros(5, 64))
    assert tuple(_out.shape) == (5, 10), \
        f"MLP()(x) for x of shape (5, 64) should have shape (5, 10), got {tuple(_out.shape)}"
    _count = sum(p.numel() for p in _model.parameters())
    assert _count == 9610, \
        f"MLP() should have 64*128 + 128 + 128*10 + 10 = 9610 parameters, got {_count}"
    _x = torch.rand(4, 64)
    _model.eval()
    assert torch.equal(_model(_x), _model(_x)), \
        "in eval mode the same input should give the same output (dropout off)"
    assert not torch.allclose(_model(_x).sum(dim=1), torch.ones(4)), \
        "the outputs sum to 1 per row: return logits, not probabilities"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="mlp"),
    markdown(r"""
    ## 5. One epoch of training

    An *epoch* is one pass over the training set. For each batch, do the four moves
    from the introduction, in this order:

    ```
    optimizer.zero_grad()              # 1. clear the old gradients
    outputs = model(inputs)            # 2. forward pass ...
    loss = criterion(outputs, labels)  #    ... and the batch's mean loss
    loss.backward()                    # 3. gradients of the loss, into each .grad
    optimizer.step()                   # 4. update the parameters with them
    ```

    Three more things make the loop correct:

    - **Train mode.** Call `model.train()` first. The model may arrive in eval mode
      (your `evaluate` leaves it there), and dropout only acts in train mode.
    - **The device.** Move each batch with `inputs.to(device)` and `labels.to(device)`
      before the forward pass; the model is already on `device`.
    - **The mean loss per sample.** `criterion` returns the mean loss over the batch,
      $L_b$. Batches can differ in size (the last one is often short), so the epoch's
      mean over all samples weighs each batch by its size $n_b$:

    $$\bar L = \frac{\sum_b n_b L_b}{\sum_b n_b}.$$

    With the defaults, 1,438 training digits in batches of 64 make 22 full batches
    and one of 30; averaging the 23 batch means would count each of those 30 digits
    about twice as much as the others. Use `loss.item()` to turn the loss into a
    Python float (this also drops the autograd graph, so memory does not grow).
    """),
    solution("train_one_epoch", r'''
    def train_one_epoch(model, loader, optimizer, criterion, device):
        """Train `model` for one pass over `loader`.

        Args:
            model: nn.Module already on `device`, mapping (b, d) inputs to (b, k) logits.
            loader: DataLoader yielding (inputs (b, d), labels (b,)) batches.
            optimizer: a torch.optim optimizer over the model's parameters.
            criterion: loss returning the mean over a batch, e.g. nn.CrossEntropyLoss().
            device: torch.device to move every batch to.

        Returns:
            float: the mean loss per sample over the epoch.
        """
        ### BEGIN SOLUTION
        model.train()
        total, count = 0.0, 0
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)  # (b, d), (b,)
            optimizer.zero_grad()
            outputs = model(inputs)                                # (b, k)
            loss = criterion(outputs, labels)                      # scalar, mean over the batch
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        return total / count
        ### END SOLUTION
    '''),
    tests("test_train_one_epoch", 9, r'''
    torch.manual_seed(1)
    _net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    _inputs, _labels = torch.randn(10, 4), torch.randint(0, 3, (10,))
    _loader = DataLoader(TensorDataset(_inputs, _labels), batch_size=4)  # batches of 4, 4 and 2
    _loss_fn = nn.CrossEntropyLoss()
    _cpu = torch.device("cpu")
    _net.eval()
    _frozen = train_one_epoch(_net, _loader, torch.optim.SGD(_net.parameters(), lr=0.0), _loss_fn, _cpu)
    assert isinstance(_frozen, float), \
        f"train_one_epoch should return a Python float, got {type(_frozen).__name__}"
    assert _net.training, "after train_one_epoch the model should be in train mode"
    with torch.no_grad():
        _expected = _loss_fn(_net(_inputs), _labels).item()
    assert abs(_frozen - _expected) < 1e-5, \
        f"with lr=0 the mean loss should be the loss over all 10 samples, {_expected:.6f}, got {_frozen:.6f}"
    _before = [p.detach().clone() for p in _net.parameters()]
    train_one_epoch(_net, _loader, torch.optim.SGD(_net.parameters(), lr=0.1), _loss_fn, _cpu)
    assert any(not torch.equal(a, b) for a, b in zip(_before, _net.parameters())), \
        "with lr=0.1 the weights should change"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="train"),
    markdown(r"""
    ## 6. Evaluation

    Measuring the model must not change it. Three things make sure of that:

    - `model.eval()` switches dropout off, so every hidden unit takes part;
    - `with torch.no_grad():` stops autograd from recording a graph, which saves
      memory and time (there will be no backward pass);
    - no `zero_grad`, `backward` or `step` anywhere in `evaluate`.

    Return the mean loss per sample (weighted as in training) and the accuracy, the
    fraction of samples whose largest logit is the true label: a number in [0, 1],
    not a percentage.
    """),
    solution("evaluate", r'''
    def evaluate(model, loader, criterion, device):
        """Mean loss and accuracy of `model` over `loader`, without training it.

        Args:
            model: nn.Module already on `device`, mapping (b, d) inputs to (b, k) logits.
            loader: DataLoader yielding (inputs (b, d), labels (b,)) batches.
            criterion: loss returning the mean over a batch.
            device: torch.device to move every batch to.

        Returns:
            (mean_loss, accuracy): floats; the loss is the mean per sample and the
            accuracy the fraction of correct predictions, in [0, 1].
        """
        ### BEGIN SOLUTION
        model.eval()
        total, correct, count = 0.0, 0, 0
        with torch.no_grad():
            for inputs, labels in loader:
                inputs, labels = inputs.to(device), labels.to(device)  # (b, d), (b,)
                outputs = model(inputs)                                # (b, k)
                total += criterion(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
        return total / count, correct / count
        ### END SOLUTION
    '''),
    tests("test_evaluate", 8, r'''
    torch.manual_seed(2)
    _net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    _inputs, _labels = torch.randn(10, 4), torch.randint(0, 3, (10,))
    _loader = DataLoader(TensorDataset(_inputs, _labels), batch_size=4)
    _state = {k: v.clone() for k, v in _net.state_dict().items()}
    _net.train()
    _loss, _acc = evaluate(_net, _loader, nn.CrossEntropyLoss(), torch.device("cpu"))
    assert not _net.training, "evaluate should put the model in eval mode"
    assert 0.0 <= _acc <= 1.0, f"accuracy should be a fraction in [0, 1], got {_acc}"
    assert all(torch.equal(_state[k], v) for k, v in _net.state_dict().items()), \
        "evaluate must not change the parameters"
    with torch.no_grad():
        _logits = _net(_inputs)
    _expected = nn.CrossEntropyLoss()(_logits, _labels).item()
    assert abs(_loss - _expected) < 1e-5, \
        f"the mean loss over the 10 samples in eval mode is {_expected:.6f}, got {_loss:.6f}"
    _right = (_logits.argmax(dim=1) == _labels).sum().item() / len(_labels)
    assert abs(_acc - _right) < 1e-9, f"the accuracy should be {_right}, got {_acc}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="evaluate"),
    markdown(r"""
    ## 7. Optimisers, the learning rate, and `fit`

    Plain stochastic gradient descent moves every weight against its gradient,
    scaled by the learning rate $\alpha$:

    $$W \leftarrow W - \alpha \, \nabla_W L.$$

    *Momentum* keeps a running velocity $v \leftarrow \beta v + \nabla L$ and steps
    along $v$ instead, like a ball rolling downhill. **Adam** goes further: it keeps
    a running average of each parameter's gradient (momentum) and of its square, and
    divides one by the square root of the other, so each parameter gets its own step
    size. It usually works well with its defaults, which makes it a good first choice;
    well-tuned SGD with momentum can still match or beat it.

    The learning rate is the most important setting. Too high and the loss jumps
    around or explodes; too low and it creeps down, or gets stuck. Good starting
    points are $10^{-3}$ for Adam and $10^{-2}$ for SGD; if the loss explodes, divide
    by 10, and if it barely moves, multiply by 3 to 10.

    Write `fit`: resolve the device (`None` means `get_device()`), move the model
    there, build `torch.optim.Adam(model.parameters(), lr=lr)` and
    `nn.CrossEntropyLoss()` once, then for each epoch call `train_one_epoch` and
    `evaluate` on the validation loader, and record the three numbers.
    """),
    solution("fit", r'''
    def fit(model, train_loader, val_loader, epochs=20, lr=1e-3, device=None):
        """Train `model` with Adam and cross-entropy, evaluating after every epoch.

        Args:
            model: nn.Module mapping (b, d) inputs to (b, k) logits.
            train_loader: DataLoader of training batches.
            val_loader: DataLoader of validation batches.
            epochs: int, passes over the training data.
            lr: float, Adam's learning rate.
            device: torch.device, or None for get_device().

        Returns:
            dict with lists of `epochs` floats: "train_loss" (from train_one_epoch),
            "val_loss" and "val_acc" (from evaluate on val_loader).
        """
        ### BEGIN SOLUTION
        if device is None:
            device = get_device()
        model.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        criterion = nn.CrossEntropyLoss()
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        for _ in range(epochs):
            history["train_loss"].append(train_one_epoch(model, train_loader, optimizer, criterion, device))
            val_loss, val_acc = evaluate(model, val_loader, criterion, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        return history
        ### END SOLUTION
    '''),
    tests("test_fit", 11, r'''
    torch.manual_seed(3)
    _inputs = torch.randn(64, 4)
    _labels = (_inputs[:, 0] + _inputs[:, 1] > 0).long()  # an easy rule to learn
    _train = DataLoader(TensorDataset(_inputs[:48], _labels[:48]), batch_size=8, shuffle=True)
    _val = DataLoader(TensorDataset(_inputs[48:], _labels[48:]), batch_size=8)
    _net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    _hist = fit(_net, _train, _val, epochs=15, lr=0.01, device=torch.device("cpu"))
    assert isinstance(_hist, dict), f"fit should return a dict, got {type(_hist).__name__}"
    for _key in ("train_loss", "val_loss", "val_acc"):
        assert _key in _hist and len(_hist[_key]) == 15, \
            f"history[{_key!r}] should hold 15 values, one per epoch"
    assert _hist["train_loss"][-1] < _hist["train_loss"][0], \
        f"the training loss should fall, got {_hist['train_loss'][0]:.3f} -> {_hist['train_loss'][-1]:.3f}"
    assert _hist["val_acc"][-1] >= 0.75, \
        f"on this easy rule the validation accuracy should reach 0.75, got {_hist['val_acc'][-1]:.3f}"
    print("Visible checks passed. Hidden checks run when your notebook is graded.")
    ''', part="fit"),
    markdown(r"""
    ## 8. Training on the digits

    Time to put it together. The cell below trains `MLP()` for 20 epochs with Adam
    on 80% of the digits and evaluates on the other 20% after every epoch. On a
    laptop CPU it takes a second or two.
    """),
    locked("train_digits", r"""
    device = get_device()
    train_loader, val_loader = make_loaders(X, y, batch_size=64, val_fraction=0.2, seed=0)
    model = MLP()
    history = fit(model, train_loader, val_loader, epochs=20, lr=1e-3, device=device)
    print(f"trained on {device}; validation accuracy after {len(history['val_acc'])} epochs: "
          f"{history['val_acc'][-1]:.3f}")
    """),
    markdown(r"""
    The loss curves show how training went. Both losses should fall quickly and
    then flatten; the validation accuracy should end well above 0.9. If the
    validation loss turned upwards while the training loss kept falling, the model
    would be starting to overfit (the next assignment is about exactly that).
    """),
    locked("plot_history", r"""
    epochs_run = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax_loss.plot(epochs_run, history["train_loss"], marker="o", label="training")
    ax_loss.plot(epochs_run, history["val_loss"], marker="o", label="validation")
    ax_loss.set(title="Mean cross-entropy per epoch", xlabel="epoch", ylabel="loss per sample")
    ax_loss.legend()
    ax_acc.plot(epochs_run, history["val_acc"], marker="o", color="tab:green")
    ax_acc.set(title="Validation accuracy per epoch", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    fig.tight_layout()
    plt.show()
    """),
    markdown(r"""
    Finally, look at some predictions. Each image shows the predicted digit and, in
    brackets, the true one; mistakes are in red. The mistakes are often digits a
    person would hesitate over too.
    """),
    locked("prediction_grid", r"""
    images, truth = next(iter(val_loader))
    model.eval()
    with torch.no_grad():
        guesses = model(images.to(device)).argmax(dim=1).cpu()
    fig, axes = plt.subplots(3, 8, figsize=(10, 4.2))
    for ax, image, label, guess in zip(axes.flat, images, truth, guesses):
        ax.imshow(image.reshape(8, 8).numpy(), cmap="gray_r")
        ax.set_title(f"{guess.item()} ({label.item()})", fontsize=10,
                     color="tab:green" if guess == label else "tab:red")
        ax.axis("off")
    fig.suptitle("Validation digits: predicted (true)")
    fig.tight_layout()
    plt.show()
    """),
    markdown(r"""
    **Try it (not graded).** Train again with `lr=1e-1` and with `lr=1e-5`, or with
    `torch.optim.SGD` in place of Adam, and compare the curves with the ones above.

    ## 9. What if `zero_grad` is missing?

    A classmate's loop calls `loss.backward()` and `optimizer.step()` for every batch
    but never `optimizer.zero_grad()`. It runs without an error and the loss even goes
    down for a while. What happens to the gradients from one step to the next, and
    what does that do to the updates and to training? Why does PyTorch not clear
    gradients for you?
    """),
    free_response("zero_grad_answer", 3, r"""
    PyTorch *adds* each new gradient to whatever is already in a parameter's `.grad`.
    Without `zero_grad`, the gradient used at step $t$ is the sum of the gradients of
    every batch so far, not the gradient of the current batch. Old batches, computed
    at old weights that no longer exist, keep pushing the update, and the sum grows
    with every step, so the effective step size grows too. Training follows a stale,
    ever larger direction: it learns slowly or oscillates, can diverge with plain SGD,
    and (with Adam, which rescales the size) settles at a worse model; on the digits
    it ends several points of accuracy below the correct loop. Nothing crashes,
    which is why the bug is easy to miss. PyTorch accumulates on purpose, because
    summing gradients is sometimes what you want: several losses on one graph, or
    gradient accumulation over several small batches when one big batch does not fit
    in memory, followed by a single step. So clearing is left to the loop, once per
    step, before `loss.backward()`.
    """),
]


if __name__ == "__main__":
    write_notebook(ROOT / "source" / ID / f"{ID}.ipynb", CELLS)
