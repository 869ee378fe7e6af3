"""Language fidelity on real answers written by someone else: KoMT-Bench's
GPT-4 reference answers (../shared/corpora/komt_bench, paired by question_id)
are in the language they were asked in (fidelity near 100 % for ko and en),
and the same answers swapped between the languages are reported as fidelity
failures: by `koeval score --lang` and by `koeval run`/`report`."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE, Loopback, koeval  # noqa: E402

KOMT = os.path.join(SOURCE, "..", "shared", "corpora", "komt_bench")


def first_turns(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            # one answer per line: the line reader splits on newlines
            out[r["question_id"]] = " ".join(r["choices"][0]["turns"][0].split())
    return out


class Fidelity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(KOMT):
            print("SKIP: ../shared/corpora/komt_bench is absent (this test needs the project's "
                  "shared data)")
            raise unittest.SkipTest("../shared absent")
        cls.dir = tempfile.mkdtemp(prefix="koeval-fid-")
        ko = first_turns(os.path.join(KOMT, "reference_answer_ko", "gpt-4.jsonl"))
        en = first_turns(os.path.join(KOMT, "reference_answer_en", "gpt-4.jsonl"))
        cls.ids = sorted(set(ko) & set(en))
        for lang, d in (("ko", ko), ("en", en)):
            with open(os.path.join(cls.dir, lang + ".txt"), "w", encoding="utf-8") as f:
                f.write("".join(d[i] + "\n" for i in cls.ids))

    def fidelity(self, lang, hyp):
        path = os.path.join(self.dir, hyp + ".txt")
        rc, out, err = koeval("score", "-r", path, "-i", path, "--lang", lang, "-m", "chrf",
                              "--format", "json")
        self.assertEqual(rc, 0, err)
        return [m for m in json.loads(out)["corpus"] if m["name"] == "fidelity"][0]

    def test_reference_answers_are_in_their_language(self):
        self.assertEqual(len(self.ids), 30)  # question ids 101-130 have both
        for lang in ("ko", "en"):
            f = self.fidelity(lang, lang)
            self.assertGreaterEqual(f["score"], 95.0, lang)
            self.assertEqual(f["in_language"] + f["other_language"] + f["undetermined"], 30)

    def test_swapped_answers_are_fidelity_failures(self):
        for lang, other in (("ko", "en"), ("en", "ko")):
            f = self.fidelity(lang, other)
            self.assertLessEqual(f["score"], 5.0, lang)
            self.assertGreaterEqual(f["other_language"], 28)

    def test_run_reports_swapped_languages(self):
        # a model that answers every prompt in English: its Korean answers are
        # fidelity failures in the run's table, its English ones are not
        lb = Loopback(script={"*": "ok:text=The capital is Paris"})
        try:
            db = os.path.join(self.dir, "run.db")
            rc, out, err = koeval("run", os.path.join(SOURCE, "corpora", "starter",
                                                      "starter.jsonl"),
                                  "--model", "openai:en-only@%s/v1" % lb.url, "--db", db,
                                  "--limit", "5", "--langs", "ko,en", "--format", "json", "-q")
        finally:
            lb.close()
        self.assertEqual(rc, 0, err)
        q = {(e["metric"], e["lang"]): e for e in json.loads(out)["quality"]}
        self.assertEqual(q[("fidelity", "ko")]["mean"], 0.0)
        self.assertEqual(q[("fidelity", "en")]["mean"], 100.0)
        self.assertEqual(q[("fidelity", "ko")]["gap_vs_pivot"], -100.0)
        self.assertTrue(q[("fidelity", "ko")]["gap_flagged"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
