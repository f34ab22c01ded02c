"""The review app driven with Textual's Pilot: each screen, with the files it writes checked."""

import json
import shutil

import pytest

from dataforge.tui.app import DataforgeApp
from dataforge.tui.sample_list import SampleList
from tests.conftest import SAMPLES, sections_docx

SIZE = (120, 36)


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(SAMPLES / "generated", tmp_path / "generated")
    shutil.copytree(SAMPLES / "docs", tmp_path / "docs")
    return tmp_path


def review_log(path):
    from dataforge.review.store import log_path

    log = log_path(path)
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


async def settle(pilot, app):
    """Until no worker runs and the UI has taken what they posted (a worker may start another)."""
    for _ in range(4):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause(0.05)


async def export_to(pilot, app, path, target: str | None = None) -> None:
    """On the Export tab, set the path (and the format or trainer target) and press Export."""
    if target is not None:
        app.query_one("#export-format").value = target
    app.query_one("#export-path").value = str(path)
    await pilot.press("5", "x")
    await pilot.pause()


async def type_output(pilot, app, output: str) -> None:
    """In the edit screen, set the record's `output` field as if typed, and let validation run."""
    editor = app.screen.query_one("TextArea")
    record = json.loads(editor.text)
    record["output"] = output
    editor.text = json.dumps(record)
    await pilot.pause()


@pytest.mark.asyncio
async def test_accept_reject_undo_are_saved_as_they_happen(workspace):
    data = workspace / "generated" / "onboarding_en.alpaca.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a", "r", "a")
        assert [e["decision"] for e in review_log(data)] == ["accepted", "rejected", "accepted"]
        await pilot.press("u")
        opened = app.session.current
        assert opened.store.counts(len(opened.dataset)) == {"accepted": 1, "rejected": 1, "pending": 7}
        assert app.query_one(SampleList).current == 2  # back on the sample whose decision was undone
    assert review_log(data)[-1]["event"] == "undo"
    assert data.read_text(encoding="utf-8") == (SAMPLES / "generated" / data.name).read_text(encoding="utf-8")


@pytest.mark.asyncio
async def test_edit_revalidates_and_is_saved(workspace):
    data = workspace / "generated" / "onboarding_en.alpaca.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await type_output(pilot, app, "")
        status = str(app.screen.query_one("#edit-status").render())
        assert "R008" in status  # the empty answer is flagged while editing
        await type_output(pilot, app, "Read the guide before your first shift.")
        assert "no findings" in str(app.screen.query_one("#edit-status").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.session.current.store.state(0).edited["output"] == "Read the guide before your first shift."
    (edit,) = [e for e in review_log(data) if e["event"] == "edit"]
    assert edit["record"] == 0 and edit["value"]["output"] == "Read the guide before your first shift."


@pytest.mark.asyncio
async def test_findings_of_an_edit_show_at_their_message(workspace):
    data = workspace / "generated" / "onboarding_en.alpaca.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await type_output(pilot, app, " ")
        await pilot.press("ctrl+s")
        await pilot.pause()
        detail = str(app.query_one("#messages").render())
    assert "assistant\n \n  ▲ R008 empty assistant message" in detail
    assert detail.count("R008") == 1


@pytest.mark.asyncio
async def test_filters(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        sample_list = app.query_one(SampleList)
        assert len(sample_list.rows) == 10
        await pilot.press("a")
        app.query_one("#text").value = "运费"
        await settle(pilot, app)
        assert list(sample_list.rows) == [7]
        app.query_one("#text").value = ""
        app.query_one("#status").value = "accepted"
        await settle(pilot, app)
        assert list(sample_list.rows) == [0]
        app.action_clear_filter()
        await settle(pilot, app)
        assert len(sample_list.rows) == 10


@pytest.mark.asyncio
async def test_rule_code_filter_and_inline_findings(tmp_path):
    data = tmp_path / "broken.jsonl"
    shutil.copy(SAMPLES / "broken" / "chatglm3_broken.jsonl", data)
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one("#code").value = "L001"
        await settle(pilot, app)
        assert list(app.query_one(SampleList).rows) == [4]
        detail = str(app.query_one("#messages").render())
        assert "▲ L001 loss must be true or false" in detail


@pytest.mark.asyncio
async def test_export_writes_accepted_samples_and_a_report(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    out = workspace / "accepted.sharegpt.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a", "a", "r", "a")
        await export_to(pilot, app, out, "sharegpt")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3 and all(r["conversations"][0]["from"] == "human" for r in records)
    report = json.loads(out.with_name(out.name + ".report.json").read_text(encoding="utf-8"))
    assert report["written"] == 3 and report["accepted"] == 3 and report["rejected"] == 1


@pytest.mark.asyncio
async def test_export_tab_hands_accepted_samples_to_llamafactory(workspace):
    """The Export tab runs `dataforge export`'s own code: same files, entry and manifest."""
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    out = workspace / "lf-data"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a", "a", "r", "a")
        await export_to(pilot, app, out, "to:llamafactory")
        shown = str(app.query_one("#export-report").render())
    entries = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert entries["returns_policy_zh"]["formatting"] == "sharegpt"
    rows = (out / "returns_policy_zh.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3
    manifest = json.loads((out / "returns_policy_zh.manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"][0]["records"] == 3 and manifest["records_read"] == 10
    assert "wrote 3 train sample(s)" in shown and "dataset: returns_policy_zh" in shown


@pytest.mark.asyncio
async def test_generate_offline_from_sources(workspace):
    doc = workspace / "docs" / "onboarding_en.docx"
    app = DataforgeApp([str(doc)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.query_one("#chunks").row_count == 5
        app.query_one("#target").value = "alpaca"
        await pilot.press("1", "g")
        await settle(pilot, app)
        out = doc.with_name("onboarding_en.alpaca.jsonl")
        assert out.exists() and len(out.read_text(encoding="utf-8").splitlines()) == 9
        assert app.session.current.dataset.path == out
        assert len(app.query_one(SampleList).rows) == 9


@pytest.mark.asyncio
async def test_generate_through_the_test_llm_server(workspace):
    from dataforge.generate.testserver import FakeLLM

    doc = workspace / "docs" / "onboarding_en.docx"
    app = DataforgeApp([str(doc)])
    with FakeLLM([{"status": 500}, {"content": "not JSON"}]) as server:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            app.query_one("#base-url").value = server.base_url
            app.query_one("#model").value = "fake"
            await pilot.press("1", "g")
            await settle(pilot, app)
            status = str(app.query_one("#gen-status").render())
    assert "✔ 5 records" in status
    assert len(server.requests) == 7


@pytest.mark.asyncio
async def test_tokens_and_stats_tabs(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("3")
        await settle(pilot, app)
        assert app.query_one("TabbedContent").active == "tokens"
        summary = str(app.query_one("#token-summary").render())
        assert "template chatglm3" in summary and "trained" in summary
        table = app.query_one("#token-table")
        assert table.row_count > 10 and app.focused is table  # the keys scroll the tokens at once
        await pilot.press("down", "down", "pagedown")
        assert table.cursor_row > 2
        await pilot.press("4")
        await settle(pilot, app)
        body = app.query_one("#stats-body")
        shown = "".join(segment.text for strip in body.render_lines(body.region.reset_offset) for segment in strip)
        assert "chatglm3: 10 samples" in shown and "pending 10" in shown
        assert "█" in shown  # the token-length histogram


@pytest.mark.asyncio
async def test_help_palette_and_theme(workspace):
    app = DataforgeApp([str(workspace / "generated" / "onboarding_en.alpaca.jsonl")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        theme = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != theme
        from dataforge.tui.app import Actions

        names = [name for name, _ in Actions.ACTIONS]
        assert {"Accept sample", "Reject sample", "Edit sample", "Undo", "Export accepted samples"} <= set(names)


@pytest.mark.asyncio
async def test_cancel_and_resume_a_generation(tmp_path):
    import asyncio

    from dataforge.generate.testserver import FakeLLM

    doc = sections_docx(tmp_path / "rules.docx", 24)
    app = DataforgeApp([str(doc)])
    with FakeLLM(latency=0.4) as server:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            app.query_one("#base-url").value = server.base_url
            app.query_one("#model").value = "fake"
            app.query_one("#target").value = "alpaca"
            await pilot.press("1", "g")
            status = app.query_one("#gen-status")
            for _ in range(200):  # until the first wave of answers is in
                await asyncio.sleep(0.05)
                if "chunks ·" in str(status.render()):
                    break
            await pilot.click("#cancel")
            await settle(pilot, app)
            assert "cancelled" in str(status.render())
            journal = doc.with_name("rules.alpaca.jsonl.journal").read_text(encoding="utf-8")
            finished = journal.count('"event": "records"')
            assert 0 < finished < 24
            asked_before = len(server.requests)
            await pilot.press("1", "g")
            await settle(pilot, app)
            assert f"({finished} chunks resumed)" in str(status.render())
            out = doc.with_name("rules.alpaca.jsonl")
            assert len(out.read_text(encoding="utf-8").splitlines()) == 24
            # only the chunks that had not finished are asked for again
            assert len(server.requests) - asked_before <= 24 - finished


def test_discovery_stays_near_the_folder(tmp_path):
    from dataforge.tui.app import discover

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c").mkdir()
    (tmp_path / ".venv").mkdir()
    for path in ("top.jsonl", "a/one.docx", "a/b/two.json", "a/b/c/too_deep.jsonl", ".venv/hidden.jsonl",
                 "a/data.jsonl.review.jsonl"):
        (tmp_path / path).write_text("{}")
    docs, datasets = discover([str(tmp_path)])
    assert [p.relative_to(tmp_path).as_posix() for p in docs] == ["a/one.docx"]
    assert [p.relative_to(tmp_path).as_posix() for p in datasets] == ["a/b/two.json", "top.jsonl"]


@pytest.mark.asyncio
async def test_an_unreadable_dataset_is_reported_not_fatal(tmp_path):
    broken = tmp_path / "a_broken.json"
    broken.write_text('[{"prompt": "a", "response": "b"}, {"prompt": ', encoding="utf-8")
    good = tmp_path / "b_good.jsonl"
    shutil.copy(SAMPLES / "generated" / "onboarding_en.alpaca.jsonl", good)
    app = DataforgeApp([str(tmp_path)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.is_running
        assert any("file ends in the middle of a record" in n.message for n in app._notifications)
        app.query_one("#dataset").value = str(good)
        await settle(pilot, app)
        assert len(app.query_one(SampleList).rows) == 9


@pytest.mark.asyncio
async def test_keys_act_only_on_their_tab(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    doc = workspace / "docs" / "onboarding_en.docx"
    app = DataforgeApp([str(data), str(doc)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("1", "a", "r", "u", "x")  # on Sources: no decision, no export
        await settle(pilot, app)
        assert review_log(data) == [] and not list(data.parent.glob("*.accepted.*"))
        await pilot.press("2", "g")  # on Review: no generation
        await settle(pilot, app)
        assert not doc.with_name("onboarding_en.alpaca.jsonl").exists()
        assert app.session.current.dataset.path == data


@pytest.mark.asyncio
async def test_slash_puts_the_cursor_in_the_text_filter(workspace):
    app = DataforgeApp([str(workspace / "generated" / "returns_policy_zh.chatglm3.jsonl")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await pilot.pause()
        assert app.focused is app.query_one("#text")
        await pilot.press("退", "货")
        await pilot.pause()
        assert app.query_one("#text").value == "退货"


@pytest.mark.asyncio
async def test_export_asks_before_replacing_a_file(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    out = workspace / "mine.jsonl"
    out.write_text("my own file\n")
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        await export_to(pilot, app, out)
        await pilot.press("n")
        await pilot.pause()
        assert out.read_text() == "my own file\n"
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert "conversations" in out.read_text() and (out.stat().st_mode & 0o077) != 0  # not owner-only


@pytest.mark.asyncio
async def test_export_onto_the_dataset_or_a_folder_is_refused(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    before = data.read_bytes()
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        for target, message in ((data, "is one of the inputs"), (workspace, "is a folder")):
            await export_to(pilot, app, target)
            if app.screen.__class__.__name__ == "ConfirmScreen":
                await pilot.press("y")
                await pilot.pause()
            assert message in str(app.query_one("#export-report").render())
    assert data.read_bytes() == before


@pytest.mark.asyncio
async def test_escape_in_the_editor_asks_before_dropping_changes(workspace):
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen.query_one("#editor")
        editor.insert(" ")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "EditScreen"
        assert "unsaved changes" in str(app.screen.query_one("#edit-status").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ != "EditScreen"


@pytest.mark.asyncio
async def test_an_unreachable_endpoint_ends_in_a_failure_not_a_tick(workspace, monkeypatch):
    import socket

    import dataforge.generate.job as job

    real = job.JobOptions
    monkeypatch.setattr(job, "JobOptions", lambda **kw: real(retries=0, backoff=0.01, **kw))  # no long backoff
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    doc = workspace / "docs" / "onboarding_en.docx"
    app = DataforgeApp([str(doc)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one("#base-url").value = f"http://127.0.0.1:{port}/v1"
        app.query_one("#model").value = "fake"
        await pilot.press("1", "g")
        await settle(pilot, app)
        status = str(app.query_one("#gen-status").render())
    assert status.startswith("✘ 0 records") and "5 of 5 chunks made none" in status


@pytest.mark.asyncio
async def test_start_over_after_an_offline_run(workspace):
    from dataforge.generate.testserver import FakeLLM

    doc = workspace / "docs" / "onboarding_en.docx"
    app = DataforgeApp([str(doc)])
    with FakeLLM() as server:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            app.query_one("#target").value = "alpaca"
            await pilot.press("1", "g")  # offline
            await settle(pilot, app)
            app.query_one("#base-url").value = server.base_url
            app.query_one("#model").value = "fake"
            await pilot.press("1", "g")  # with a model: another job's journal
            await settle(pilot, app)
            assert "Start over" in str(app.query_one("#gen-status").render())
            await pilot.click("#start-over")
            await settle(pilot, app)
            status = str(app.query_one("#gen-status").render())
    assert status.startswith("✔ 5 records") and len(server.requests) == 5


@pytest.mark.asyncio
async def test_the_review_queue(workspace):
    """Bulk decisions over the shown samples undone as one, next pending, gg/G, go-to, progress."""
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        sample_list = app.query_one(SampleList)
        await pilot.press("G")
        assert sample_list.current == 9
        await pilot.press("g", "g")
        assert sample_list.current == 0
        await pilot.press("a", "a")  # records 0 and 1 accepted; the cursor moves to 2
        await pilot.press("G", "n")  # from the last, the next pending wraps to record 2
        assert sample_list.current == 2
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press("7", "enter")
        await pilot.pause()
        assert sample_list.current == 7
        app.query_one("#status").value = "pending"
        await settle(pilot, app)
        assert len(sample_list.rows) == 8
        await pilot.press("R")  # reject the 8 shown
        await pilot.pause()
        counts = str(app.query_one("#counts").render())
        assert "✘ 8 rejected" in counts and "reviewed 10/10 (100%)" in counts
        await pilot.press("u")  # one undo takes the whole bulk back
        await pilot.pause()
        assert "✘ 0 rejected" in str(app.query_one("#counts").render())
    log = review_log(data)
    assert [e["event"] for e in log] == ["decide", "decide", "bulk", "undo"]
    assert sorted(log[2]["records"]) == [2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.asyncio
async def test_queue_filters_has_findings_and_edited(tmp_path):
    records = [{"instruction": "q0", "input": "", "output": "a0"},
               {"instruction": "q1", "input": "", "output": "a1", "sytem": "typo"},
               {"instruction": "q2", "input": "", "output": "a2"}]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    app = DataforgeApp([str(path)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one("#status").value = "has findings"
        await settle(pilot, app)
        assert list(app.query_one(SampleList).rows) == [1]
        app.session.current.store.edit(2, app.session.current.dataset.sample_id(2), records[2] | {"output": "b"})
        app.query_one("#status").value = "edited"
        await settle(pilot, app)
        assert list(app.query_one(SampleList).rows) == [2]


@pytest.mark.asyncio
async def test_a_broken_record_shows_its_text_and_can_be_mended_in_the_editor(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"instruction": "q0", "input": "", "output": "a0"}\n{"instruction": "q1", "output": \n')
    app = DataforgeApp([str(path)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("j")
        await pilot.pause()
        shown = str(app.query_one("#messages").render())
        assert '"instruction": "q1", "output":' in shown  # the raw text, not a crash
        assert "▲ E001" in shown  # and what lint says of it
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen.query_one("#editor")
        assert "E001" in str(app.screen.query_one("#edit-status").render())
        editor.text = '{"instruction": "q1", "input": "", "output": "a1"}'
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.__class__.__name__ != "EditScreen"
    assert review_log(path)[-1]["value"] == {"instruction": "q1", "input": "", "output": "a1"}


@pytest.mark.asyncio
async def test_generation_writes_where_it_is_told(workspace):
    doc = workspace / "docs" / "onboarding_en.docx"
    out = workspace / "made" / "guide.jsonl"
    out.parent.mkdir()
    app = DataforgeApp([str(doc)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one("#target").value = "alpaca"
        app.query_one("#gen-out").value = str(out)
        await pilot.press("1", "g")
        await settle(pilot, app)
        assert app.session.current.dataset.path == out
    assert len(out.read_text(encoding="utf-8").splitlines()) == 9
    assert not doc.with_name("onboarding_en.alpaca.jsonl").exists()


def test_an_error_in_the_app_is_logged_and_fails_the_run(tmp_path, monkeypatch, capsys):
    from dataforge.tui import app as tui

    monkeypatch.setenv("DATAFORGE_CACHE", str(tmp_path / "cache"))

    def broken(self):
        raise RuntimeError("a fault of the app's own")

    monkeypatch.setattr(tui.DataforgeApp, "on_mount", broken)
    assert tui.run([str(tmp_path)], headless=True) == 1
    log = (tmp_path / "cache" / "tui-errors.log").read_text()
    assert "RuntimeError: a fault of the app's own" in log and "Traceback" in log
    assert "tui-errors.log" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_stats_say_which_samples_the_lengths_come_from(workspace, monkeypatch):
    from dataforge.tui.panes import stats as tui

    monkeypatch.setattr(tui, "STATS_SAMPLE", 3)
    data = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        body = app.query_one("#stats-body")
        shown = "".join(segment.text for strip in body.render_lines(body.region.reset_offset) for segment in strip)
    assert "3 samples spread over the 10" in shown


@pytest.mark.asyncio
async def test_open_a_file_from_inside_the_app(workspace):
    first = workspace / "generated" / "returns_policy_zh.chatglm3.jsonl"
    other = workspace / "more.jsonl"
    other.write_text(json.dumps({"instruction": "q", "input": "", "output": "a"}) + "\n")
    app = DataforgeApp([str(first)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#answer").value = str(other)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.session.current.dataset.path == other
        assert len(app.query_one(SampleList).rows) == 1
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#answer").value = str(workspace / "docs")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.query_one("TabbedContent").active == "sources"
        assert str(app.query_one("#doc").value).endswith(".docx")


@pytest.mark.asyncio
async def test_a_large_file_shows_its_first_part_then_every_record(tmp_path, monkeypatch):
    """The first rows come from a first part of the index (the count says it is a part); the rest
    is indexed after the first paint, then linted; G and bulk decisions act on every record."""
    import threading

    import dataforge.review.dataset as dataset_module
    from dataforge.review.session import ReviewSession

    monkeypatch.setattr(dataset_module, "FIRST_PART", 2000)  # about 40 of the 300 records
    go_on = threading.Event()  # holds the index worker until the first part has been checked
    index_rest = ReviewSession.index_rest
    monkeypatch.setattr(ReviewSession, "index_rest", staticmethod(lambda opened: (go_on.wait(10),
                                                                                  index_rest(opened))))
    data = tmp_path / "big.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"q{i}", "input": "", "output": "a"}) + "\n"
                            for i in range(300)), encoding="utf-8")
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        opened = app.session.current
        for _ in range(50):
            await pilot.pause(0.01)
            if app.query_one(SampleList).rows:
                break
        assert not opened.followed and 0 < len(app.query_one(SampleList).rows) < 300
        assert f"/{len(opened.dataset)}+ " in str(app.query_one("#counts").render())
        go_on.set()
        await settle(pilot, app)
        assert opened.followed and opened.linted and len(app.query_one(SampleList).rows) == 300
        assert "/300 " in str(app.query_one("#counts").render())
        await pilot.press("G")
        assert app.query_one(SampleList).current == 299
        await pilot.press("A")
        assert opened.store.counts(300)["accepted"] == 300


@pytest.mark.asyncio
async def test_keys_over_every_record_wait_for_the_whole_index(tmp_path, monkeypatch):
    """G before the index worker has run: the index is completed on the spot, not half used."""
    import dataforge.review.dataset as dataset_module
    from dataforge.tui.panes.review import ReviewPane

    monkeypatch.setattr(dataset_module, "FIRST_PART", 2000)
    monkeypatch.setattr(ReviewPane, "index_in_background", lambda self, opened: None)  # never runs
    data = tmp_path / "big.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"q{i}", "input": "", "output": "a"}) + "\n"
                            for i in range(300)), encoding="utf-8")
    app = DataforgeApp([str(data)])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert not app.session.current.followed
        await pilot.press("G")
        assert app.session.current.followed and app.query_one(SampleList).current == 299
