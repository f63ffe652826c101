"""Every slide of every declared séance fits the room: 1280×720 and 1366×768 projectors,
1920×1080, and a 3840×2160 wall screen, in a real Chromium served by gunicorn.

For each séance (``config/seances/*.yaml`` and the implicit ``/seance/d/<dashboard>`` of each
dashboard) one page is opened and its slides are walked with the séance's own keys (Space to
pause, Home, →), at each screen size. On every slide the test fails on:

- clipped text: an element whose overflow hides content (``scrollHeight > clientHeight + 1`` or
  ``scrollWidth > clientWidth + 1`` with ``overflow`` other than visible), or a text outside the
  slide's box or outside a box that clips it;
- a line break inside a word: each word (split at ordinary spaces only, so « 4 440 » and
  « 207,7 M€ », written with no-break spaces, are one word) is measured with
  ``Range.getClientRects``: its boxes must sit on one line;
- text contrasted below 7:1 against its effective background (computed styles);
- text that does not scale with the screen: none below 28 px × the screen's scale
  (``min(width / 1920, height / 1080)``), the séance's promise at 1080p.

Screenshots of failing slides in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from pilotis.core.settings import ROOT
from pilotis.web.seance_pages import MIN_TEXT_PX
from tests.browser.conftest import ARTIFACTS, USER, _context, sign_in, write_json

pytestmark = pytest.mark.browser

SCREENS = [(1280, 720), (1366, 768), (1920, 1080), (3840, 2160)]


def declared_seances() -> list[str]:
    """Addresses of every séance a user can open: declared ones and each dashboard's own."""
    urls = []
    for path in sorted((ROOT / "config" / "seances").glob("*.yaml")):
        urls.append(f"/seance/{yaml.safe_load(path.read_text(encoding='utf-8'))['id']}")
    for path in sorted((ROOT / "dashboards").glob("*.yaml")):
        urls.append(f"/seance/d/{yaml.safe_load(path.read_text(encoding='utf-8'))['id']}")
    return urls


READY_JS = """
() => {
  const root = document.querySelector('.pilotis-seance[data-ready="true"]');
  if (!root) return false;
  const status = root.querySelector('.pilotis-seance-status');
  if (!status || status.textContent.startsWith('Connexion')) return false;
  const plots = [...root.querySelectorAll('.pilotis-seance-figure:not([hidden]) .js-plotly-plot')];
  return plots.every(p => p.querySelector('.main-svg'));
}
"""

# What a viewer of the current slide cannot read. Returns a list of problems (strings).
CHECK_JS = """
(minText) => {
  const root = document.querySelector('.pilotis-seance');
  const slide = root.querySelector('.pilotis-seance-slide.is-current');
  const problems = [];
  const name = (el) => {
    const cls = el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className;
    return el.tagName.toLowerCase() + (cls ? '.' + String(cls).trim().split(/\\s+/).join('.') : '');
  };
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(',').map(parseFloat);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const shown = (el) => {
    if (el.closest('.visually-hidden, [hidden], script, style, .hoverlayer')) return false;
    const s = getComputedStyle(el);
    return s.visibility === 'visible' && s.display !== 'none' && parseFloat(s.opacity) > 0;
  };
  const scopes = [root.querySelector('.pilotis-seance-head'), slide,
                  root.querySelector('.pilotis-seance-foot'), root.querySelector('.pilotis-seance-snapshot')]
                 .filter(Boolean);
  const slideBox = slide.getBoundingClientRect();
  // 1. boxes that hide part of their content
  for (const scope of scopes) {
    for (const el of [scope, ...scope.querySelectorAll('*')]) {
      if (el.closest('.js-plotly-plot') || !shown(el) || !el.textContent.trim()) continue;
      const s = getComputedStyle(el);
      const hidesY = s.overflowY !== 'visible', hidesX = s.overflowX !== 'visible';
      if (hidesY && el.scrollHeight > el.clientHeight + 1)
        problems.push(`clipped: ${name(el)} hides ${el.scrollHeight - el.clientHeight}px of height`);
      if (hidesX && el.scrollWidth > el.clientWidth + 1)
        problems.push(`clipped: ${name(el)} hides ${el.scrollWidth - el.clientWidth}px of width`);
    }
  }
  // 2. every text: outside its slide or a clipping box, broken inside a word, faint, too small
  const vw = innerWidth, vh = innerHeight;
  for (const scope of scopes) {
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const text = node.textContent;
      const el = node.parentElement;
      if (!text.trim() || !el || !shown(el)) continue;
      const svg = el instanceof SVGElement;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = [...range.getClientRects()].filter(r => r.width > 0.5 && r.height > 0.5);
      if (!rects.length) continue;
      const label = `${name(el)} « ${text.trim().slice(0, 40)} »`;
      const box = scope === slide ? slideBox : {left: 0, top: 0, right: vw, bottom: vh};
      const out = (r, b) =>
        r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1;
      for (const r of rects) {
        if (out(r, box)) {
          problems.push(`outside its ${scope === slide ? 'slide' : 'screen'}: ${label}`);
          break;
        }
      }
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
        const c = a.getBoundingClientRect();
        if (rects.some(r => out(r, c))) {
          problems.push(`clipped by ${name(a)}: ${label}`);
          break;
        }
      }
      if (!svg) {
        // words: split at ordinary (breakable) spaces only; a break after a hyphen or slash is fine
        const re = /[^ \\t\\n\\r\\u2009\\u200b]+/g;
        let m;
        while ((m = re.exec(text))) {
          const parts = m[0].split(/(?<=[-\\/–—])/);
          let offset = m.index;
          for (const part of parts) {
            if (part.length > 1) {
              const w = document.createRange();
              w.setStart(node, offset);
              w.setEnd(node, offset + part.length);
              const boxes = [...w.getClientRects()].filter(r => r.width > 0.5);
              if (boxes.length > 1) {
                const tops = boxes.map(r => r.top), h = Math.min(...boxes.map(r => r.height));
                if (Math.max(...tops) - Math.min(...tops) > h / 2)
                  problems.push(`word broken across lines: ${name(el)} « ${part} »`);
              }
            }
            offset += part.length;
          }
        }
      }
      const style = getComputedStyle(el);
      const color = parse(svg ? style.fill : style.color);
      if (color) {
        // a label drawn inside a bar or a pie slice reads against that shape's fill
        const shape = svg && el.closest('g.point, g.slice');
        const fill = shape && shape.querySelector('path') && parse(getComputedStyle(shape.querySelector('path')).fill);
        const covered = (path) => {  // the text's centre lies on that shape
          const m = path.getScreenCTM(), r = rects[0];
          if (!m || !path.isPointInFill) return false;
          const centre = new DOMPoint(r.left + r.width / 2, r.top + r.height / 2);
          return path.isPointInFill(centre.matrixTransform(m.inverse()));
        };
        const inside = fill && (el.closest('.bartext-inside') || covered(shape.querySelector('path')));
        const back = inside ? fill : svg ? {r: 255, g: 255, b: 255, a: 1} : background(el);
        const [hi, lo] = [lum(color), lum(back)].sort((a, b) => b - a);
        const ratio = (hi + 0.05) / (lo + 0.05);
        if (ratio < 7) problems.push(`contrast ${ratio.toFixed(2)}:1 < 7:1: ${label}`);
      }
      if (!svg && parseFloat(style.fontSize) < minText - 0.5)
        problems.push(`text ${parseFloat(style.fontSize).toFixed(1)}px < ${minText.toFixed(1)}px: ${label}`);
    }
  }
  return problems;
}
"""


@pytest.fixture(scope="module")
def room(browser: Any, live_server: str) -> Iterator[Any]:
    """A signed-in context without animations (the cross-fade is not what is measured)."""
    context = _context(browser, {"width": 1920, "height": 1080})
    page = context.new_page()
    sign_in(page, live_server, USER)
    page.close()
    try:
        yield context
    finally:
        context.close()


def _walk(page: Any, width: int, height: int) -> dict[str, list[str]]:
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(600)  # plotly's responsive redraw and the séance's fit step
    count = page.locator(".pilotis-seance-slide").count()
    found: dict[str, list[str]] = {}
    scale = min(width / 1920, height / 1080)
    page.keyboard.press("Home")
    for index in range(count):
        if index:
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            f"document.querySelector('.pilotis-seance').getAttribute('data-slide') === '{index}'", timeout=5_000
        )
        page.wait_for_timeout(150)
        problems = page.evaluate(CHECK_JS, MIN_TEXT_PX * scale)
        if problems:
            key = f"{width}x{height} slide {index + 1}/{count}"
            found[key] = sorted(set(problems))
            slug = page.url.rsplit("/", 1)[-1]
            page.screenshot(path=str(ARTIFACTS / f"seance-fit-{slug}-{width}x{height}-{index + 1}.png"))
    return found


@pytest.mark.parametrize("url", declared_seances())
def test_every_slide_fits_every_screen(room: Any, live_server: str, url: str) -> None:
    page = room.new_page()
    page.emulate_media(reduced_motion="reduce")
    try:
        page.goto(live_server + url)
        page.wait_for_function(READY_JS, timeout=30_000, polling=200)
        page.wait_for_timeout(500)
        page.keyboard.press("Space")  # pause the rotation: the test moves through the slides
        found: dict[str, list[str]] = {}
        for width, height in SCREENS:
            found.update(_walk(page, width, height))
        ARTIFACTS.mkdir(exist_ok=True)
        write_json(f"seance-fit{url.replace('/', '-')}.json", found)
        report = "\n".join(f"{where}: {p}" for where, problems in found.items() for p in problems[:6])
        assert not found, f"{url}: {len(found)} slide views do not fit:\n{report[:6000]}"
    finally:
        page.close()
