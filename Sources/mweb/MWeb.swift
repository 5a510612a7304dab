import ArgumentParser
import Foundation
import Hummingbird
import Logging
import mdb

/// `mweb`: M's HTTP API, WebSocket streams and web client.
@main
struct MWeb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mweb",
        abstract: "Serve M's HTTP API, WebSocket event streams and web client.",
        discussion: "Prints `listening on http://HOST:PORT` once serving; stops cleanly on SIGTERM/SIGINT.")

    @Option(help: "Path of the database (default: $M_DB, else ./m.db).")
    var db: String?

    @Option(help: "Address to bind. 127.0.0.1 keeps M local; put a reverse proxy in front for remote use, or use --tls-cert.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS (with --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("public-url"), help: "The URL people use behind a reverse proxy (https://… makes cookies Secure).")
    var publicURL: String?

    @Option(name: .customLong("failed-auth-limit"), help: "Failed credentials per address per minute before 429.")
    var failedAuthLimit = WebDefaults.failedAuthLimit

    @Option(name: .customLong("push-retry-base-ms"), help: ArgumentHelp("First retry delay of a failed push (doubles each time).", visibility: .hidden))
    var pushRetryBaseMs: Int?

    @Option(name: .customLong("header-timeout-s"), help: ArgumentHelp("Seconds a connection has to send its first request head.", visibility: .hidden))
    var headerTimeoutSeconds = WebDefaults.headerTimeoutSeconds

    @Flag(name: .customLong("no-search-index"), help: ArgumentHelp("Do not fill the search index (mbench's baseline for ingest).", visibility: .hidden))
    var noSearchIndex = false

    @Option(name: .customLong("trusted-proxy"),
            help: "Address of a reverse proxy whose X-Forwarded-For names the client (repeatable); from others it is ignored.")
    var trustedProxy: [String] = []

    @Option(name: .customLong("max-connections"), help: "Connections open at once (lowered to fit ulimit -n).")
    var maxConnections = WebDefaults.maxConnections

    func run() async throws {
        // Logs go to stderr (the journal under systemd); stdout carries only the listening line.
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var config = AppConfig(databasePath: Defaults.databasePath(explicit: db))
        config.host = host
        config.port = port
        config.publicURL = publicURL
        config.failedAuthLimit = max(1, failedAuthLimit)
        if let pushRetryBaseMs { config.pushRetry.baseSeconds = Double(max(1, pushRetryBaseMs)) / 1000 }
        config.trustedProxies = trustedProxy
        config.maxConnections = max(1, maxConnections)
        config.headerTimeoutSeconds = max(1, headerTimeoutSeconds)
        config.searchIndex = !noSearchIndex
        do {
            switch (tlsCert, tlsKey) {
            case let (cert?, key?): config.tls = .init(certificate: cert, key: key)
            case (nil, nil): break
            default: throw MWebError.usage("--tls-cert and --tls-key go together")
            }
            guard (0...65535).contains(port) else { throw MWebError.usage("--port must be 0…65535") }
            if config.tls == nil && !["127.0.0.1", "::1", "localhost"].contains(host) {
                FileHandle.standardError.write(Data("mweb: warning: serving plain HTTP on \(host): tokens and session cookies cross the network in clear text; serve HTTPS (--tls-cert/--tls-key) or bind 127.0.0.1 behind a reverse proxy with HTTPS (--public-url)\n".utf8))
            }
            let app = try buildApplication(config: config) { url in
                // Another program (mcli up, a test) waits for this line: write it unbuffered.
                FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
            }
            try await app.runService()
        } catch let error as MDBError {
            FileHandle.standardError.write(Data("mweb: \(error.description)\n".utf8))
            throw ExitCode(2)
        } catch let error as MWebError {
            FileHandle.standardError.write(Data("mweb: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}
