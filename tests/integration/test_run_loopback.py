"""koeval run end to end against the loopback protocol server (tests/server):
the faults a real server cannot be made to show on demand. Real koeval
binary, real HTTP on 127.0.0.1, real SQLite file. Issue 3's acceptance:
resume after kill -9, 429 storms / 5xx bursts / mid-stream errors, secrets,
errors before any request."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (KOEVAL, SUITE, Loopback, db_rows, free_port, koeval,  # noqa: E402
                     seeded_random, wait_until)


class RunLoopback(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="koeval-it-")
        self.db = os.path.join(self.dir, "run.db")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()

    def server(self, **kw):
        s = Loopback(**kw)
        self.servers.append(s)
        return s

    def test_end_to_end_streams_stores_and_reports(self):
        lb = self.server()
        spec = "openai:m-ok@%s/v1" % lb.url
        rc, out, err = koeval("run", SUITE, "--model", spec, "--db", self.db, "--limit", "6",
                              "--repeat", "2", "--concurrency", "4", "-q")
        self.assertEqual(rc, 0, err)
        # 6 items x 4 languages x 2 repeats, each a real request (no reuse across repeats)
        self.assertEqual(len(lb.log()), 48)
        rows = db_rows(self.db, "SELECT state, COUNT(*) FROM requests GROUP BY state")
        self.assertEqual(rows, [("answered", 48)])
        resp = db_rows(self.db, "SELECT usage_source, completion_tokens, ttft_ns, e2e_ns, text "
                                "FROM responses")
        self.assertEqual(len(resp), 48)
        for source, tokens, ttft, e2e, text in resp:
            self.assertEqual(source, "server")
            self.assertIn(tokens, (2, 3, 4, 5))  # one per token event of the fixed answers
            self.assertGreater(ttft, 0)
            self.assertGreaterEqual(e2e, ttft)
            self.assertIn(text, ("서울입니다", "Paris", "東京です", "北京"))
        # the Korean answer to "what is the capital of South Korea" is right: EM 100
        em = db_rows(self.db, "SELECT s.value, s.extracted FROM scores s JOIN requests q "
                              "ON q.id = s.request_id WHERE q.item_id='qa-001' AND q.lang='ko' "
                              "AND s.metric='EM'")
        self.assertEqual(em, [(100.0, "서울"), (100.0, "서울")])
        # the table names every language, the gap column and the speed columns
        for word in ("ko", "en", "ja", "zh", "ko−en", "TTFT p50 ms", "E2E p50 ms",
                     "output tok/s p50", "48"[0:1]):
            self.assertIn(word, out)
        rc2, out2, _ = koeval("report", "--db", self.db)
        self.assertEqual(rc2, 0)
        self.assertEqual(out2, out)
        rc3, js, _ = koeval("report", "--db", self.db, "--format", "json")
        self.assertEqual(rc3, 0)
        import json
        data = json.loads(js)
        self.assertEqual(data["languages"], ["ko", "en", "ja", "zh"])
        self.assertEqual({e["lang"] for e in data["speed"]}, {"ko", "en", "ja", "zh"})
        # no --temperature: none is sent, and the run's manifest says null (the
        # server's default), not a made-up number
        self.assertNotIn("temperature", lb.log()[0]["body"])
        cfg = json.loads(db_rows(self.db, "SELECT config_json FROM runs")[0][0])
        self.assertIsNone(cfg["models"][0]["temperature"])

    def test_faults_complete_and_are_never_scored(self):
        script = {"m-429": ["429:retry-after=1", "ok"],
                  "m-529": ["529", "529", "ok"],
                  "m-mid": ["overloaded-event", "ok"],
                  "m-500": ["500"] * 20,
                  "m-reset": ["reset-after-first-token", "ok"],
                  "m-trunc": ["truncate", "ok"]}
        lb = self.server(script=script)
        models = ["m-429", "m-529", "m-mid", "m-500", "m-reset", "m-trunc"]
        args = ["run", SUITE, "--db", self.db, "--limit", "1", "--langs", "ko",
                "--max-attempts", "4", "-q"]
        for m in models:
            args += ["--model", "openai:%s@%s/v1" % (m, lb.url)]
        t0 = time.monotonic()
        rc, out, err = koeval(*args)
        self.assertEqual(rc, 0, err)
        states = dict(db_rows(self.db, "SELECT model, state FROM requests"))
        for m in ("m-429", "m-529", "m-mid", "m-reset", "m-trunc"):
            self.assertEqual(states["openai:%s@%s/v1" % (m, lb.url)], "answered", m)
        self.assertEqual(states["openai:m-500@%s/v1" % lb.url], "failed")
        # every attempt is in the store with its class
        att = db_rows(self.db, "SELECT q.model, a.attempt_no, a.http_status, a.error_class, "
                               "a.retry_after_ms FROM attempts a JOIN requests q "
                               "ON q.id = a.request_id ORDER BY q.model, a.attempt_no")
        by_model = {}
        for model, no, status, cls, ra in att:
            by_model.setdefault(model.split("@")[0].split(":")[1], []).append((no, status, cls, ra))
        self.assertEqual([a[2] for a in by_model["m-429"]], ["rate_limited", "none"])
        self.assertEqual(by_model["m-429"][0][3], 1000)
        self.assertEqual([a[2] for a in by_model["m-529"]], ["overloaded", "overloaded", "none"])
        self.assertEqual(by_model["m-mid"][0][1], 200)
        self.assertEqual(by_model["m-mid"][0][2], "overloaded")
        self.assertEqual([a[2] for a in by_model["m-500"]], ["server"] * 4)
        self.assertIn(by_model["m-reset"][0][2], ("connect", "truncated"))
        self.assertEqual(by_model["m-trunc"][0][2], "truncated")
        # Retry-After: 1 was honoured: the second m-429 request came >= 1 s later
        log = [e for e in lb.log() if e.get("model") == "m-429"]
        self.assertEqual(len(log), 2)
        self.assertGreaterEqual(log[1]["t_received_mono"] - log[0]["t_end_mono"], 0.95)
        # a failed request has no score: infra failure, never a wrong answer
        scored = db_rows(self.db, "SELECT COUNT(*) FROM scores s JOIN requests q "
                                  "ON q.id = s.request_id WHERE q.state = 'failed'")
        self.assertEqual(scored, [(0,)])
        self.assertLess(time.monotonic() - t0, 120)
        self.assertIn("0/1", out)  # the m-500 row's coverage

    def test_api_key_never_leaves_the_request(self):
        key = "sk-koevalSECRET-7f3c9d2e1b"
        lb = self.server()
        cfg = os.path.join(self.dir, "models.json")
        with open(cfg, "w") as f:
            f.write('[{"model": "openai:m-key@%s/v1", "api_key_env": "KOEVAL_TEST_KEY"},'
                    ' {"model": "anthropic:m-key2@%s/v1", "api_key_env": "KOEVAL_TEST_KEY"}]'
                    % (lb.url, lb.url))
        rc, out, err = koeval("run", SUITE, "--models-config", cfg, "--db", self.db,
                              "--limit", "2", "-q", env={"KOEVAL_TEST_KEY": key})
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(lb.log()), 16)
        # the key was sent (the server saw its first characters) …
        heads = [e["headers"] for e in lb.log()]
        self.assertTrue(any("sk-k" in str(h) for h in heads))
        # … and appears in no output: stdout, stderr, every file the run wrote
        rc2, js, err2 = koeval("report", "--db", self.db, "--format", "json")
        for text in (out, err, js, err2):
            self.assertNotIn(key, text)
            self.assertNotIn("SECRET", text)
        for name in os.listdir(self.dir):
            with open(os.path.join(self.dir, name), "rb") as f:
                data = f.read()
            self.assertNotIn(key.encode(), data, name)
            self.assertNotIn(b"SECRET", data, name)

    def test_errors_before_any_request(self):
        lb = self.server()
        bad_suite = os.path.join(self.dir, "bad.jsonl")
        with open(bad_suite, "w") as f:
            f.write('{"id":"a","lang":"ko","task":"qa","prompt":"x","references":["y"]}\n{oops\n')
        cases = [
            (["--model", "openai:m@%s/v1" % lb.url], "KOEVAL_MISSING_KEY", 2, "needs an API key"),
            (["--model", "foo:bar"], None, 2, "unknown provider"),
            (["--model", "openai:m@http://127.0.0.1:%d/v1" % free_port()], None, 4,
             "cannot reach"),
        ]
        for extra, key_env, code, words in cases:
            args = ["run", SUITE, "--db", self.db, "-q"] + extra
            if key_env:
                cfg = os.path.join(self.dir, "k.json")
                with open(cfg, "w") as f:
                    f.write('[{"model": "openai:m@%s/v1", "api_key_env": "%s"}]'
                            % (lb.url, key_env))
                args = ["run", SUITE, "--db", self.db, "-q", "--models-config", cfg]
            rc, out, err = koeval(*args, env={key_env: ""} if key_env else None)
            self.assertEqual(rc, code, err)
            self.assertIn(words, err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertTrue(err.startswith("koeval: "))
        rc, out, err = koeval("run", bad_suite, "--model", "openai:m@%s/v1" % lb.url,
                              "--db", self.db, "-q")
        self.assertEqual(rc, 3)
        self.assertIn("bad.jsonl:2:", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertEqual(lb.log(), [])  # nothing was sent

    def test_kill9_then_resume_answers_each_request_exactly_once(self):
        lb = self.server(delay_ms=40, first_delay_ms=40)
        spec = "openai:m-slow@%s/v1" % lb.url
        rng = seeded_random()
        args = ["run", SUITE, "--model", spec, "--db", self.db, "--limit", "10",
                "--concurrency", "4", "-q"]
        kill_points = []  # (requests the store had answered, server log length) at each kill
        kills = 0
        first = True
        for _ in range(4):
            cmd = [KOEVAL] + args + ([] if first else ["--resume"])
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.2, 1.2))
            first = False
            if proc.poll() is not None:
                proc.wait()
                proc.stderr.close()
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stderr.close()
            kills += 1
            self.assertTrue(wait_until(lambda: all(
                e["outcome"] is not None for e in lb.log()), 10))
            done = {(i, l) for i, l in db_rows(
                self.db, "SELECT item_id, lang FROM requests WHERE state='answered'")}
            kill_points.append((done, len(lb.log())))
        rc, out, err = koeval(*args, "--resume")
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(kills, 2)
        # 10 items x 4 languages: every request answered, each with one response row
        self.assertEqual(db_rows(self.db, "SELECT state, COUNT(*) FROM requests GROUP BY state"),
                         [("answered", 40)])
        self.assertEqual(db_rows(self.db, "SELECT COUNT(*), COUNT(DISTINCT request_id) "
                                          "FROM responses"), [(40, 40)])
        self.assertEqual(db_rows(self.db, "SELECT COUNT(*) FROM runs"), [(1,)])
        # nothing the store had answered at a kill was sent again after it
        prompts = dict(((i, l), p) for i, l, p in db_rows(
            self.db, "SELECT item_id, lang, prompt FROM requests"))
        log = lb.log()

        def prompt_of(e):
            msgs = e["body"].get("messages", [])
            return [m["content"] for m in msgs if m.get("role") == "user"][-1]
        for done, at in kill_points:
            later = {prompt_of(e) for e in log[at:]}
            for key in done:
                self.assertNotIn(prompts[key], later, key)

    def test_anthropic_overload_event_is_retried_and_long_waits_fail(self):
        # B26 through the engine: an overloaded_error event inside a 200 stream
        # is retried like a 529; B27's cap: a Retry-After longer than --max-wait
        # fails the request as rate limited instead of retrying early
        script = {"a-mid": ["overloaded-event", "ok"],
                  "o-long": ["429:retry-after=30", "ok"],
                  "o-len": ["length"]}
        lb = self.server(script=script)
        rc, out, err = koeval("run", SUITE, "--db", self.db, "--limit", "1", "--langs", "ko",
                              "--max-wait", "2", "-q",
                              "--model", "anthropic:a-mid@%s/v1" % lb.url,
                              "--model", "openai:o-long@%s/v1" % lb.url,
                              "--model", "openai:o-len@%s/v1" % lb.url,
                              env={"ANTHROPIC_API_KEY": "test-key-for-loopback"})
        self.assertEqual(rc, 0, err)
        rows = {m.split(":")[1].split("@")[0]: (st, cls) for m, st, cls in db_rows(
            self.db, "SELECT model, state, error_class FROM requests")}
        self.assertEqual(rows["a-mid"], ("answered", None))
        self.assertEqual(rows["o-long"], ("failed", "rate_limited"))
        self.assertEqual(len([e for e in lb.log() if e["model"] == "o-long"]), 1)
        msg = db_rows(self.db, "SELECT error_message FROM requests WHERE state='failed'")[0][0]
        self.assertIn("30000 ms", msg)
        # B29: the whole budget spent on reasoning, empty answer, finish "length":
        # a scored wrong answer with its status, not an infra failure
        self.assertEqual(rows["o-len"], ("answered", None))
        sc = db_rows(self.db, "SELECT s.value, s.status FROM scores s JOIN requests q "
                              "ON q.id = s.request_id WHERE q.model LIKE 'openai:o-len@%' "
                              "AND s.metric = 'EM'")
        self.assertEqual(sc, [(0.0, "length_exhausted")])

    def test_models_config_system_prompts_and_rescore(self):
        lb = self.server()
        cfg = os.path.join(self.dir, "models.json")
        with open(cfg, "w") as f:
            f.write('[{"model": "openai:m-sys@%s/v1", "temperature": 0, "max_tokens": 33,'
                    ' "system": {"ko": "한국어로만 답하세요."}}]' % lb.url)
        rc, out, err = koeval("run", SUITE, "--models-config", cfg, "--db", self.db,
                              "--limit", "1", "-q")
        self.assertEqual(rc, 0, err)
        bodies = {}
        for e in lb.log():
            msgs = e["body"]["messages"]
            lang_prompt = msgs[-1]["content"]
            bodies[lang_prompt] = e["body"]
        ko = [b for p, b in bodies.items() if "대한민국" in p][0]
        self.assertEqual(ko["messages"][0], {"role": "system", "content": "한국어로만 답하세요."})
        self.assertEqual(ko["temperature"], 0)
        self.assertEqual(ko["max_tokens"], 33)
        self.assertEqual(ko["stream_options"], {"include_usage": True})
        en = [b for p, b in bodies.items() if "South Korea" in p][0]
        # no model prompt for en: the suite's own system prompt
        self.assertNotEqual(en["messages"][0]["content"], "한국어로만 답하세요.")
        # re-scoring offline gives the same table, and does not contact the server
        n = len(lb.log())
        db_rows(self.db, "DELETE FROM scores")
        rc2, out2, err2 = koeval("score", "--db", self.db)
        self.assertEqual(rc2, 0, err2)
        self.assertIn("re-scored 4 stored answers", err2)
        self.assertEqual(out2, out)
        self.assertEqual(len(lb.log()), n)

    def test_b30_consistency_over_repeats(self):
        # B30: temperature 0, five repeats, three different outputs; the same
        # numbers must come out of a real run through the store and report
        suite = os.path.join(self.dir, "mc.jsonl")
        with open(suite, "w", encoding="utf-8") as f:
            f.write('{"id":"mc-1","lang":"ko","task":"mcq","prompt":"정답은? A, B, C, D",'
                    '"choices":["가","나","다","라"],"answer":"B"}\n'
                    '{"id":"mc-1","lang":"en","task":"mcq","prompt":"Answer? A, B, C, D",'
                    '"choices":["a","b","c","d"],"answer":"B"}\n')
        runs = ["정답은 B입니다.", "정답은 B입니다.", "정답은 B입니다.", "B가 정답입니다.",
                "정답은 C입니다."]
        lb = self.server(script={"m-b30": [{"behaviour": "ok", "text": t} for t in runs]})
        rc, out, err = koeval("run", suite, "--model", "openai:m-b30@%s/v1" % lb.url,
                              "--db", self.db, "--repeat", "5", "--langs", "ko",
                              "--concurrency", "1", "--format", "json", "-q")
        self.assertEqual(rc, 0, err)
        import json
        cons = json.loads(out)["consistency"]
        self.assertEqual(len(cons), 1)
        c = cons[0]
        self.assertEqual(c["items"], 1)
        self.assertAlmostEqual(c["modal_raw_agreement"], 0.6)
        self.assertAlmostEqual(c["pairwise_raw_agreement"], 0.3)
        self.assertAlmostEqual(c["modal_answer_agreement"], 0.8)
        self.assertAlmostEqual(c["pairwise_answer_agreement"], 0.6)
        # four of five repeats right: pass@5 = 1, pass^5 = 0
        self.assertAlmostEqual(c["pass_at_k"], 1.0)
        self.assertAlmostEqual(c["pass_hat_k"], 0.0)
        extracted = sorted(e for (e,) in db_rows(
            self.db, "SELECT extracted FROM scores WHERE metric = 'accuracy'"))
        self.assertEqual(extracted, ["B", "B", "B", "B", "C"])

    def test_client_errors_name_the_model_and_exit_6(self):
        lb = self.server(script={"m404": "404", "m-ok": "ok"})
        rc, out, err = koeval("run", SUITE, "--db", self.db, "--limit", "1", "--langs", "ko",
                              "--model", "openai:m404@%s/v1" % lb.url,
                              "--model", "openai:m-ok@%s/v1" % lb.url, "-q")
        self.assertEqual(rc, 6, err)
        self.assertIn("m404", err)
        self.assertIn("1 of 1 requests failed (client:", err)
        self.assertEqual(len([e for e in lb.log() if e["model"] == "m404"]), 1)  # not retried
        self.assertIn("0/1", out)

    def test_stall_timeout_is_seconds_without_a_byte(self):
        lb = self.server(script={"st": ["stall:5", "ok"]})
        t0 = time.monotonic()
        rc, out, err = koeval("run", SUITE, "--db", self.db, "--limit", "1", "--langs", "ko",
                              "--model", "openai:st@%s/v1" % lb.url, "--timeout", "1", "-q")
        self.assertEqual(rc, 0, err)
        att = db_rows(self.db, "SELECT error_class, ended_unix_ms - started_unix_ms FROM attempts "
                               "ORDER BY attempt_no")
        self.assertEqual(att[0][0], "timeout")
        self.assertLess(att[0][1], 2500)
        self.assertEqual(att[1][0], "none")
        self.assertLess(time.monotonic() - t0, 5)

    def test_sigint_stops_cleanly_and_resumes(self):
        lb = self.server(delay_ms=40, first_delay_ms=40)
        args = ["run", SUITE, "--model", "openai:m@%s/v1" % lb.url, "--db", self.db,
                "--limit", "8", "--concurrency", "2", "-q"]
        proc = subprocess.Popen([KOEVAL] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(0.8)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("--resume", err)
        self.assertEqual(db_rows(self.db, "SELECT status FROM runs"), [("aborted",)])
        rc, rep, _ = koeval("report", "--db", self.db)
        self.assertEqual(rc, 0)
        self.assertIn("unfinished run", rep)
        rc, out, err = koeval(*args, "--resume")
        self.assertEqual(rc, 0, err)
        self.assertEqual(db_rows(self.db, "SELECT state, COUNT(*) FROM requests GROUP BY state"),
                         [("answered", 32)])

    def test_bad_specs_and_models_config_are_refused(self):
        lb = self.server()
        for spec in ("openai:m@127.0.0.1:8080/v1", "openai:m@", "openai:m@ftp://x"):
            rc, out, err = koeval("run", SUITE, "--model", spec, "--db", self.db, "-q")
            self.assertEqual(rc, 2, spec)
            self.assertIn("must be a base URL", err)
        cfg = os.path.join(self.dir, "m.json")
        cases = [('[{"model": "openai:m@%s/v1", "temperature": "hot"}]', '"temperature"'),
                 ('[{"model": "openai:m@%s/v1", "max_tokens": 1.5}]', '"max_tokens"'),
                 ('[{"model": "openai:m@%s/v1", "concurrency": 0}]', '"concurrency"'),
                 ('[{"model": "openai:m@%s/v1", "temprature": 0}]', 'unknown field "temprature"'),
                 ('[]', "non-empty"),
                 ('[{"model": "openai:m@%s/v1",\n "rpm": }]', "m.json:2: invalid JSON")]
        for text, words in cases:
            with open(cfg, "w") as f:
                f.write(text.replace("%s", lb.url))
            rc, out, err = koeval("run", SUITE, "--models-config", cfg, "--db", self.db, "-q")
            self.assertEqual(rc, 3, text)
            self.assertIn(words, err)
            self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertEqual(lb.log(), [])

    def test_choice_policy(self):
        suite = os.path.join(self.dir, "mc.jsonl")
        with open(suite, "w", encoding="utf-8") as f:
            f.write('{"id":"mc-1","lang":"en","task":"mcq","prompt":"Answer? A, B, C, D",'
                    '"choices":["a","b","c","d"],"answer":"A"}\n')
        lb = self.server(script={"*": "ok:text=Answer: A ... no. Answer: C"})
        got = {}
        for policy in ("last", "first"):
            db = os.path.join(self.dir, policy + ".db")
            rc, out, err = koeval("run", suite, "--model", "openai:m@%s/v1" % lb.url, "--db", db,
                                  "--choice-policy", policy, "-q")
            self.assertEqual(rc, 0, err)
            got[policy] = db_rows(db, "SELECT extracted, value FROM scores "
                                      "WHERE metric = 'accuracy'")
        self.assertEqual(got["last"], [("C", 0.0)])
        self.assertEqual(got["first"], [("A", 100.0)])

    def test_repeats_do_not_count_as_items_in_the_gap(self):
        # "Seoul" is right for qa-001 in English only: one item of ten differs.
        # Five identical repeats must give the same interval as one, paired by item.
        lb = self.server(script={"*": "ok:text=Seoul"})
        gaps = {}
        for rep in ("1", "5"):
            db = os.path.join(self.dir, "r%s.db" % rep)
            rc, out, err = koeval("run", SUITE, "--model", "openai:m@%s/v1" % lb.url, "--db", db,
                                  "--limit", "10", "--langs", "ko,en", "--repeat", rep,
                                  "--format", "json", "-q")
            self.assertEqual(rc, 0, err)
            import json
            q = {(e["metric"], e["lang"]): e for e in json.loads(out)["quality"]}
            gaps[rep] = q[("EM", "ko")]
        for rep in ("1", "5"):
            g = gaps[rep]
            self.assertEqual(g["gap_pairs"], 10, rep)
            self.assertAlmostEqual(g["gap_vs_pivot"], -10.0)
            self.assertEqual((g["wins"], g["ties"], g["losses"]), (0, 9, 1))
            self.assertFalse(g["gap_flagged"], rep)
        self.assertEqual(gaps["1"]["gap_ci_low"], gaps["5"]["gap_ci_low"])
        self.assertEqual(gaps["1"]["gap_ci_high"], gaps["5"]["gap_ci_high"])

    def test_resume_without_a_run_is_an_error(self):
        lb = self.server()
        rc, out, err = koeval("run", SUITE, "--model", "openai:m@%s/v1" % lb.url, "--db",
                              self.db, "--resume", "-q")
        self.assertEqual(rc, 2)
        self.assertIn("--resume", err)
        self.assertEqual(lb.log(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
