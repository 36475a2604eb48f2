"""Every violation carries an explanation: the property's own (`explain`, called with
the counterexample), or the engine's wording for its kind; an explainer that raises
is reported in the text, never in place of the verdict."""

from __future__ import annotations

from typing import Any

from lifecycle.engine import Fairness, Kind, Model, Property, check, simulate


class Line(Model):
    """0 -> 1 -> 2 -> 3, stuck at 3 (a deadlock), with a wait that never ends there."""

    def __init__(self, props: list[Property]) -> None:
        self.props = props

    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> list[str]:
        return ["Step"] if state < 3 else []

    def next_state(self, state: int, action: str) -> int:
        return state + 1

    def properties(self) -> list[Property]:
        return self.props

    def fairness(self) -> list[Fairness]:
        return [Fairness.weak("Step")]


def _why(result: Any, name: str) -> str:
    found = result.violation(name)
    assert found is not None, name
    return str(found.explanation)


def test_a_property_explains_its_counterexample_with_the_state_s_values() -> None:
    prop = Property.always(
        "below_two", lambda s: s < 2, explain=lambda t: f"the counter reached {t.states[-1]}"
    )
    result = check(Line([prop]), deadlock=False)
    assert _why(result, "below_two") == "the counter reached 2"
    sim = simulate(Line([prop]), runs=5, depth=5, seed=1)
    assert _why(sim, "below_two") == "the counter reached 2"


def test_the_engine_words_deadlocks_waits_lassos_and_missing_witnesses() -> None:
    props = [
        Property.always_recoverable("released", lambda s: ["lock"] if s == 3 else []),
        Property.sometimes("reaches_nine", lambda s: s == 9),
        Property.eventually("reaches_nine_later", lambda s: s == 9),
    ]
    result = check(Line(props))
    assert "no action is enabled" in _why(result, "deadlock")
    assert "'lock'" in _why(result, "released") and "no state reachable" in _why(result, "released")
    assert _why(result, "reaches_nine") == "no reachable state satisfies it"
    lasso = result.violation("reaches_nine_later")
    assert lasso is not None and lasso.trace.is_lasso
    assert "stays in state 3 for ever" in _why(result, "reaches_nine_later")


def test_an_explainer_that_raises_leaves_the_verdict_and_says_so() -> None:
    def broken(trace: Any) -> str:
        raise KeyError("phase")

    prop = Property.always("below_two", lambda s: s < 2, explain=broken)
    result = check(Line([prop]), deadlock=False)
    v = result.violation("below_two")
    assert v is not None and v.kind is Kind.ALWAYS and len(v.trace) == 2
    assert "explanation raised KeyError" in str(v.explanation)


def test_a_property_the_model_calls_not_applicable_is_never_checked_nor_holds() -> None:
    calls: list[int] = []

    def watched(s: int) -> bool:
        calls.append(s)
        return True

    class Scoped(Line):
        def not_applicable(self) -> list[tuple[Property, str]]:
            return [(Property.always("about_azure", watched, "F50"), "no Azure AD here")]

    result = check(Scoped([Property.always("small", lambda s: s < 9)]), deadlock=False)
    assert result.ok and not calls
    status = {p.name: (p.status.value, p.reason) for p in result.properties}
    assert status["about_azure"] == ("not applicable", "no Azure AD here")
    assert status["small"] == ("holds", "")
    sim = simulate(Scoped([]), runs=2, depth=3, seed=0, deadlock=False)
    assert {p.name: p.status.value for p in sim.properties}["about_azure"] == "not applicable"
