"""Grader helpers that run inside the student's process for a4_pytorch_loop.

They build loaders from arrays the grader sends and record what the student's
code does with them: which batches were moved to which device, the order of
backward and step, the model's mode while it ran. The grader reads these
records for clear messages; a check never passes on a record alone (the suite
also compares returned values and final weights with its own re-run).

Nothing here holds hidden inputs or answers.
"""

import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data._utils.collate import default_collate

MIXED_DEVICES = (
    "Expected all tensors to be on the same device, but a batch from the loader was used "
    "with the model's tensors before it was moved with .to(device)"
)


def set_seed(seed):
    """Seed the student process's torch generators (weights, dropout masks)."""
    torch.manual_seed(int(seed))


# --- loaders -----------------------------------------------------------------------

class MoveLog:
    """Batches a loader handed out, and every move of one of them to a device."""

    def __init__(self):
        self.batches = 0
        self.moves = []  # (batch number, "inputs" or "labels", device the copy landed on)


def _target_device(args, kwargs):
    """The device a ``Tensor.to`` call asks for, or None for a dtype-only conversion."""
    if "device" in kwargs and kwargs["device"] is not None:
        return torch.device(kwargs["device"])
    for arg in args:
        if isinstance(arg, (torch.device, str)):
            return torch.device(arg)
        if isinstance(arg, int) and not isinstance(arg, bool):
            return torch.device("cuda", arg)
        if isinstance(arg, torch.Tensor):
            return arg.device
    return None


class HostBatch(torch.Tensor):
    """A batch as the loader hands it out, still in host memory.

    ``.to(device)`` (or ``.cuda()``) records the move and returns an ordinary
    tensor. Before that, the batch refuses to meet any other tensor, just as a
    CPU tensor cannot meet a CUDA model: code that forgets to move its batches
    fails the same way on a CPU runner as on a GPU one.
    """

    def _tagged(self, source):
        self._nngrade = getattr(source, "_nngrade", None)
        return self

    def _record(self, out):
        tag = getattr(self, "_nngrade", None)
        if tag is not None:
            log, number, role = tag
            log.moves.append((number, role, str(out.device)))
        return out

    def to(self, *args, **kwargs):
        device = _target_device(args, kwargs)
        with torch._C.DisableTorchFunctionSubclass():
            out = torch.Tensor.to(self, *args, **kwargs)
            if device is None:
                return out.as_subclass(HostBatch)._tagged(self)
            out = out.as_subclass(torch.Tensor)
        return self._record(out)

    def cuda(self, *args, **kwargs):
        with torch._C.DisableTorchFunctionSubclass():
            out = torch.Tensor.cuda(self, *args, **kwargs).as_subclass(torch.Tensor)
        return self._record(out)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat = list(_flatten(args)) + list(_flatten(kwargs.values()))
        hosts = [a for a in flat if isinstance(a, HostBatch)]
        others = [a for a in flat
                  if isinstance(a, torch.Tensor) and not isinstance(a, HostBatch) and a.dim() > 0]
        if hosts and others:
            raise RuntimeError(MIXED_DEVICES)
        out = super().__torch_function__(func, types, args, kwargs)
        if hosts:
            for item in _flatten([out]):
                if isinstance(item, HostBatch):
                    item._tagged(hosts[0])
        return out


def _flatten(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            yield v


def _host_collate(log):
    def collate(samples):
        inputs, labels = default_collate(samples)
        number = log.batches
        log.batches += 1
        inputs = inputs.as_subclass(HostBatch)
        labels = labels.as_subclass(HostBatch)
        inputs._nngrade = (log, number, "inputs")
        labels._nngrade = (log, number, "labels")
        return inputs, labels

    return collate


def make_loader(X, y, batch_size, shuffle=False, seed=0, host=False):
    """A DataLoader over ``(X, y)``; with ``host=True`` its batches are HostBatch tensors.

    A shuffled loader draws its order from its own generator seeded with ``seed``.
    """
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    generator = torch.Generator().manual_seed(int(seed)) if shuffle else None
    log = MoveLog()
    collate = _host_collate(log) if host else None
    loader = DataLoader(dataset, batch_size=int(batch_size), shuffle=bool(shuffle),
                        generator=generator, collate_fn=collate)
    loader.nngrade_log = log
    return loader


def moves(loader):
    """How many batches the loader handed out, and the moves recorded on them."""
    log = loader.nngrade_log
    return {"batches": log.batches, "moves": list(log.moves)}


def loader_contents(loader):
    """One pass over any loader of (inputs, labels) batches: the batches concatenated, and their sizes."""
    xs, ys, sizes = [], [], []
    for batch in loader:
        inputs, labels = batch
        inputs, labels = torch.as_tensor(inputs), torch.as_tensor(labels)
        xs.append(inputs.detach().cpu())
        ys.append(labels.detach().cpu())
        sizes.append(len(labels))
    return {"X": torch.cat(xs) if xs else torch.empty(0), "y": torch.cat(ys) if ys else torch.empty(0),
            "sizes": sizes, "x_dtype": str(xs[0].dtype) if xs else "",
            "y_dtype": str(ys[0].dtype) if ys else ""}


# --- the training loop -------------------------------------------------------------

class RecordingSGD(torch.optim.SGD):
    """Plain SGD that records, in order, each backward pass, zero_grad call and step.

    ``watched`` is one parameter (the output bias). When backward reaches it, the
    record says whether its gradient had been cleared first; at each step, whether
    there was a gradient to apply. This works whichever way the code clears
    gradients (optimizer.zero_grad, model.zero_grad, set_to_none or not).
    """

    def __init__(self, params, lr, watched):
        super().__init__(params, lr=lr)
        self.nngrade_events = []
        self._watched = watched
        watched.register_hook(self._on_backward)

    def _cleared(self):
        grad = self._watched.grad
        return grad is None or not bool(grad.detach().any())

    def _on_backward(self, grad):
        self.nngrade_events.append(("backward", self._cleared()))

    def zero_grad(self, set_to_none=True):
        self.nngrade_events.append(("zero_grad", None))
        super().zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        self.nngrade_events.append(("step", not self._cleared()))
        return super().step(closure)


def recording_sgd(model, lr):
    """A RecordingSGD over ``model``'s parameters, watching its last parameter."""
    params = list(model.parameters())
    return RecordingSGD(params, lr, params[-1])


def events(optimizer):
    """The events a RecordingSGD saw."""
    return list(optimizer.nngrade_events)


def cross_entropy():
    """A fresh ``nn.CrossEntropyLoss()`` (mean over the batch), made in the student's process."""
    return torch.nn.CrossEntropyLoss()


class ModeRecorder:
    """Records, for every forward call of a model, its mode and whether autograd was on."""

    def __init__(self, model):
        self.records = []
        model.register_forward_pre_hook(self._before)
        model.register_forward_hook(self._after)

    def _before(self, module, inputs):
        modes = {m.training for m in module.modules()}
        mode = "train" if modes == {True} else "eval" if modes == {False} else "mixed"
        self.records.append({"mode": mode, "grad_enabled": torch.is_grad_enabled()})

    def _after(self, module, inputs, output):
        self.records[-1]["output_requires_grad"] = bool(getattr(output, "requires_grad", False))


def watch_modes(model):
    """Start recording ``model``'s forward calls."""
    return ModeRecorder(model)


def mode_records(recorder):
    """What a ModeRecorder saw."""
    return list(recorder.records)


class ModelMoves:
    """Records every ``model.to(...)`` / ``model.cuda()`` call on one model instance."""

    def __init__(self, model):
        self.devices = []
        to, cuda = model.to, model.cuda

        def recording_to(*args, **kwargs):
            device = _target_device(args, kwargs)
            if device is not None:
                self.devices.append(str(device))
            return to(*args, **kwargs)

        def recording_cuda(*args, **kwargs):
            self.devices.append("cuda")
            return cuda(*args, **kwargs)

        object.__setattr__(model, "to", recording_to)
        object.__setattr__(model, "cuda", recording_cuda)


def watch_moves(model):
    """Start recording the devices ``model`` is asked to move to."""
    return ModelMoves(model)


def model_moves(watcher):
    """The devices a ModelMoves saw requested."""
    return list(watcher.devices)


def parameter_devices(model):
    """The devices ``model``'s parameters live on."""
    return sorted({str(p.device) for p in model.parameters()})


# --- devices -----------------------------------------------------------------------

class _FakeCuda:
    """While active, torch reports CUDA as available (one device) or not, whatever the machine has."""

    def __init__(self, available):
        self.available = bool(available)

    def __enter__(self):
        self.real = torch.cuda.is_available, torch.cuda.device_count
        torch.cuda.is_available = lambda: self.available
        torch.cuda.device_count = lambda: 1 if self.available else 0

    def __exit__(self, *exc):
        torch.cuda.is_available, torch.cuda.device_count = self.real


def _outcome(fn, args, kwargs):
    """``("ok", result)``, or ``("raised", "Type: message")`` when the student's code raised."""
    try:
        return "ok", fn(*args, **kwargs)
    except Exception as exc:  # the student's code raised: reported to the grader as text
        return "raised", f"{type(exc).__name__}: {exc}"[:500]


def call_with_cuda(fn, available):
    """Call ``fn()`` while torch reports CUDA as available (or not); describe what it returned.

    The result is described as text because a CUDA device would be mapped to
    the CPU on a grader without a GPU.
    """
    with _FakeCuda(available):
        status, out = _outcome(fn, (), {})
    if status != "ok":
        return {"raised": out}
    is_device = isinstance(out, torch.device)
    return {"raised": "", "type": type(out).__name__, "device": str(out) if is_device else "",
            "device_type": out.type if is_device else ""}


def call_without_cuda(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` while torch reports that no CUDA device is available.

    Returns ``("ok", result)`` or ``("raised", "Type: message")``.
    """
    with _FakeCuda(False):
        return _outcome(fn, args, kwargs)
