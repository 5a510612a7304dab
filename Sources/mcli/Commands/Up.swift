import ArgumentParser
import Foundation
import mdb

/// `mcli up`: M on this machine in one command. Creates the database if
/// needed, starts `mweb` and `mexec` (beside `mcli`), prints the URL and a
/// pairing link with a token of its own (a QR code when a phone can open the
/// URL, the ways to make that possible when it cannot), and stops both on
/// Ctrl-C or SIGTERM. No admin secret is printed: `mcli token create` makes one.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start M (mweb + mexec) and print the URL and a pairing link.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address mweb binds (127.0.0.1 keeps M on this machine).")
    var host = "127.0.0.1"

    @Option(help: "Port mweb listens on (0 picks a free one).")
    var port = 8080

    @Option(name: .customLong("public-url"), help: "The URL phones use (Tailscale, a TLS proxy such as Caddy): the QR code encodes it.")
    var publicURL: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: mweb serves HTTPS itself (with --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(help: "Runs mexec executes at once (agents mostly wait on a model API).")
    var concurrency = Defaults.concurrency

    /// How long mweb may take to print its `listening on` line.
    static let startTimeoutSeconds: Double = 60

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        try await runCommand {
            let path = global.databasePath
            let db = try MDatabase(path: path, create: true)
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent()
            var webArgs = ["--db", path, "--host", host, "--port", String(port)]
            if let publicURL { webArgs += ["--public-url", publicURL] }
            if let tlsCert, let tlsKey { webArgs += ["--tls-cert", tlsCert, "--tls-key", tlsKey] }
            let supervisor = Supervisor()
            let web = try supervisor.start(binaries.appendingPathComponent("mweb").path, webArgs, captureStdout: true)
            guard let url = await supervisor.firstLine(of: web, prefix: "listening on ", within: Self.startTimeoutSeconds)?
                .trimmingCharacters(in: .whitespaces) else {
                await supervisor.stopAll()
                throw CLIError(description: "mweb did not start (\(web.ending); is port \(port) free? try --port 0)")
            }
            let exec = try supervisor.start(binaries.appendingPathComponent("mexec").path,
                                            ["--db", path, "--concurrency", String(concurrency)], captureStdout: false)
            let shown = publicURL ?? url
            Output.line("M is up: \(shown)  (database \(path), \(concurrency) runs at once)")
            let prefix = PhoneAccess(url: shown).phoneCanOpen ? "phone" : "browser"
            let (token, secret) = try Pair.createToken(db, name: Pair.freeName(db, prefix), scope: .steer)
            Pair.show(link: Pair.link(url: shown, secret: secret), token: token, url: shown)
            Output.line("Ctrl-C stops mweb and mexec.")
            while true {
                switch await supervisor.next() {
                case .signal(let name):
                    await supervisor.stopAll()
                    Output.error("stopped (\(name))")
                    return
                case .exited(let child) where child === web:
                    await supervisor.stopAll()
                    throw CLIError(description: "mweb exited (\(web.ending)); stopped mexec too (see the output above)")
                case .exited(let child) where child === exec:
                    Output.error("mexec exited (\(exec.ending)): runs stay queued until it runs again; Ctrl-C stops mweb")
                case .line, .exited, .timedOut:
                    continue
                }
            }
        }
    }
}
