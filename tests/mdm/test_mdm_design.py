"""Design files, presets and scope: the format an architect writes, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.mdm import PROPERTY_NAMES, Design, DesignError, Scope, knobs, load_design, presets


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reference_is_the_default_design_and_expects_nothing() -> None:
    ref = load_design("reference")
    assert ref.expected_violations == ()
    assert ref.knob_values() == Design().knob_values()
    assert next(iter(presets())) == "reference"


def test_every_bad_preset_differs_from_reference_and_expects_known_properties() -> None:
    for name, design in presets().items():
        assert design.name == name
        assert design.description
        if name == "reference":
            continue
        assert design.differences(), name
        assert design.expected_violations, name
        assert set(design.expected_violations) <= set(PROPERTY_NAMES)


def test_every_knob_is_documented_with_default_and_allowed_values() -> None:
    listed = knobs()
    assert {k["name"] for k in listed} == set(Design().knob_values())
    for k in listed:
        assert k["default"] in k["allowed"]
        assert len(k["doc"]) > 40


def test_toml_file_overrides_only_given_knobs(tmp_path: Path) -> None:
    p = write(tmp_path, 'description = "x"\nserver_stale_sessions = "wait"\nchannel = "reliable"\n')
    d = load_design(str(p))
    assert d.name == "mine"
    assert d.differences() == {"server_stale_sessions": "wait", "channel": "reliable"}


def assert_one_line(exc: pytest.ExceptionInfo[DesignError], *needles: str) -> None:
    text = str(exc.value)
    assert "\n" not in text
    for needle in needles:
        assert needle in text, text


def test_unknown_knob_names_file_key_and_allowed_keys(tmp_path: Path) -> None:
    p = write(tmp_path, 'server_stale_session = "abort"\n')
    with pytest.raises(DesignError) as exc:
        load_design(str(p))
    assert_one_line(exc, str(p), "server_stale_session", "allowed keys", "server_stale_sessions")


def test_wrong_type_names_file_key_and_allowed_values(tmp_path: Path) -> None:
    p = write(tmp_path, 'require_local_admin = "yes"\n')
    with pytest.raises(DesignError) as exc:
        load_design(str(p))
    assert_one_line(exc, str(p), "require_local_admin", "true, false")


def test_value_outside_allowed_set(tmp_path: Path) -> None:
    p = write(tmp_path, 'outcome = "hope"\n')
    with pytest.raises(DesignError) as exc:
        load_design(str(p))
    assert_one_line(exc, str(p), "outcome", '"verify", "trust_alert", "never"')


def test_impossible_combination(tmp_path: Path) -> None:
    p = write(tmp_path, 'outcome = "trust_alert"\nverify_by = "push"\n')
    with pytest.raises(DesignError) as exc:
        load_design(str(p))
    assert_one_line(exc, str(p), "verify_by", "checkin")


def test_unknown_expected_property(tmp_path: Path) -> None:
    p = write(tmp_path, 'expected_violations = ["no_such_property"]\n')
    with pytest.raises(DesignError) as exc:
        load_design(str(p))
    assert_one_line(exc, str(p), "expected_violations", "no_deadlock")


def test_bad_toml_syntax_and_missing_file(tmp_path: Path) -> None:
    p = write(tmp_path, "channel = \n")
    with pytest.raises(DesignError) as exc:
        load_design(str(p))
    assert_one_line(exc, str(p), "not valid TOML")
    with pytest.raises(DesignError) as exc:
        load_design(str(tmp_path / "absent.toml"))
    assert_one_line(exc, "absent.toml", "cannot read")


def test_unknown_preset_lists_presets() -> None:
    with pytest.raises(DesignError) as exc:
        load_design("referense")
    assert_one_line(exc, "referense", "reference", "never_learns")


def test_design_values_are_validated_in_python_too() -> None:
    with pytest.raises(DesignError, match="channel"):
        Design(channel="flaky")


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"devices": 4}, "devices"),
        ({"reenrollments": 3}, "reenrollments"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"kinds": ("aadj",)}, "kinds"),
        ({"platforms": ()}, "platforms"),
        ({"interleaving": "some"}, "interleaving"),
        ({"local_admin": (False,), "kinds": ("bulk",)}, "local_admin"),
    ],
)
def test_scope_rejects_values_outside_its_range(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(DesignError) as exc:
        Scope(**kwargs)  # type: ignore[arg-type]
    assert_one_line(exc, key, "allowed")
