"""Checks of notebook 01: make_train_step and make_val_step.

The hand example used throughout: a Linear(1, 1) model with weight 0.5 and bias 0, inputs
x = [[1], [2]], targets y = [[3], [5]], mean squared error, plain SGD with lr 0.1.
  predictions     0.5, 1.0        errors e = prediction - y = -2.5, -4.0
  loss            (6.25 + 16) / 2 = 11.125
  dL/dweight      mean(2 e x) = (-5 - 16) / 2 = -10.5      dL/dbias  mean(2 e) = -6.5
  after one step  weight 0.5 + 1.05 = 1.55,  bias 0 + 0.65 = 0.65
  second step     predictions 2.2, 3.75; e = -0.8, -1.25; dL/dweight -3.3, dL/dbias -2.05
                  weight 1.55 + 0.33 = 1.88,  bias 0.65 + 0.205 = 0.855
"""

import torch
from torch import nn

from autograder.checks.core import CellChecks, CheckFailure, assert_close, check

ASSIGNMENT = "01_pytorch_regression"
TOLERANCE = 1e-5  # float32 arithmetic on numbers of order 1
FIT_TOLERANCE = 0.1  # least squares on the notebook's 80 points gives intercept 1.02, slope 1.97

HAND_X = [[1.0], [2.0]]
HAND_Y = [[3.0], [5.0]]
HAND_LOSS = 11.125
AFTER_ONE_STEP = [1.55, 0.65]  # weight, bias
AFTER_TWO_STEPS = [1.88, 0.855]


class RecordingLinear(nn.Linear):
    """Linear(1, 1) with weight 0.5, bias 0, that records the mode and grad state of each forward."""

    def __init__(self):
        super().__init__(1, 1)
        with torch.no_grad():
            self.weight.fill_(0.5)
            self.bias.fill_(0.0)
        self.forward_calls = []  # (self.training, torch.is_grad_enabled()) per call

    def forward(self, x):
        self.forward_calls.append((self.training, torch.is_grad_enabled()))
        return super().forward(x)


class CountingSGD(torch.optim.SGD):
    """SGD that counts its steps."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


def _hand_setup():
    model = RecordingLinear()
    optimizer = CountingSGD(model.parameters(), lr=0.1)
    x, y = torch.tensor(HAND_X), torch.tensor(HAND_Y)
    return model, optimizer, x, y


def _parameters(model):
    return [model.weight.item(), model.bias.item()]


# ---------------------------------------------------------------- make_train_step


@check(ASSIGNMENT, cell="test_make_train_step")
def train_step_returns_python_float(make_train_step):
    """train_step returns the loss as a Python float"""
    model, optimizer, x, y = _hand_setup()
    loss = make_train_step(model, nn.MSELoss(), optimizer)(x, y)
    if type(loss) is not float:
        raise CheckFailure(
            "train_step must return a Python float.",
            expected="float, e.g. 11.125",
            got=f"{type(loss).__name__}: {loss!r}",
            hint="return loss.item(): a tensor would keep the whole graph alive in your list of losses",
        )


@check(ASSIGNMENT, cell="test_make_train_step")
def train_step_returns_loss_before_update(make_train_step):
    """train_step returns the loss of its own forward pass (before the update)"""
    model, optimizer, x, y = _hand_setup()
    loss = float(make_train_step(model, nn.MSELoss(), optimizer)(x, y))
    assert_close(
        loss,
        HAND_LOSS,
        what="The loss returned by train_step on the hand example",
        tolerance=TOLERANCE,
        hint="return the loss you called .backward() on; do not recompute it after optimizer.step()",
    )


@check(ASSIGNMENT, cell="test_make_train_step")
def train_step_one_forward_one_step(make_train_step):
    """each call makes exactly one forward pass and one optimizer step"""
    model, optimizer, x, y = _hand_setup()
    train_step = make_train_step(model, nn.MSELoss(), optimizer)
    for call in range(1, 4):
        train_step(x, y)
        if optimizer.steps != call or len(model.forward_calls) != call:
            raise CheckFailure(
                f"After {call} call(s) of train_step the counts are off.",
                expected=f"{call} forward pass(es) and {call} optimizer step(s)",
                got=f"{len(model.forward_calls)} forward pass(es) and {optimizer.steps} optimizer step(s)",
                hint="call model(x) once and optimizer.step() once per call, not in a loop "
                "and not again to compute the returned loss",
            )


@check(ASSIGNMENT, cell="test_make_train_step")
def train_step_makes_the_exact_sgd_update(make_train_step):
    """one call moves the parameters by exactly -lr * gradient"""
    model, optimizer, x, y = _hand_setup()
    make_train_step(model, nn.MSELoss(), optimizer)(x, y)
    got = _parameters(model)
    if got == [0.5, 0.0]:
        raise CheckFailure(
            "train_step did not change the parameters.",
            expected=f"[weight, bias] = {AFTER_ONE_STEP}",
            got=got,
            hint="the gradients were zeroed between loss.backward() and optimizer.step(), or "
            "backward() was never called; the order is backward(), step(), then zero_grad()",
        )
    assert_close(
        got,
        AFTER_ONE_STEP,
        what="[weight, bias] after one SGD step on the hand example",
        tolerance=TOLERANCE,
        hint="the loss must be loss_fn of the model's prediction and y, "
        "backpropagated once, followed by one optimizer.step()",
    )


@check(ASSIGNMENT, cell="test_make_train_step")
def train_step_does_not_accumulate_gradients(make_train_step):
    """gradients do not accumulate from one call to the next"""
    model, optimizer, x, y = _hand_setup()
    train_step = make_train_step(model, nn.MSELoss(), optimizer)
    train_step(x, y)
    train_step(x, y)
    got = _parameters(model)
    assert_close(
        got,
        AFTER_TWO_STEPS,
        what="[weight, bias] after two calls on the hand example",
        tolerance=TOLERANCE,
        hint="PyTorch adds new gradients to .grad; without optimizer.zero_grad() "
        "each step also re-applies all earlier gradients. Zero them once per call.",
    )


@check(ASSIGNMENT, cell="test_make_train_step")
def train_step_uses_train_mode(make_train_step):
    """train_step puts the model in train mode"""
    model, optimizer, x, y = _hand_setup()
    model.eval()  # as a validation step would have left it
    make_train_step(model, nn.MSELoss(), optimizer)(x, y)
    if not model.forward_calls or not model.forward_calls[0][0]:
        raise CheckFailure(
            "The forward pass of train_step ran in eval mode.",
            expected="model.training == True during the forward pass",
            got="model.training == False",
            hint="call model.train() at the start of train_step: dropout and batch norm behave "
            "differently in the two modes, and val_step switches to eval",
        )


@check(ASSIGNMENT, cell="test_training_recovers_line")
def training_recovers_line(make_train_step, make_line_data):
    """trained on the notebook's data, the model finds intercept 1 and slope 2"""
    x_train, y_train, _, _ = make_line_data()
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    train_step = make_train_step(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    x, y = torch.as_tensor(x_train, dtype=torch.float32), torch.as_tensor(y_train, dtype=torch.float32)
    for _ in range(1000):
        train_step(x, y)
    got = [model.bias.item(), model.weight.item()]
    assert_close(
        got,
        [1.0, 2.0],
        what="[intercept, slope] after 1000 steps of SGD (lr 0.1) on the training data",
        tolerance=FIT_TOLERANCE,
        hint="if the unit checks above pass, look at how train_step computes the loss: it must compare model(x) with y",
    )


# ---------------------------------------------------------------- make_val_step


@check(ASSIGNMENT, cell="test_make_val_step")
def val_step_returns_loss_as_float(make_val_step):
    """val_step returns the loss as a Python float"""
    model, _, x, y = _hand_setup()
    loss = make_val_step(model, nn.MSELoss())(x, y)
    if type(loss) is not float:
        raise CheckFailure(
            "val_step must return a Python float.",
            expected="float, e.g. 11.125",
            got=f"{type(loss).__name__}: {loss!r}",
            hint="return loss.item()",
        )
    assert_close(
        loss,
        HAND_LOSS,
        what="The loss returned by val_step on the hand example",
        tolerance=TOLERANCE,
        hint="return loss_fn(model(x), y).item()",
    )


@check(ASSIGNMENT, cell="test_make_val_step")
def val_step_uses_eval_mode(make_val_step):
    """val_step puts the model in eval mode"""
    model, _, x, y = _hand_setup()
    model.train()
    make_val_step(model, nn.MSELoss())(x, y)
    if not model.forward_calls or model.forward_calls[0][0]:
        raise CheckFailure(
            "The forward pass of val_step ran in train mode.",
            expected="model.training == False during the forward pass",
            got="model.training == True",
            hint="call model.eval() at the start of val_step",
        )


@check(ASSIGNMENT, cell="test_make_val_step")
def val_step_changes_nothing(make_val_step):
    """val_step leaves parameters and gradients untouched"""
    model, _, x, y = _hand_setup()
    make_val_step(model, nn.MSELoss())(x, y)
    grads = [p.grad for p in model.parameters()]
    if _parameters(model) != [0.5, 0.0] or any(g is not None for g in grads):
        raise CheckFailure(
            "val_step changed the model.",
            expected="weight 0.5, bias 0.0, and no .grad on any parameter",
            got=f"[weight, bias] = {_parameters(model)}, grads = {[None if g is None else g.tolist() for g in grads]}",
            hint="validation only measures: no loss.backward(), no optimizer step",
        )


@check(ASSIGNMENT, cell="test_make_val_step")
def val_step_builds_no_graph(make_val_step):
    """val_step runs the model without building an autograd graph"""
    model, _, x, y = _hand_setup()
    make_val_step(model, nn.MSELoss())(x, y)
    if not model.forward_calls or model.forward_calls[0][1]:
        raise CheckFailure(
            "val_step ran the forward pass with gradient tracking on.",
            expected="torch.is_grad_enabled() == False during the forward pass",
            got="True: PyTorch recorded a graph it will never use (memory and time wasted)",
            hint="wrap the forward pass in `with torch.no_grad():`",
        )


check_make_train_step = CellChecks(ASSIGNMENT, "test_make_train_step", "make_train_step")
check_make_val_step = CellChecks(ASSIGNMENT, "test_make_val_step", "make_val_step")
check_training_recovers_line = CellChecks(
    ASSIGNMENT, "test_training_recovers_line", "make_train_step", "make_line_data"
)
