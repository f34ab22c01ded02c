"""dedup: planted exact and near repeats are removed (first occurrence kept), distinct samples are
not, kept records are copied byte for byte, and the report names each removal."""

from __future__ import annotations

import json
import random
import re
import tempfile

from dataforge.dedup import Signatures, find_repeats
from dataforge.model import Sample
from tests.conftest import write_jsonl

BASE = ("Our return policy lets customers send back any unopened item within thirty days of delivery. "
        "Refunds go to the original payment method within five business days after the warehouse checks the "
        "parcel, and shipping costs are covered when the item arrived damaged.")
ZH = "仓库确认收货后一到三个工作日内原路退回，运费由我们承担。如果商品在运输途中破损，请在签收后七天内联系客服并提供照片。"


def _qa(question: str, answer: str) -> Sample:
    return Sample(("user", "assistant"), (question, answer), (None, None), ("$", "$"))


def _distinct(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(3000)]
    return [" ".join(rng.choice(words) for _ in range(40)) for _ in range(n)]


def test_planted_repeats_of_every_kind_are_found():
    samples = [_qa("What is the return policy?", BASE),  # 0
               _qa("What is the return policy?", BASE.replace("thirty", "30")),  # 1: an edit
               _qa("What is the return policy?", "  ".join(BASE.split(" "))),  # 2: whitespace changed
               _qa("What is the return policy!", BASE.replace(",", ";").replace(".", "!")),  # 3: punctuation
               _qa("退款多久到账？", ZH),  # 4
               _qa("退款多久到账?", ZH.replace("，", ",").replace("。", ".")),  # 5: full-width punctuation
               _qa("What is the return policy?", BASE)]  # 6: exact
    found = {r.index: r for r in find_repeats(samples + [_qa("q", t) for t in _distinct(50)])}
    assert {i: (r.of, r.kind) for i, r in found.items()} == {
        1: (0, "near"), 2: (0, "near"), 3: (0, "near"), 5: (4, "near"), 6: (0, "exact")}
    assert found[6].similarity == 1.0 and 0.8 <= found[1].similarity <= 1.0


def test_distinct_and_merely_related_samples_stay():
    texts = _distinct(2000, seed=1)
    samples = [_qa("q", t) for t in texts]
    # a sample that shares half its words with another is related, not a repeat
    half = texts[0].split()[:20] + texts[1].split()[20:]
    samples.append(_qa("q", " ".join(half)))
    assert find_repeats(samples) == []


def test_the_same_sample_in_another_layout_is_an_exact_repeat(tmp_path, run_line):
    a = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "Name the capital of France.", "input": "",
                                             "output": "Paris."}])
    b = write_jsonl(tmp_path / "b.jsonl", [
        {"conversations": [{"from": "human", "value": "Name the capital of France."},
                           {"from": "gpt", "value": "Paris."}]},
        {"conversations": [{"from": "human", "value": "Name the capital of Spain."},
                           {"from": "gpt", "value": "Madrid."}]}])
    out = tmp_path / "out"
    result = run_line(f"dataforge dedup {a} {b} -o {out}")
    assert result.exit_code == 0, result.stderr
    assert "removed 1 exact and 0 near" in result.stderr
    assert (out / "a.jsonl").read_bytes() == a.read_bytes()
    assert (out / "b.jsonl").read_bytes() == b.read_bytes().splitlines(keepends=True)[1]
    report = [json.loads(line) for line in (out / "dedup-report.jsonl").read_text(encoding="utf-8").splitlines()]
    assert report == [{"removed": {"file": str(b), "record": 0, "line": 1},
                       "repeats": {"file": str(a), "record": 0, "line": 1}, "kind": "exact", "similarity": 1.0}]


def test_one_file_keeps_its_bytes_and_unreadable_records(tmp_path, run_line):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"instruction": "Explain refunds.", "input": "", "output": BASE}, ensure_ascii=False),
             '{"instruction":  "Explain refunds.", "input": "", "output": ' + json.dumps(BASE.replace("five", "5")) + "}",
             '{"instruction": broken',
             json.dumps({"instruction": "退款", "input": "", "output": ZH}, ensure_ascii=False, indent=None)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "dedup.jsonl"
    result = run_line(f"dataforge dedup {src} -o {out}")
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [lines[0], lines[2], lines[3]]
    assert "1 unreadable record(s) kept as they are" in result.stderr
    report = (tmp_path / "dedup.jsonl.dedup-report.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in report] == ["near"]
    exact = run_line(f"dataforge dedup {src} -o {tmp_path / 'exact.jsonl'} --exact-only")
    assert "removed 0 exact and 0 near" in exact.stderr
    two = run_line(f"dataforge dedup {src} -o {tmp_path / 'two.jsonl'} -j 2")  # in two worker processes
    assert two.exit_code == 0 and (tmp_path / "two.jsonl").read_bytes() == out.read_bytes()


def test_the_report_is_json_whatever_the_files_are_named(tmp_path):
    import os

    from dataforge.dedup import Place, dedup_files

    name = os.fsdecode(b'caf\xe9 "q".jsonl')  # a byte that is not UTF-8, and quotes
    src = write_jsonl(tmp_path / name, [{"prompt": "p", "response": "r"}] * 3)
    result = dedup_files([str(src)], tmp_path / "out.jsonl")
    report = [json.loads(line) for line in (tmp_path / "out.jsonl.dedup-report.jsonl").read_bytes().splitlines()]
    assert [(r["removed"], r["repeats"]["record"]) for r in report] == \
        [({"file": str(src), "record": 1, "line": 2}, 0), ({"file": str(src), "record": 2, "line": 3}, 0)]
    assert result.repeats[1][1:] == (Place(str(src), 2, 3), Place(str(src), 0, 1))
    assert result.repeats[-1:] == [result.repeats[1]] and result.repeats.kinds() == {"exact": 2, "near": 0}


def test_a_json_array_stays_an_array(tmp_path, run_line):
    src = tmp_path / "in.json"
    records = [{"prompt": "p", "response": "r"}, {"prompt": "p", "response": "r"}, {"prompt": "x", "response": "y"}]
    src.write_text(json.dumps(records, indent=2), encoding="utf-8")
    out = tmp_path / "out.json"
    assert run_line(f"dataforge dedup {src} -o {out}").exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == [records[0], records[2]]


def test_outputs_are_not_overwritten_without_force(tmp_path, run_line):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "p", "response": "r"}])
    out = tmp_path / "out.jsonl"
    out.write_text("keep me", encoding="utf-8")
    result = run_line(f"dataforge dedup {src} -o {out}")
    assert result.exit_code == 2 and out.read_text(encoding="utf-8") == "keep me"
    assert run_line(f"dataforge dedup {src} -o {src}").exit_code == 2


def test_clusters_join_chains_of_repeats():
    a = BASE
    b = BASE.replace("thirty", "30")
    c = b.replace("five", "5")
    signatures = Signatures()
    signatures.add([_qa("q", t) for t in (a, "something else entirely, quite unlike the rest", b, c)])
    clusters = signatures.clusters().tolist()
    assert clusters[0] == clusters[2] == clusters[3] != clusters[1]


def _one_by_one(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Near repeats settled plainly: samples in index order, each removed when a pair's earlier
    sample is still kept, repeating the most similar such one (the earliest between equals)."""
    by_later: dict[int, list[tuple[float, int]]] = {}
    for later, earlier, similarity in pairs:
        by_later.setdefault(later, []).append((similarity, earlier))
    removed, out = set(), []
    for later in sorted(by_later):
        kept = [(s, e) for s, e in by_later[later] if e not in removed]
        if kept:
            similarity, earlier = max(kept, key=lambda p: (p[0], -p[1]))
            removed.add(later)
            out.append((later, earlier, round(similarity, 4)))
    return out


def test_chains_of_near_repeats_are_settled_as_one_by_one_in_index_order():
    import numpy as np

    from dataforge.dedup import _near_repeats

    rng = random.Random(5)
    for _ in range(200):
        n = rng.randint(2, 40)
        pairs = sorted({(b, a) for a, b in (sorted(rng.sample(range(n), 2)) for _ in range(rng.randint(1, 60)))})
        pairs = [(later, earlier, rng.choice([0.8, 0.84375, 0.9, 1.0])) for later, earlier in pairs]
        later, earlier, similarity = (np.array(column) for column in zip(*pairs))
        got = sorted(_near_repeats(later.astype(np.int64), earlier.astype(np.int64), similarity.astype(float)))
        assert [(r.index, r.of, r.similarity) for r in got] == _one_by_one(pairs)
        assert all(r.kind == "near" for r in got)


# The features, restated plainly: a regex tokenizer, each token's polynomial hash over its code
# points, bigrams of consecutive tokens, all in Python integers modulo 2^64.
_M = (1 << 64) - 1
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORDS = re.compile(f"[{_CJK_CLASS}]|[^\\W_{_CJK_CLASS}]+")  # a CJK character, or letters and digits


def _mix(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M
    return x ^ (x >> 31)


def _token(word: str) -> int:
    from dataforge.dedup import _P

    return _mix((sum(ord(c) * pow(_P, i, 1 << 64) for i, c in enumerate(word)) + len(word)) & _M)


def _reference_features(text: str) -> list[int]:
    from dataforge.dedup import _PAIR

    tokens = [_token(w) for w in _WORDS.findall(text.lower())]
    if len(tokens) == 1:
        return tokens
    return [_mix((a * _PAIR + b) & _M) for a, b in zip(tokens, tokens[1:])]


def test_features_are_hashed_word_bigrams_with_cjk_characters_as_words():
    from dataforge.dedup import text_features

    rng = random.Random(0)
    alphabet = list("abc XYZ,.!_-\t\n退款多久天 123éÉßｶ") + ["\U0001F600", "\U00020000", "ǅ", "İ"]
    texts = ["Hello, World!", "Hello, Wörld!", "退款，多久", "", "one", "  ,, ", "a_b c"] + \
        ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    features, offsets = text_features(texts)
    for i, text in enumerate(texts):
        assert features[offsets[i]:offsets[i + 1]].tolist() == _reference_features(text), text
    assert [len(_WORDS.findall(t.lower())) for t in texts[:5]] == [2, 2, 4, 0, 1]  # the reference's words


def test_worker_processes_find_the_same_repeats(tmp_path):
    from dataforge.dedup import dedup_files

    texts = _distinct(3000, seed=11)
    records = [{"instruction": "q", "input": "", "output": t} for t in texts]
    for i in range(0, 3000, 50):  # near repeats far apart, across the workers' ranges
        records[(i + 1517) % 3000] = {**records[i], "output": texts[i].replace(texts[i].split()[3], "zz", 1)}
    src = write_jsonl(tmp_path / "in.jsonl", records)
    one = dedup_files([str(src)], tmp_path / "one.jsonl", jobs=1)
    two = dedup_files([str(src)], tmp_path / "two.jsonl", jobs=2)
    assert [(r.kind, g, f) for r, g, f in one.repeats] == [(r.kind, g, f) for r, g, f in two.repeats]
    assert len(one.repeats) >= 55
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_the_compiled_features_equal_the_numpy_twin():
    import numpy as np
    import pytest

    from dataforge import dedup

    if dedup.compiled is None:
        pytest.skip("the C speedups are not built here")
    rng = random.Random(5)
    alphabet = "abcXYZ  ,.!中文字日本語한국İßΣς\u00e9\U0001F600\U00010400\n\t_-0129ǅ"
    for _ in range(300):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(rng.randint(1, 20))]
        features, offsets = dedup._text_features_c(texts)
        twin, twin_offsets = dedup._text_features_py(texts)
        assert np.array_equal(offsets, twin_offsets), texts
        assert np.array_equal(features, twin), texts
    rows = [[rng.randrange(2**32) for _ in range(64)] for _ in range(50)]
    assert np.array_equal(dedup._low16_c(rows, 64), dedup._low16_py(rows, 64))


def test_workers_ranges_are_written_as_one_process_writes_them(tmp_path, monkeypatch):
    """Plain ranges go over as runs of bytes, others (CRLF, blank lines, no last newline) are read
    again: either way the output is what one process writes."""
    from dataforge import dedup
    from dataforge.lint import engine

    monkeypatch.setattr(engine, "BLOCK", 4096)  # many ranges
    scratch = tmp_path / "scratch"  # where the workers leave their results
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    texts = _distinct(400, seed=3)
    lines = [json.dumps({"instruction": "q", "input": "", "output": t}) for t in texts]
    for i in range(0, 400, 7):
        lines[i] = lines[(i * 13) % 400]  # exact repeats, some of them earlier, some later
    clean = "\n".join(lines) + "\n"
    messy = clean.replace("\n", "\r\n", 30).replace("\r\n", "\r\n\n   \n", 3)[:-1]
    for name, text in (("clean.jsonl", clean), ("messy.jsonl", messy)):
        src = tmp_path / name
        src.write_bytes(text.encode())
        one = dedup.dedup_files([str(src)], tmp_path / f"one-{name}", jobs=1)
        two = dedup.dedup_files([str(src)], tmp_path / f"two-{name}", jobs=2)
        assert len(one.repeats) > 30 and one.kept == two.kept == 400 - len(one.repeats)
        assert [g for _, g, _ in one.repeats] == [g for _, g, _ in two.repeats]
        assert (tmp_path / f"one-{name}").read_bytes() == (tmp_path / f"two-{name}").read_bytes()
    assert not list(scratch.iterdir())  # every worker's file read back and removed, their folder too


def test_exact_repeats_hold_when_digests_meet_in_the_hashed_bits():
    import numpy as np

    from dataforge.dedup import _PAIR, NUM_PERM

    inverse = pow(_PAIR, -1, 1 << 64)
    rng = random.Random(3)
    n = 3000
    bits = (n - 1).bit_length()  # what the grouping keeps of a position; the digest's hash gets the rest
    shared_high = [rng.getrandbits(64 - bits) for _ in range(40)]
    digests: list[int] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.3 and digests:
            digests.append(rng.choice(digests))  # an exact repeat
        elif roll < 0.5:  # a digest whose hash shares its high bits with others': a bucket of mixed digests
            digests.append(((rng.choice(shared_high) << bits | rng.getrandbits(bits)) * inverse) % (1 << 64))
        else:
            digests.append(rng.getrandbits(64))
    signatures = Signatures()
    signatures.add_signed(np.array(digests, np.uint64), np.zeros((n, NUM_PERM), np.uint16), np.zeros(n, bool))
    first_seen: dict[int, int] = {}
    assert signatures.exact_firsts().tolist() == [first_seen.setdefault(d, i) for i, d in enumerate(digests)]


def test_the_compiled_radix_sort_equals_a_stable_sort_of_the_high_bits():
    import numpy as np
    import pytest

    from dataforge.speedups import compiled

    if compiled is None:
        pytest.skip("the C speedups are not built here")
    rng = np.random.default_rng(2)
    for n in (0, 1, 2, 7, 5000):
        for low in (0, 1, 11, 20, 53, 63, 64):
            values = rng.integers(0, 2**64, n, dtype=np.uint64)
            values[: n // 2] &= np.uint64(0xFFFF_0000_FFFF_FFFF)  # digits every value of a part shares
            values[n // 3: n // 2] = values[0] if n else values[n // 3: n // 2]  # equal values
            high = values >> np.uint64(low) if low < 64 else np.zeros(n, np.uint64)
            got = np.frombuffer(compiled.sort_by_high_bits(values, low), np.uint64)
            assert np.array_equal(got, values[np.argsort(high, kind="stable")]), (n, low)


def test_a_full_disk_leaves_no_output_and_says_so(tmp_path, run_line, monkeypatch):
    import errno
    import os

    import pytest

    from dataforge import dedup
    from dataforge.jsonio.layout import RecordWriter

    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "q", "input": "", "output": t} for t in _distinct(50, 1)])
    out = tmp_path / "out.jsonl"
    with monkeypatch.context() as m:  # one process: records written through the record writer
        m.setattr(RecordWriter, "write_texts", full)
        result = run_line(f"dataforge dedup {src} -o {out}")
    assert result.exit_code == 2 and "No space left on device" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setattr(dedup, "_write_at", full)  # worker processes: ranges written at their offsets
    with pytest.raises(OSError):
        dedup.dedup_files([str(src)], out, jobs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no output, no report, no temporary file
