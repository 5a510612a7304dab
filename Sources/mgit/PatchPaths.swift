/// The paths a unified git patch would write, read from its headers.
enum PatchPaths {
    /// Every path named by `diff --git`, `---`/`+++`, `rename`/`copy` lines, without the `a/`/`b/`
    /// prefixes and with git's C-style quoting undone.
    static func paths(in patch: String) -> [String] {
        var found: [String] = []
        for line in patch.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("diff --git ") {
                let rest = String(line.dropFirst("diff --git ".count))
                found += headerPaths(rest)
            } else if line.hasPrefix("--- ") || line.hasPrefix("+++ ") {
                let raw = unquote(String(line.dropFirst(4)).split(separator: "\t").first.map(String.init) ?? "")
                if raw != "/dev/null" { found.append(stripPrefix(raw)) }
            } else {
                for key in ["rename from ", "rename to ", "copy from ", "copy to "] where line.hasPrefix(key) {
                    found.append(unquote(String(line.dropFirst(key.count))))
                }
            }
        }
        return found
    }

    /// `a/X b/Y`, either quoted; splits at the ` b/` that leaves two halves naming the same file
    /// when it can, else at the first one.
    private static func headerPaths(_ text: String) -> [String] {
        if text.hasPrefix("\"") {
            // Quoted old path: find its closing quote.
            var escaped = false
            for index in text.indices.dropFirst() {
                let ch = text[index]
                if escaped { escaped = false; continue }
                if ch == "\\" { escaped = true; continue }
                if ch == "\"" {
                    let old = String(text[...index])
                    let new = text[text.index(after: index)...].trimmingCharacters(in: .whitespaces)
                    return [stripPrefix(unquote(old)), stripPrefix(unquote(new))]
                }
            }
            return [text]
        }
        if let range = text.range(of: " \"") {
            return [stripPrefix(String(text[..<range.lowerBound])), stripPrefix(unquote(String(text[text.index(after: range.lowerBound)...])))]
        }
        guard let range = text.range(of: " b/") else { return [stripPrefix(text)] }
        return [stripPrefix(String(text[..<range.lowerBound])), String(text[range.upperBound...])]
    }

    private static func stripPrefix(_ path: String) -> String {
        if path.hasPrefix("a/") || path.hasPrefix("b/") { return String(path.dropFirst(2)) }
        return path
    }

    /// Undoes git's quoting of unusual names (`"a/t\303\251st"`), leaving unquoted text as it is.
    static func unquote(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var bytes: [UInt8] = []
        var chars = Array(text.utf8.dropFirst().dropLast())[...]
        while let byte = chars.popFirst() {
            guard byte == UInt8(ascii: "\\"), let next = chars.popFirst() else { bytes.append(byte); continue }
            switch next {
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(next - 48)
                for _ in 0..<2 {
                    if let d = chars.first, d >= 48, d <= 55 { value = value * 8 + Int(d - 48); chars.removeFirst() }
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            default: bytes.append(next)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
