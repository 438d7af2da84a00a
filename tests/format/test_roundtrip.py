"""Any valid org, dumped to YAML, loads back to an equal model (property-based)."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shsync.jobs.app import dump_yaml
from shsync.model.org import ROLES, Org
from shsync.format.load import load_org
from shsync.format.npi import npi_check_digit

names = st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs", "Pd"]),
                min_size=1, max_size=20).filter(lambda s: s.strip() == s and s.strip())


@st.composite
def orgs(draw):
    count = draw(st.integers(1, 8))
    members: list[dict[str, Any]] = []
    for i in range(count):
        admin = i == 0 or draw(st.booleans())
        roles = draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=4,
                              min_size=0 if admin else 1))
        m = {"email": f"m{i}@practice.example", "first_name": draw(names),
             "last_name": draw(names), "roles": roles, "admin": admin}
        if "practitioner" in roles:
            base = f"1{i:08d}"
            m["npi"] = base + str(npi_check_digit(base))
            m["billing_access"] = draw(st.booleans())
            m["full_clinical_access"] = draw(st.booleans())
            supervisors = [p["email"] for p in members if "supervisor" in p["roles"]]
            if supervisors and draw(st.booleans()):
                m["supervised_by"] = draw(st.sampled_from(supervisors))
        members.append(m)
    practitioners = [m["email"] for m in members if "practitioner" in m["roles"]]
    clients = []
    for j in range(draw(st.integers(0, 5)) if practitioners else 0):
        owner = draw(st.sampled_from(practitioners))
        others = [m["email"] for m in members if m["email"] != owner
                  and not m.get("full_clinical_access")
                  and ("practitioner" in m["roles"] or m.get("admin"))]
        clients.append({"id": f"C-{j}", "practitioner": owner,
                        "access": draw(st.lists(st.sampled_from(others), unique=True))
                        if others else []})
    return {"version": 1, "prune": draw(st.booleans()), "members": members, "clients": clients}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(data=orgs())
def test_dumped_org_loads_back_equal(tmp_path, data):
    expected = Org.model_validate(data)
    path = tmp_path / "org.yaml"
    # The way shsync writes YAML (export, onboard): PyYAML's own dumper writes YAML 1.1 and
    # would leave `0E0` unquoted, which YAML 1.2 (and shsync) reads as a number.
    path.write_text(dump_yaml(expected.model_dump(by_alias=True, exclude_none=True)))
    loaded = load_org(path)
    assert [d.render() for d in loaded.diagnostics if d.severity.value == "error"] == []
    assert loaded.value is not None
    assert loaded.value.model() == expected


def test_strings_that_yaml_1_2_reads_as_numbers_are_quoted_on_export():
    text = dump_yaml({"a": "0E0", "b": "1_000", "c": "null", "d": "plain", "e": "12"})
    assert "a: '0E0'" in text and "d: plain" in text and "e: '12'" in text and "c: 'null'" in text
