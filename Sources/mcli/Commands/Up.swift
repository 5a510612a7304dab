import ArgumentParser
import Foundation
import mdb

/// `mcli up`: M on this machine in one command. Creates the database if
/// needed, a first admin token if there is none, starts `mweb` and `mexec`
/// (beside `mcli`), prints the URL, a pairing link and its QR code, and stops
/// both on Ctrl-C or SIGTERM.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start M (mweb + mexec) and print the URL and a pairing QR code.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address mweb binds (127.0.0.1 keeps M on this machine).")
    var host = "127.0.0.1"

    @Option(help: "Port mweb listens on (0 picks a free one).")
    var port = 8080

    @Option(name: .customLong("public-url"), help: "The URL phones use, behind a reverse proxy.")
    var publicURL: String?

    @Option(help: "Runs mexec executes at once.")
    var concurrency = 2

    func run() async throws {
        try await runCommand {
            let path = global.databasePath
            let db = try MDatabase(path: path, create: true)
            var firstSecret: String?
            if try !db.hasActiveToken() {
                firstSecret = try TokenCreate.create(db, name: "owner", scope: .admin).1
            }
            let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent()
            var webArgs = ["--db", path, "--host", host, "--port", String(port)]
            if let publicURL { webArgs += ["--public-url", publicURL] }
            let supervisor = Supervisor()
            let web = try supervisor.start(binaries.appendingPathComponent("mweb").path, webArgs, captureStdout: true)
            guard let url = web.waitForLine(prefix: "listening on ", timeoutSeconds: 60) else {
                supervisor.stopAll()
                throw CLIError(description: "mweb did not start (is port \(port) free? try --port 0)")
            }
            let exec = try supervisor.start(binaries.appendingPathComponent("mexec").path,
                                            ["--db", path, "--concurrency", String(concurrency)], captureStdout: false)
            let shown = publicURL ?? url
            Output.line("M is up: \(shown)  (database \(path))")
            if let firstSecret {
                Output.line("first token 'owner' (admin) created; it is shown only here: \(firstSecret)")
                Pair.show(link: Pair.link(url: shown, secret: firstSecret), tokenName: "owner")
            } else {
                Output.line("tokens exist already: `mcli pair --url \(shown)` prints a pairing link for a phone")
            }
            Output.line("Ctrl-C stops mweb and mexec.")
            let signal = await supervisor.waitForSignalOrExit(watching: [web], alsoRunning: [exec])
            supervisor.stopAll()
            if let signal {
                Output.error("stopped (\(signal))")
            } else {
                throw CLIError(description: "mweb exited; stopped mexec (see its output above)")
            }
        }
    }
}
