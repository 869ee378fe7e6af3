"""The HTML report (koeval run --html, koeval report --html --report-lang) opened
in a real browser: Debian's headless Chromium. Two models on the loopback
server, the second answering "Seoul" to everything so that the models differ
and the Korean gap is negative; the starter suite, 8 items.

Checks, against the SQLite store the run wrote:
  (a) the DOM Chromium builds: one rect.bar per model x language x metric with
      scores, each data-value the mean of that cell's scores; the gap chart
      with one rect.gapbar per (model, metric) with paired ko/pivot scores;
  (b) a screenshot: a PNG of the window's size that is not blank;
  (c) no console message and no network: nothing in the HTML can fetch, the
      only http(s) URLs are the SVG namespace and the model base URLs shown
      as text, and Chromium's net log has no request to either;
  (d) --report-lang ko / en: <html lang>, the headings' language.

Skips (exit 77, which ctest reports as skipped) when `chromium` is not
installed: `apt-get install chromium` (.ci/run installs it)."""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import SUITE, Loopback, db_rows, koeval  # noqa: E402

SKIP_MESSAGE = ("chromium not found: install Debian's chromium package "
                "(apt-get install chromium) to run the HTML report tests")


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


CHROMIUM = find_chromium()
# Flags that work on this machine (headless, as root, closed network).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def chromium(*args, timeout=180):
    """Runs headless Chromium with a new empty profile; (rc, stdout, stderr)."""
    profile = tempfile.mkdtemp(prefix="koeval-chromium-")
    try:
        p = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=" + profile, *args],
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Dom(html.parser.HTMLParser):
    """What the tests read from a page: bars per chart, gap bars, headings,
    every tag and attribute, the <style> text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.html_lang = None
        self.bars = []       # (metric, model, lang, value, height)
        self.gapbars = []    # (label, worse, value text)
        self.headings = []   # (tag, text)
        self.tags = []       # (tag, attrs dict)
        self.style = ""
        self.svgs = []       # class of each svg
        self._heading = None
        self._h3 = None
        self._svg = None
        self._in_style = False
        self._text_target = None
        self._rowlabel = None
        self._gap_pending = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        cls = (a.get("class") or "").split()
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]
        elif tag == "style":
            self._in_style = True
        elif tag == "svg":
            self._svg = a.get("class")
            self.svgs.append(self._svg)
        elif tag == "rect" and "bar" in cls:
            self.bars.append((self._h3, a.get("data-model"), a.get("data-lang"),
                              float(a.get("data-value")), int(a.get("height"))))
        elif tag == "rect" and "gapbar" in cls:
            self._gap_pending = [self._rowlabel, "worse" in cls, None]
            self.gapbars.append(self._gap_pending)
        elif tag == "text" and self._svg == "gap" and "rowlabel" in cls:
            self._rowlabel = ""
            self._text_target = "rowlabel"
        elif tag == "text" and self._svg == "gap" and "axis" in cls and self._gap_pending:
            self._text_target = "gapvalue"
            self._gap_pending[2] = ""

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading:
            self.headings.append((self._heading[0], self._heading[1].strip()))
            if tag == "h3":
                self._h3 = self._heading[1].strip()
            self._heading = None
        elif tag == "style":
            self._in_style = False
        elif tag == "svg":
            self._svg = None
        elif tag == "text":
            if self._text_target == "gapvalue":
                self._gap_pending = None
            self._text_target = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data
        if self._in_style:
            self.style += data
        if self._text_target == "rowlabel":
            self._rowlabel += data
        elif self._text_target == "gapvalue":
            self._gap_pending[2] += data


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def parse(text):
    d = Dom()
    d.feed(text)
    d.close()
    return d


def png_info(path):
    """(width, height, bit depth, colour type, distinct filtered rows) of a PNG,
    read with struct and zlib only."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG" % path)
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, ctype = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
    raw = zlib.decompress(b"".join(idat))
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    stride = 1 + width * channels * depth // 8
    assert len(raw) == stride * height, (len(raw), stride, height)
    # One colour everywhere makes every row after the first two identical once
    # filtered (same input, same filter choice): many distinct rows = an image.
    rows = {raw[i:i + stride] for i in range(0, len(raw), stride)}
    return width, height, depth, ctype, len(rows)


class HtmlReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CHROMIUM:
            raise unittest.SkipTest(SKIP_MESSAGE)
        cls.dir = tempfile.mkdtemp(prefix="koeval-html-")
        cls.db = os.path.join(cls.dir, "run.db")
        cls.lb = Loopback(script={"m-b": "ok:text=Seoul"}, delay_ms=2, first_delay_ms=2)
        try:
            cls.models = ["openai:m-a@%s/v1" % cls.lb.url, "openai:m-b@%s/v1" % cls.lb.url]
            cls.en = os.path.join(cls.dir, "report-en.html")
            cls.ko = os.path.join(cls.dir, "report-ko.html")
            rc, out, err = koeval("run", SUITE, "--model", cls.models[0], "--model",
                                  cls.models[1], "--db", cls.db, "--limit", "8",
                                  "--html", cls.en, "--report-lang", "en", "-q")
            if rc != 0:
                raise RuntimeError("koeval run failed: " + err)
            rc, out, err = koeval("report", "--db", cls.db, "--html", cls.ko,
                                  "--report-lang", "ko")
            if rc != 0:
                raise RuntimeError("koeval report failed: " + err)
            rc, cls.stdout_html, err = koeval("report", "--db", cls.db, "--format", "html",
                                              "--report-lang", "en")
            if rc != 0:
                raise RuntimeError("koeval report --format html failed: " + err)
        finally:
            cls.lb.close()
        cls.netlog = os.path.join(cls.dir, "net.json")
        cls.dom, cls.log = {}, {}
        for lang, path in (("en", cls.en), ("ko", cls.ko)):
            extra = ["--log-net-log=" + cls.netlog] if lang == "en" else []
            rc, out, err = chromium("--enable-logging=stderr", "--v=0", *extra,
                                    "--dump-dom", "file://" + path)
            if rc != 0 or "</html>" not in out:
                raise RuntimeError("chromium --dump-dom failed (%d): %s" % (rc, err[-2000:]))
            cls.dom[lang], cls.log[lang] = out, err

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    # the cells as the store has them
    def cells(self):
        return {(m, k, l): (mean, n) for m, k, l, mean, n in db_rows(
            self.db, "SELECT q.model, s.metric, q.lang, AVG(s.value), COUNT(*) FROM scores s "
                     "JOIN requests q ON q.id = s.request_id WHERE s.value IS NOT NULL "
                     "GROUP BY q.model, s.metric, q.lang")}

    def gaps(self):
        pivot = json.loads(db_rows(self.db, "SELECT config_json FROM runs")[0][0])["pivot"]
        self.assertEqual(pivot, "en")
        return {(m, k): (g, n) for m, k, g, n in db_rows(
            self.db, "SELECT a.model, sa.metric, AVG(sa.value - sb.value), COUNT(*) "
                     "FROM scores sa JOIN requests a ON a.id = sa.request_id "
                     "JOIN requests b ON b.model = a.model AND b.item_id = a.item_id "
                     " AND b.repeat_index = a.repeat_index AND b.run_id = a.run_id "
                     "JOIN scores sb ON sb.request_id = b.id AND sb.metric = sa.metric "
                     "WHERE a.lang = 'ko' AND b.lang = ? AND sa.value IS NOT NULL "
                     " AND sb.value IS NOT NULL GROUP BY a.model, sa.metric", pivot)}

    def test_a_bars_match_the_store(self):
        d = parse(self.dom["en"])
        cells = self.cells()
        metrics = sorted({k for _, k, _ in cells})
        self.assertEqual(metrics, ["EM", "F1", "Han in ko %", "Latin in ko %", "fidelity"])
        self.assertEqual({m for m, _, _ in cells}, set(self.models))
        # every cell of this run has scores; the leakage rows exist for Korean answers only
        self.assertEqual(len(cells), 2 * 3 * 4 + 2 * 2 * 1)
        # one chart per metric, one bar per cell, in the chart of its metric
        self.assertEqual(d.svgs.count("chart"), len(metrics))
        self.assertEqual(len(d.bars), len(cells))
        seen = {}
        for metric, model, lang, value, height in d.bars:
            key = (model, metric, lang)
            self.assertNotIn(key, seen, "two bars for one cell")
            self.assertIn(key, cells, "a bar for a cell without scores")
            seen[key] = value
            self.assertAlmostEqual(value, cells[key][0], delta=0.01, msg=key)
        self.assertEqual(set(seen), set(cells))
        # taller bar = higher value, within each chart
        for metric in metrics:
            b = sorted((v, h) for k, _, _, v, h in d.bars if k == metric)
            self.assertEqual([h for _, h in b], sorted(h for _, h in b), metric)
        # the script made the models differ: m-b says "Seoul" in every language
        mb = self.models[1]
        self.assertEqual(seen[(mb, "EM", "ko")], 0.0)
        self.assertEqual(seen[(mb, "EM", "en")], 12.5)  # qa-001 en of 8
        self.assertNotEqual(seen[(mb, "EM", "ko")], seen[(self.models[0], "EM", "ko")])
        # the browser's DOM and the file koeval wrote agree, and run --html and
        # report --format html write the same page
        self.assertEqual(len(parse(read(self.en)).bars), len(cells))
        self.assertEqual(read(self.en), self.stdout_html)

    def test_a_gap_chart(self):
        d = parse(self.dom["en"])
        gaps = self.gaps()
        self.assertEqual(len(gaps), 2 * 3)
        self.assertEqual(d.svgs.count("gap"), 1)
        self.assertEqual(len(d.gapbars), len(gaps))
        labels = {}
        for label, worse, text in d.gapbars:
            model, metric = label.rsplit(" · ", 1)
            self.assertNotIn((model, metric), labels)
            labels[(model, metric)] = (worse, float(text))
        self.assertEqual(set(labels), set(gaps))
        for key, (g, n) in gaps.items():
            worse, shown = labels[key]
            self.assertAlmostEqual(shown, g, delta=0.05, msg=key)
            self.assertEqual(worse, g < 0, key)
        # m-b: ko 0 on EM, en 12.5: a bar left of zero
        self.assertTrue(labels[(self.models[1], "EM")][0])
        self.assertAlmostEqual(gaps[(self.models[1], "EM")][0], -12.5, delta=0.01)

    def test_b_screenshot_is_a_real_image(self):
        shot = os.path.join(self.dir, "report.png")
        blank_html = os.path.join(self.dir, "blank.html")
        with open(blank_html, "w") as f:
            f.write("<!DOCTYPE html><html><body></body></html>\n")
        blank = os.path.join(self.dir, "blank.png")
        for page, png in ((self.en, shot), (blank_html, blank)):
            rc, _, err = chromium("--screenshot=" + png, "--window-size=1280,2000",
                                  "file://" + page)
            self.assertEqual(rc, 0, err[-2000:])
            self.assertTrue(os.path.isfile(png), err[-2000:])
        w, h, depth, ctype, rows = png_info(shot)
        self.assertEqual((w, h), (1280, 2000))
        self.assertEqual(depth, 8)
        self.assertIn(ctype, (2, 6))
        bw, bh, _, _, brows = png_info(blank)
        self.assertEqual((bw, bh), (1280, 2000))
        self.assertLessEqual(brows, 3)  # the method: a blank page has ~no distinct rows
        self.assertGreater(rows, 200)
        self.assertGreater(os.path.getsize(shot), 4 * os.path.getsize(blank))

    def test_c_no_console_messages_and_no_network(self):
        for lang, log in self.log.items():
            for line in log.splitlines():
                for bad in ("Uncaught", "CONSOLE", "Refused to load"):
                    self.assertNotIn(bad, line, (lang, line))
        for path in (self.en, self.ko):
            text = read(path)
            d = parse(text)
            # nothing that can fetch: no script, stylesheet, image, frame, …
            fetching_tags = {"script", "link", "img", "iframe", "frame", "object", "embed",
                             "video", "audio", "source", "track", "base", "form", "image",
                             "use", "feimage", "picture", "input"}
            for tag, attrs in d.tags:
                self.assertNotIn(tag, fetching_tags)
                for name in ("src", "href", "xlink:href", "srcset", "action", "formaction",
                             "poster", "data", "background", "ping"):
                    self.assertNotIn(name, attrs, tag)
                if tag == "meta":
                    self.assertNotIn("http-equiv", attrs)
                self.assertNotIn("url(", attrs.get("style") or "")
            self.assertTrue(d.style)
            self.assertNotIn("url(", d.style)
            self.assertNotIn("@import", d.style)
            # every http(s) URL is the SVG namespace or a model's base URL (as text)
            urls = re.findall(r"https?://[^\s\"'<>&]*", text)
            self.assertTrue(urls)
            for u in urls:
                self.assertTrue(u == "http://www.w3.org/2000/svg" or
                                u.startswith(self.lb.url + "/v1"), u)
            for m in re.finditer(r"http://www\.w3\.org/2000/svg", text):
                self.assertTrue(text[:m.start()].endswith('xmlns="'))
        # Chromium's own net log: the page asked for neither kind of URL
        with open(self.netlog, encoding="utf-8", errors="replace") as f:
            net = f.read()
        self.assertNotIn(self.lb.url, net)
        self.assertNotIn("127.0.0.1:%d" % self.lb.port, net)
        self.assertNotIn("www.w3.org", net)

    def test_d_report_language(self):
        en, ko = parse(self.dom["en"]), parse(self.dom["ko"])
        self.assertEqual(en.html_lang, "en")
        self.assertEqual(ko.html_lang, "ko")
        hangul = re.compile("[\uac00-\ud7a3]")
        h2_en = [t for tag, t in en.headings if tag == "h2"]
        h2_ko = [t for tag, t in ko.headings if tag == "h2"]
        self.assertEqual(len(h2_en), len(h2_ko))
        for word in ("Quality", "Korean gap", "Coverage and speed", "Run manifest"):
            self.assertTrue(any(t.startswith(word) for t in h2_en), (word, h2_en))
        for word in ("품질", "한국어 격차", "응답률과 속도", "실행 정보"):
            self.assertTrue(any(t.startswith(word) for t in h2_ko), (word, h2_ko))
        for tag, t in en.headings:
            self.assertIsNone(hangul.search(t), t)
        for t in h2_ko:
            self.assertIsNotNone(hangul.search(t), t)
        self.assertTrue(en.headings[0][1].startswith("koeval run 1"))
        self.assertTrue(ko.headings[0][1].startswith("koeval 실행 1"))
        # the same numbers in both languages
        self.assertEqual(sorted(en.bars), sorted(ko.bars))


if __name__ == "__main__":
    if not CHROMIUM:
        print("SKIP: " + SKIP_MESSAGE, file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
