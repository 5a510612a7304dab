// ANSI escape sequences in program output → styled text. SGR styles and
// colours (16, 256 and 24-bit) become segments; every other control sequence
// (cursor movement, erase, titles) is dropped so it never shows as garbage.
// `\r` is kept as a token: the log view starts the line again, so progress
// bars redraw in place instead of piling up.

const plain = Object.freeze({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false });
const levels = [0, 95, 135, 175, 215, 255];
// CSI … final byte; OSC … BEL or ST; two-byte escapes; charset selection.
const escape = /\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()*+][0-~]|[@-Z\\^_`a-~=>])/y;
const incomplete = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[()*+])?$/;

/** The CSS colour of a 256-colour index at or above 16 (below 16 the theme's classes apply). */
export function color256(n) {
  if (n < 232) {
    n -= 16;
    return `rgb(${levels[Math.floor(n / 36)]},${levels[Math.floor(n / 6) % 6]},${levels[n % 6]})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g},${g},${g})`;
}

/** Applies SGR parameters (`1;31`, `38;5;208`, `38;2;1;2;3`) to a style; returns a new frozen style. */
export function applySGR(style, params) {
  const p = params === "" ? [0] : params.split(/[;:]/).map((x) => (x === "" ? 0 : Number(x)));
  const s = { ...style };
  for (let i = 0; i < p.length; i++) {
    const n = p[i];
    if (n === 0) Object.assign(s, plain);
    else if (n === 1) s.bold = true;
    else if (n === 2) s.dim = true;
    else if (n === 3) s.italic = true;
    else if (n === 4) s.underline = true;
    else if (n === 7) s.inverse = true;
    else if (n === 9) s.strike = true;
    else if (n === 22) s.bold = s.dim = false;
    else if (n === 23) s.italic = false;
    else if (n === 24) s.underline = false;
    else if (n === 27) s.inverse = false;
    else if (n === 29) s.strike = false;
    else if (n >= 30 && n <= 37) s.fg = n - 30;
    else if (n >= 90 && n <= 97) s.fg = n - 90 + 8;
    else if (n === 39) s.fg = null;
    else if (n >= 40 && n <= 47) s.bg = n - 40;
    else if (n >= 100 && n <= 107) s.bg = n - 100 + 8;
    else if (n === 49) s.bg = null;
    else if (n === 38 || n === 48) {
      const which = n === 38 ? "fg" : "bg";
      if (p[i + 1] === 5 && p[i + 2] !== undefined) { s[which] = p[i + 2] & 255; i += 2; }
      else if (p[i + 1] === 2 && p[i + 4] !== undefined) {
        const hex = (v) => (v & 255).toString(16).padStart(2, "0");
        s[which] = `#${hex(p[i + 2])}${hex(p[i + 3])}${hex(p[i + 4])}`;
        i += 4;
      } else break; // malformed: ignore the rest, as terminals do
    }
  }
  return Object.freeze(s);
}

/**
 * A parser for one stream of output: feed it chunks as they arrive (an escape
 * split across two chunks is held back until its end arrives). `feed` answers
 * tokens: `{text, style}`, `{newline: true}` or `{cr: true}`.
 */
export class AnsiParser {
  constructor() {
    this.style = plain;
    this.held = "";
  }

  feed(chunk) {
    let text = this.held + chunk;
    this.held = "";
    const tail = text.match(incomplete);
    // An unfinished escape waits for the next chunk (unless it is absurdly long: then it is dropped).
    if (tail && tail[0]) { if (tail[0].length < 4096) this.held = tail[0]; text = text.slice(0, tail.index); }
    const out = [];
    let run = "";
    const flush = () => { if (run) { out.push({ text: run, style: this.style }); run = ""; } };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 32 || c === 9) { run += text[i]; continue; }
      if (c === 10) { flush(); out.push({ newline: true }); continue; }
      if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) continue; // \r\n is a newline
        flush(); out.push({ cr: true }); continue;
      }
      if (c === 27) {
        escape.lastIndex = i;
        const m = escape.exec(text);
        if (m) {
          if (m[2] === "m") { flush(); this.style = applySGR(this.style, m[1]); }
          i += m[0].length - 1;
        }
        continue;
      }
      if (c === 8) { run = run.slice(0, -1); continue; } // backspace within this chunk
      // other C0 controls (bell, …) are dropped
    }
    flush();
    return out;
  }
}

const styleCache = new WeakMap();

/** How a style is drawn: `cls` (classes for the theme's 16 colours and the attributes) and `css` (256 and 24-bit colours). */
export function styleOf(style) {
  let drawn = styleCache.get(style);
  if (drawn) return drawn;
  let { fg, bg } = style;
  const cls = [], css = {};
  if (style.inverse) {
    [fg, bg] = [bg, fg];
    if (fg === null) cls.push("fg-inv");
    if (bg === null) cls.push("bg-inv");
  }
  for (const [value, kind, prop] of [[fg, "fg", "color"], [bg, "bg", "backgroundColor"]]) {
    if (value === null) continue;
    if (typeof value === "string") css[prop] = value;
    else if (value < 16) cls.push(`${kind}-${value}`);
    else css[prop] = color256(value);
  }
  if (style.bold) cls.push("b");
  if (style.dim) cls.push("d");
  if (style.italic) cls.push("i");
  if (style.underline) cls.push("u");
  if (style.strike) cls.push("s");
  drawn = { cls: cls.join(" "), css };
  styleCache.set(style, drawn);
  return drawn;
}

/** Whole text → a fragment of styled spans (for short texts shown outside the log). */
export function ansiFragment(text) {
  const frag = document.createDocumentFragment();
  for (const token of new AnsiParser().feed(text)) {
    if (token.newline) { frag.append("\n"); continue; }
    if (token.cr) continue;
    frag.append(span(token.text, token.style));
  }
  return frag;
}

/** One styled span. */
export function span(text, style) {
  const el = document.createElement("span");
  el.textContent = text;
  const { cls, css } = styleOf(style);
  if (cls) el.className = cls;
  Object.assign(el.style, css);
  return el;
}
