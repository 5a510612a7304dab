/// Reads `git diff-tree -z` raw and numstat output into `FileChange`s.
enum DiffParser {
    /// One raw record: modes, status letter, paths.
    struct RawEntry {
        var oldMode: String
        var newMode: String
        var status: Character
        var path: String
        var oldPath: String?
    }

    /// Parses `--raw -z`: `:old new sha sha STATUS\0path\0` or `…R086\0old\0new\0` for renames/copies.
    static func raw(_ bytes: [UInt8]) throws -> [RawEntry] {
        var fields = split(bytes)
        var entries: [RawEntry] = []
        fields.reverse()
        while let header = fields.popLast() {
            if header.isEmpty { continue }
            let parts = header.split(separator: " ")
            guard header.hasPrefix(":"), parts.count == 5, let letter = parts[4].first else {
                throw GitError.unexpectedOutput(command: "diff-tree", output: header)
            }
            guard let first = fields.popLast() else { throw GitError.unexpectedOutput(command: "diff-tree", output: header) }
            var entry = RawEntry(oldMode: String(parts[0].dropFirst()), newMode: String(parts[1]),
                                 status: letter, path: first, oldPath: nil)
            if letter == "R" || letter == "C" {
                guard let second = fields.popLast() else { throw GitError.unexpectedOutput(command: "diff-tree", output: header) }
                entry.oldPath = first
                entry.path = second
            }
            entries.append(entry)
        }
        return entries
    }

    /// Parses `--numstat -z` into (path → added, deleted, binary); renames are keyed by the new path.
    static func numstat(_ bytes: [UInt8]) throws -> [String: (added: Int, deleted: Int, binary: Bool)] {
        var fields = split(bytes)
        fields.reverse()
        var counts: [String: (Int, Int, Bool)] = [:]
        while let record = fields.popLast() {
            if record.isEmpty { continue }
            let parts = record.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { throw GitError.unexpectedOutput(command: "diff-tree --numstat", output: record) }
            let binary = parts[0] == "-" && parts[1] == "-"
            let added = Int(parts[0]) ?? 0, deleted = Int(parts[1]) ?? 0
            var path = String(parts[2])
            if path.isEmpty {
                // A rename: the old and new paths follow as two more fields.
                _ = fields.popLast()
                guard let newPath = fields.popLast() else { throw GitError.unexpectedOutput(command: "diff-tree --numstat", output: record) }
                path = newPath
            }
            counts[path] = (added, deleted, binary)
        }
        return counts
    }

    /// Combines both listings into the per-file summary.
    static func files(raw entries: [RawEntry], counts: [String: (added: Int, deleted: Int, binary: Bool)]) -> [FileChange] {
        entries.map { entry in
            let count = counts[entry.path] ?? (0, 0, false)
            let status: FileChange.Status
            switch entry.status {
            case "A": status = .added
            case "D": status = .deleted
            case "R": status = .renamed
            case "C": status = .copied
            case "T": status = .typeChanged
            default: status = .modified
            }
            let modeChanged = entry.oldMode != entry.newMode && entry.oldMode != "000000" && entry.newMode != "000000"
            return FileChange(path: entry.path, status: status, oldPath: entry.oldPath, binary: count.binary,
                              additions: count.added, deletions: count.deleted,
                              modeChange: modeChanged ? .init(from: entry.oldMode, to: entry.newMode) : nil)
        }
    }

    private static func split(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }
}
