/// A parser for one stream of program output, the Swift twin of the web
/// client's `ansi.js`: SGR escapes become styles, every other control
/// sequence (cursor movement, erase, window titles) is dropped so it never
/// shows as garbage, and `\r` is a token of its own so a progress bar can be
/// redrawn in place. Feed chunks as they come: an escape split across two
/// chunks is held back until its end arrives.
public struct TerminalParser: Sendable {
    /// What a chunk of output amounts to.
    public enum Token: Sendable, Equatable {
        /// Printable text in one style (tabs included).
        case text(String, TerminalStyle)
        /// End of line (`\n` or `\r\n`).
        case newline
        /// A lone carriage return: what follows overwrites the line.
        case carriageReturn
    }

    /// The style in force for the next text.
    public private(set) var style = TerminalStyle.plain
    private var held: [Unicode.Scalar] = []

    /// Longest unfinished escape kept for the next chunk; a longer one is dropped.
    static let maxHeldScalars = 4_096

    public init() {}

    /// The tokens of `chunk`, continuing whatever the previous chunk left unfinished.
    public mutating func feed(_ chunk: String) -> [Token] {
        var input = held
        held = []
        input.append(contentsOf: chunk.unicodeScalars)
        var tokens: [Token] = []
        var run = String.UnicodeScalarView()
        func flush() {
            if !run.isEmpty { tokens.append(.text(String(run), style)); run = String.UnicodeScalarView() }
        }
        var i = 0
        while i < input.count {
            let c = input[i]
            switch c.value {
            case 0x0A:
                flush()
                tokens.append(.newline)
            case 0x0D:
                if i + 1 < input.count, input[i + 1].value == 0x0A { break } // \r\n is one newline
                if i + 1 == input.count { held = [c]; flush(); return tokens } // maybe the \r of a split \r\n
                flush()
                tokens.append(.carriageReturn)
            case 0x1B:
                switch Self.escapeLength(input, at: i) {
                case .complete(let length, let sgr):
                    if let sgr {
                        flush()
                        style = style.applying(sgr: Substring(String(String.UnicodeScalarView(sgr))))
                    }
                    i += length
                    continue
                case .incomplete:
                    if input.count - i < Self.maxHeldScalars { held = Array(input[i...]) }
                    flush()
                    return tokens
                case .invalid:
                    break // a lone ESC is dropped
                }
            case 0x08:
                if !run.isEmpty { run.removeLast() } // backspace within this chunk
            case 0x09, 0x20...:
                if c.value != 0x7F { run.append(c) }
            default:
                break // other C0 controls (bell, …) are dropped
            }
            i += 1
        }
        flush()
        return tokens
    }

    enum Escape {
        case complete(length: Int, sgr: [Unicode.Scalar]?)
        case incomplete
        case invalid
    }

    /// The escape starting at `start` (an ESC): CSI … final byte, OSC … BEL or
    /// ST, a charset selection, or a two-byte escape.
    static func escapeLength(_ s: [Unicode.Scalar], at start: Int) -> Escape {
        guard start + 1 < s.count else { return .incomplete }
        let kind = s[start + 1].value
        switch kind {
        case 0x5B: // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E
            var i = start + 2
            while i < s.count, (0x30...0x3F).contains(s[i].value) { i += 1 }
            let paramsEnd = i
            while i < s.count, (0x20...0x2F).contains(s[i].value) { i += 1 }
            guard i < s.count else { return .incomplete }
            guard (0x40...0x7E).contains(s[i].value) else { return .invalid }
            let isSGR = s[i] == "m" && paramsEnd == i
            return .complete(length: i + 1 - start, sgr: isSGR ? Array(s[(start + 2)..<paramsEnd]) : nil)
        case 0x5D: // OSC, ended by BEL or ESC \
            var i = start + 2
            while i < s.count {
                if s[i].value == 0x07 { return .complete(length: i + 1 - start, sgr: nil) }
                if s[i].value == 0x1B {
                    guard i + 1 < s.count else { return .incomplete }
                    return .complete(length: i + (s[i + 1] == "\\" ? 2 : 1) - start, sgr: nil)
                }
                i += 1
            }
            return .incomplete
        case 0x28...0x2B: // charset selection: ESC ( B
            guard start + 2 < s.count else { return .incomplete }
            return .complete(length: 3, sgr: nil)
        case 0x40...0x5A, 0x5C, 0x5E...0x60, 0x61...0x7E, 0x3D, 0x3E:
            return .complete(length: 2, sgr: nil)
        default:
            return .invalid
        }
    }

    /// `text` without escapes and control characters (tabs and newlines kept;
    /// a `\r` that redraws a line becomes a newline): what a person reads, for search.
    public static func plainText(_ text: String) -> String {
        var parser = TerminalParser()
        var out = ""
        for token in parser.feed(text) + parser.feed("") {
            switch token {
            case .text(let t, _): out += t
            case .newline, .carriageReturn: out += "\n"
            }
        }
        return out
    }
}
