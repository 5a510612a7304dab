/// A unified diff of a whole file's replacement, for an approval's body (a person must see the change
/// they approve). `old` nil: a new file. Not minimal: every old line removed, every new line added.
public enum UnifiedDiff {
    /// The diff of `path` from `old` (nil: no file) to `new`.
    public static func replacing(path: String, old: String?, new: String) -> String {
        func lines(_ text: String) -> [Substring] {
            guard !text.isEmpty else { return [] }
            var parts = text.split(separator: "\n", omittingEmptySubsequences: false)
            if text.hasSuffix("\n") { parts.removeLast() }
            return parts
        }
        let before = old.map(lines) ?? [], after = lines(new)
        let (a, b) = path.hasPrefix("/") ? (path, path) : ("a/" + path, "b/" + path)
        var text = "--- \(old == nil ? "/dev/null" : a)\n+++ \(b)\n"
        text += "@@ -\(before.isEmpty ? 0 : 1),\(before.count) +\(after.isEmpty ? 0 : 1),\(after.count) @@\n"
        for line in before { text += "-\(line)\n" }
        for line in after { text += "+\(line)\n" }
        return text
    }
}
