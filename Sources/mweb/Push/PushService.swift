import AsyncHTTPClient
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import mdb

/// mweb's push sender: fills the outbox when the tailer rings (a
/// notification-worthy event was committed) and on start, then claims due
/// rows and sends them: webhook, ntfy, Web Push and APNs over HTTP, exec as a
/// local command. Between wake-ups it sleeps until the tailer rings or pokes,
/// or the next retry is due.
/// A delivery is marked sent only after the receiver answered 2xx (or the
/// command exited 0), so a crash mid-delivery sends it again with the same
/// dedupe key: at least once, and a receiver that drops repeated
/// `X-M-Delivery` keys sees it once.
///
/// SQLite calls and commands run on thread pools of its own, never on the
/// cooperative pool; the HTTP requests are NIO's (non-blocking).
struct PushService: Service {
    let db: MDatabase
    let bell: PushBell
    let links: PushLinks
    var policy = RetryPolicy()
    /// How soon a failed fill is tried again.
    var retrySeconds = WebDefaults.pushFillRetrySeconds
    let logger: Logger

    func run() async throws {
        let dbThread = NIOThreadPool(numberOfThreads: 1)
        let commandThreads = NIOThreadPool(numberOfThreads: WebDefaults.pushCommandThreads)
        dbThread.start()
        commandThreads.start()
        defer {
            dbThread.shutdownGracefully { _ in }
            commandThreads.shutdownGracefully { _ in }
        }
        let onDB = OnThread(db: db, thread: dbThread)
        let sender = Sender(http: HTTPClient.shared, commandThreads: commandThreads, links: links, db: onDB,
                            apnsTokens: APNsTokenCache())
        // This mweb is the only sender: what a previous one had claimed is due again now.
        let released = try await onDB.call { try $0.releaseClaims() }
        let lastPrune = LockedDate()
        if released > 0 { logger.info("push: resending notifications a previous mweb had in flight", metadata: ["count": "\(released)"]) }
        await withGracefulShutdownHandler {
            // Sleeps until the tailer rings or pokes, or the next retry is due: no periodic work when idle.
            var wait: Double? = 0
            while await bell.wait(upTo: wait) {
                let filled = await round(onDB: onDB, sender: sender)
                if lastPrune.due(every: Defaults.outboxPruneIntervalSeconds) {
                    do {
                        let pruned = try await onDB.call { try $0.pruneOutbox() }
                        if pruned > 0 { logger.info("push: pruned old notifications", metadata: ["rows": "\(pruned)"]) }
                    } catch {
                        logger.warning("push: pruning the outbox failed", metadata: ["error": "\(error)"])
                    }
                }
                do {
                    wait = try await onDB.call { try $0.secondsUntilNextOutboxAttempt() }
                } catch {
                    wait = retrySeconds
                }
                if !filled { wait = min(wait ?? retrySeconds, retrySeconds) }
            }
        } onGracefulShutdown: {
            bell.finish()
        }
    }

    /// One wake-up: fill the outbox if asked, then send everything due.
    /// Returns false when the fill failed (it is tried again after `retrySeconds`).
    @discardableResult
    private func round(onDB: OnThread, sender: Sender) async -> Bool {
        do {
            if bell.takeFillWanted() {
                // A fill reads at most a batch of events; repeat until one adds nothing.
                while try await onDB.call({ try $0.fillOutbox() }) > 0 {}
            }
        } catch {
            bell.wantFill()
            logger.warning("push: filling the outbox failed; retrying", metadata: ["error": "\(error)"])
            return false
        }
        while true {
            let claimed: [OutboxDelivery]
            do {
                claimed = try await claimDue(onDB)
            } catch {
                logger.warning("push: claiming notifications failed; retrying", metadata: ["error": "\(error)"])
                return true
            }
            if claimed.isEmpty { return true }
            // One row per notifier (the claim's rule), sent side by side: a
            // notifier's rows go out in order, and a slow one delays a round
            // by one request at most.
            await withTaskGroup(of: Void.self) { group in
                for delivery in claimed {
                    group.addTask { await deliver(delivery, sender: sender, onDB: onDB) }
                }
            }
        }
    }

    /// Claims due rows, after a cheap read that keeps an idle tick from writing.
    private func claimDue(_ onDB: OnThread) async throws -> [OutboxDelivery] {
        try await onDB.call { db in
            guard let wait = try db.secondsUntilNextOutboxAttempt(), wait <= 0 else { return [] }
            return try db.claimDueOutbox()
        }
    }

    /// Sends one notification and records the outcome.
    private func deliver(_ delivery: OutboxDelivery, sender: Sender, onDB: OnThread) async {
        let meta: Logger.Metadata = ["notifier": "\(delivery.notifier.id)", "kind": "\(delivery.notifier.kind)",
                                     "delivery": "\(delivery.item.dedupeKey)", "attempt": "\(delivery.item.attempts)"]
        do {
            try await sender.send(delivery)
        } catch {
            let message = "\(error)"
            do {
                let item = try await onDB.call { [policy] in
                    try $0.markOutboxFailed(id: delivery.item.id, error: message, policy: policy)
                }
                let next = item.status == "failed" ? "gave up" : "will retry at \(item.nextAttemptAt)"
                logger.warning("push: delivery failed; \(next)", metadata: meta.merging(["error": "\(message)"]) { $1 })
            } catch {
                // Removed meanwhile (`notify remove`), or the database is busy: the claim expires and it is due again.
                logger.warning("push: delivery failed and was not recorded", metadata: meta.merging(["error": "\(error)"]) { $1 })
            }
            return
        }
        do {
            try await onDB.call { try $0.markOutboxSent(id: delivery.item.id) }
            logger.info("push: delivered", metadata: meta)
        } catch {
            // Not recorded: after the claim's lease (or a restart) it is sent again, under the same key.
            logger.warning("push: delivered, but recording it failed", metadata: meta.merging(["error": "\(error)"]) { $1 })
        }
    }
}

/// When the outbox was last pruned (never, at first: the first round prunes).
private final class LockedDate: Sendable {
    private let last = Mutex<Date?>(nil)

    /// True, and the time noted, when `seconds` have passed since the last true.
    func due(every seconds: Double) -> Bool {
        last.withLock { last in
            if let previous = last, Date().timeIntervalSince(previous) < seconds { return false }
            last = Date()
            return true
        }
    }
}

/// The push service's database calls, run on its own thread (SQLite blocks).
struct OnThread: Sendable {
    let db: MDatabase
    let thread: NIOThreadPool

    func call<T: Sendable>(_ body: @escaping @Sendable (MDatabase) throws -> T) async throws -> T {
        try await thread.runIfActive { [db] in try body(db) }
    }
}

/// Sends one notification by its notifier's kind.
struct Sender: Sendable {
    let http: HTTPClient
    let commandThreads: NIOThreadPool
    let links: PushLinks
    let db: OnThread
    let apnsTokens: APNsTokenCache

    func send(_ delivery: OutboxDelivery) async throws {
        switch NotifierKind(rawValue: delivery.notifier.kind) {
        case .webhook:
            try await WebhookSender(http: http).send(delivery)
        case .exec:
            let command = delivery.notifier.configValue["command"]?.stringValue ?? ""
            let payload = try? JSONValue.parse(delivery.item.payload)
            let environment = [
                "M_DELIVERY": delivery.item.dedupeKey,
                "M_SUMMARY": payload?["summary"]?.stringValue ?? "",
                "M_TITLE": payload?["title"]?.stringValue ?? "",
                "M_EVENT": payload?["event"]?["type"]?.stringValue ?? "",
            ]
            let body = delivery.item.payload
            try await commandThreads.runIfActive {
                try ExecSender.run(command: command, payload: body, environment: environment,
                                   timeoutSeconds: WebDefaults.pushCommandTimeoutSeconds)
            }
        case .ntfy:
            try await NtfySender(http: http, links: links, db: db).send(delivery)
        case .webpush:
            try await WebPushSender(http: http, links: links, db: db).send(delivery)
        case .apns:
            try await APNsSender(http: http, links: links, db: db, tokens: apnsTokens).send(delivery)
        case nil:
            throw PushError.misconfigured("this mweb cannot send to a '\(delivery.notifier.kind)' notifier yet")
        }
    }
}
