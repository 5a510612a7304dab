import Foundation
import Logging
import mdb
import MProcess
import MSandbox
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// What people ask of a running run, read from the database: queued input
/// is typed into the agent, a cancel escalates SIGINT → SIGTERM → SIGKILL on
/// the agent's whole process group, and diff requests are answered. Requests
/// are read when the shared writer rings the run's `RequestBell`, and once
/// every `requestSafetyNetMilliseconds` without a ring (a lost ring, or no
/// writer up). A service whose `run()` lasts until the agent exits or the
/// lease is lost, on a thread of its own that sleeps on the bell and the
/// agent's pidfd between ticks.
final class RunControl: Service, @unchecked Sendable {
    /// How far stopping the agent went: the signal sent to its group last.
    private enum Escalation {
        case none, interrupted, terminated, killed
    }

    private let db: MDatabase
    private let runId: Int64
    private let agent: AgentProcess
    private let logger: Logger
    private let interruptGrace: Double
    private let terminateGrace: Double

    /// Bytes of the input being written, and its row id.
    private var writing: (id: Int64, bytes: [UInt8], offset: Int, eof: Bool)?
    private var queued: [Input] = []
    /// Requests were read while input was still being written: look again once idle.
    private var inputsStale = true
    private var stdinClosed = false
    private var escalation = Escalation.none
    private var escalatedAt = Date()
    private var nextLook = Date.distantPast
    /// True once a cancel was requested (the run then ends `canceled`).
    private(set) var cancelRequested = false
    /// When the run's wall-clock limit ends it (`limits.timeout_s`), and the notice once a limit did.
    private let deadline: Date?
    private let timeoutSeconds: Int?
    private(set) var limitReached: String?
    /// The run's cgroup (`limits.memory_mb`, `limits.pids`) and its limits, looked at every tick.
    private let cgroup: RunCgroup?
    private let limits: RunLimits?
    private var cgroupLookedAt = Date.distantPast
    /// Diff requests (`POST /runs/{id}/diffs`) read but not yet handed to the executor.
    private var diffRequests: [DiffRequest] = []
    private var handedDiffRequests = Set<Int64>()
    private let output: WriterLink
    private let bell: RequestBell
    private let lease: LeaseKeeper
    private let diffs: WorkspaceDiffs?
    /// The agent's wait status once `run()` returned, or nil if the lease was lost first.
    private(set) var agentStatus: Int32?

    init(db: MDatabase, runId: Int64, agent: AgentProcess, output: WriterLink, bell: RequestBell, lease: LeaseKeeper,
         diffs: WorkspaceDiffs?, logger: Logger, interruptGraceMilliseconds: Int, terminateGraceMilliseconds: Int,
         limits: RunLimits? = nil, cgroup: RunCgroup? = nil) {
        (self.output, self.bell, self.lease, self.diffs) = (output, bell, lease, diffs)
        self.limits = limits
        self.cgroup = cgroup
        self.timeoutSeconds = limits?.timeoutSeconds
        self.deadline = limits?.timeoutSeconds.map { Date().addingTimeInterval(Double($0)) }
        self.db = db
        self.runId = runId
        self.agent = agent
        self.logger = logger
        self.interruptGrace = Double(interruptGraceMilliseconds) / 1000
        self.terminateGrace = Double(terminateGraceMilliseconds) / 1000
    }

    /// Ticks until the agent exits (`agentStatus`) or the lease is lost (or the
    /// writer refused the run's output), on a thread of its own.
    func run() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                let exit = ExitWait(pid: agent.pid, bell: bell.descriptor, pollWithoutPidfdMilliseconds: Defaults.controlRetryMilliseconds)
                while true {
                    if let ended = Spawn.poll(agent.pid) {
                        agentStatus = ended
                        break
                    }
                    if output.refusal != nil || !lease.isHeld { break }
                    if output.capReached { outputCapReached(capBytes: output.capBytes) }
                    tick(rung: bell.takeRings())
                    answerDiffRequests()
                    exit.wait(milliseconds: millisecondsToNextTick())
                }
                done.resume()
            }
            thread.name = "run-control"
            thread.start()
        }
    }

    /// One pass: reads the run's requests if `rung` (or the safety net's look
    /// is due), writes pending input, enforces limits, escalates a cancel.
    func tick(rung: Bool) {
        if rung || Date() >= nextLook || (inputsStale && writing == nil && queued.isEmpty) {
            nextLook = Date().addingTimeInterval(Double(Defaults.requestSafetyNetMilliseconds) / 1000)
            readRequests()
        }
        writeInput()
        enforceLimits()
        escalateCancel()
    }

    /// How long the control loop may sleep before the next tick (a ring or the agent's exit wakes it sooner).
    func millisecondsToNextTick() -> Int {
        var wait = nextLook.timeIntervalSinceNow
        if writing != nil { wait = min(wait, Double(Defaults.controlRetryMilliseconds) / 1000) }
        switch escalation {
        case .none:
            if let deadline { wait = min(wait, deadline.timeIntervalSinceNow) }
            if cgroup != nil { wait = min(wait, 0.2) }
        case .interrupted: wait = min(wait, escalatedAt.addingTimeInterval(interruptGrace).timeIntervalSinceNow)
        case .terminated: wait = min(wait, escalatedAt.addingTimeInterval(terminateGrace).timeIntervalSinceNow)
        case .killed: break
        }
        return max(1, Int((wait * 1000).rounded(.up)))
    }

    /// Past the run's time limit, or when its cgroup refused memory or a process: stops the
    /// agent and keeps the notice that names the limit.
    private func enforceLimits() {
        guard limitReached == nil, escalation == .none else { return }
        if let deadline, let timeoutSeconds, Date() >= deadline {
            stop(because: "the run reached its time limit (limits.timeout_s = \(timeoutSeconds) s) and was stopped")
        } else if let cgroup, Date().timeIntervalSince(cgroupLookedAt) >= 0.2 {
            cgroupLookedAt = Date()
            guard let limit = cgroup.reached() else { return }
            stop(because: notice(for: limit), atOnce: true)
        }
    }

    /// The agent has exited: a limit its cgroup enforced may be what ended it (an OOM kill of the
    /// agent itself ends the run before a tick sees it).
    func noteLimitsAfterExit() {
        guard limitReached == nil, !cancelRequested, let limit = cgroup?.reached() else { return }
        limitReached = notice(for: limit)
    }

    /// The run's output reached its cap and the run has `limits.output_bytes`: it is stopped.
    func outputCapReached(capBytes: Int64) {
        guard limitReached == nil, escalation == .none, let asked = limits?.outputBytes else { return }
        let daemon = capBytes < asked ? "; the daemon's --output-cap-bytes is smaller" : ""
        stop(because: "the run reached its output limit (limits.output_bytes = \(asked)\(daemon)): \(capBytes) bytes were kept, and the run was stopped")
    }

    private func notice(for limit: RunCgroup.Limit) -> String {
        switch limit {
        case .memory:
            "the run reached its memory limit (limits.memory_mb = \(limits?.memoryMB ?? 0) MiB): a process was killed for lack of memory, and the run was stopped"
        case .processes:
            "the run reached its process limit (limits.pids = \(limits?.pids ?? 0)): a new process was refused, and the run was stopped"
        }
    }

    /// Stops the agent the way a cancel does (SIGINT, then SIGTERM, then SIGKILL), or `atOnce`
    /// with SIGKILL to its group and everything in its cgroup (a fork bomb, a process out of memory).
    private func stop(because notice: String, atOnce: Bool = false) {
        limitReached = notice
        if atOnce {
            logger.info("\(notice): SIGKILL to the agent's group and cgroup")
            escalation = .killed
            agent.signalGroup(SIGKILL)
            cgroup?.killAll()
            return
        }
        logger.info("\(notice): SIGINT to the agent's group")
        escalation = .interrupted
        escalatedAt = Date()
        agent.signalGroup(SIGINT)
    }

    /// Closes the agent's stdin pipe if input did not already (a PTY master
    /// is closed with the outputs, as it is one descriptor).
    func closeInput() {
        guard !agent.pty, !stdinClosed else { return }
        close(agent.input)
        stdinClosed = true
    }

    private func readRequests() {
        do {
            // One read for everything; input only when the previous input is fully written.
            let idle = writing == nil && queued.isEmpty
            let requests = try db.runRequests(runId: runId, includeInputs: idle)
            if requests.cancelRequested && !cancelRequested {
                cancelRequested = true
                escalation = .interrupted
                escalatedAt = Date()
                logger.info("cancel requested: SIGINT to the agent's group")
                agent.signalGroup(SIGINT)
            }
            diffRequests += requests.diffRequests.filter { !handedDiffRequests.contains($0.id) }
            inputsStale = !idle
            if idle { queued = requests.inputs }
        } catch {
            logger.warning("cannot read the run's requests: \(error)")
        }
    }

    /// Answers the diff requests read since the last pass (each once): a
    /// `diffs` row, or a notice when the workspace cannot be diffed.
    private func answerDiffRequests() {
        for request in diffRequests where handedDiffRequests.insert(request.id).inserted {
            if let diffs { diffs.answer(request) } else {
                try? db.finishDiffRequest(runId: runId, requestId: request.id,
                                          notice: "this run's workspace cannot be diffed (no approved point)")
            }
        }
        diffRequests = []
    }

    private func escalateCancel() {
        let elapsed = Date().timeIntervalSince(escalatedAt)
        if escalation == .interrupted && elapsed >= interruptGrace {
            logger.info("cancel: the agent outlived SIGINT; SIGTERM to its group")
            agent.signalGroup(SIGTERM)
            escalation = .terminated
            escalatedAt = Date()
        } else if escalation == .terminated && elapsed >= terminateGrace {
            logger.info("cancel: the agent outlived SIGTERM; SIGKILL to its group")
            agent.signalGroup(SIGKILL)
            escalation = .killed
        }
    }

    /// Writes as much pending input as the agent takes without blocking; an
    /// input is marked delivered (and its `input` event appended) once all of
    /// its bytes are written.
    private func writeInput() {
        while true {
            if writing == nil {
                guard !queued.isEmpty, !stdinClosed else { return }
                let input = queued.removeFirst()
                var bytes = Array(input.text.utf8)
                if input.newline && !(input.eof && input.text.isEmpty) { bytes.append(agent.pty ? 0x0D : 0x0A) }
                writing = (input.id, bytes, 0, input.eof)
            }
            guard var current = writing else { return }
            while current.offset < current.bytes.count {
                let n = current.bytes.withUnsafeBytes { raw in
                    Glibc.write(agent.input, raw.baseAddress! + current.offset, raw.count - current.offset)
                }
                if n > 0 { current.offset += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { writing = current; return }
                logger.warning("the agent no longer reads its input (\(String(cString: strerror(errno))))")
                closeInput()
                stdinClosed = true
                writing = nil
                return
            }
            if current.eof {
                if agent.pty {
                    var eot: UInt8 = 0x04
                    _ = Glibc.write(agent.input, &eot, 1)
                } else {
                    closeInput()
                }
            }
            do { try db.markInputDelivered(inputId: current.id) } catch {
                logger.warning("cannot mark input \(current.id) delivered: \(error)")
            }
            writing = nil
        }
    }
}
