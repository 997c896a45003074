"""Mutants and alternatives for notebook 01 (make_train_step, make_val_step).

Most mutants are one-line edits of the solution itself (`patched`): the bugs students make here
are a line missing, doubled or out of order.
"""

import torch

from autograder.mutants import alternative, mutant, patched

A = "01_pytorch_regression"
STEP, ZERO = "        optimizer.step()\n", "        optimizer.zero_grad()\n"

patched(
    A,
    "make_train_step",
    "return loss.item()",
    "return loss",
    "train_step_returns_python_float",
    name="train_step_returning_tensor",
    description="Returns the loss tensor instead of loss.item().",
)
patched(
    A,
    "make_train_step",
    "return loss.item()",
    "return loss_fn(model(x), y).item()",
    "train_step_returns_loss_before_update",
    "train_step_one_forward_one_step",
    name="train_step_returning_loss_after_update",
    description="Recomputes the loss after the step and returns that one.",
)
patched(
    A,
    "make_train_step",
    STEP,
    STEP + STEP,
    "train_step_one_forward_one_step",
    name="train_step_stepping_twice",
    description="Calls optimizer.step() twice (a copy-paste slip).",
)
patched(
    A,
    "make_train_step",
    STEP + ZERO,
    ZERO + STEP,
    "train_step_makes_the_exact_sgd_update",
    "training_recovers_line",
    name="train_step_zeroing_before_step",
    description="Zeroes the gradients between backward() and step(): nothing is learned.",
)
patched(
    A,
    "make_train_step",
    ZERO,
    "",
    "train_step_does_not_accumulate_gradients",
    name="train_step_without_zero_grad",
    description="Never zeroes the gradients: they accumulate across calls.",
)
patched(
    A,
    "make_train_step",
    "        model.train()\n",
    "",
    "train_step_uses_train_mode",
    name="train_step_without_train_mode",
    description="Forgets model.train(), so after a validation step it trains in eval mode.",
)
patched(
    A,
    "make_train_step",
    "loss.backward()",
    "(-loss).backward()",
    "train_step_makes_the_exact_sgd_update",
    "training_recovers_line",
    name="train_step_ascending",
    description="Maximises the loss: backpropagates -loss.",
)

patched(
    A,
    "make_val_step",
    "return loss.item()",
    "return loss",
    "val_step_returns_loss_as_float",
    name="val_step_returning_tensor",
    description="Returns the loss tensor instead of loss.item().",
)
patched(
    A,
    "make_val_step",
    "        model.eval()\n",
    "",
    "val_step_uses_eval_mode",
    name="val_step_without_eval_mode",
    description="Forgets model.eval().",
)
patched(
    A,
    "make_val_step",
    "with torch.no_grad():",
    "with torch.enable_grad():",
    "val_step_builds_no_graph",
    name="val_step_without_no_grad",
    description="Forgets torch.no_grad(): a graph is built for nothing.",
)


@mutant(A, "make_val_step", "val_step_changes_nothing", "val_step_builds_no_graph")
def val_step_calling_backward(model, loss_fn):
    """Copies train_step and keeps loss.backward(): gradients pile up on the parameters."""

    def val_step(x, y):
        model.eval()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss.item()

    return val_step


@alternative(A, "make_train_step")
def train_step_zeroing_first(model, loss_fn, optimizer):
    """Zeroes the gradients at the start of each call instead of the end."""

    def train_step(x, y):
        model.train()
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return train_step


@alternative(A, "make_train_step")
def train_step_with_target_first(model, loss_fn, optimizer):
    """Calls loss_fn(y, prediction), as the seminar does (MSE is symmetric), and model.zero_grad()."""

    def train_step(x, y):
        model.train()
        loss = loss_fn(y, model(x))
        loss.backward()
        optimizer.step()
        model.zero_grad()
        return loss.item()

    return train_step


@alternative(A, "make_val_step")
def val_step_in_inference_mode(model, loss_fn):
    """Uses torch.inference_mode() and detaches explicitly."""

    def val_step(x, y):
        model.eval()
        with torch.inference_mode():
            prediction = model(x)
        return loss_fn(prediction, y).detach().item()

    return val_step
