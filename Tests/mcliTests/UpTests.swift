import Foundation
import MTestSupport
import Testing
import mdb

/// A GET with curl (Foundation here has no HTTP client); nil when nothing answers.
func get(_ url: String) throws -> String? {
    let result = try Exec.run("/usr/bin/curl", ["-s", "-m", "5", url])
    return result.status == 0 ? result.stdout : nil
}

@Suite struct UpTests {
    @Test func upStartsMwebPrintsAPairingLinkAndStopsEverythingOnCtrlC() throws {
        let tmp = TempDir("mcli-up")
        let out = Pipe()
        let up = try Exec.start("mcli", ["up", "--db", tmp.dbPath, "--port", "0"], stdout: out.fileHandleForWriting)
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("Ctrl-C stops"), Date() < deadline, up.isRunning {
            text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        let url = try #require(text.split(separator: "\n").first { $0.hasPrefix("M is up: ") }?
            .split(separator: " ")[3].description)
        let link = try #require(text.split(separator: "\n").first { $0.contains("/#token=m_") })
        #expect(link.trimmingCharacters(in: .whitespaces).hasPrefix(url + "/#token="), "the token is in the fragment")
        #expect(text.contains("█"), "a QR code is drawn")
        #expect(try MDatabase(path: tmp.dbPath).tokens().map(\.name) == ["owner"])
        #expect(try get(url + "/healthz")?.contains("\"ok\"") == true)

        kill(up.processIdentifier, SIGINT)
        up.waitUntilExit()
        #expect(up.terminationStatus == 0)
        // mweb stopped with it: the port no longer answers.
        #expect(eventually(timeout: 10) { (try? get(url + "/healthz")) ?? nil == nil })
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
