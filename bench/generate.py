"""Synthetic practices for the benchmark: an org file and a live snapshot that differs by ~1%.

Deterministic for a given size and seed. Every client has 0-3 grants; about a third of members
are supervised.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

from shsync.format.npi import npi_check_digit

SIZES = {"S": (100, 2_000), "M": (1_000, 20_000), "L": (10_000, 200_000)}
DOMAIN = "bench.example"


def _npi(i: int) -> str:
    base = f"1{i:08d}"
    return base + str(npi_check_digit(base))


def org(members: int, clients: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    people: list[dict[str, Any]] = []
    supervisors: list[str] = []
    for i in range(members):
        email = f"m{i:05d}@{DOMAIN}"
        kind = i % 10
        if i == 0:
            roles, admin = ["practitioner", "supervisor"], True
        elif kind < 6:
            roles, admin = ["practitioner"], False
        elif kind < 8:
            roles, admin = ["practitioner", "supervisor"], False
        elif kind == 8:
            roles, admin = ["scheduler"], i % 50 == 8
        else:
            roles, admin = ["biller"], False
        m: dict[str, Any] = {"email": email, "first_name": f"First{i}", "last_name": f"Last{i}",
                             "roles": roles}
        if admin:
            m["admin"] = True
        if i == 0:
            m["owner"] = True
        if "practitioner" in roles:
            m["npi"] = _npi(i)
            m["taxonomy"] = "101YM0800X"
            if i % 7 == 0:
                m["billing_access"] = False
            if supervisors and i % 3 == 1:
                m["supervised_by"] = rng.choice(supervisors)
        if "supervisor" in roles:
            supervisors.append(email)
        people.append(m)
    practitioners = [p["email"] for p in people if "practitioner" in p["roles"]]
    # Manage Access lists practitioners (and administrators adding themselves).
    everyone = [p["email"] for p in people if "practitioner" in p["roles"] or p.get("admin")]
    items = []
    for j in range(clients):
        owner = practitioners[j % len(practitioners)]
        grants = sorted({e for e in rng.sample(everyone, rng.randint(0, 3)) if e != owner})
        item: dict[str, Any] = {"id": f"C-{j:06d}", "practitioner": owner}
        if grants:
            item["access"] = grants
        items.append(item)
    return {"version": 1, "practice": "Bench Practice", "members": people, "clients": items}


def drifted(doc: dict[str, Any], fraction: float = 0.01, seed: int = 2) -> dict[str, Any]:
    """The live state: the same practice with ~1% of members and clients different."""
    rng = random.Random(seed)
    members = [dict(m) for m in doc["members"]]
    clients = [dict(c) for c in doc["clients"]]
    step = max(1, int(1 / fraction))
    for m in members[1::step]:
        m["last_name"] = m["last_name"] + "-old"
    # 1% of the declared members are not live yet (they will be invited) ...
    declared = [m for i, m in enumerate(members) if i == 0 or i % step != 3]
    # ... and 1% of the clients have a different grant list.
    for c in clients[::step]:
        c.pop("access", None)
    # keep references valid: clients and supervisors must point at live members
    live = {m["email"] for m in declared}
    for m in declared:
        if m.get("supervised_by") not in live:
            m.pop("supervised_by", None)
    for c in clients:
        if c["practitioner"] not in live:
            c["practitioner"] = declared[0]["email"]
        if "access" in c:
            c["access"] = [e for e in c["access"] if e in live and e != c["practitioner"]]
            if not c["access"]:
                del c["access"]
    rng.shuffle(clients)
    return {"version": 1, "practice": doc["practice"], "members": declared, "clients": clients}


def write(path: Path, doc: dict[str, Any]) -> Path:
    with path.open("w") as fh:
        yaml.dump(doc, fh, Dumper=yaml.CSafeDumper, sort_keys=False, width=200)
    return path
