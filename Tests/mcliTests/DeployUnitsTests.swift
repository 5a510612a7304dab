import Foundation
import MTestSupport
import Testing

/// The systemd units in `deploy/systemd` are what a person installs: each must
/// pass `systemd-analyze verify` (with the commands pointed at this build, since
/// /usr/local/bin holds nothing here).
@Suite struct DeployUnitsTests {
    static let unitDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy/systemd")

    @Test func everyUnitPassesSystemdAnalyzeVerify() throws {
        let tmp = TempDir("units")
        let units = try FileManager.default.contentsOfDirectory(atPath: Self.unitDirectory.path).filter {
            $0.hasSuffix(".service") || $0.hasSuffix(".timer")
        }.sorted()
        #expect(units.contains("m-gc.service") && units.contains("m-gc.timer") && units.contains("mexec.service") && units.contains("mweb.service"))
        for unit in units {
            let text = try String(contentsOf: Self.unitDirectory.appendingPathComponent(unit), encoding: .utf8)
            let local = text.replacingOccurrences(of: "/usr/local/bin/", with: Binaries.directory.path + "/")
            try local.write(toFile: tmp.file(unit), atomically: true, encoding: .utf8)
        }
        let result = try Exec.run("/usr/bin/systemd-analyze", ["verify"] + units.map(tmp.file))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stderr.contains("Unknown key"), "\(result.stderr)")
    }

    /// Both services are what the issue asks of them: notify with a watchdog, a user of
    /// their own, the system read-only but for the state directory, and no privileges to gain.
    @Test func theServicesAreConfined() throws {
        for unit in ["mweb.service", "mexec.service"] {
            let text = try String(contentsOf: Self.unitDirectory.appendingPathComponent(unit), encoding: .utf8)
            let lines = Set(text.split(separator: "\n").map(String.init))
            for line in ["Type=notify", "User=m", "ProtectSystem=strict", "ReadWritePaths=/var/lib/m", "PrivateTmp=yes",
                         "NoNewPrivileges=yes", "ProtectHome=yes", "StateDirectory=m"] {
                #expect(lines.contains(line), "\(unit): \(line)")
            }
            #expect(lines.contains { $0.hasPrefix("WatchdogSec=") }, "\(unit): WatchdogSec")
        }
        let mexec = try String(contentsOf: Self.unitDirectory.appendingPathComponent("mexec.service"), encoding: .utf8)
        #expect(mexec.contains("KillMode=process"), "a restart of mexec leaves the executors running")
    }
}
