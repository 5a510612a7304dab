// A run's log: output lines (stdout and stderr told apart, ANSI styles),
// follows the tail unless the person scrolled up (then a "jump to live"
// button), and puts in the page only the rows that are visible, so a
// 100,000-line run scrolls as smoothly as a short one. Lines wrap at the
// width of the box: the font is monospace, so a line of n characters takes
// ceil(n / columns) rows of one fixed height, and the row under any scroll
// offset is found by arithmetic.
import { AnsiParser, span } from "./ansi.js";
import { h } from "./dom.js";

const overscanRows = 20;
// Text with a character that is not one column wide (wide, zero-width or outside the BMP) is wrapped by columns.
const notNarrow = /[^\u0000-\u10ff]/;

/** Columns a code point takes in a monospace terminal: 2 for East Asian wide and emoji, 0 for joiners and marks. */
export function columns(cp) {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f || cp === 0xfe0e) return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) || (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) || (cp >= 0x1f900 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd)) return 2;
  return 1;
}

export class LogView {
  /** Builds the view inside `host` (an empty element). */
  constructor(host) {
    this.host = host;
    host.classList.add("log");
    host.logView = this; // tests and the console reach the model through the element
    this.spacer = h("div", { class: "log-spacer" });
    this.rowsEl = h("div", { class: "log-rows" });
    this.scroller = h("div", { class: "log-scroll", tabindex: "0", role: "log", "aria-label": "run output", "aria-live": "off" },
      this.spacer, this.rowsEl);
    this.jump = h("button", { class: "log-jump", type: "button", hidden: true, onclick: () => this.jumpToLive() }, "Jump to live ↓");
    host.append(this.scroller, this.jump);
    this.lines = [];      // {stream, segs: [{text, style}], len, open, cr}
    this.rowLine = [];    // row → its line
    this.rowStart = [];   // row → the line's first character on it
    this.parsers = {};
    this.follow = true;
    this.wrap = true;     // false: one row per line, and the box scrolls sideways
    this.cols = 0;
    this.rowHeight = 0;
    this.scheduled = false;
    this.scroller.addEventListener("scroll", () => {
      // A scroll the view made itself (following the tail, revealing a line) says nothing about the
      // person: its event can arrive after the view moved on (a search hit revealed mid-replay).
      const top = this.scroller.scrollTop, down = top > (this.lastTop ?? 0);
      this.lastTop = top;
      if (top === this.setTop) { this.schedule(); return; }
      this.setTop = null; // the person moved it: from here on every position counts
      const bottom = top + this.scroller.clientHeight >= this.scroller.scrollHeight - this.rowHeight - 2;
      // Following starts again only when the person scrolls down to the end, not when the box
      // grows and the browser pulls a short log's position back to its end.
      if (bottom !== this.follow && (!bottom || down)) { this.follow = bottom; this.jump.hidden = bottom; }
      this.schedule();
    }, { passive: true });
    this.resize = new ResizeObserver(() => { if (this.measure()) this.rewrap(); this.schedule(); });
    this.resize.observe(this.scroller);
  }

  /** Appends output of a stream (`stdout`, `stderr` or `pty`); a chunk may end mid-line or mid-escape. `seq`: the event's. */
  append(stream, text, seq) {
    const parser = this.parsers[stream] ??= new AnsiParser();
    let line = this.openLine(stream);
    for (const token of parser.feed(text)) {
      line.first ??= seq; // the events whose text the line holds: first and last
      line.last = seq;
      if (token.newline) { line.open = false; this.relayout(line); line = this.openLine(stream); continue; }
      if (token.cr) { line.cr = true; continue; }
      if (line.cr) { line.segs = []; line.len = 0; line.cr = false; } // a progress bar redraws its line
      let t = token.text;
      if (t.includes("\t")) t = t.replace(/\t/g, () => " ".repeat(8 - ((line.len) % 8))); // approximate: one tab per chunk
      line.segs.push({ text: t, style: token.style });
      line.len += t.length;
    }
    this.relayout(line);
    this.schedule();
  }

  /** Adds a line of M's own (input typed, notices, decisions), styled apart from the program's output. */
  note(text, kind = "meta", seq) {
    const last = this.lines.at(-1);
    if (last?.open) { last.open = false; if (last.len === 0) this.dropLast(); }
    const line = { stream: kind, segs: [{ text, style: null }], len: text.length, open: false, cr: false, first: seq, last: seq };
    this.lines.push(line);
    this.relayout(line);
    this.schedule();
  }

  /** The whole log as plain text (what "copy" copies). */
  text() {
    return this.lines.filter((l) => !(l.open && l.len === 0)).map((l) => l.segs.map((s) => s.text).join("")).join("\n");
  }

  /** Scrolls to the end and follows new output again. */
  jumpToLive() {
    this.follow = true;
    this.jump.hidden = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.setTop = this.scroller.scrollTop;
    // The button floats over the page: bring the log's end into the window too.
    this.scroller.scrollIntoView({ block: "end" });
    this.schedule();
  }

  /** Finds the lines holding `query` (any case); shows the last one. Answers `{count, index}` (index from 1; 0: none). */
  find(query) {
    const q = query.toLowerCase();
    this.matches = [];
    if (q) this.lines.forEach((line, i) => { if (line.segs.map((s) => s.text).join("").toLowerCase().includes(q)) this.matches.push(i); });
    this.matchSet = new Set(this.matches);
    this.current = this.matches.length - 1; // the one nearest the tail
    this.reveal();
    return this.position();
  }

  /** Moves to the next (1) or previous (-1) line found; answers `{count, index}`. */
  step(direction) {
    const n = this.matches?.length ?? 0;
    if (!n) return this.position();
    this.current = (this.current + direction + n) % n;
    this.reveal();
    return this.position();
  }

  /**
   * Marks the line of event `seq` that holds the most of `words` (a search
   * hit: any case, a word or its start) and scrolls it into the middle of
   * the box. Answers false while no line of that event is in the log yet.
   */
  revealEvent(seq, words = "") {
    const terms = words.toLowerCase().split(/\s+/).filter(Boolean);
    let best = -1, bestScore = -1;
    this.lines.forEach((line, i) => {
      if (!(line.first <= seq && seq <= line.last)) return;
      const text = line.segs.map((s) => s.text).join("").toLowerCase();
      const score = terms.filter((t) => text.includes(t)).length;
      if (score > bestScore) { best = i; bestScore = score; }
    });
    if (best < 0) return false;
    this.matches = [best];
    this.matchSet = new Set(this.matches);
    this.current = 0;
    this.follow = false;
    this.jump.hidden = false;
    this.revealPending = true; // scrolled at the next render, once the rows are measured
    this.schedule();
    return true;
  }

  position() { return { count: this.matches?.length ?? 0, index: (this.current ?? -1) + 1 }; }

  // Scrolls the current line found into the middle of the box (and stops following the tail).
  reveal() {
    this.schedule();
    if (!this.matches?.length || !this.rowHeight) return;
    const line = this.matches[this.current];
    let lo = 0, hi = this.rowLine.length - 1; // rows are in line order: the line's first row by bisection
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.rowLine[mid] < line) lo = mid + 1; else hi = mid; }
    this.follow = false;
    this.jump.hidden = false;
    this.scroller.scrollTop = Math.max(0, lo * this.rowHeight - this.scroller.clientHeight / 2);
    this.setTop = this.scroller.scrollTop;
  }

  /** Wraps long lines at the box's width (true) or keeps them whole and scrolls sideways (false). */
  setWrap(on) {
    this.wrap = on;
    this.host.classList.toggle("nowrap", !on);
    this.rewrap();
    this.schedule();
  }

  /** Stops watching the box's size (the view is being thrown away). */
  dispose() { this.resize.disconnect(); }

  // The line new text of `stream` continues: the last line when it is open and
  // of that stream, else a new one (another stream's unfinished line is closed).
  openLine(stream) {
    const last = this.lines.at(-1);
    if (last?.open && last.stream === stream) return last;
    if (last?.open) { last.open = false; if (last.len === 0) this.dropLast(); }
    const line = { stream, segs: [], len: 0, open: true, cr: false };
    this.lines.push(line);
    return line;
  }

  dropLast() {
    const index = this.lines.length - 1;
    while (this.rowLine.length && this.rowLine.at(-1) === index) { this.rowLine.pop(); this.rowStart.pop(); }
    this.lines.pop();
  }

  // Recomputes the rows of `line`, which is always the last line.
  relayout(line) {
    if (!this.cols) return; // not measured yet: rewrap() lays out everything once it is
    const index = this.lines.length - 1;
    if (this.lines[index] !== line) return;
    while (this.rowLine.length && this.rowLine.at(-1) === index) { this.rowLine.pop(); this.rowStart.pop(); }
    if (line.open && line.len === 0) return; // an empty open line is not shown yet
    for (const start of this.rowStarts(line)) {
      this.rowLine.push(index);
      this.rowStart.push(start);
    }
  }

  rewrap() {
    this.rowLine = [];
    this.rowStart = [];
    this.lines.forEach((line, index) => {
      if (line.open && line.len === 0) return;
      for (const start of this.rowStarts(line)) {
        this.rowLine.push(index);
        this.rowStart.push(start);
      }
    });
  }

  // Where the rows of `line` start (UTF-16 offsets): one row when not
  // wrapping; else every `cols` columns, where a wide character (CJK, most
  // emoji) takes two columns and neither it nor a surrogate pair is split.
  rowStarts(line) {
    if (!this.wrap) return [0];
    const text = line.segs.length === 1 ? line.segs[0].text : line.segs.map((s) => s.text).join("");
    const starts = [0];
    if (!notNarrow.test(text)) {
      for (let start = this.cols; start < line.len; start += this.cols) starts.push(start);
      return starts;
    }
    let used = 0;
    for (let i = 0; i < text.length;) {
      const cp = text.codePointAt(i);
      const units = cp > 0xffff ? 2 : 1;
      const width = columns(cp);
      if (used + width > this.cols && used > 0) { starts.push(i); used = 0; }
      used += width;
      i += units;
    }
    return starts;
  }

  // Character width and row height of the log's font; true when the columns changed.
  measure() {
    const width = this.scroller.clientWidth;
    if (!width) return false;
    const probe = h("div", { class: "log-row" }, h("span", { text: "0".repeat(40) }));
    this.rowsEl.append(probe);
    const box = probe.firstChild.getBoundingClientRect();
    this.rowHeight = probe.getBoundingClientRect().height || 18;
    const style = getComputedStyle(this.scroller);
    const inner = width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    probe.remove();
    const cols = Math.max(10, Math.floor(inner / (box.width / 40)));
    if (cols === this.cols) return false;
    this.cols = cols;
    return true;
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => { this.scheduled = false; this.render(); });
  }

  render() {
    if (!this.cols && !this.measure()) return;
    if (this.rowLine.length === 0 && this.lines.length) this.rewrap();
    const rows = this.rowLine.length, rh = this.rowHeight;
    this.spacer.style.height = `${rows * rh}px`;
    if (this.follow) { this.scroller.scrollTop = this.scroller.scrollHeight; this.setTop = this.scroller.scrollTop; }
    if (this.revealPending) { this.revealPending = false; this.reveal(); }
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / rh) - overscanRows);
    const last = Math.min(rows, Math.ceil((this.scroller.scrollTop + this.scroller.clientHeight) / rh) + overscanRows);
    const out = [];
    for (let r = first; r < last; r++) out.push(this.row(r));
    this.rowsEl.style.transform = `translateY(${first * rh}px)`;
    this.rowsEl.replaceChildren(...out);
  }

  // One visible row: the slice [start, start + cols) of its line, with its styles.
  row(r) {
    const line = this.lines[this.rowLine[r]];
    const start = this.rowStart[r], end = this.rowLine[r + 1] === this.rowLine[r] ? this.rowStart[r + 1] : Infinity;
    const found = this.matchSet?.has(this.rowLine[r]) ? (this.rowLine[r] === this.matches[this.current] ? " found current" : " found") : "";
    const el = h("div", { class: `log-row ${line.stream}${found}` });
    let at = 0;
    for (const seg of line.segs) {
      const next = at + seg.text.length;
      if (next > start && at < end) {
        const text = seg.text.slice(Math.max(0, start - at), end - at);
        el.append(seg.style ? span(text, seg.style) : text);
      }
      if (next >= end) break;
      at = next;
    }
    return el;
  }
}
