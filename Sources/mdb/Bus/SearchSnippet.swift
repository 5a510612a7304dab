import Foundation

/// The line a search hit shows: in an event's text, the first line holding
/// the most of the searched words (as words or their starts, in any case,
/// accents folded, as the index matched them), cut to a window around the
/// first match, with the matched words' places.
enum SearchSnippet {
    /// Characters of the line shown around the first match.
    static let windowCharacters = 160
    /// Characters kept before the first match when the line is cut.
    static let leadCharacters = 50

    /// The folded words of a query, split as the index splits text (letters and digits).
    static func terms(_ query: String) -> [String] {
        var terms: [String] = []
        for token in tokens(query) where !terms.contains(fold(query[token])) { terms.append(fold(query[token])) }
        return terms
    }

    /// The line to show and the marks in it (UTF-16 offsets).
    static func make(text: String, terms: [String]) -> (String, [Range<Int>]) {
        var best: (line: Substring, marks: [Range<String.Index>], score: Int)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var found = Set<String>()
            var marks: [Range<String.Index>] = []
            for token in tokens(line) {
                let word = fold(line[token])
                if let term = terms.first(where: { word.hasPrefix($0) }) {
                    found.insert(term)
                    marks.append(token)
                }
            }
            if best == nil || found.count > best!.score { best = (line, marks, found.count) }
            if found.count == terms.count { break }
        }
        guard let best else { return ("", []) }
        return window(best.line, best.marks)
    }

    /// `line` cut to about `windowCharacters` around its first mark, with "…" where it was cut.
    private static func window(_ line: Substring, _ marks: [Range<String.Index>]) -> (String, [Range<Int>]) {
        var start = line.startIndex
        if let first = marks.first, line.distance(from: line.startIndex, to: first.lowerBound) > leadCharacters {
            start = line.index(first.lowerBound, offsetBy: -leadCharacters)
        }
        let end = line.index(start, offsetBy: windowCharacters, limitedBy: line.endIndex) ?? line.endIndex
        let prefix = start > line.startIndex ? "…" : ""
        let suffix = end < line.endIndex ? "…" : ""
        let shown = line[start..<end]
        var snippet = prefix + shown + suffix
        var kept: [Range<Int>] = []
        for mark in marks where mark.lowerBound >= start && mark.upperBound <= end {
            let from = prefix.utf16.count + shown.utf16.distance(from: start, to: mark.lowerBound)
            kept.append(from..<(from + line[mark].utf16.count))
        }
        // Tabs and carriage returns are one column of space in the one-line snippet.
        snippet = snippet.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r", with: " ")
        while snippet.last == " " { snippet.removeLast() }
        return (snippet, kept)
    }

    /// The ranges of `text`'s words: runs of letters and digits.
    private static func tokens<S: StringProtocol>(_ text: S) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var start: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let isWord = text[index].isLetter || text[index].isNumber
            if isWord && start == nil { start = index }
            if !isWord, let from = start { ranges.append(from..<index); start = nil }
            index = text.index(after: index)
        }
        if let from = start { ranges.append(from..<text.endIndex) }
        return ranges
    }

    private static func fold<S: StringProtocol>(_ word: S) -> String {
        String(word).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }
}
