/// The look of a stretch of terminal output after SGR escapes: colours (the
/// 16 theme colours by index, 256-colour indexes, or 24-bit RGB) and attributes.
public struct TerminalStyle: Sendable, Equatable {
    /// A foreground or background colour.
    public enum Color: Sendable, Equatable {
        /// One of the 256 indexed colours (0–15 follow the theme).
        case indexed(UInt8)
        /// A 24-bit colour.
        case rgb(UInt8, UInt8, UInt8)
    }

    public var foreground: Color?
    public var background: Color?
    public var bold = false
    public var dim = false
    public var italic = false
    public var underline = false
    public var inverse = false
    public var strike = false

    /// No colour, no attribute.
    public static let plain = TerminalStyle()

    public init() {}

    /// The style after the SGR parameters `params` (`1;31`, `38;5;208`, `38;2;1;2;3`; empty means reset).
    public func applying(sgr params: Substring) -> TerminalStyle {
        let numbers: [Int] = params.isEmpty ? [0] : params.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ";" || $0 == ":" })
            .map { Int($0) ?? 0 }
        var s = self
        var i = 0
        while i < numbers.count {
            let n = numbers[i]
            switch n {
            case 0: s = .plain
            case 1: s.bold = true
            case 2: s.dim = true
            case 3: s.italic = true
            case 4: s.underline = true
            case 7: s.inverse = true
            case 9: s.strike = true
            case 22: s.bold = false; s.dim = false
            case 23: s.italic = false
            case 24: s.underline = false
            case 27: s.inverse = false
            case 29: s.strike = false
            case 30...37: s.foreground = .indexed(UInt8(n - 30))
            case 90...97: s.foreground = .indexed(UInt8(n - 90 + 8))
            case 39: s.foreground = nil
            case 40...47: s.background = .indexed(UInt8(n - 40))
            case 100...107: s.background = .indexed(UInt8(n - 100 + 8))
            case 49: s.background = nil
            case 38, 48:
                let color: Color
                if i + 2 < numbers.count, numbers[i + 1] == 5 {
                    color = .indexed(UInt8(numbers[i + 2] & 255))
                    i += 2
                } else if i + 4 < numbers.count, numbers[i + 1] == 2 {
                    color = .rgb(UInt8(numbers[i + 2] & 255), UInt8(numbers[i + 3] & 255), UInt8(numbers[i + 4] & 255))
                    i += 4
                } else {
                    return s // malformed: the rest is ignored, as terminals do
                }
                if n == 38 { s.foreground = color } else { s.background = color }
            default: break
            }
            i += 1
        }
        return s
    }
}
