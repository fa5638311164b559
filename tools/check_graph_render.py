#!/usr/bin/env python3
"""Renders every spec's diagram with `archc graph` and checks that a real browser draws it.

For each spec in specs/ (or the ones named) at the depths asked:
  1. `archc graph SPEC -o OUT/NAME_dN.svg --depth N`;
  2. headless Chromium (or Firefox) opens the SVG: its DOM must hold no <parsererror>;
  3. Chromium runs a page with the SVG inline that measures every text with getBBox() and reports
     each one that sticks out of its box (the widths archc estimates against the real font);
  4. a screenshot, OUT/NAME_dN.png, whose pixels must not be blank (at least 1% not white).

Without a browser it says so and, if rsvg-convert or the cairosvg module is there, renders the PNGs
with it instead (a renderer, not a browser: step 3 is skipped). Install one with
`apt-get install chromium` (Debian). Standard library only.

usage: tools/check_graph_render.py [--archc PATH] [--depth N ...] [--out DIR] [SPEC ...]
"""
import argparse, glob, json, os, re, shutil, struct, subprocess, sys, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MEASURE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">%s
<pre id="result"></pre><script>
const problems = [];
for (const g of document.querySelectorAll('svg g')) {
  // A node: its tooltip, its shapes (the box last before the first text), its texts.
  if (!g.firstElementChild || g.firstElementChild.tagName !== 'title') continue;
  const kids = [...g.children], first = kids.findIndex(e => e.tagName === 'text');
  const shapes = kids.slice(0, first).filter(e => e.tagName === 'rect' || e.tagName === 'circle');
  if (first < 0 || !shapes.length) continue;
  const texts = kids.filter(e => e.tagName === 'text'), box = shapes[shapes.length - 1].getBBox();
  const title = g.querySelector('title') ? g.querySelector('title').textContent : '?';
  for (const t of texts) {
    const b = t.getBBox();
    if (b.x < box.x - 1 || b.x + b.width > box.x + box.width + 1)
      problems.push(title + ': "' + t.textContent + '" is ' + b.width.toFixed(1) + ' wide in a box of ' + box.width.toFixed(1));
  }
}
document.getElementById('result').textContent = 'RESULT ' + JSON.stringify(problems);
</script></body></html>"""


def find_browser():
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        if shutil.which(name):
            return "chromium", shutil.which(name)
    if shutil.which("firefox"):
        return "firefox", shutil.which("firefox")
    return None, None


def run_browser(kind, path, args, timeout=120):
    if kind == "chromium":
        cmd = [path, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1"] + args
    else:
        cmd = [path, "--headless"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def svg_size(svg):
    m = re.search(r'<svg[^>]* width="([0-9.]+)" height="([0-9.]+)"', svg)
    return int(float(m.group(1))), int(float(m.group(2)))


def png_ink(path):
    """The fraction of pixels that are not white, decoding the PNG (8-bit RGB/RGBA, not interlaced)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    previous, ink, row_start = bytearray(stride), 0, 0
    for _ in range(height):
        f, line = raw[row_start], bytearray(raw[row_start + 1:row_start + 1 + stride])
        row_start += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        ink += sum(1 for x in range(0, stride, channels) if min(line[x], line[x + 1], line[x + 2]) < 245)
        previous = line
    return ink / float(width * height)


def check_in_browser(kind, path, svg_path, png_path, problems):
    svg = open(svg_path, encoding="utf-8").read()
    dom = run_browser(kind, path, ["--dump-dom", "file://" + svg_path]).stdout if kind == "chromium" else ""
    if "parsererror" in dom:
        problems.append("the browser reports an XML error: " + re.sub(r"<[^>]+>", " ", dom)[:300])
    if kind == "chromium":
        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as page:
            page.write(MEASURE % re.sub(r"^<\?xml[^>]*>\s*", "", svg))
        out = run_browser(kind, path, ["--virtual-time-budget=5000", "--dump-dom", "file://" + page.name]).stdout
        os.unlink(page.name)
        m = re.search(r"RESULT (\[.*?\])</pre>", out, re.S)
        if not m:
            problems.append("the measuring page did not run")
        else:
            problems += json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    w, h = svg_size(svg)
    size = "--window-size=%d,%d" % (w, min(h, 16000))
    shot = ["--screenshot=" + png_path, size, "file://" + svg_path] if kind == "chromium" else ["--screenshot", png_path, size, "file://" + svg_path]
    run_browser(kind, path, shot)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--archc", default=os.path.join(ROOT, ".build/debug/archc"))
    ap.add_argument("--depth", type=int, action="append")
    ap.add_argument("--out", default=os.path.join(ROOT, ".build/graph-render"))
    ap.add_argument("specs", nargs="*")
    a = ap.parse_args()
    if not os.path.exists(a.archc):
        subprocess.run(["swift", "build", "--product", "archc"], cwd=ROOT, check=True)
    os.makedirs(a.out, exist_ok=True)
    specs = a.specs or sorted(glob.glob(os.path.join(ROOT, "specs/*.arch")))
    kind, browser = find_browser()
    renderer = None
    if not kind:
        renderer = shutil.which("rsvg-convert") and "rsvg-convert"
        if not renderer:
            try:
                import cairosvg  # noqa: F401
                renderer = "cairosvg"
            except ImportError:
                sys.exit("no browser (chromium, google-chrome, firefox) and no SVG renderer (rsvg-convert, cairosvg): "
                         "nothing to check with; apt-get install chromium")
        print("no browser found: rendering with %s instead (text widths are not measured)" % renderer)
    failures = 0
    for spec in specs:
        name = os.path.splitext(os.path.basename(spec))[0]
        for depth in a.depth or [1, 3]:
            svg_path = os.path.abspath(os.path.join(a.out, "%s_d%d.svg" % (name, depth)))
            png_path = svg_path[:-4] + ".png"
            problems = []
            r = subprocess.run([a.archc, "graph", spec, "-o", svg_path, "--depth", str(depth)], capture_output=True, text=True)
            if r.returncode != 0:
                problems.append("archc graph failed: " + r.stderr.strip())
            else:
                if os.path.exists(png_path):
                    os.unlink(png_path)
                if kind:
                    check_in_browser(kind, browser, svg_path, png_path, problems)
                elif renderer == "rsvg-convert":
                    subprocess.run(["rsvg-convert", "-o", png_path, svg_path], check=False)
                else:
                    import cairosvg
                    cairosvg.svg2png(url=svg_path, write_to=png_path)
                if not os.path.exists(png_path):
                    problems.append("no picture was rendered")
                elif png_ink(png_path) < 0.01:
                    problems.append("the picture is blank")
            status = "ok" if not problems else "FAILED"
            print("%-28s depth %d  %s%s" % (name, depth, status, "" if not problems else "\n    " + "\n    ".join(problems)))
            failures += bool(problems)
    print("%d passed, %d failed" % (len(specs) * len(a.depth or [1, 3]) - failures, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
