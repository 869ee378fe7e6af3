"""koeval import flores → koeval run, end to end: the FLORES-200 devtest files
in ../shared/corpora/flores200_devtest become a ko/en/ja/zh translation suite
(100 items, 400 records), which koeval runs against llama.cpp's own
llama-server on 127.0.0.1 (harness.LlamaServerProcess, as test_llama_server.py
does) and reports as the per-language chrF2 table. Exits 77 (skipped) when
../shared is absent: the FLORES files are needed."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SHARED_MODEL, SOURCE, LlamaServerProcess, db_rows, koeval  # noqa: E402

FLORES = os.path.join(SOURCE, "..", "shared", "corpora", "flores200_devtest")
MODEL = SHARED_MODEL


class ImportFlores(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="koeval-flores-")
        cls.server = LlamaServerProcess(MODEL, os.path.join(cls.tmp, "server.log"))
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_import_then_run(self):
        suite = os.path.join(self.tmp, "flores.jsonl")
        rc, out, err = koeval("import", "flores", FLORES, "--langs", "ko,en,ja,zh",
                              "--limit", "100", "-o", suite)
        self.assertEqual(rc, 0, err)
        self.assertIn("100 items x 4 languages (400 records)", err)
        with open(suite, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        self.assertEqual(len(records), 400)
        self.assertEqual({r["task"] for r in records}, {"translate"})
        with open(os.path.join(self.tmp, "flores.manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(manifest["languages"], ["ko", "en", "ja", "zh"])
        self.assertEqual(manifest["licence"], "CC BY-SA 4.0")
        # no temporary file left next to the suite
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         ["flores.jsonl", "flores.manifest.json", "server.log"])

        db = os.path.join(self.tmp, "run.db")
        spec = "openai:stories260K@http://127.0.0.1:%d/v1" % self.port
        rc, out, err = koeval("run", suite, "--model", spec, "--db", db, "--max-tokens", "24",
                              "--concurrency", "4", "--temperature", "0", timeout=1800)
        self.assertEqual(rc, 0, err)
        states = dict(db_rows(db, "SELECT state, COUNT(*) FROM requests GROUP BY state"))
        self.assertEqual(sum(states.values()), 400)
        # the 260K-parameter model has a 512-token context: a long sentence in
        # a script its byte-level vocabulary spells byte by byte can exceed it,
        # and llama-server refuses that request (an infra failure, counted,
        # never a score); everything else is answered
        self.assertGreaterEqual(states.get("answered", 0), 390)
        for cls, msg in db_rows(db, "SELECT error_class, error_message FROM requests "
                                    "WHERE state = 'failed'"):
            self.assertEqual(cls, "client")
            self.assertIn("context size", msg)
        # the per-language quality table: a chrF2 row with a score under each
        # language's column (koeval run prints the primary metric; corpus BLEU
        # is not in the run table yet)
        lines = out.splitlines()
        header = next(line for line in lines if line.split()[:2] == ["model", "metric"])
        cols = header.split()
        self.assertEqual(cols[2:6], ["ko", "en", "ja", "zh"])
        row = next(line for line in lines if len(line.split()) > 1 and line.split()[1] == "chrF2")
        values = row.split()[2:6]
        for v in values:
            self.assertGreaterEqual(float(v), 0.0)
            self.assertLessEqual(float(v), 100.0)
        self.assertIn("ko−en", header)


if __name__ == "__main__":
    if not os.path.isdir(FLORES) or not os.path.exists(MODEL):
        print("SKIP: ../shared/corpora/flores200_devtest or ../shared/models/stories260K.gguf "
              "is absent (this test needs the project's shared data)")
        sys.exit(77)
    unittest.main(verbosity=2)
