"""How often each fidelity warning is wrong, and how often it catches a real error.

False alarms: every warning raised on human reference translations (FLORES-200 devtest, and NTREX-128
documents checked as whole documents, as `summarizer eval` does) is a false alarm, since a reference is
correct by definition. Recall: a labelled set of real errors is made on the fly from the same references by
corrupting the English (a number dropped or changed, "40,000" -> "40", a name removed, an Indonesian word
left in, translator commentary, a time word lost, half the sentence gone, the source echoed). Each case is
labelled with the warning that must catch it. Nothing from the test sets is written to disk.

    python bench/fidelity.py                      # markdown table on stdout
    python bench/fidelity.py --json fidelity.json --per-kind 12 --seed 11
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from summarizer import eval_sets, evaluate, fidelity
from summarizer.dates import time_stated, time_words
from summarizer.numbers import numbers_in_english, numbers_in_indonesian
from summarizer.schema import Sentence
from summarizer.translate import degeneracy

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
FALSE_ALARM_GOAL = 0.02  # of sentences, per warning code


@dataclass(frozen=True)
class Case:
    kind: str  # the corruption
    expected: str  # the warning code that must catch it
    source: str
    english: str


def load_sets(eval_dir: Path) -> dict[str, eval_sets.EvalSet]:
    flores = eval_dir / "flores200-devtest-id-en"
    return {
        "FLORES-200 devtest": eval_sets.read_line_pairs(flores / "devtest.ind_Latn", flores / "devtest.eng_Latn"),
        "NTREX-128": eval_sets.read_documents(eval_dir / "ntrex128-id-en" / "ntrex128_documents_ind_eng.jsonl"),
    }


def codes_for(source: str, english: str) -> set[str]:
    """Every warning code the product attaches to one translated sentence (checks + degenerate guard)."""
    found = {i.code for i in fidelity.check_translation([Sentence(id="p1.s1", text=source, en=english)])}
    if degeneracy(source, english):
        found.add("degenerate-output")
    return found


def false_alarms(dataset: eval_sets.EvalSet) -> tuple[int, Counter]:
    """Sentences of the references, and per code how many of them get it (checked per document)."""
    flags = [[[] for _ in d.sources] for d in dataset.documents]
    report = evaluate.fidelity(dataset, [d.references for d in dataset.documents], flags)
    counts = Counter(report["issue_counts"])
    for document in dataset.documents:
        counts["degenerate-output"] += sum(bool(degeneracy(s, r)) for s, r in zip(document.sources, document.references))
    return report["sentences"], counts


# --------------------------------------------------------------------------- corruptions


def _squeeze(text: str) -> str:
    return re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))


def _demanded_english_numbers(source: str, english: str):
    wanted = [m for m in numbers_in_indonesian(source) if not m.approximate and m.kind == "number"]
    return [e for e in numbers_in_english(english) if e.kind == "number" and not e.approximate
            and any(abs(e.value - m.value) < 1e-9 * max(1, m.value) for m in wanted)]


def drop_number(source: str, english: str, rng: random.Random) -> str | None:
    found = _demanded_english_numbers(source, english)
    if not found:
        return None
    m = rng.choice(found)
    return _squeeze(english[:m.start] + english[m.end:])


def change_number(source: str, english: str, rng: random.Random) -> str | None:
    found = [m for m in _demanded_english_numbers(source, english) if re.search(r"[1-8]", m.text)]
    if not found:
        return None
    m = rng.choice(found)
    digit = next(c for c in reversed(m.text) if c in "12345678")
    at = m.text.rindex(digit)
    return english[:m.start] + m.text[:at] + str(int(digit) + 1) + m.text[at + 1:] + english[m.end:]


def wrong_magnitude(source: str, english: str, rng: random.Random) -> str | None:
    """The Indonesian "3.850" read as a decimal ("3.85"), "40.000" -> "40", "tiga juta" -> "three": a
    thousand-fold error, as models make it."""
    found = [m for m in _demanded_english_numbers(source, english)
             if re.fullmatch(r"\S*?\d{1,3}(?:,\d{3})+", m.text) or re.search(r"(?:thousand|million|billion)$", m.text)]
    if not found:
        return None
    m = rng.choice(found)
    if re.search(r"(?:thousand|million|billion)$", m.text):
        smaller = re.sub(r"\s*(?:thousand|million|billion)$", "", m.text)
    else:
        prefix = re.match(r"\D*", m.text).group(0)
        smaller = prefix + f"{m.value / 1000:g}"
    return english[:m.start] + smaller + english[m.end:]


def drop_name(source: str, english: str, rng: random.Random) -> str | None:
    names = []
    for match in fidelity.word_matches(source):
        form = fidelity._name_form(match.group(0), source, match.start())
        if form and len(form) >= 3 and re.search(r"\b" + re.escape(form) + r"\b", english):
            names.append(form)
    if not names:
        return None
    name = rng.choice(names)
    return _squeeze(re.sub(r"\b" + re.escape(name) + r"(?:['’]s)?\b", "", english))


def leave_word(source: str, english: str, rng: random.Random) -> str | None:
    """An Indonesian content word of the source put in place of an English word."""
    candidates = sorted({w.lower() for w in re.findall(r"\b[a-z]{4,}\b", source) if fidelity._is_untranslated(w)})
    words = english.split()
    slots = [i for i, w in enumerate(words) if i > 0 and re.fullmatch(r"[a-z]{4,}", w)]
    if not candidates or not slots:
        return None
    words[rng.choice(slots)] = rng.choice(candidates)
    return " ".join(words)


_COMMENTARY = ["Here is the English translation: {}", "{} (Note: this translation keeps the original meaning.)",
               "The Indonesian text is translated into English as follows: {}", "Translation: {}"]


def add_commentary(source: str, english: str, rng: random.Random) -> str | None:
    return rng.choice(_COMMENTARY).format(english)


def lose_time(source: str, english: str, rng: random.Random) -> str | None:
    """A time word's English sense replaced ("next month" -> "in the first quarter") or removed."""
    stated = [w for w in time_words(source) if time_stated(w, english)]
    if not stated:
        return None
    word = rng.choice(stated)
    pattern = re.compile(r"\b" + re.escape(word.english) + r"\b", re.I)
    if not pattern.search(english):
        return None  # stated another way: leave it
    return _squeeze(pattern.sub(rng.choice(["", "recently", "in the first quarter"]), english, count=1))


def truncate(source: str, english: str, rng: random.Random) -> str | None:
    words = english.split()
    return " ".join(words[:max(1, len(words) * 2 // 5)]) if len(words) >= 12 else None


def echo(source: str, english: str, rng: random.Random) -> str | None:
    return source if len(source.split()) >= 6 else None


CORRUPTIONS = [  # (kind, expected code, corruption)
    ("dropped number", "number-missing", drop_number),
    ("changed number", "number-missing", change_number),
    ("wrong magnitude", "number-format", wrong_magnitude),
    ("missing name", "name-missing", drop_name),
    ("untranslated word", "untranslated-word", leave_word),
    ("commentary", "degenerate-output", add_commentary),
    ("time word lost", "time-missing", lose_time),
    ("half the sentence lost", "length-ratio", truncate),
    ("source echoed", "untranslated-sentence", echo),
]


def labelled_cases(sets: dict[str, eval_sets.EvalSet], per_kind: int, seed: int) -> list[Case]:
    """Up to `per_kind` cases per corruption, from reference pairs the checks pass clean."""
    rng = random.Random(seed)
    pairs = [(s, r) for dataset in sets.values() for d in dataset.documents for s, r in zip(d.sources, d.references)]
    rng.shuffle(pairs)
    cases = []
    for kind, expected, corrupt in CORRUPTIONS:
        made = 0
        for source, english in pairs:
            if made >= per_kind:
                break
            if codes_for(source, english):
                continue  # a pair already flagged would make the case say nothing about this corruption
            broken = corrupt(source, english, rng)
            if broken and broken != english:
                cases.append(Case(kind, expected, source, broken))
                made += 1
    return cases


# --------------------------------------------------------------------------- report


def measure(eval_dir: Path, per_kind: int, seed: int) -> dict:
    sets = load_sets(eval_dir)
    alarms = {}
    for name, dataset in sets.items():
        total, counts = false_alarms(dataset)
        alarms[name] = {"sentences": total, "counts": dict(counts)}
    cases = labelled_cases(sets, per_kind, seed)
    by_code: dict[str, dict[str, int]] = {}
    by_kind: dict[str, dict[str, int]] = {}
    for case in cases:
        found = codes_for(case.source, case.english)
        code = by_code.setdefault(case.expected, {"cases": 0, "caught": 0})
        kind = by_kind.setdefault(case.kind, {"cases": 0, "caught": 0, "any_warning": 0})
        code["cases"] += 1
        code["caught"] += case.expected in found
        kind["cases"] += 1
        kind["caught"] += case.expected in found
        kind["any_warning"] += bool(found)
    return {"false_alarms": alarms, "recall_by_code": by_code, "recall_by_kind": by_kind,
            "labelled_cases": len(cases), "seed": seed}


def markdown(result: dict) -> str:
    alarms = result["false_alarms"]
    names = list(alarms)
    codes = sorted({c for a in alarms.values() for c in a["counts"]} | set(result["recall_by_code"]))
    head = "| code | " + " | ".join(f"false alarms, {n} ({alarms[n]['sentences']} sent.)" for n in names)
    lines = [head + " | labelled errors | recall |", "|---|" + "---:|" * (len(names) + 2)]
    for code in codes:
        cells = []
        for n in names:
            count = alarms[n]["counts"].get(code, 0)
            rate = count / alarms[n]["sentences"]
            cells.append(f"{100 * rate:.2f}% ({count})" + (" ⚠" if rate >= FALSE_ALARM_GOAL else ""))
        recall = result["recall_by_code"].get(code)
        tail = f"{recall['cases']} | {100 * recall['caught'] / recall['cases']:.0f}%" if recall else "– | –"
        lines.append(f"| {code} | " + " | ".join(cells) + f" | {tail} |")
    lines += ["", "| corruption | cases | caught by its code | caught by any warning |", "|---|---:|---:|---:|"]
    for kind, r in result["recall_by_kind"].items():
        lines.append(f"| {kind} | {r['cases']} | {r['caught']} | {r['any_warning']} |")
    lines.append(f"\n{result['labelled_cases']} labelled cases, seed {result['seed']}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR,
                        help="directory holding flores200-devtest-id-en/ and ntrex128-id-en/")
    parser.add_argument("--per-kind", type=int, default=12, help="labelled cases per corruption")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not args.eval_dir.is_dir():
        print(f"fidelity: no test sets under {args.eval_dir} (pass --eval-dir)", file=sys.stderr)
        return 2
    result = measure(args.eval_dir, args.per_kind, args.seed)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
