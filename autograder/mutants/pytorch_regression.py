"""Mutants and alternatives for notebook 01 (make_train_step, make_val_step)."""
import torch

from autograder.mutants import alternative, mutant

A = "01_pytorch_regression"


@mutant(A, "make_train_step", "train_step_returns_python_float")
def train_step_returning_tensor(model, loss_fn, optimizer):
    """Returns the loss tensor instead of loss.item()."""
    def train_step(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    return train_step


@mutant(A, "make_train_step", "train_step_returns_loss_before_update", "train_step_one_forward_one_step")
def train_step_returning_loss_after_update(model, loss_fn, optimizer):
    """Recomputes the loss after the step and returns that one."""
    def train_step(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss_fn(model(x), y).item()
    return train_step


@mutant(A, "make_train_step", "train_step_one_forward_one_step")
def train_step_stepping_twice(model, loss_fn, optimizer):
    """Calls optimizer.step() both before and after backward (a copy-paste slip)."""
    def train_step(x, y):
        model.train()
        optimizer.step()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return train_step


@mutant(A, "make_train_step", "train_step_makes_the_exact_sgd_update", "training_recovers_intercept_and_slope")
def train_step_zeroing_before_step(model, loss_fn, optimizer):
    """Zeroes the gradients between backward() and step(): nothing is ever learned."""
    def train_step(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        return loss.item()
    return train_step


@mutant(A, "make_train_step", "train_step_does_not_accumulate_gradients")
def train_step_without_zero_grad(model, loss_fn, optimizer):
    """Never zeroes the gradients: they accumulate across calls."""
    def train_step(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return train_step


@mutant(A, "make_train_step", "train_step_uses_train_mode")
def train_step_without_train_mode(model, loss_fn, optimizer):
    """Forgets model.train(), so after a validation step it trains in eval mode."""
    def train_step(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return train_step


@mutant(A, "make_train_step", "train_step_makes_the_exact_sgd_update", "training_recovers_intercept_and_slope")
def train_step_ascending(model, loss_fn, optimizer):
    """Maximises the loss: backpropagates -loss."""
    def train_step(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        (-loss).backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return train_step


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
    """Calls loss_fn(y, prediction), as the seminar does (MSE is symmetric)."""
    def train_step(x, y):
        model.train()
        loss = loss_fn(y, model(x))
        loss.backward()
        optimizer.step()
        model.zero_grad()
        return loss.item()
    return train_step


@mutant(A, "make_val_step", "val_step_returns_loss_as_float")
def val_step_returning_tensor(model, loss_fn):
    """Returns the loss tensor instead of loss.item()."""
    def val_step(x, y):
        model.eval()
        with torch.no_grad():
            return loss_fn(model(x), y)
    return val_step


@mutant(A, "make_val_step", "val_step_uses_eval_mode")
def val_step_without_eval_mode(model, loss_fn):
    """Forgets model.eval()."""
    def val_step(x, y):
        with torch.no_grad():
            return loss_fn(model(x), y).item()
    return val_step


@mutant(A, "make_val_step", "val_step_changes_nothing", "val_step_builds_no_graph")
def val_step_calling_backward(model, loss_fn):
    """Copies train_step and keeps loss.backward(): gradients pile up on the parameters."""
    def val_step(x, y):
        model.eval()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss.item()
    return val_step


@mutant(A, "make_val_step", "val_step_builds_no_graph")
def val_step_without_no_grad(model, loss_fn):
    """Forgets torch.no_grad(): a graph is built for nothing."""
    def val_step(x, y):
        model.eval()
        return loss_fn(model(x), y).item()
    return val_step


@alternative(A, "make_val_step")
def val_step_in_inference_mode(model, loss_fn):
    """Uses torch.inference_mode() and detaches explicitly."""
    def val_step(x, y):
        model.eval()
        with torch.inference_mode():
            prediction = model(x)
        return loss_fn(prediction, y).detach().item()
    return val_step
