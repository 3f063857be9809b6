"""Round bundles: writing, reading and verifying them, tampering, and the standalone script."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jointcheck.core import public_proof as pp

SECRET = hashlib.sha256(b"test secret").digest()
SEED = "2024 0501 3141 5926 5358 97"
TEAMS = {"SCJG": 2, "YJJ": 1}


def make_files() -> dict[str, bytes]:
    """A complete bundle built with the pure functions only, as `round archive` would."""
    rows = [(f"91440101MA{i:08d}", "ABC"[i % 3]) for i in range(24)] + [("食品-001", "A"), ("食品-002", "B/440106")]
    population = pp.population_tsv(rows)
    pool_rows = [("SCJG", f"执法-{i}") for i in range(4)] + [("YJJ", "Y-1"), ("YJJ", "Y-2")]
    pools = pp.pools_tsv(pool_rows)
    # Conflicts on every target of A make the redacted replay differ from the real one.
    conflict_rows = {("执法-0", tid) for tid, s in rows if s == "A"} | {("Y-1", "食品-001"), ("Y-2", "食品-001")}
    conflicts = pp.conflicts_tsv(conflict_rows)
    strata = {
        "A": {"n": 9, "permille": 500},
        "B": {"n": 8, "permille": 250},
        "C": {"n": 8, "permille": 0},
        "B/440106": {"n": 1, "permille": 1000},
    }
    params = pp.build_params("R-7", population, pools, conflicts, strata, TEAMS, pp.server_commitment(SECRET), scope={"region": "440106"})
    material = pp.make_seed_material(SEED, SECRET.hex())
    key = pp.draw_key(params, material)
    selected = pp.select(key, pp.parse_population_tsv(population), pp.k_by_stratum(json.loads(params)))
    visit = [tid for tid, _, _ in selected]
    assignments, unstaffed = pp.assign(key, visit, pp.pools_by_department(pool_rows), TEAMS, conflict_rows)
    assert "食品-001" in visit and ("食品-001", "YJJ") in unstaffed  # the fixture exercises unstaffing
    return {
        "params.json": params,
        "population.tsv": population,
        "pools.tsv": pools,
        "conflicts.tsv": conflicts,
        "seed.txt": (material + "\n").encode(),
        "selected.tsv": pp.selected_tsv(selected),
        "assignments.tsv": pp.assignments_tsv(assignments),
        "results.csv": "target_id,item,category\n食品-001,SC-01,1\n".encode(),
        "audit.jsonl": audit_lines(
            [
                (seq, action, payload)
                for seq, (action, payload) in enumerate(
                    round_events(
                        params,
                        {"population.tsv": population, "pools.tsv": pools, "conflicts.tsv": conflicts},
                        material,
                        pp.selected_tsv(selected),
                        pp.assignments_tsv(assignments),
                    ),
                    start=1,
                )
            ]
        ),
    }


def round_events(params: bytes, frozen: dict[str, bytes], material: str, selected: bytes, assignments: bytes):
    """The round's approval, seed and draw events as the services record them."""
    commitment = pp.sha256_hex(params)
    digits, secret = pp.parse_seed_material(material)
    files = {name: pp.sha256_hex(data) for name, data in {"params.json": params, **frozen}.items()}
    return [
        ("round.approved", {"commitment": commitment, "files": files}),
        ("round.seeded", {"seed_digits": digits, "server_secret": secret, "commitment": commitment}),
        (
            "round.drawn",
            {
                "seed_material_sha256": pp.sha256_hex(material.encode()),
                "selected_sha256": pp.sha256_hex(selected),
                "assignments_sha256": pp.sha256_hex(assignments),
            },
        ),
    ]


def audit_records(events, prev=pp.AUDIT_GENESIS):
    """(seq, action, payload) events of round R-7, chained from `prev`."""
    records = []
    for seq, action, payload in events:
        fields = {
            "seq": seq,
            "at": f"2024-05-01T08:00:0{seq % 10}Z",
            "actor": "convener:1",
            "action": action,
            "entity": "round",
            "entity_id": "R-7",
            "payload": payload,
        }
        digest = pp.audit_event_hash(prev, fields)
        records.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    return records


def jsonl(records) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def audit_lines(events) -> bytes:
    return jsonl(audit_records(events))


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return make_files()


def verify(tmp_path: Path, files: dict[str, bytes], redacted=()) -> pp.VerifyReport:
    folder = tmp_path / f"bundle-{len(list(tmp_path.iterdir()))}"
    pp.write_bundle(folder, files, redacted)
    return pp.verify_bundle(folder)


def statuses(report: pp.VerifyReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def only_failure(report: pp.VerifyReport, *, recorded: bool = False) -> str:
    """The one check that failed. `recorded`: what was edited is fingerprinted by the round's
    approval, seed or draw event as well, so the round-events check must fail with it."""
    failed = [c.name for c in report.failed]
    if recorded:
        assert "round events" in failed, report.render()
        failed.remove("round events")
    assert len(failed) == 1, report.render()
    return failed[0]


# --- good bundles ------------------------------------------------------------------------------


def test_good_bundle_folder_verifies(tmp_path, files):
    report = verify(tmp_path, files)
    assert report.ok, report.render()
    assert set(statuses(report).values()) == {"OK"}
    text = report.render()
    assert text.endswith("bundle OK")
    assert f"commitment sha256(params.json) = {pp.sha256_hex(files['params.json'])}" in text
    assert "1 target/department pairs unstaffed" in report.check("assignments.tsv").detail


def test_good_bundle_zip_verifies_and_is_deterministic(tmp_path, files):
    first, second = tmp_path / "a" / "r.zip", tmp_path / "b" / "r.zip"
    pp.write_bundle(first, files)
    pp.write_bundle(second, files)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == sorted(archive.namelist())
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    report = pp.verify_bundle(first)
    assert report.ok, report.render()


def test_zip_with_one_top_folder_verifies(tmp_path, files):
    folder = tmp_path / "round-7"
    pp.write_bundle(folder, files)
    archive_path = tmp_path / "nested.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("round-7/", b"")
        for item in sorted(folder.iterdir()):
            archive.writestr(f"round-7/{item.name}", item.read_bytes())
    assert pp.verify_bundle(archive_path).ok


def test_manifest_is_canonical_and_covers_every_file(tmp_path, files):
    folder = pp.write_bundle(tmp_path / "b", files)
    manifest = (folder / "manifest.json").read_bytes()
    assert manifest == pp.canonical_json(json.loads(manifest))
    assert json.loads(manifest) == {"files": {n: pp.sha256_hex(d) for n, d in files.items()}, "version": "bundle-v1"}


# --- tampering: the manifest is rewritten each time, so the named check has to catch it (with the
# round's events where they fingerprint what was edited) ---


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_flipped_byte_in_selected(tmp_path, files):
    report = verify(tmp_path, {**files, "selected.tsv": flip(files["selected.tsv"], 40)})
    assert only_failure(report, recorded=True) == "selected.tsv"
    assert "line 1" in report.check("selected.tsv").detail
    assert report.render().splitlines()[-1] == "bundle FAILED: 2 checks failed"


def test_truncated_selected(tmp_path, files):
    lines = files["selected.tsv"].splitlines(keepends=True)
    report = verify(tmp_path, {**files, "selected.tsv": b"".join(lines[:-1])})
    assert only_failure(report, recorded=True) == "selected.tsv"
    last = lines[-1].decode().rstrip("\n")
    assert f"line {len(lines)}: expected {last!r}, found end of file" in report.check("selected.tsv").detail
    report = verify(tmp_path, {**files, "selected.tsv": files["selected.tsv"] + b"x\tA\t" + b"0" * 64 + b"\n"})
    assert f"line {len(lines) + 1}: expected end of file, found 'x\\tA\\t{'0' * 64}'" in report.check("selected.tsv").detail


def test_reordered_assignments(tmp_path, files):
    lines = files["assignments.tsv"].splitlines(keepends=True)
    swapped = b"".join([lines[1], lines[0], *lines[2:]])
    assert sorted(swapped.splitlines()) == sorted(files["assignments.tsv"].splitlines())
    report = verify(tmp_path, {**files, "assignments.tsv": swapped})
    assert only_failure(report, recorded=True) == "assignments.tsv"


def test_changed_params_change_the_key(tmp_path, files):
    params = json.loads(files["params.json"])
    params["round"] = "R-8"
    report = verify(tmp_path, {**files, "params.json": pp.canonical_json(params)})
    assert statuses(report)["params"] == "OK"
    assert statuses(report)["selected.tsv"] == "FAIL"


def test_non_canonical_params(tmp_path, files):
    report = verify(tmp_path, {**files, "params.json": files["params.json"] + b"\n"})
    assert statuses(report)["params"] == "FAIL"
    assert "canonical" in report.check("params").detail
    assert statuses(report)["selected.tsv"] == "SKIP"  # cannot be checked without valid params


def test_wrong_version_in_params(tmp_path, files):
    params = {**json.loads(files["params.json"]), "version": "draw-v2"}
    report = verify(tmp_path, {**files, "params.json": pp.canonical_json(params)})
    assert "draw-v2" in report.check("params").detail and not report.ok


def test_k_inconsistent_with_ratio(tmp_path, files):
    params = json.loads(files["params.json"])
    params["strata"]["B"]["k"] += 1
    report = verify(tmp_path, {**files, "params.json": pp.canonical_json(params)})
    assert only_failure(report, recorded=True) == "strata"
    assert "round.approved: its commitment is not sha256(params.json)" in report.check("round events").detail
    assert "(8 * 250 + 999) // 1000 = 2" in report.check("strata").detail


def test_changed_seed_digit(tmp_path, files):
    seed = files["seed.txt"].replace(b"2024", b"2025", 1)
    report = verify(tmp_path, {**files, "seed.txt": seed})
    assert statuses(report)["seed"] == "OK"
    assert statuses(report)["selected.tsv"] == "FAIL"


def test_wrong_secret(tmp_path, files):
    digits = files["seed.txt"].split(b";")[0]
    report = verify(tmp_path, {**files, "seed.txt": digits + b";" + b"ab" * 32 + b"\n"})
    assert statuses(report)["seed"] == "FAIL"
    assert "server_commitment" in report.check("seed").detail


@pytest.mark.parametrize("seed", [b"123;" + b"ab" * 32 + b"\n", b"1" * 20 + b";" + b"AB" * 32 + b"\n", b"1" * 20 + b";" + b"ab" * 32])
def test_malformed_seed_txt(tmp_path, files, seed):
    assert statuses(verify(tmp_path, {**files, "seed.txt": seed}))["seed"] == "FAIL"


def test_edited_audit_payload(tmp_path, files):
    records = [json.loads(line) for line in files["audit.jsonl"].splitlines()]
    records[1]["payload"]["seed_digits"] = "99999999999999999999"
    report = verify(tmp_path, {**files, "audit.jsonl": jsonl(records)})
    assert only_failure(report) == "audit.jsonl"
    assert "line 2 (seq 2): content does not match its hash" in report.check("audit.jsonl").detail


def test_deleted_middle_audit_line(tmp_path, files):
    records = [json.loads(line) for line in files["audit.jsonl"].splitlines()]
    without = jsonl([records[0], records[2]])
    # Left as is, seq 1 and 3 are not neighbours (gaps are other rounds' events), so the chain
    # cannot tell; the manifest does, and so does the round, which has lost its seed event.
    folder = pp.write_bundle(tmp_path / "b", files)
    (folder / "audit.jsonl").write_bytes(without)
    report = pp.verify_bundle(folder)
    assert only_failure(report, recorded=True) == "manifest"
    assert "sha256 differs for audit.jsonl" in report.check("manifest").detail
    assert "expected one round.seeded event of round R-7, found 0" in report.check("round events").detail
    # A manifest written again for the shortened file: the round's events still give it away.
    report = verify(tmp_path, {**files, "audit.jsonl": without})
    assert only_failure(report) == "round events"
    # Closing the gap (seq 3 -> 2, hash recomputed) breaks the link to seq 1.
    renumbered = {**records[2], "seq": 2}
    renumbered["hash"] = pp.audit_event_hash(renumbered["prev_hash"], {k: renumbered[k] for k in pp.AUDIT_KEYS})
    report = verify(tmp_path, {**files, "audit.jsonl": jsonl([records[0], renumbered])})
    assert only_failure(report) == "audit.jsonl"
    assert "does not link to seq 1" in report.check("audit.jsonl").detail
    # Renumbered without recomputing the hash: the content no longer matches it.
    report = verify(tmp_path, {**files, "audit.jsonl": jsonl([records[0], {**records[2], "seq": 2}])})
    assert "content does not match its hash" in report.check("audit.jsonl").detail


def test_audit_order_and_genesis(tmp_path, files):
    records = [json.loads(line) for line in files["audit.jsonl"].splitlines()]
    report = verify(tmp_path, {**files, "audit.jsonl": jsonl([records[1], records[0], records[2]])})
    assert "does not increase" in report.check("audit.jsonl").detail
    steps = [(r["action"], r["payload"]) for r in records]
    later = audit_records([(5, *steps[0])], prev="ab" * 32)
    later += audit_records([(9, *steps[1])], prev="cd" * 32)  # gap before 9: any predecessor is fine
    later += audit_records([(10, *steps[2])], prev=later[1]["hash"])
    assert verify(tmp_path, {**files, "audit.jsonl": jsonl(later)}).ok
    stray = audit_records([(1, *steps[0])], prev="ab" * 32)
    assert "genesis" in verify(tmp_path, {**files, "audit.jsonl": jsonl(stray)}).check("audit.jsonl").detail
    assert verify(tmp_path, {**files, "audit.jsonl": b""}).check("audit.jsonl").detail == "0 events"
    bad = verify(tmp_path, {**files, "audit.jsonl": b'{"seq": 1}\nnot json\n'}).check("audit.jsonl")
    assert bad.status == "FAIL" and "line 1" in bad.detail and "line 2: not valid JSON" in bad.detail


@pytest.mark.parametrize(
    "name, check",
    [("population.tsv", "population.tsv"), ("pools.tsv", "pools.tsv"), ("conflicts.tsv", "conflicts.tsv")],
)
def test_committed_files_must_match_params(tmp_path, files, name, check):
    report = verify(tmp_path, {**files, name: files[name] + b"zz\tA\n"})
    assert statuses(report)[check] == "FAIL"
    assert "differs from params.json" in report.check(check).detail


def test_tampering_without_updating_the_manifest(tmp_path, files):
    folder = pp.write_bundle(tmp_path / "b", files)
    (folder / "results.csv").write_bytes(files["results.csv"].replace(b",1\n", b",A\n"))
    report = pp.verify_bundle(folder)
    assert only_failure(report) == "manifest"
    assert "results.csv" in report.check("manifest").detail


def test_extra_unlisted_file(tmp_path, files):
    folder = pp.write_bundle(tmp_path / "b", files)
    (folder / "notes.txt").write_text("hello")
    report = pp.verify_bundle(folder)
    assert only_failure(report) == "manifest"
    assert "not listed in the manifest: notes.txt" in report.check("manifest").detail


def test_subfolder_is_reported(tmp_path, files):
    folder = pp.write_bundle(tmp_path / "b", files)
    (folder / "extra").mkdir()
    assert "extra/" in pp.verify_bundle(folder).check("manifest").detail


def test_missing_file(tmp_path, files):
    folder = pp.write_bundle(tmp_path / "b", files)
    (folder / "selected.tsv").unlink()
    report = pp.verify_bundle(folder)
    assert "missing selected.tsv" in report.check("manifest").detail
    assert report.check("selected.tsv").detail == "selected.tsv is missing"


# --- the public, redacted variant ----------------------------------------------------------------


def public(files):
    return {n: d for n, d in files.items() if n != "conflicts.tsv"}


def test_redacted_public_bundle_verifies_and_says_so(tmp_path, files):
    report = verify(tmp_path, public(files), redacted=("conflicts.tsv",))
    assert report.ok, report.render()
    assert statuses(report)["conflicts.tsv"] == "SKIP"
    assert "redacted" in report.check("conflicts.tsv").detail
    assert report.check("assignments.tsv").detail == (
        "not reproducible without conflicts.tsv (redacted); checked pool membership and team sizes"
    )
    assert "conflicts.tsv redacted" in report.check("manifest").detail


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda rows: [(rows[0][0], rows[0][1], "冒名-9"), *rows[1:]], "is not in the pool"),
        (lambda rows: [*rows, (rows[0][0], "YJJ", "Y-2"), (rows[0][0], "YJJ", "Y-1")], "more than n = 1"),
        (lambda rows: [("not-drawn", *rows[0][1:]), *rows[1:]], "was not selected"),
        (lambda rows: [rows[0], rows[0], *rows[2:]], "assigned twice"),
    ],
)
def test_redacted_bundle_still_checks_pools_and_team_sizes(tmp_path, files, edit, message):
    rows = pp.parse_assignments_tsv(files["assignments.tsv"])
    tampered = {**public(files), "assignments.tsv": pp.assignments_tsv(edit(rows))}
    report = verify(tmp_path, tampered, redacted=("conflicts.tsv",))
    assert only_failure(report, recorded=True) == "assignments.tsv"
    assert message in report.check("assignments.tsv").detail


def test_absent_conflicts_without_redaction_fails(tmp_path, files):
    folder = pp.write_bundle(tmp_path / "b", files)
    (folder / "conflicts.tsv").unlink()
    report = pp.verify_bundle(folder)
    assert statuses(report)["conflicts.tsv"] == "FAIL"
    assert statuses(report)["assignments.tsv"] == "SKIP"


# --- write_bundle refusals, unreadable input, main ------------------------------------------------


def test_write_bundle_refusals(tmp_path, files):
    with pytest.raises(ValueError, match="missing"):
        pp.write_bundle(tmp_path / "a", public(files))
    with pytest.raises(ValueError, match="may be redacted"):
        pp.write_bundle(tmp_path / "a", files, redacted=("params.json",))
    with pytest.raises(ValueError, match="unexpected"):
        pp.write_bundle(tmp_path / "a", {**files, "manifest.json": b"{}"})
    pp.write_bundle(tmp_path / "a", files)
    with pytest.raises(ValueError, match="not empty"):
        pp.write_bundle(tmp_path / "a", files)


def test_unreadable_bundles(tmp_path):
    assert pp.verify_bundle(tmp_path / "nope").check("bundle").status == "FAIL"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    report = pp.verify_bundle(junk)
    assert not report.ok and "not a bundle folder or a readable ZIP" in report.render()


def test_main_exit_codes(tmp_path, files, capsys):
    folder = pp.write_bundle(tmp_path / "b", files)
    assert pp.main([str(folder)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("bundle OK")
    (folder / "selected.tsv").write_bytes(b"")
    assert pp.main([str(folder)]) == 1
    assert "bundle FAILED: 3 checks failed" in capsys.readouterr().out
    assert pp.main([]) == 2
    assert pp.main(["a", "b"]) == 2
    assert "usage" in capsys.readouterr().err
    assert pp.main([str(tmp_path / "missing")]) == 1
    assert "no such folder or file" in capsys.readouterr().out


def test_standalone_script_in_isolation(tmp_path, files):
    """The downloaded file alone, no site-packages and no project on the path, must verify."""
    alone = tmp_path / "download"
    alone.mkdir()
    script = alone / "public_proof.py"
    shutil.copyfile(pp.__file__, script)
    good = pp.write_bundle(tmp_path / "good.zip", files)
    bad = pp.write_bundle(tmp_path / "bad", {**files, "selected.tsv": flip(files["selected.tsv"], 3)})
    run = lambda bundle: subprocess.run(  # noqa: E731
        [sys.executable, "-I", "-S", str(script), str(bundle)], capture_output=True, text=True, cwd=alone, timeout=60
    )
    ok = run(good)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "bundle OK" in ok.stdout and ok.stderr == ""
    failed = run(bad)
    assert failed.returncode == 1
    assert "FAIL selected.tsv" in failed.stdout and "bundle FAILED" in failed.stdout
    assert "Traceback" not in failed.stderr
    garbage = run(tmp_path / "nothing-here")
    assert garbage.returncode == 1 and "Traceback" not in garbage.stderr
    usage = subprocess.run([sys.executable, "-I", "-S", str(script)], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage" in usage.stderr


def same_json_lines(a: bytes, b: bytes) -> bool:
    try:
        return b.endswith(b"\n") and [json.loads(x) for x in a.splitlines()] == [json.loads(x) for x in b.split(b"\n")[:-1]]
    except ValueError:
        return False


def test_random_corruption_is_reported_never_raised(files):
    """Whatever the bytes, the verifier reports: no exception escapes, and any change is a failure."""
    import random

    rnd = random.Random(20240501)
    manifest = json.loads(pp.canonical_json({"files": {n: pp.sha256_hex(d) for n, d in files.items()}, "version": "bundle-v1"}))
    for name in sorted(files):
        for _ in range(15):
            data = bytearray(files[name])
            for _ in range(rnd.randint(1, 3)):
                at = rnd.randrange(len(data))
                choice = rnd.random()
                if choice < 0.4:
                    data[at] = rnd.randrange(256)
                elif choice < 0.7:
                    del data[at]
                else:
                    data[at:at] = rnd.choice([b"\t", b"\n", b"\r", b"\xef\xbb\xbf", b"\xff", b"{", b"0"])
            if bytes(data) == files[name]:
                continue
            changed = {**files, name: bytes(data)}
            for honest_manifest in (True, False):
                listed = {n: pp.sha256_hex(d) for n, d in changed.items()} if honest_manifest else manifest["files"]
                bundle = {**changed, "manifest.json": pp.canonical_json({"files": listed, "version": "bundle-v1"})}
                report = pp.verify_files(bundle)
                # results.csv is covered by the manifest alone, and audit lines need not be canonical
                # JSON: with a manifest that matches, those changes are not the verifier's to catch.
                harmless = honest_manifest and (name == "results.csv" or same_json_lines(files[name], bytes(data)))
                assert report.ok is False or harmless, (name, bytes(data))
                assert all(c.status in ("OK", "FAIL", "SKIP") for c in report.checks)
                assert not any(c.detail.startswith("unexpected ") for c in report.checks), report.render()
