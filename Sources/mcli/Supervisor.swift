import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts child processes for `mcli up`, forwards Ctrl-C/SIGTERM to them as
/// SIGTERM and waits for them to stop (SIGKILL after 10 s).
final class Supervisor: @unchecked Sendable {
    /// One child and, when captured, the lines it printed.
    final class Child: @unchecked Sendable {
        let process: Process
        private let lines = NSCondition()
        private var seen: [String] = []

        init(process: Process) { self.process = process }

        /// Echoes the child's stdout and remembers its lines.
        func pump(_ handle: FileHandle) {
            let thread = Thread { [self] in
                var buffer = Data()
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    FileHandle.standardError.write(data)
                    buffer.append(data)
                    while let newline = buffer.firstIndex(of: 0x0a) {
                        let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                        buffer.removeSubrange(buffer.startIndex...newline)
                        lines.lock(); seen.append(line); lines.broadcast(); lines.unlock()
                    }
                }
            }
            thread.start()
        }

        /// The rest of the first line starting with `prefix`, waiting up to the timeout.
        func waitForLine(prefix: String, timeoutSeconds: Double) -> String? {
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            lines.lock(); defer { lines.unlock() }
            while true {
                if let line = seen.first(where: { $0.hasPrefix(prefix) }) { return String(line.dropFirst(prefix.count)) }
                if !process.isRunning || !lines.wait(until: min(deadline, Date().addingTimeInterval(0.2))) && Date() >= deadline {
                    return nil
                }
            }
        }
    }

    private var children: [Child] = []

    func start(_ path: String, _ arguments: [String], captureStdout: Bool) throws -> Child {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIError(description: "\(path) is missing: build it (`swift build --product \((path as NSString).lastPathComponent)`)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        if captureStdout { process.standardOutput = pipe }
        try process.run()
        let child = Child(process: process)
        if captureStdout { child.pump(pipe.fileHandleForReading) }
        children.append(child)
        return child
    }

    /// Waits until SIGINT/SIGTERM arrives (returns its name) or a `watching`
    /// child exits (returns nil); an `alsoRunning` child that exits is reported only.
    func waitForSignalOrExit(watching: [Child], alsoRunning: [Child] = []) async -> String? {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (events, continuation) = AsyncStream.makeStream(of: String?.self)
        let sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(name) }
            source.resume()
            return source
        }
        for child in watching {
            let thread = Thread {
                child.process.waitUntilExit()
                continuation.yield(nil)
            }
            thread.start()
        }
        for child in alsoRunning {
            let thread = Thread {
                child.process.waitUntilExit()
                let name = child.process.executableURL?.lastPathComponent ?? "child"
                FileHandle.standardError.write(Data("\(name) exited (status \(child.process.terminationStatus)); runs stay queued until it runs again\n".utf8))
            }
            thread.start()
        }
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next() ?? nil
        sources.forEach { $0.cancel() }
        return first
    }

    /// SIGTERM to every running child, then SIGKILL to any still running after 10 s.
    func stopAll() {
        for child in children where child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while children.contains(where: { $0.process.isRunning }), Date() < deadline { usleep(20_000) }
        for child in children where child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) }
    }
}
