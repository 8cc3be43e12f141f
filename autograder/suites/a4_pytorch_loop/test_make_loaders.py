"""Hidden checks of make_loaders(X, y, batch_size, val_fraction, seed).

The grader sends arrays whose first column numbers the rows, then reads the
loaders back (one pass each, by a helper in the student's process) to see
which rows went where and in what order.
"""

import math

import numpy as np
import pytest
import torch

from autograder.testing import expect, points

SEED = 4401


def _numbered(n: int, d: int = 3, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Float32 rows whose column 0 is the row number; labels follow the row (row * 7 % 10)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d)).astype(np.float32)
    X[:, 0] = np.arange(n, dtype=np.float32)
    y = (np.arange(n) * 7 % 10).astype(np.int64)
    return X, y


def _read(student, loader, what: str) -> dict:
    """One pass over a student's loader: the row numbers in order, labels and batch sizes."""
    got = student.helper("loader_contents", loader)
    X, y = got["X"], got["y"]
    expect(X.dim() == 2 and len(X) == len(y), f"{what}: batches should be (inputs (b, d), labels (b,)) pairs")
    X64 = X.to(torch.float64).numpy()
    rows = np.round(X64[:, 0]).astype(np.int64)
    return {"rows": rows, "key": X64[:, 0].copy(), "X": X64, "y": y.numpy(), "sizes": got["sizes"],
            "x_dtype": got["x_dtype"], "y_dtype": got["y_dtype"]}


def _recover_rows(X: np.ndarray, train: dict, val: dict) -> str | None:
    """When the loaders hand out transformed inputs, find the rows again; say whether the transform leaks.

    The inputs' column 0 numbers the rows. A per-column shift and scale (a standard or min-max
    scaler) keeps column 0 an evenly spaced copy of 0..n-1, so the row numbers can be read back
    (they replace ``rows`` in both dicts). Returns None when the inputs are X's rows as they are or
    were scaled with statistics of the training rows only; "leak" when the scaling used statistics
    of all rows (validation included); "changed" when the inputs are not X's rows in any such form.
    """
    n = len(X)
    both = np.concatenate([train["X"], val["X"]])
    if len(both) == n and np.all((train["rows"] >= 0) & (train["rows"] < n)) and \
            np.all((val["rows"] >= 0) & (val["rows"] < n)) and \
            np.allclose(both, X[np.concatenate([train["rows"], val["rows"]])], rtol=0, atol=1e-6):
        return None
    v = both[:, 0]
    if len(v) != n or n < 3:
        return "changed"
    lo, step = float(v.min()), (float(v.max()) - float(v.min())) / (n - 1)
    if not step > 0:
        return "changed"
    rows = np.round((v - lo) / step).astype(np.int64)
    if sorted(rows.tolist()) != list(range(n)) or not np.allclose((v - lo) / step, rows, atol=1e-3):
        return "changed"
    k = len(train["X"])
    train["rows"], val["rows"] = rows[:k], rows[k:]
    # the scaler's centre in row-number units: v = (row - centre) / scale
    centre = -lo / step
    train_rows = rows[:k].astype(np.float64)
    fits_train = min(abs(centre - train_rows.mean()), abs(centre - train_rows.min())) < 1e-3
    fits_all = min(abs(centre - (n - 1) / 2), abs(centre)) < 1e-3
    if fits_train:
        return None
    return "leak" if fits_all else "changed"


def _split(student, X, y, **kw):
    train, val = student.make_loaders(X, y, **kw)
    got_train, got_val = _read(student, train, "the train loader"), _read(student, val, "the validation loader")
    got_train["transform"] = _recover_rows(X, got_train, got_val)
    return got_train, got_val, (train, val)


CASES = [  # (n, batch_size, val_fraction)
    (50, 8, 0.2),
    (37, 5, 0.3),
    (101, 16, 0.25),
]


@pytest.mark.parametrize("n,batch_size,val_fraction", CASES, ids=["n50", "n37", "n101"])
@points(1, hint="Permute the row indices with a generator seeded by `seed`, put the first "
                "round(n * val_fraction) in validation and the rest in training; every row goes to "
                "exactly one side, with its own label.")
def test_split_sizes_disjoint(student, n, batch_size, val_fraction):
    """train and validation share out every row exactly once, in the right sizes and batch size"""
    X, y = _numbered(n)
    call = f"make_loaders(X, y, batch_size={batch_size}, val_fraction={val_fraction}) on {n} rows"
    train, val, _ = _split(student, X, y, batch_size=batch_size, val_fraction=val_fraction, seed=3)
    expect(train["transform"] != "leak",
           f"{call}: the inputs in the loaders were standardised (shifted and scaled per column) with "
           "statistics of all rows, validation rows included: that leaks the validation data into training "
           "through the standardisation. Split first, then fit the scaler on the training rows only (or hand "
           "out X's rows unchanged: the digits are already in [0, 1])")
    expect(train["transform"] != "changed",
           f"{call}: the inputs in the loaders are not the rows of X (make_loaders should hand out X's rows "
           "unchanged, or scaled with statistics of the training rows only)")
    n_val, n_train = len(val["rows"]), len(train["rows"])
    allowed = sorted({math.floor(n * val_fraction), math.ceil(n * val_fraction)})
    expect(n_val in allowed, f"{call}: the validation set should hold {' or '.join(map(str, allowed))} rows, "
                             f"got {n_val}")
    expect(n_train + n_val == n, f"{call}: train and validation should hold {n} rows together, "
                                 f"got {n_train} + {n_val}")
    both = np.concatenate([train["rows"], val["rows"]])
    expect(len(set(train["rows"]) & set(val["rows"])) == 0,
           f"{call}: {len(set(train['rows']) & set(val['rows']))} rows are in both train and validation")
    expect(sorted(both.tolist()) == list(range(n)), f"{call}: some rows are missing or repeated")
    for name, part in (("train", train), ("validation", val)):
        expect(np.array_equal(part["y"], part["rows"] * 7 % 10),
               f"{call}: the {name} labels no longer match their rows (shuffle X and y together)")
        expect(part["sizes"][0] == min(batch_size, len(part["rows"])),
               f"{call}: the first {name} batch should hold {batch_size} rows, got {part['sizes'][0]}")
        expect(part["x_dtype"] == "torch.float32" and part["y_dtype"] == "torch.int64",
               f"{call}: {name} batches should be float32 inputs and int64 labels, got "
               f"{part['x_dtype']} and {part['y_dtype']}")


@points(1, hint="With the defaults, 20% of the rows go to validation in batches of 64.")
def test_defaults(student):
    """the defaults are batch_size=64, val_fraction=0.2"""
    X, y = _numbered(400)
    train, val, _ = _split(student, X, y)
    expect(len(val["rows"]) == 80, f"make_loaders(X, y) on 400 rows: expected 80 validation rows "
                                   f"(val_fraction=0.2), got {len(val['rows'])}")
    expect(train["sizes"][0] == 64, f"make_loaders(X, y): expected batches of 64, got {train['sizes'][0]}")


@points(2, hint="Draw the split from a generator seeded by `seed`, e.g. "
                "`torch.randperm(n, generator=torch.Generator().manual_seed(seed))`, not from the "
                "global random state.")
def test_split_fixed_by_seed(student):
    """the same seed gives the same split every time; different seeds give different splits"""
    X, y = _numbered(60)
    sets = {}
    for label, seed in (("first", 5), ("second", 5), ("other", 6)):
        train, val, _ = _split(student, X, y, batch_size=16, val_fraction=0.25, seed=seed)
        sets[label] = (frozenset(train["rows"].tolist()), frozenset(val["rows"].tolist()))
    expect(sets["first"] == sets["second"],
           "make_loaders(..., seed=5) called twice gave two different splits: the split should depend "
           "only on the seed")
    expect(sets["first"] != sets["other"],
           "make_loaders with seed=5 and seed=6 gave the same split: the seed should choose the split")


@points(1, hint="Pass `shuffle=False` to the validation DataLoader (and `shuffle=True` to the training one).")
def test_val_not_shuffled(student):
    """the validation loader gives its rows in the same order on every pass"""
    X, y = _numbered(80)
    _, val = student.make_loaders(X, y, batch_size=8, val_fraction=0.5, seed=1)
    passes = [_read(student, val, "the validation loader")["key"] for _ in range(3)]
    expect(all(np.array_equal(passes[0], p) for p in passes[1:]),
           "three passes over the validation loader gave different orders: do not shuffle validation data")


@points(1, hint="Pass `shuffle=True` to the training DataLoader so every epoch sees a new order.")
def test_train_shuffled(student):
    """the training loader gives a new order on each pass"""
    X, y = _numbered(80)
    train, _ = student.make_loaders(X, y, batch_size=8, val_fraction=0.5, seed=1)
    passes = [_read(student, train, "the train loader")["key"] for _ in range(3)]
    expect(not all(np.array_equal(passes[0], p) for p in passes[1:]),
           "three passes over the training loader gave the same order: shuffle the training data")
