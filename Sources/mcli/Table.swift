/// Renders rows as aligned columns for people.
enum Table {
    /// Left-aligned columns separated by two spaces.
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows.map { $0.map(printable) }
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The cell with control characters shown as `\u{…}` escapes: an approval title an agent
    /// wrote must not move the cursor, recolour or retitle the person's terminal.
    static func printable(_ cell: String) -> String {
        guard cell.unicodeScalars.contains(where: isControl) else { return cell }
        var out = ""
        for scalar in cell.unicodeScalars {
            if isControl(scalar) { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }
}
