import AgentDrivers
import Testing
import mdb

/// How the drivers start their agents (no agent program needed).
@Suite struct DriverArgumentsTests {
    @Test func theCommandLineAsksForStreamJSONAndInstallsTheHookPerRun() {
        let argv = ClaudeDriver().arguments(for: ["claude", "--model", "sonnet", "--dangerously-skip-permissions"])
        #expect(Array(argv.prefix(3)) == ["claude", "--model", "sonnet"])
        #expect(!argv.contains("--dangerously-skip-permissions"))
        #expect(argv.contains("-p") && argv.contains("--verbose"))
        #expect(argv.firstIndex(of: "--output-format").map { argv[$0 + 1] } == "stream-json")
        #expect(argv.firstIndex(of: "--input-format").map { argv[$0 + 1] } == "stream-json")
        let settings = try? JSONValue.parse(argv.last ?? "")
        #expect(argv[argv.count - 2] == "--settings")
        #expect(settings?["hooks"]?["PreToolUse"]?.text.contains("mcli hook claude") == true)
    }

    @Test func codexGetsAppServerOnce() {
        #expect(CodexDriver().arguments(for: ["codex", "-c", "model=o3"]) == ["codex", "-c", "model=o3", "app-server"])
        #expect(CodexDriver().arguments(for: ["codex", "app-server"]) == ["codex", "app-server"])
    }
}
