"""Known-wrong submissions of a4_pytorch_loop: each must fail exactly the checks it names.

The sets are the same on a CPU and a CUDA runner: batches that are never moved
fail on a CPU runner too, because the suite's loaders hand out batches that
refuse to meet the model's tensors before `.to(device)` (as on a GPU), and fit
must be seen moving the model with `model.to(device)`.

Read by `autograder.authoring.known_wrong.load_mutants` (for `nngrade validate`, the tests and
the demo), never while grading a student: it is not a `test_*` module and the grader does not import it.
"""

from autograder.authoring.known_wrong import Mutant

TRAIN_STEP = """        optimizer.zero_grad()
        outputs = model(inputs)                                # (b, k)
        loss = criterion(outputs, labels)                      # scalar, mean over the batch
        loss.backward()
        optimizer.step()
"""

MUTANTS = [
    Mutant(
        name="no_zero_grad",
        description="train_one_epoch never clears the gradients, so every step applies the sum of all "
                    "gradients so far",
        patch=[(TRAIN_STEP, TRAIN_STEP.replace("        optimizer.zero_grad()\n", ""))],
        fails={"train::test_loop_order", "fit::test_adam_and_lr", "fit::test_heldout_accuracy",
               "fit::test_on_device", "fit::test_default_device"},
    ),
    Mutant(
        name="zero_grad_between_backward_and_step",
        description="zero_grad runs after backward and before step, so step never sees a gradient",
        patch=[(TRAIN_STEP, TRAIN_STEP.replace("        optimizer.zero_grad()\n", "").replace(
            "        loss.backward()\n", "        loss.backward()\n        optimizer.zero_grad()\n"))],
        fails={"train::test_loop_order", "fit::test_adam_and_lr", "fit::test_heldout_accuracy",
               "fit::test_on_device", "fit::test_default_device"},
    ),
    Mutant(
        name="step_before_backward",
        description="optimizer.step() runs before loss.backward(), so it applies no gradient",
        patch=[(TRAIN_STEP, TRAIN_STEP.replace("        loss.backward()\n        optimizer.step()\n",
                                               "        optimizer.step()\n        loss.backward()\n"))],
        fails={"train::test_loop_order", "fit::test_adam_and_lr", "fit::test_heldout_accuracy",
               "fit::test_on_device", "fit::test_default_device"},
    ),
    Mutant(
        name="no_model_train",
        description="train_one_epoch never calls model.train(), so after the first evaluate it trains "
                    "in eval mode without dropout",
        patch=[("    model.train()\n    total, count = 0.0, 0\n", "    total, count = 0.0, 0\n")],
        fails={"train::test_train_mode"},
    ),
    Mutant(
        name="evaluate_without_eval",
        description="evaluate never calls model.eval(), so dropout stays on while measuring",
        patch=[("    model.eval()\n    total, correct, count = 0.0, 0, 0\n",
                "    total, correct, count = 0.0, 0, 0\n")],
        fails={"evaluate::test_eval_mode"},
    ),
    Mutant(
        name="evaluate_without_no_grad",
        description="evaluate runs the model with autograd on (no torch.no_grad())",
        patch=[("    with torch.no_grad():\n        for inputs, labels in loader:\n",
                "    if True:\n        for inputs, labels in loader:\n")],
        fails={"evaluate::test_no_grad_params_unchanged"},
    ),
    Mutant(
        name="train_batches_left_on_cpu",
        description="train_one_epoch feeds the loader's batches to the model without .to(device)",
        patch=[(("        inputs, labels = inputs.to(device), labels.to(device)  # (b, d), (b,)\n"
                "        optimizer.zero_grad()\n"), "        optimizer.zero_grad()\n")],
        fails={"train::test_batches_on_device", "fit::test_on_device", "fit::test_default_device",
               "fit::test_heldout_accuracy"},
    ),
    Mutant(
        name="evaluate_batches_left_on_cpu",
        description="evaluate feeds the loader's batches to the model without .to(device)",
        patch=[(("            inputs, labels = inputs.to(device), labels.to(device)  # (b, d), (b,)\n"
                "            outputs = model(inputs)"), "            outputs = model(inputs)")],
        fails={"evaluate::test_batches_on_device", "fit::test_on_device", "fit::test_default_device",
               "fit::test_heldout_accuracy"},
    ),
    Mutant(
        name="mean_of_batch_means",
        description="train_one_epoch averages the batch means, so a short last batch weighs as much as a "
                    "full one",
        patch=[("        total += loss.item() * len(labels)\n        count += len(labels)\n",
                "        total += loss.item()\n        count += 1\n")],
        fails={"train::test_mean_loss_per_sample"},
    ),
    Mutant(
        name="softmax_in_forward",
        description="MLP.forward returns softmax probabilities instead of logits",
        patch=[("        return self.output(h)           # (N, n_out)",
                "        return torch.softmax(self.output(h), dim=1)")],
        fails={"mlp::test_forward_returns_logits"},
    ),
    Mutant(
        name="no_dropout",
        description="MLP.forward skips the dropout layer",
        patch=[("        h = self.dropout(h)             # (N, n_hidden), units dropped in train mode only\n",
                "")],
        fails={"mlp::test_dropout_train_only"},
    ),
    Mutant(
        name="shuffled_validation",
        description="the validation loader shuffles too",
        patch=[("val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False)",
                "val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=True)")],
        fails={"make_loaders::test_val_not_shuffled"},
    ),
    Mutant(
        name="unseeded_split",
        description="the split comes from the global random state, not from `seed`",
        patch=[("order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))  # (n,)",
                "order = torch.randperm(n)  # (n,)")],
        fails={"make_loaders::test_split_fixed_by_seed"},
    ),
    Mutant(
        name="labels_not_split_with_rows",
        description="make_loaders permutes the inputs but keeps the labels in their original order",
        patch=[(("    train_set = TensorDataset(X[train_idx], y[train_idx])\n"
                "    val_set = TensorDataset(X[val_idx], y[val_idx])\n"),
                ("    train_set = TensorDataset(X[train_idx], y[n_val:])\n"
                "    val_set = TensorDataset(X[val_idx], y[:n_val])\n"))],
        fails={"make_loaders::test_split_sizes_disjoint"},
    ),
    Mutant(
        name="fit_with_sgd",
        description="fit trains with plain SGD instead of Adam",
        patch=[("optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
                "optimizer = torch.optim.SGD(model.parameters(), lr=lr)")],
        fails={"fit::test_adam_and_lr", "fit::test_heldout_accuracy", "fit::test_on_device",
               "fit::test_default_device"},
    ),
    Mutant(
        name="fit_model_not_moved",
        description="fit never moves the model to the device (it only works when the model is already there)",
        patch=[("        device = get_device()\n    model.to(device)\n", "        device = get_device()\n")],
        fails={"fit::test_on_device", "fit::test_default_device", "fit::test_heldout_accuracy"},
    ),
    Mutant(
        name="get_device_always_cpu",
        description="get_device returns the CPU even when CUDA is available",
        patch=[('return torch.device("cuda" if torch.cuda.is_available() else "cpu")',
                'return torch.device("cpu")')],
        fails={"get_device::test_get_device"},
    ),
    Mutant(
        name="fit_trains_nothing",
        description="fit moves the model and every batch to the device and fills the history from evaluate, "
                    "but never takes an optimizer step",
        replace={"fit": '''
def fit(model, train_loader, val_loader, epochs=20, lr=1e-3, device=None):
    if device is None:
        device = get_device()
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        train_loss, _ = evaluate(model, train_loader, criterion, device)
        val_loss, val_acc = evaluate(model, val_loader, criterion, device)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history
'''},
        fails={"fit::test_adam_and_lr", "fit::test_on_device", "fit::test_default_device",
               "fit::test_heldout_accuracy"},
    ),
    Mutant(
        name="get_device_at_import",
        description="the device is decided once, at import time, into a global (as the PyTorch quickstart "
                    "does); the notebook asks for the decision inside get_device",
        replace={"get_device": '''
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def get_device():
    return DEVICE
'''},
        fails={"get_device::test_get_device"},
    ),
    Mutant(
        name="scaler_fit_on_all_rows",
        description="make_loaders standardises the inputs with the mean and std of all rows before the split, "
                    "so validation rows leak into the training inputs",
        patch=[("X = torch.as_tensor(X, dtype=torch.float32)  # (n, d)",
                ("X = torch.as_tensor(X, dtype=torch.float32)  # (n, d)\n"
                "    X = (X - X.mean(dim=0)) / (X.std(dim=0) + 1e-8)"))],
        fails={"make_loaders::test_split_sizes_disjoint"},
    ),
]
