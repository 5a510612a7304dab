import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// Starts `mcli up`'s children and turns what happens to them into one
/// stream of events: a line a child printed, a child that exited, SIGINT or
/// SIGTERM. Each child has a thread blocked in `waitpid` (and one in `read` for
/// its stdout): a blocked thread costs nothing while M is idle, where a polling
/// loop would keep a core busy, and neither runs on Swift's cooperative pool.
final class Supervisor: @unchecked Sendable {
    /// One child process.
    final class Child: @unchecked Sendable {
        /// The program's name, as shown to the person ("mweb").
        let name: String
        let pid: pid_t
        private let lock = NSLock()
        private var waitStatus: Int32?

        init(name: String, pid: pid_t) {
            self.name = name
            self.pid = pid
        }

        /// The wait status once it has exited (set by its waiter thread).
        var status: Int32? {
            get { lock.withLock { waitStatus } }
            set { lock.withLock { waitStatus = newValue } }
        }

        /// "signal 9", "status 1": how it ended, for messages.
        var ending: String { status.map(Spawn.describe) ?? "running" }
    }

    /// Something that happened to the children or to `mcli up` itself.
    enum Event {
        /// A line the child printed on stdout (captured children only).
        case line(Child, String)
        /// The child exited; its `status` is set.
        case exited(Child)
        /// `mcli up` received this signal ("SIGINT", "SIGTERM").
        case signal(String)
        /// A deadline set with `deadline(after:)` passed.
        case timedOut
    }

    /// How long children get between SIGTERM and SIGKILL.
    static let stopGraceSeconds: Double = 10

    private(set) var children: [Child] = []
    private let continuation: AsyncStream<Event>.Continuation
    private var events: AsyncStream<Event>.Iterator
    private var signalSources: [DispatchSourceSignal] = []

    /// Takes over SIGINT and SIGTERM: from now on they arrive as events.
    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        self.continuation = continuation
        events = stream.makeAsyncIterator()
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(.signal(name)) }
            source.resume()
            signalSources.append(source)
        }
    }

    deinit { signalSources.forEach { $0.cancel() } }

    /// Starts `path` with `arguments`; with `captureStdout` its lines become events
    /// (and are echoed to stderr), otherwise it shares our stdout. Its own process
    /// group keeps a terminal's Ctrl-C for us: we stop the children in order.
    func start(_ path: String, _ arguments: [String], captureStdout: Bool) throws -> Child {
        let name = (path as NSString).lastPathComponent
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIError(description: "\(path) is missing: build it (`swift build -c release --product \(name)`)")
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        let pipe = captureStdout ? try Spawn.pipe() : nil
        let pid: pid_t
        do {
            pid = try Spawn.start([path] + arguments, environment: ProcessInfo.processInfo.environment, directory: nil,
                                  stdio: .descriptors(devNull, pipe?.write ?? 1, 2), group: .newGroup)
        } catch {
            if let pipe { close(pipe.read); close(pipe.write) }
            throw CLIError(description: "\(error)")
        }
        let child = Child(name: name, pid: pid)
        children.append(child)
        if let pipe {
            close(pipe.write)
            Thread.detachNewThread { [continuation] in Supervisor.pump(pipe.read, of: child, into: continuation) }
        }
        Thread.detachNewThread { [continuation] in
            child.status = Spawn.wait(pid) ?? 0
            continuation.yield(.exited(child))
        }
        return child
    }

    /// The next event, waiting as long as it takes.
    func next() async -> Event {
        await events.next() ?? .timedOut
    }

    /// A `.timedOut` event after `seconds`, unless the returned task is cancelled first.
    func deadline(after seconds: Double) -> Task<Void, Never> {
        Task { [continuation] in
            guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
            continuation.yield(.timedOut)
        }
    }

    /// The rest of the first line `child` prints that starts with `prefix`; nil if
    /// it exits, a signal arrives or `seconds` pass first. Other events are dropped.
    func firstLine(of child: Child, prefix: String, within seconds: Double) async -> String? {
        let timer = deadline(after: seconds)
        defer { timer.cancel() }
        while true {
            switch await next() {
            case .line(let from, let line) where from === child && line.hasPrefix(prefix):
                return String(line.dropFirst(prefix.count))
            case .exited(let gone) where gone === child: return nil
            case .signal, .timedOut: return nil
            default: continue
            }
        }
    }

    /// SIGTERM to every running child, then SIGKILL to any still running after
    /// `stopGraceSeconds`; returns once all have exited.
    func stopAll() async {
        for child in children where child.status == nil { kill(child.pid, SIGTERM) }
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        timer = deadline(after: Self.stopGraceSeconds)
        while children.contains(where: { $0.status == nil }) {
            if case .timedOut = await next() {
                for child in children where child.status == nil { kill(child.pid, SIGKILL) }
                timer = nil
            }
        }
    }

    /// Echoes a child's stdout to our stderr and yields its lines.
    private static func pump(_ fd: Int32, of child: Child, into continuation: AsyncStream<Event>.Continuation) {
        defer { close(fd) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            FileHandle.standardError.write(Data(buffer[0..<count]))
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 0x0a) {
                continuation.yield(.line(child, String(decoding: pending[..<newline], as: UTF8.self)))
                pending.removeSubrange(...newline)
            }
        }
    }
}
