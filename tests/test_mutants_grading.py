"""The grading core of rlbook.checks (``checks/grading.py``): properties that mutation testing
(``make mutation``) found no test for; each test kills mutants the other tests let survive
(tests/mutation-report.md). ``_grade`` is called directly with small reference functions."""

import numpy as np
import torch

from rlbook import checks
from rlbook.checks.grading import CheckResult, _grade, _QuadQ, _show


def double(x):
    return 2 * x


CASES = [("small", {"x": np.array([1.0, -2.0])}), ("large", {"x": np.array([3.0, 0.5])})]


def _run(student, cases=CASES, **kw):
    return _grade("check_double", student, double, cases, say=False, **kw)


def test_a_passing_check_reports_its_name_and_every_case():
    """A pass is a CheckResult named after the check, true, with the number of cases run."""
    result = _run(lambda x: x + x)
    assert result.passed is True and bool(result) and result.name == "check_double"
    assert result.cases == 2 and result.message == "check_double: passed all 2 cases."


def test_a_failure_reports_which_case_and_how_many_ran():
    """A wrong answer fails on the first case where it differs, numbered from 1; ``cases``
    counts the cases run up to it; ``passed`` is False (not merely falsy)."""
    result = _run(lambda x: np.where(x > 1, 3 * x, 2 * x))
    assert result.passed is False and result.cases == 2 and result.name == "check_double"
    assert "FAILED on case 2 (large)" in result.message
    crash = _run(lambda x: x[5])
    assert crash.passed is False and crash.cases == 1 and "case 1 (small)" in crash.message
    shape = _run(lambda x: x[:1])
    assert shape.passed is False and shape.cases == 1 and "case 1 (small)" in shape.message


def test_an_unfinished_function_counts_only_the_cases_before():
    """``NotImplementedError`` is reported as unfinished, with the cases completed before it."""

    def later(x):
        if x[0] == 3.0:
            raise NotImplementedError
        return 2 * x

    result = _run(later)
    assert result.passed is False and result.cases == 1 and "not implemented yet" in result.message


def test_a_failure_message_shows_the_inputs_expected_and_actual_values():
    """The message lists each input on its own line, then the expected and the actual values."""
    result = _run(lambda x: 3 * x)
    assert result.message == (
        "check_double: FAILED on case 1 (small).\n  inputs:\n    x = [ 1. -2.]\n"
        "  expected: [ 2. -4.]\n  actual:   [ 3. -6.]"
    )


def test_a_failure_message_shows_each_input_on_its_own_line():
    """With several inputs, each is on its own indented line, in the reference's order."""
    result = _grade(
        "check_add",
        lambda a, b: a - b,
        lambda a, b: a + b,
        [("c", {"a": 1.0, "b": np.array([2.0, 3.0])})],
        say=False,
    )
    assert "\n  inputs:\n    a = 1\n    b = [2. 3.]\n  expected:" in result.message


def test_a_hint_is_shown_only_when_there_is_one():
    """Without a hint the message ends with the values; with one it ends with ``hint: ...``."""
    assert "hint" not in _run(lambda x: 3 * x).message
    assert _run(lambda x: 3 * x, hint="twice x").message.endswith("\n  hint: twice x")


def test_a_crash_is_reported_with_its_error_and_the_inputs():
    """A function that raises is reported with the error's type and text and the inputs, and
    (when it takes the right number of parameters) nothing about its signature."""
    result = _run(lambda x: 1 // 0)
    assert result.message == (
        "check_double: FAILED on case 1 (small): the function raised ZeroDivisionError: "
        "integer division or modulo by zero\n  inputs: x = [ 1. -2.]"
    )
    two = _grade(
        "check_add",
        lambda a, b: 1 // 0,
        lambda a, b: a + b,
        [("c", {"a": 1.0, "b": 2.0})],
        say=False,
    )
    assert two.message.endswith("inputs: a = 1, b = 2")


def test_a_function_that_returns_nothing_fails_instead_of_crashing_the_check():
    """Forgetting ``return`` (the function returns None) is a failure with ``actual: nan``."""
    result = _run(lambda x: None, cases=[("a scalar", {"x": 1.5})])
    assert result.passed is False and "actual:   nan" in result.message


def test_nan_where_the_reference_gives_nan_is_right():
    """Where the reference's answer is NaN (undefined), the same NaN is a correct answer."""
    cases = [("undefined", {"x": np.array([np.nan, 1.0])})]
    assert _run(lambda x: 2 * x, cases=cases).passed


def test_the_tolerances_passed_in_are_used_for_answers_and_mistakes():
    """``rtol`` and ``atol`` decide what agrees, for the answer and when naming a mistake: 6e-7
    from an exact zero is within atol = 1e-6; 5% off passes with rtol = 0.1."""
    zero = [("zero", {"x": np.array([0.0])})]
    assert _run(lambda x: 2 * x + 6e-7, cases=zero).passed
    assert not _run(lambda x: 2 * x + 6e-7, cases=zero, atol=1e-8).passed
    assert _run(lambda x: 2.1 * x, rtol=0.1).passed
    mistake = [("three times x", lambda x: 3 * x)]
    near_zero = [("near zero", {"x": np.array([0.0, 1.0])})]
    named = _run(lambda x: 3 * x + 6e-7, cases=near_zero, mistakes=mistake)
    assert "this is what three times x gives" in named.message  # 6e-7 at 0: within atol
    close = _run(lambda x: 3.1 * x, mistakes=mistake, rtol=0.05)
    assert "this is what three times x gives" in close.message  # 3% off: within rtol


def test_the_first_listed_mistake_that_gives_the_answer_is_named():
    """A mistake that cannot be evaluated on a case is skipped, and the next one is tried."""

    def raises(x):
        raise ValueError("does not apply")

    mistakes = [("a mistake that raises", raises), ("three times x", lambda x: 3 * x)]
    result = _run(lambda x: 3 * x, mistakes=mistakes)
    assert "\n  this is what three times x gives." in result.message
    assert "gives" not in _run(lambda x: 5 * x, mistakes=mistakes).message  # none matches


def test_no_function_can_change_the_inputs_of_another():
    """The reference, the student and each mistake get their own deep copy of the inputs: one
    that modifies its inputs in place cannot change what the others see or what is shown."""

    def reference(x):
        y = 2 * x
        x *= 10
        return y

    def student(x):
        y = 3 * x
        x += 100
        return y

    def mistake(x):
        y = 3 * x
        x -= 7
        return y

    cases = [("in place", {"x": np.array([1.0, 2.0])})]
    result = _grade("c", student, reference, cases, [("three times", mistake)], say=False)
    assert "expected: [2. 4.]" in result.message and "actual:   [3. 6.]" in result.message
    assert "this is what three times gives" in result.message
    assert "x = [1. 2.]" in result.message and cases[0][1]["x"].tolist() == [1.0, 2.0]


def test_a_check_prints_its_message_once(capsys):
    """By default a check prints its message; shown as a cell's value it prints nothing more.
    With ``say=False`` nothing is printed until the result is displayed."""
    result = _grade("check_double", double, double, CASES)
    assert result.printed is True
    assert capsys.readouterr().out == "check_double: passed all 2 cases.\n"
    result._ipython_display_()
    assert capsys.readouterr().out == ""
    silent = _grade("check_double", double, double, CASES, say=False)
    assert silent.printed is False and capsys.readouterr().out == ""
    silent._ipython_display_()
    assert capsys.readouterr().out == "check_double: passed all 2 cases.\n"


def test_the_display_of_inputs():
    """Inputs are shown as: a function by its description, else its name, else "a function";
    up to 6 values in full to 6 decimals; more by shape and first 4 values to 4 decimals; a
    scalar to 6 significant digits; a tensor (even one that requires grad) like an array."""

    class Described:
        description = "q(s, a) = s + a"

        def __call__(self, s, a):
            return s + a

    class Anonymous:
        def __call__(self):
            return 0

    def named():
        return 0

    assert _show(Described()) == "q(s, a) = s + a"
    assert _show(named) == "named"
    assert _show(Anonymous()) == "a function"
    assert _show(np.full(6, 0.123456789)) == "[" + "0.123457 " * 5 + "0.123457]"
    assert _show(np.arange(7) / 3) == (
        "array of shape (7,), first values [0.     0.3333 0.6667 1.    ]"
    )
    assert _show(1234567.89) == "1.23457e+06" and _show(3) == "3"
    assert _show(np.float64(1234567.89)) == "1.23457e+06"
    assert _show(torch.tensor([0.5, 1.5], requires_grad=True)) == "[0.5 1.5]"


def test_checks_draw_the_same_cases_every_time():
    """A check's random cases come from fixed seeds: it calls the function on the same inputs
    every time it is run (a failure can be reproduced)."""
    runs = []
    for _ in range(2):
        seen = []

        def ou_step(x, theta, mu, sigma, dt, eps, seen=seen):
            seen.append(np.concatenate([np.ravel(v) for v in (x, theta, mu, sigma, dt, eps)]))
            return x + theta * (mu - x) * dt + sigma * np.sqrt(dt) * eps

        assert checks.check_ou_step(ou_step, say=False)
        runs.append(np.concatenate(seen))
    assert np.array_equal(runs[0], runs[1])


def test_quadratic_q_of_the_cases_is_the_function_it_describes():
    """``_QuadQ(K, c)`` is q(s, a) = -(sum(a - K s))^2 + c sum(s), batched over the leading
    axes, the same on numpy arrays and torch tensors."""
    q = _QuadQ(0.5, -0.2)
    s = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    a = np.array([[0.3, -0.4], [1.0, 0.0], [-2.0, 1.0]])
    expected = -(((a - 0.5 * s).sum(-1)) ** 2) - 0.2 * s.sum(-1)
    assert np.allclose(q(s, a), expected, rtol=0, atol=1e-12)  # float64, a few operations
    t = q(torch.tensor(s), torch.tensor(a))
    assert torch.allclose(t, torch.tensor(expected), rtol=0, atol=1e-12)
    assert q.description == "q(s, a) = -(a - K s)^2 + c s for a fixed K, c"
    # one state (no batch axis) is a batch of none
    assert np.allclose(q(s[0], a[0]), expected[0], rtol=0, atol=1e-12)
    assert torch.allclose(q(torch.tensor(s[0]), torch.tensor(a[0])), t[0], rtol=0, atol=1e-12)


def test_check_result_repr_names_the_check_and_its_outcome():
    """The repr of a result shows the check's name, whether it passed and the cases."""
    assert repr(CheckResult("check_x", False, 3, "m")) == (
        "CheckResult('check_x', passed=False, cases=3)"
    )
