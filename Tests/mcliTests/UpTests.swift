import Foundation
import MProcess
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// A GET with curl (Foundation here has no HTTP client); nil when nothing answers.
func get(_ url: String, token: String? = nil) throws -> String? {
    let auth = token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []
    let result = try Exec.run("/usr/bin/curl", ["-s", "-f", "-m", "5"] + auth + [url])
    return result.status == 0 ? result.stdout : nil
}

/// `mcli up` started as a person starts it, on a temporary database and port 0,
/// with what it printed collected as it arrives.
final class RunningUp: @unchecked Sendable {
    let tmp = TempDir("mcli-up")
    let process: Process
    private let stdout = LockedBox("")
    private let stderr = LockedBox("")

    init(_ extra: [String] = []) throws {
        let out = Pipe(), err = Pipe()
        process = try Exec.start("mcli", ["up", "--db", tmp.dbPath, "--port", "0"] + extra,
                                 stdout: out.fileHandleForWriting, stderr: err.fileHandleForWriting)
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        for (pipe, box) in [(out, stdout), (err, stderr)] {
            Thread.detachNewThread {
                while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
                    box.mutate { $0 += String(decoding: data, as: UTF8.self) }
                }
            }
        }
        guard eventually(timeout: 60, { self.text.contains("Ctrl-C stops") || !self.process.isRunning }),
              process.isRunning else {
            throw UpFailed(description: "mcli up did not come up:\n\(text)\n\(errors)")
        }
    }

    struct UpFailed: Error, CustomStringConvertible { var description: String }

    /// Its stdout so far.
    var text: String { stdout.get() }
    /// Its stderr so far (mweb's and mexec's output included).
    var errors: String { stderr.get() }

    /// The URL of its "M is up: URL" line.
    var url: String {
        get throws {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("M is up: ") })
            return String(line.split(separator: " ")[3])
        }
    }

    /// The pairing link it printed.
    var link: String {
        get throws {
            try #require(text.split(separator: "\n").first { $0.contains("/#token=m_") })
                .trimmingCharacters(in: .whitespaces)
        }
    }

    /// mcli up's children and their descendants (mweb, mexec), found in /proc.
    var descendants: [ProcStat] { Array(ProcStat.tree(of: process.processIdentifier).dropFirst()) }

    /// The pid of the child named `name`.
    func child(_ name: String) throws -> Int32 {
        try #require(descendants.first { commandName($0.pid) == name }?.pid, "\(name) runs under mcli up")
    }

    /// Sends `signal` and waits for the exit; its status, nil if it did not exit within 15 s.
    func stop(_ signal: Int32) -> Int32? {
        kill(process.processIdentifier, signal)
        return exitStatus(within: 15)
    }

    /// The exit status once it has exited, nil if it is still running after `seconds`.
    func exitStatus(within seconds: Double) -> Int32? {
        guard eventually(timeout: seconds, { !self.process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            let left = descendants
            kill(process.processIdentifier, SIGKILL)
            left.forEach { kill($0.pid, SIGKILL) }
        }
    }
}

func commandName(_ pid: Int32) -> String {
    ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite struct UpTests {
    @Test func onLoopbackUpDrawsNoQRCodeButSaysHowToReachItFromAPhone() throws {
        let up = try RunningUp()
        let url = try up.url
        #expect(url.hasPrefix("http://127.0.0.1:"))
        #expect(up.text.contains("works only on this machine: no phone can open it"))
        #expect(up.text.contains("tailscale serve --bg"), "Tailscale is a way out")
        #expect(up.text.contains("reverse_proxy 127.0.0.1:"), "Caddy is a way out")
        #expect(up.text.contains("--tls-cert cert.pem --tls-key key.pem"), "mweb's own TLS is a way out")
        #expect(!up.text.contains("█"), "no QR code that a phone could not open")
        #expect(try get(url + "/healthz")?.contains("\"ok\"") == true)
        #expect(up.text.contains("8 runs at once"), "the default concurrency fits agents that wait")
    }

    @Test func theLinkCarriesABrowserTokenOfItsOwnNeverTheAdminOne() throws {
        let up = try RunningUp()
        let link = try up.link
        #expect(link.hasPrefix(try up.url + "/#token="), "the token is in the fragment")
        let tokens = try MDatabase(path: up.tmp.dbPath).tokens()
        #expect(tokens.count == 1)
        let token = try #require(tokens.first)
        #expect(token.name.hasPrefix("browser-"))
        #expect(token.scope == "steer")
        #expect(token.useBy != nil, "a pairing link must be used soon")
        #expect(token.state() == .pairing)
        #expect(!tokens.contains { $0.scope == "admin" }, "no admin token is made or printed")
        let secret = String(link.split(separator: "=").last!)
        #expect(try get(try up.url + "/api/v1/runs", token: secret) != nil, "the link's token signs in")
        #expect(try MDatabase(path: up.tmp.dbPath).tokens().first?.state() == .active, "used once, it stays")
    }

    @Test func ctrlCStopsMwebAndMexecAndExitsZero() throws {
        let up = try RunningUp()
        let url = try up.url
        let web = try up.child("mweb"), exec = try up.child("mexec")
        #expect(up.stop(SIGINT) == 0)
        #expect(ProcStat.isGone(web) && ProcStat.isGone(exec), "mweb and mexec stop with it")
        #expect(try get(url + "/healthz") == nil, "the port no longer answers")
        #expect(up.errors.contains("stopped (SIGINT)"))
    }

    @Test func sigtermStopsEverythingAndAPublicURLGetsAPhoneTokenAndAQRCode() throws {
        let up = try RunningUp(["--public-url", "https://m.example.org"])
        #expect(try up.url == "https://m.example.org")
        #expect(try up.link.hasPrefix("https://m.example.org/#token=m_"))
        #expect(up.text.contains("█"), "a QR code a phone can open")
        #expect(!up.text.contains("works only on this machine"))
        #expect(try MDatabase(path: up.tmp.dbPath).tokens().map { $0.name.hasPrefix("phone-") } == [true])
        let web = try up.child("mweb"), exec = try up.child("mexec")
        #expect(up.stop(SIGTERM) == 0)
        #expect(ProcStat.isGone(web) && ProcStat.isGone(exec))
    }

    @Test func anIdleUpSpendsNoCPUWhileItWaitsForItsChildren() throws {
        let up = try RunningUp()
        let tree = ProcStat.tree(of: up.process.processIdentifier)
        #expect(tree.count >= 3, "mcli, mweb and mexec")
        let before = tree.map { ProcStat.read($0.pid)?.cpuSeconds ?? 0 }
        let start = Date()
        // A measurement window, not a wait for a condition: CPU is sampled across it.
        Thread.sleep(forTimeInterval: 5)
        let elapsed = Date().timeIntervalSince(start)
        let after = tree.map { ProcStat.read($0.pid)?.cpuSeconds ?? 0 }
        let percent = zip(after, before).map { ($0 - $1) / elapsed * 100 }
        #expect(percent.reduce(0, +) < 5, "mcli up's tree used \(percent) % of a core while idle (mcli first)")
    }

    @Test func aDeadMexecIsReportedAndADeadMwebStopsUpWithAnError() throws {
        let up = try RunningUp()
        kill(try up.child("mexec"), SIGKILL)
        #expect(eventually(timeout: 10) { up.errors.contains("mexec exited (signal 9)") })
        #expect(up.process.isRunning, "mweb still serves: runs stay queued")
        let web = try up.child("mweb")
        kill(web, SIGKILL)
        let status = up.exitStatus(within: 15)
        #expect(status != nil && status != 0)
        #expect(up.errors.contains("mweb exited (signal 9)"))
    }

    @Test func pairDrawsTheQRCodeOnlyForAURLAPhoneCanOpen() throws {
        let tmp = TempDir("mcli-pair")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        for (url, qr, warning) in [("http://127.0.0.1:8080", false, false), ("http://localhost:9000", false, false),
                                   ("http://192.168.1.20:8080", true, true), ("https://m.tail1234.ts.net", true, false)] {
            let paired = try Exec.run("mcli", ["pair", "--db", tmp.dbPath, "--url", url])
            #expect(paired.status == 0)
            #expect(paired.stdout.contains(url + "/#token=m_"), "\(url)")
            #expect(paired.stdout.contains("█") == qr, "QR code for \(url)")
            #expect(paired.stdout.contains("tailscale serve") == !qr, "ways out for \(url)")
            #expect(paired.stdout.contains("plain HTTP") == warning, "HTTPS warning for \(url)")
        }
    }

    @Test func pairGivesEachPhoneItsOwnSteerTokenListedAndRevocable() throws {
        let tmp = TempDir("mcli-pair")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        let first = try JSONValue.parse(try Exec.run("mcli", ["pair", "--db", tmp.dbPath, "--json"]).stdout)
        #expect(first["scope"]?.stringValue == "steer")
        #expect(first["name"]?.stringValue?.hasPrefix("phone-") == true)
        #expect(first["use_by"]?.stringValue?.isEmpty == false)
        #expect(first["link"]?.stringValue == "http://127.0.0.1:8080/#token=" + (first["token"]?.stringValue ?? "?"))
        let second = try JSONValue.parse(try Exec.run("mcli", ["pair", "--db", tmp.dbPath, "--json",
                                                               "--name", "Anna's iPhone", "--scope", "read"]).stdout)
        #expect(second["name"]?.stringValue == "Anna's iPhone")
        #expect(second["scope"]?.stringValue == "read")
        let listed = try Exec.run("mcli", ["token", "list", "--db", tmp.dbPath]).stdout
        #expect(listed.contains("Anna's iPhone") && listed.contains("pairing"))
        #expect(try Exec.run("mcli", ["token", "revoke", "--db", tmp.dbPath, "Anna's iPhone"]).status == 0)
        let json = try JSONValue.parse(try Exec.run("mcli", ["token", "list", "--db", tmp.dbPath, "--json"]).stdout)
        guard case .array(let listedTokens)? = json["tokens"] else { Issue.record("no tokens array"); return }
        #expect(listedTokens.map { $0["state"]?.stringValue ?? "?" } == ["pairing", "revoked"])
    }

    @Test func tokenCreateListRevoke() throws {
        let tmp = TempDir("mcli-token")
        try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        let created = try Exec.run("mcli", ["token", "create", "--db", tmp.dbPath, "--name", "phone", "--scope", "steer", "--json"])
        #expect(created.status == 0)
        let json = try JSONValue.parse(created.stdout)
        let secret = try #require(json["token"]?.stringValue)
        #expect(secret.hasPrefix("m_") && secret.count > 40)
        #expect(json["scope"]?.stringValue == "steer")
        let listed = try Exec.run("mcli", ["token", "list", "--db", tmp.dbPath])
        #expect(listed.stdout.contains("phone") && !listed.stdout.contains(secret), "the secret is never shown again")
        #expect(listed.stdout.contains("STATE") && listed.stdout.contains("active"), "a created token needs no pairing")
        let dup = try Exec.run("mcli", ["token", "create", "--db", tmp.dbPath, "--name", "phone"])
        #expect(dup.status == 2 && dup.stderr.contains("already exists"))
        let bad = try Exec.run("mcli", ["token", "create", "--db", tmp.dbPath, "--name", "x", "--scope", "god"])
        #expect(bad.status != 0)
        #expect(try Exec.run("mcli", ["token", "revoke", "--db", tmp.dbPath, "phone"]).status == 0)
        #expect(try MDatabase(path: tmp.dbPath).tokens().first?.revokedAt != nil)
        let missing = try Exec.run("mcli", ["token", "revoke", "--db", tmp.dbPath, "nobody"])
        #expect(missing.status == 2 && missing.stderr.contains("mcli token list"))
    }
}
