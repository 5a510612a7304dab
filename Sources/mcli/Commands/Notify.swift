import ArgumentParser
import Crypto
import Foundation
import MAuth
import mdb

/// `mcli notify add|list|remove|test`: where pushes go (docs/PUSH.md). mweb sends them.
struct Notify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Add, list, remove and test notifiers (pushes for approvals and finished runs; mweb sends them).",
        subcommands: [NotifyAdd.self, NotifyList.self, NotifyRemove.self, NotifyTest.self])
}

/// `mcli notify add webhook --url URL [--secret S] | ntfy --url SERVER/TOPIC [--token T] | exec --command CMD
/// | webpush --subject mailto:… | apns --key-path P8 --key-id ID --team-id ID --topic BUNDLE [--sandbox]`, with `--event` and `--run`.
struct NotifyAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a notifier: only events committed from now on are sent to it.",
        discussion: """
            webhook --url URL [--secret S]: a JSON POST with X-M-Delivery (the dedupe key) and, with a secret,
            X-M-Signature-256: sha256=<hex HMAC-SHA256 of the body>.
            ntfy --url SERVER/TOPIC [--token T]: title, priority, tags, a link to the run, and for approvals
            Approve / Reject buttons (single-use, expiring tokens that decide only that approval).
            exec --command CMD: `sh -c CMD` with the JSON on stdin and M_SUMMARY, M_TITLE, M_DELIVERY, M_EVENT set.
            webpush --subject mailto:you@example.org: every browser that turned on notifications in the web app
            (makes the server's VAPID key pair the first time).
            apns --key-path AuthKey.p8 --key-id ID --team-id ID --topic BUNDLE_ID [--sandbox]: every device token
            the native app registered (token authentication).
            By default approval.requested and run.finished are sent (webpush and apns also get approval.resolved,
            which replaces the phone's notification of the request); --event chooses others.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "webhook, ntfy, exec, webpush or apns.")
    var kind: String

    @Option(help: "The webhook's URL, or ntfy's SERVER/TOPIC (http:// or https://).")
    var url: String?

    @Option(help: "An ntfy access token (sent as Authorization: Bearer).")
    var token: String?

    @Option(help: "A webhook secret: each body is signed with HMAC-SHA256 (X-M-Signature-256).")
    var secret: String?

    @Option(help: "The exec notifier's shell command; it gets the notification's JSON on stdin.")
    var command: String?

    @Option(help: "webpush: the contact push services may write to (mailto: or https:), sent as the VAPID JWT's sub.")
    var subject: String?

    @Option(name: .customLong("key-path"), help: "apns: the team's .p8 signing key (mweb reads it; keep it 0600).")
    var keyPath: String?

    @Option(name: .customLong("key-id"), help: "apns: the key's id (the JWT's kid).")
    var keyId: String?

    @Option(name: .customLong("team-id"), help: "apns: the Apple Developer team id (the JWT's iss).")
    var teamId: String?

    @Option(help: "apns: the app's bundle id (apns-topic).")
    var topic: String?

    @Flag(help: "apns: Apple's sandbox environment (development builds of the app).")
    var sandbox = false

    @Option(help: .hidden)
    var apnsServer: String?

    @Option(name: .customLong("event"), help: "An event type to send (repeatable; default approval.requested and run.finished).")
    var events: [String] = []

    @Option(name: .customLong("run"), help: "Only this run's events (repeatable; default every run).")
    var runs: [Int64] = []

    @Flag(name: .customLong("failures-only"), help: "Send run.finished only for runs that did not succeed.")
    var failuresOnly = false

    func run() async throws {
        try await runCommand {
            guard let kind = NotifierKind(rawValue: kind) else {
                throw CLIError(description: "unknown notifier kind '\(kind)': use webhook, ntfy, exec, webpush or apns")
            }
            var config: [(String, JSONValue)] = []
            if let url { config.append(("url", .string(url))) }
            if let secret { config.append(("secret", .string(secret))) }
            if let token { config.append(("token", .string(token))) }
            if let command { config.append(("command", .string(command))) }
            if let subject { config.append(("subject", .string(subject))) }
            if kind == .apns {
                config += try apnsConfig()
            }
            let added = try global.open().addNotifier(
                NewNotifier(kind: kind, config: .object(config), events: events, runIds: runs.isEmpty ? nil : runs,
                            failuresOnly: failuresOnly),
                vapidKeys: {
                    let pair = VAPIDKeyMaker.generate()
                    return VAPIDKeyPair(privateKey: pair.privateKey, publicKey: pair.publicKey)
                })
            let status = NotifierStatus(notifier: added, counts: [:])
            if global.json {
                Output.line(status.json.text)
            } else {
                Output.line("notifier \(added.id) (\(added.kind) \(added.target)) added: \(added.eventTypes.joined(separator: ", ")); `mcli notify test \(added.id)` sends a test")
            }
        }
    }
}

extension NotifyAdd {
    /// The apns settings, after checking that the key file is a P-256 key mweb can sign with.
    func apnsConfig() throws -> [(String, JSONValue)] {
        guard let keyPath else { throw CLIError(description: "an apns notifier needs --key-path AuthKey_ID.p8") }
        let path = URL(fileURLWithPath: keyPath).standardizedFileURL.path
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8),
              (try? P256.Signing.PrivateKey(pemRepresentation: pem)) != nil else {
            throw CLIError(description: "\(path) is not a readable .p8 signing key (a PEM P-256 key from Apple); mweb must be able to read it")
        }
        var config: [(String, JSONValue)] = [("key_path", .string(path)), ("environment", .string(sandbox ? "sandbox" : "production"))]
        if let keyId { config.append(("key_id", .string(keyId))) }
        if let teamId { config.append(("team_id", .string(teamId))) }
        if let topic { config.append(("topic", .string(topic))) }
        if let apnsServer { config.append(("server", .string(apnsServer))) }
        return config
    }
}

/// `mcli notify list`: every notifier with its state, its last error and its counts.
struct NotifyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List notifiers, their state and failures.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runCommand {
            let statuses = try global.open().notifierStatuses()
            if global.json {
                Output.line(JSONValue.object([("notifiers", .array(statuses.map(\.json)))]).text)
                return
            }
            if statuses.isEmpty { Output.line("no notifiers: `mcli notify add webhook --url URL`"); return }
            Output.line(Table.render(header: ["ID", "KIND", "TARGET", "EVENTS", "STATE", "FAILURES", "SENT", "PENDING", "FAILED", "LAST ERROR"],
                                     rows: statuses.map {
                let n = $0.notifier
                return [String(n.id), n.kind, n.target, n.eventTypes.joined(separator: ","), n.state,
                        String(n.consecutiveFailures), String($0.counts["sent"] ?? 0), String($0.counts["pending"] ?? 0),
                        String($0.counts["failed"] ?? 0), n.lastError ?? "-"]
            }))
        }
    }
}

/// `mcli notify remove ID`: nothing more is sent to it; its queued notifications go with it.
struct NotifyRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a notifier.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The notifier's id (`mcli notify list`).")
    var id: Int64

    func run() async throws {
        try await runCommand {
            let removed = try global.open().removeNotifier(id)
            if global.json {
                Output.line(NotifierStatus(notifier: removed, counts: [:]).json.text)
            } else {
                Output.line("notifier \(removed.id) (\(removed.kind) \(removed.target)) removed")
            }
        }
    }
}

/// `mcli notify test ID`: queues a test notification and waits for mweb to send it.
struct NotifyTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test notification through a running mweb and report whether it arrived.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The notifier's id (`mcli notify list`).")
    var id: Int64

    @Option(help: "Seconds to wait for mweb's first attempt.")
    var wait: Double = 15

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let queued = try db.enqueueTestNotification(notifierId: id)
            let deadline = Date().addingTimeInterval(wait)
            var item = queued
            // Poll the row: mweb marks it sent, or records the first failure.
            while item.status == "pending" && item.lastError == nil && Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
                item = try db.outboxItem(queued.id)
            }
            let outcome = item.status == "sent" ? "sent" : item.lastError != nil ? "failed" : "pending"
            if global.json {
                Output.line(JSONValue.object([
                    ("notifier_id", .int(id)), ("delivery", .string(item.dedupeKey)), ("result", .string(outcome)),
                    ("error", item.lastError.map { .string($0) } ?? .null),
                ]).text)
            } else {
                switch outcome {
                case "sent": Output.line("test notification \(item.dedupeKey) delivered")
                case "failed": Output.line("test notification \(item.dedupeKey) failed: \(item.lastError ?? ""); mweb retries it")
                default: Output.line("test notification \(item.dedupeKey) is queued but was not sent within \(Int(wait)) s: is mweb running on this database?")
                }
            }
            if outcome != "sent" { throw ExitCode(1) }
        }
    }
}
