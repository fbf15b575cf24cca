"""What every page in the journeys must pass: axe-core, no sideways scrolling, no word broken
across two lines and large enough tap targets at phone and desktop widths, a visible keyboard
focus; with a screenshot of each."""

from __future__ import annotations

from playwright.sync_api import Page

AXE = "/static/vendor/axe-core/axe-4.14.1.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
TAP_PX = 44

# Controls a person taps. Links inside a sentence are exempt (WCAG 2.5.8's inline exception);
# a checkbox or radio counts by its label, which is what a thumb actually presses.
TAP_TARGETS_JS = """
(min) => {
  const seen = new Set();
  const small = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || el.id || '').trim();
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + text.slice(0, 40) + '"';
  };
  const selector = 'button, a.button, summary, select, textarea, .nav a, .account a, .pager a, '
    + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  for (const el of document.querySelectorAll(selector)) {
    if (!visible(el) || el.closest('.skip-link') || el.classList.contains('skip-link')) continue;
    const r = el.getBoundingClientRect();
    if (r.height + 0.5 < min || r.width + 0.5 < min) small.push(describe(el) + ' is ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
  for (const box of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!visible(box)) continue;
    const label = box.labels && box.labels[0];
    const target = label && visible(label) ? label : box;
    if (seen.has(target)) continue;
    seen.add(target);
    const r = target.getBoundingClientRect();
    if (r.height + 0.5 < min) small.push(describe(target) + ' (for ' + describe(box) + ') is ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
  return small;
}
"""


# A word of letters that the browser split over two lines: "Membe|r", "minut|es". A Range over the
# word's characters has a client rect per line it lands on; rects whose tops differ by more than
# half a line mean the word was broken (CSS such as `overflow-wrap: anywhere` or `word-break` does
# that to squeeze a table). Words are runs of letters (\p{L}, with their marks), apostrophes inside
# them included ("don't", "Dana’s"). A hyphen ends a word: "follow-ups" may wrap after its hyphen,
# as print does, but neither "follow" nor "ups" may be split. Digits are not words.
#
# Long tokens may wrap anywhere, or they would push the page sideways on a phone: anything inside
# code, kbd, samp, pre, a mailto: link, an element marked .token or [data-long-token], and any
# whitespace-free run that holds "@" or "://" (an address or a URL written in a sentence). Form
# controls (inputs, selects, textareas) and SVG text are not checked: they do not wrap words.
BROKEN_WORDS_JS = r"""
() => {
  const SKIP = 'script, style, noscript, template, textarea, select, option, input, svg, '
    + 'code, kbd, samp, pre, a[href^="mailto:"], .token, [data-long-token]';
  const WORD = /[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*/gu;
  const CHUNK = /\S+/gu;
  const isToken = (chunk) => chunk.includes('@') || chunk.includes('://');
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 5; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) part += '#' + e.id;
      else if (typeof e.className === 'string' && e.className.trim()) part += '.' + e.className.trim().split(/\s+/).join('.');
      parts.unshift(part);
    }
    return parts.join(' > ');
  };
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (!node.parentElement || node.parentElement.closest(SKIP))
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    for (const chunk of text.matchAll(CHUNK)) {
      if (isToken(chunk[0])) continue;
      for (const word of chunk[0].matchAll(WORD)) {
        if (word[0].length < 2) continue;
        const start = chunk.index + word.index;
        range.setStart(node, start);
        range.setEnd(node, start + word[0].length);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
        if (rects.length < 2) continue;
        const tops = rects.map((r) => r.top);
        const lineHeight = Math.min(...rects.map((r) => r.height));
        if (Math.max(...tops) - Math.min(...tops) > lineHeight / 2) {
          const pieces = [];
          let last = null;
          // Which letters ended up on which line: "Membe|r".
          for (let i = 0; i < word[0].length; i++) {
            range.setStart(node, start + i);
            range.setEnd(node, start + i + 1);
            const r = range.getClientRects()[0];
            const top = r ? Math.round(r.top) : last;
            if (last !== null && top !== null && Math.abs(top - last) > lineHeight / 2) pieces.push('|');
            pieces.push(word[0][i]);
            last = top;
          }
          broken.push(pieces.join('') + ' in ' + path(node.parentElement));
        }
      }
    }
  }
  return broken;
}
"""


# A badge, flag, tag or button wider than the card it sits in sticks out over the card's edge (the
# page itself may not scroll sideways, so the sideways check misses it). Inside a table's own
# scroll box it may: that box scrolls.
OUT_OF_CARD_JS = r"""
() => {
  const out = [];
  for (const el of document.querySelectorAll('.badge, .flag, .tag, button, .button')) {
    const card = el.closest('.card');
    if (!card || el.closest('.table-wrap')) continue;
    const r = el.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > c.right + 0.5 || r.left < c.left - 0.5) {
      const text = (el.innerText || '').trim().slice(0, 50);
      out.push(el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + ' "' + text + '" is '
        + Math.round(r.width) + ' px wide in a card of ' + Math.round(c.width) + ' px');
    }
  }
  return out;
}
"""


# What sticks out past the window's right edge: the innermost such elements (not ones that only
# stick out because a child does), outside any box that scrolls sideways on its own.
TOO_WIDE_JS = r"""
() => {
  const edge = document.documentElement.clientWidth + 0.5;
  const scrolls = (el) => { const o = getComputedStyle(el).overflowX; return o === 'auto' || o === 'scroll' || o === 'hidden'; };
  const wide = [...document.body.querySelectorAll('*')].filter((el) => {
    if (el.getBoundingClientRect().right <= edge) return false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (scrolls(p)) return false;
    return true;
  });
  const innermost = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  return innermost.slice(0, 3).map((el) => {
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    return el.tagName.toLowerCase() + cls + ' "' + (el.innerText || '').trim().slice(0, 40) + '" to '
      + Math.round(el.getBoundingClientRect().right) + ' px';
  });
}
"""


def broken_words(page: Page) -> list[str]:
    """Each word of letters rendered across two lines, as "Membe|r in th > a", once per place."""
    seen: dict[str, int] = {}
    for found in page.evaluate(BROKEN_WORDS_JS):
        seen[found] = seen.get(found, 0) + 1
    return [f"{found} (×{count})" if count > 1 else found for found, count in seen.items()]


def axe_run(page: Page) -> list[dict]:
    """Every axe-core violation on the page: id, impact, help and up to five places."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # A same-origin script file: CSP allows 'self'; an inline <script> would be refused.
        page.add_script_tag(url=AXE)
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )


def blocking(results: list[dict]) -> list[str]:
    """The serious and critical violations, one readable line each."""
    return [
        f"{v['impact']}: {v['id']} — {v['help']} — at {', '.join(v['targets'])}"
        for v in results
        if v["impact"] in BLOCKING_IMPACTS
    ]


def by_impact(results: list[dict]) -> str:
    """ "critical 0, serious 0, moderate 1 (page-has-heading-one), minor 0" for the report."""
    parts = []
    for impact in ("critical", "serious", "moderate", "minor"):
        ids = [v["id"] for v in results if v["impact"] == impact]
        parts.append(f"{impact} {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))
    return ", ".join(parts)


def layout_problems(page: Page) -> list[str]:
    problems = []
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: document.documentElement.clientWidth})"
    )
    if widths["scroll"] > widths["inner"]:
        culprits = ", ".join(page.evaluate(TOO_WIDE_JS)) or "no single element"
        problems.append(
            f"scrolls sideways: the page is {widths['scroll']} px wide in a {widths['inner']} px window"
            f" (past the edge: {culprits})"
        )
    problems += [f"word broken across lines: {w}" for w in broken_words(page)]
    problems += [f"sticks out of its card: {e}" for e in page.evaluate(OUT_OF_CARD_JS)]
    problems += [f"tap target under {TAP_PX} px: {s}" for s in page.evaluate(TAP_TARGETS_JS, TAP_PX)]
    return problems


def focus_is_visible(page: Page) -> str | None:
    """None when the focused element shows a focus ring (outline or box-shadow), else why not."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return 'nothing has focus';
            const s = getComputedStyle(el);
            const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            if (outline || (s.boxShadow && s.boxShadow !== 'none')) return null;
            return 'no visible focus on ' + el.outerHTML.slice(0, 120);
        }"""
    )
