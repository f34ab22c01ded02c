"""The review log: where it lives, what survives a cut line, and decisions that follow their records."""

from __future__ import annotations

import json

from dataforge.review.session import ReviewSession
from dataforge.review.store import ACCEPTED, REJECTED, ReviewStore, log_path
from tests.conftest import write_jsonl

RECORDS = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(4)]


def opened(path):
    session = ReviewSession()
    return session, session.open(path)


def test_the_log_lives_in_a_hidden_folder_that_lint_passes_over(tmp_path, run_line):
    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    session, o = opened(path)
    o.store.decide(0, o.dataset.sample_id(0), ACCEPTED)
    session.close()
    assert log_path(path) == tmp_path / ".dataforge" / "data.jsonl.review.jsonl" and log_path(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dataforge", "data.jsonl"]
    assert run_line(f"dataforge lint {tmp_path}").exit_code == 0


def test_a_log_beside_the_dataset_from_an_earlier_version_is_moved(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    (tmp_path / "data.jsonl.review.jsonl").write_text(json.dumps({"event": "decide", "record": 1, "decision": REJECTED})
                                                      + "\n")
    store = ReviewStore(path)
    assert store.state(1).decision == REJECTED and not (tmp_path / "data.jsonl.review.jsonl").exists()
    store.close()


def test_a_cut_last_line_loses_nothing_after_it(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    session, o = opened(path)
    o.store.decide(0, o.dataset.sample_id(0), ACCEPTED)
    session.close()
    with open(log_path(path), "a") as f:
        f.write('{"event": "decide", "record": 1, "deci')  # killed mid-write
    session, o = opened(path)
    o.store.decide(2, o.dataset.sample_id(2), REJECTED)  # later decisions...
    session.close()
    session, o = opened(path)  # ...survive the next open
    assert [o.store.state(i).decision for i in range(3)] == [ACCEPTED, "pending", REJECTED]
    session.close()


def test_decisions_follow_their_records_when_the_dataset_changes(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    session, o = opened(path)
    o.store.decide(1, o.dataset.sample_id(1), ACCEPTED)
    o.store.decide(2, o.dataset.sample_id(2), REJECTED)
    o.store.edit(3, o.dataset.sample_id(3), RECORDS[3] | {"output": "edited"})
    session.close()
    new = {"instruction": "inserted", "input": "", "output": "x"}
    write_jsonl(path, [RECORDS[0], new, RECORDS[1], RECORDS[3]])  # one inserted above, record 2 gone
    session, o = opened(path)
    states = [o.store.state(i) for i in range(4)]
    assert [s.decision for s in states] == ["pending", "pending", ACCEPTED, "pending"]
    assert states[3].edited["output"] == "edited"
    assert [a["record"] for a in o.store.orphaned] == [2]  # its record is gone: set aside, not misapplied
    session.close()


def test_export_writes_only_what_was_accepted_after_records_moved(tmp_path):
    from dataforge.review.export import export_accepted

    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    session, o = opened(path)
    o.store.decide(1, o.dataset.sample_id(1), ACCEPTED)
    session.close()
    write_jsonl(path, [{"instruction": "new", "input": "", "output": "n"}, *RECORDS])
    session, o = opened(path)
    out = tmp_path / "out.jsonl"
    export_accepted(o.dataset, o.store, "alpaca", out)
    session.close()
    assert [json.loads(line)["instruction"] for line in out.read_text().splitlines()] == ["q1"]


def test_looking_at_a_dataset_writes_nothing(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    session, o = opened(path)
    assert o.store.state(0).decision == "pending"
    session.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_an_edit_is_judged_everywhere_the_record_is(tmp_path):
    """List marker, rule filter and counts use lint's verdict on the edit, not the original findings."""
    from dataforge.review.session import Filter

    bad = {"instruction": "q", "input": "", "output": "a", "sytem": "typo"}
    path = write_jsonl(tmp_path / "data.jsonl", [bad, RECORDS[1]])
    session, o = opened(path)
    ReviewSession.lint(o)
    assert ReviewSession.label(o, 0)[0][1] == "!" and list(session.rows(o, Filter(code="S006"))) == [0]
    o.store.edit(0, o.dataset.sample_id(0), {"instruction": "q", "input": "", "output": "a"})
    assert ReviewSession.label(o, 0)[0][1] == " " and list(session.rows(o, Filter(code="S006"))) == []
    o.store.edit(1, o.dataset.sample_id(1), RECORDS[1] | {"output": ["not text"]})
    assert ReviewSession.label(o, 1)[0][1] == "!" and list(session.rows(o, Filter(code="S005"))) == [1]
    session.close()
