import Foundation

/// One repository as M drives it: an explicit git dir and work tree, a fixed environment, no hooks.
///
/// Every call names `--git-dir` and `--work-tree` so git never discovers a repository on its own
/// (a workspace nested in another checkout must not be diffed against the outer one). Paths are
/// absolute (they start with `/`, so none can be read as an option), object ids are checked hex,
/// refs are M's own constants, and messages go in on stdin: nothing a user or an agent typed can
/// become a git option.
struct Git: Sendable {
    /// The repository's git dir (`<workspace>/.git`, or a private `baseline.git` outside the workspace).
    let gitDir: String
    /// The checkout the git dir describes.
    let workTree: String

    /// What a finished git call printed.
    struct Output: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var trimmed: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Settings on every call. A workspace's own `.git/config` is the agent's to write, so the
    /// settings that would run a program or change how output is shaped are pinned here.
    static let pinnedConfig: [String] = [
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.fsmonitor=false",
        "-c", "core.pager=cat",
        "-c", "color.ui=false",
        "-c", "gc.auto=0",
        "-c", "core.autocrlf=false",
        "-c", "diff.renames=true",
        "-c", "advice.detachedHead=false",
        "-c", "commit.gpgSign=false",
    ]

    /// Commands that never read work-tree files or write an index, and so never run a filter or
    /// merge driver: they are spared the extra process of `driverOverrides`. Every other command
    /// gets it; even `write-tree` re-reads a racily clean file through its filter when it writes
    /// the index.
    static let runsNoDrivers: Set<String> = ["commit-tree", "config", "diff-tree", "init", "merge-base", "rev-parse",
                                             "symbolic-ref", "update-ref"]

    /// `-c` settings that switch off every filter (`clean`, `smudge`, `process`; `required`
    /// becomes false) and merge driver (`false`: a conflict, never the agent's program) that
    /// the config defines, from `config --list --name-only -z` output. A driver is named in
    /// `.gitattributes` (the agent's) and defined in config (the agent's too in a clone): with
    /// its definition blanked, git keeps the bytes as they are.
    static func driverOverrides(configNames: [UInt8]) -> [String] {
        var overrides: [String] = []
        for record in configNames.split(separator: 0) {
            let name = String(decoding: record, as: UTF8.self)
            guard let firstDot = name.firstIndex(of: "."), let lastDot = name.lastIndex(of: "."), firstDot < lastDot else { continue }
            let section = name[..<firstDot].lowercased(), key = name[name.index(after: lastDot)...].lowercased()
            switch (section, key) {
            case ("filter", "clean"), ("filter", "smudge"), ("filter", "process"): overrides += ["-c", "\(name)="]
            case ("filter", "required"): overrides += ["-c", "\(name)=false"]
            case ("merge", "driver"): overrides += ["-c", "\(name)=false"]
            case ("diff", "textconv"), ("diff", "command"): overrides += ["-c", "\(name)="]
            default: continue
            }
        }
        return overrides
    }

    /// The only environment git sees: no system or global config, no prompts, C locale.
    static func environment(identity: GitIdentity?, indexFile: String?) -> [String: String] {
        var env: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
        ]
        let who = identity ?? GitIdentity.system
        env["GIT_AUTHOR_NAME"] = who.name
        env["GIT_AUTHOR_EMAIL"] = who.email
        env["GIT_COMMITTER_NAME"] = who.name
        env["GIT_COMMITTER_EMAIL"] = who.email
        if let indexFile { env["GIT_INDEX_FILE"] = indexFile }
        return env
    }

    /// Runs git and returns its output whatever the exit status.
    /// `scoped: false` leaves out `--git-dir`/`--work-tree`, for `init` only.
    func call(_ arguments: [String], identity: GitIdentity? = nil, indexFile: String? = nil,
              stdin: [UInt8]? = nil, scoped: Bool = true) async throws -> Output {
        let outcome = try await launch(arguments, identity: identity, indexFile: indexFile, stdin: stdin ?? [],
                                       scoped: scoped, stdoutLimit: Self.outputLimitBytes)
        guard outcome.stdoutBytes <= Self.outputLimitBytes else {
            throw GitError.unexpectedOutput(command: arguments.first ?? "git",
                                            output: "\(outcome.stdoutBytes) bytes, more than the \(Self.outputLimitBytes) M reads")
        }
        return Output(status: outcome.status, stdout: outcome.stdout,
                      stderr: String(decoding: outcome.stderr, as: UTF8.self))
    }

    /// Runs git and throws `commandFailed` unless it exits 0.
    @discardableResult
    func run(_ arguments: [String], identity: GitIdentity? = nil, indexFile: String? = nil,
             stdin: [UInt8]? = nil, scoped: Bool = true) async throws -> Output {
        let out = try await call(arguments, identity: identity, indexFile: indexFile, stdin: stdin, scoped: scoped)
        guard out.status == 0 else {
            throw GitError.commandFailed(command: arguments.first ?? "git", status: out.status,
                                         stderr: out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return out
    }

    /// Runs git and keeps at most `capBytes` of its stdout, while reading (and counting) the rest so
    /// git never blocks on a full pipe. Returns the kept bytes and the full size.
    func capped(_ arguments: [String], capBytes: Int) async throws -> (kept: [UInt8], totalBytes: Int) {
        let outcome = try await launch(arguments, identity: nil, indexFile: nil, stdin: [], scoped: true,
                                       stdoutLimit: capBytes)
        guard outcome.status == 0 else {
            throw GitError.commandFailed(command: arguments.first ?? "git", status: outcome.status,
                                         stderr: String(decoding: outcome.stderr, as: UTF8.self)
                                             .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (outcome.stdout, outcome.stdoutBytes)
    }

    /// Starts git with the pinned settings (and the repository's scope) and reads it to the end.
    private func launch(_ arguments: [String], identity: GitIdentity?, indexFile: String?, stdin: [UInt8],
                        scoped: Bool, stdoutLimit: Int) async throws -> ChildProcess.Outcome {
        // `-C` makes `.` in pathspecs mean the work tree whatever the caller's directory is.
        let scope = scoped ? ["-C", workTree, "--git-dir=\(gitDir)", "--work-tree=\(workTree)"] : ["-C", workTree]
        let environment = Self.environment(identity: identity, indexFile: indexFile)
        do {
            var settings = Self.pinnedConfig
            if scoped, let command = arguments.first, !Self.runsNoDrivers.contains(command) {
                // Read just before the call: an agent may add a driver at any time.
                let names = try await ChildProcess.run("git", arguments: settings + scope + ["config", "--list", "--name-only", "-z"],
                                                       environment: environment, stdin: [],
                                                       stdoutLimit: Self.errorLimitBytes, stderrLimit: Self.errorLimitBytes)
                // A config too large to read whole could hide a driver past the cut: refuse it.
                guard names.status == 0, names.stdoutBytes == names.stdout.count else {
                    throw GitError.unexpectedOutput(command: "config --list",
                                                    output: "the repository's config could not be read whole (\(names.stdoutBytes) bytes)")
                }
                settings += Self.driverOverrides(configNames: names.stdout)
            }
            return try await ChildProcess.run("git", arguments: settings + scope + arguments, environment: environment,
                                              stdin: stdin, stdoutLimit: stdoutLimit, stderrLimit: Self.errorLimitBytes)
        } catch let error as GitError {
            throw error
        } catch {
            throw GitError.gitUnavailable(detail: "\(error)")
        }
    }

    /// Resolves a ref or revision M itself named to a commit id, or nil when it does not exist.
    func commit(_ revision: String) async throws -> ObjectID? {
        let out = try await call(["rev-parse", "--verify", "--quiet", "--end-of-options", "\(revision)^{commit}"])
        guard out.status == 0 else { return nil }
        return ObjectID(out.trimmed)
    }

    /// The commit a ref M itself named points at and that commit's tree, from one git process
    /// (a diff's first step; every process counts when fifty runs end together). Nil when the ref
    /// does not exist.
    func commitAndTree(_ ref: String) async throws -> (commit: ObjectID, tree: ObjectID)? {
        // No `--verify` (it takes one revision) and so no `--end-of-options` (rev-parse would print it):
        // `ref` is one of M's own constants, never something typed by a user or an agent.
        let out = try await call(["rev-parse", "\(ref)^{commit}", "\(ref)^{tree}"])
        guard out.status == 0 else { return nil }
        let lines = out.trimmed.split(separator: "\n")
        guard lines.count == 2, let commit = ObjectID(String(lines[0])), let tree = ObjectID(String(lines[1])) else {
            throw GitError.unexpectedOutput(command: "rev-parse", output: out.trimmed)
        }
        return (commit, tree)
    }

    /// The tree id of a commit.
    func tree(of commit: ObjectID) async throws -> ObjectID {
        let out = try await run(["rev-parse", "--verify", "--end-of-options", "\(commit.hex)^{tree}"])
        guard let id = ObjectID(out.trimmed) else { throw GitError.unexpectedOutput(command: "rev-parse", output: out.trimmed) }
        return id
    }

    /// Writes a commit object for `tree` with `parents`; the message goes in on stdin.
    func commitTree(_ tree: ObjectID, parents: [ObjectID], message: String, identity: GitIdentity) async throws -> ObjectID {
        var args = ["commit-tree", tree.hex]
        for parent in parents { args += ["-p", parent.hex] }
        let out = try await run(args, identity: identity, stdin: Array(message.utf8))
        guard let id = ObjectID(out.trimmed) else { throw GitError.unexpectedOutput(command: "commit-tree", output: out.trimmed) }
        return id
    }

    /// Moves `ref` to `new` only if it still points at `old` (nil: only if it does not exist yet).
    func updateRef(_ ref: String, to new: ObjectID, expecting old: ObjectID?) async throws {
        let oldValue = old?.hex ?? String(repeating: "0", count: new.hex.count)
        let out = try await call(["update-ref", "-m", "M", ref, new.hex, oldValue])
        guard out.status == 0 else { throw GitError.refMoved(ref: ref, detail: out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Captures the work tree as a tree object, untracked files included and ignored ones left out,
    /// through a temporary index seeded from `base` so the repository's own index is never touched.
    func snapshotTree(from base: ObjectID?) async throws -> ObjectID {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let index = scratch.path + "/index"
        if let base { try await run(["read-tree", base.hex], indexFile: index) }
        try await run(["add", "--all", "--", "."], indexFile: index)
        let out = try await run(["write-tree"], indexFile: index)
        guard let id = ObjectID(out.trimmed) else { throw GitError.unexpectedOutput(command: "write-tree", output: out.trimmed) }
        return id
    }

    /// Git's output is bounded for everything but patches, which go through `capped`.
    static let outputLimitBytes = 256 * 1024 * 1024
    static let errorLimitBytes = 256 * 1024
}
