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
    assert_one_line(exc, str(p), "verify_by", "checkin", "outcome")


def test_a_knob_set_where_it_means_nothing_is_an_impossible_combination(tmp_path: Path) -> None:
    # exec_done_at only means something for an Unenroll Exec: set, even to its
    # default, beside a server without one, the design is refused.
    for value in ("outcome", "send"):
        p = write(tmp_path, f'server_unenroll = "none"\nexec_done_at = "{value}"\n')
        with pytest.raises(DesignError) as exc:
            load_design(str(p))
        assert_one_line(exc, str(p), "exec_done_at", "server_unenroll", '"outcome", "send"')
    with pytest.raises(DesignError, match="presume_unenrolled"):
        Design(outcome="never", presume_unenrolled="never")
    # Left out, the default is fine.
    assert load_design(str(write(tmp_path, 'server_unenroll = "none"\n'))).server_unenroll == "none"


def test_every_knob_documents_its_source_and_servers() -> None:
    for k in knobs():
        assert k["source"].split(":")[0] in ("doc", "safest"), k["name"]
        assert set(k["servers"]) <= set(k["allowed"][1:]) | {k["default"]}, k["name"]


def test_unenroll_key_is_a_deprecated_alias_of_record_key(tmp_path: Path) -> None:
    d = load_design(str(write(tmp_path, 'unenroll_key = "device_id"\n')))
    assert d.record_key == "device_id"
    d = load_design(str(write(tmp_path, 'unenroll_key = "generation"\n')))
    assert d.record_key == "enrollment"
    with pytest.raises(DesignError) as exc:
        load_design(str(write(tmp_path, 'unenroll_key = "hardware"\n')))
    assert_one_line(exc, "unenroll_key", "record_key", '"generation", "device_id"')


def test_a_design_file_carries_its_scope(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        'record_key = "hardware_id"\n[scope]\ndevices = 2\nshared_hardware_id = true\n'
        'max_offline = "unbounded"\nkinds = ["work_access"]\n',
    )
    d = load_design(str(p))
    scope = d.scope()
    assert scope.devices == 2 and scope.shared_hardware_id and scope.max_offline is None
    assert scope.kinds == ("work_access",)
    assert d.scope(Scope(reenrollments=0)).reenrollments == 0
    for text, needle in (
        ("[scope]\nmachines = 2\n", "scope.machines"),
        ("[scope]\ndevices = 9\n", "scope.devices"),
        ("[other]\nx = 1\n", "[scope]"),
    ):
        with pytest.raises(DesignError) as exc:
            load_design(str(write(tmp_path, text)))
        assert_one_line(exc, str(tmp_path), needle)


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
        ({"max_offline": 3}, "max_offline"),
        ({"mdm_toggle": "yes"}, "mdm_toggle"),
        ({"local_admin": (False,), "kinds": ("bulk",)}, "local_admin"),
    ],
)
def test_scope_rejects_values_outside_its_range(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(DesignError) as exc:
        Scope(**kwargs)  # type: ignore[arg-type]
    assert_one_line(exc, key, "allowed")
