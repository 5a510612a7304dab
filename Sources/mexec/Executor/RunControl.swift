import Foundation
import Logging
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// What people ask of a running run, read from the database: queued input
/// is typed into the agent, and a cancel escalates SIGINT → SIGTERM →
/// SIGKILL on the agent's whole process group. While the shared writer rings
/// the run's `RequestBell`, requests are read when it rings (and, as a safety
/// net, looked for every `controlRungPollIntervalMilliseconds`); otherwise
/// each tick looks, with queries only when `PRAGMA data_version` says someone
/// committed.
final class RunControl {
    private let db: MDatabase
    private let runId: Int64
    private let agent: AgentProcess
    private let logger: Logger
    private let watch: ChangeWatch?
    private let check: RequestCheck?
    private let interruptGrace: Double
    private let terminateGrace: Double

    /// Bytes of the input being written, and its row id.
    private var writing: (id: Int64, bytes: [UInt8], offset: Int, eof: Bool)?
    private var queued: [Input] = []
    /// Something changed while input was still being written: look again once idle.
    private var inputsStale = true
    private var stdinClosed = false
    private var cancelStage = 0
    private var cancelStageAt = Date()
    /// A commit was seen and this run's requests were not read since.
    private var changeSeen = true
    private var lastRead = Date.distantPast
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

    init(db: MDatabase, runId: Int64, agent: AgentProcess, logger: Logger,
         interruptGraceMilliseconds: Int, terminateGraceMilliseconds: Int, limits: RunLimits? = nil,
         cgroup: RunCgroup? = nil) {
        self.limits = limits
        self.cgroup = cgroup
        self.timeoutSeconds = limits?.timeoutSeconds
        self.deadline = limits?.timeoutSeconds.map { Date().addingTimeInterval(Double($0)) }
        self.db = db
        self.runId = runId
        self.agent = agent
        self.logger = logger
        self.watch = try? ChangeWatch(path: db.path, notify: false)
        self.check = try? RequestCheck(path: db.path, runId: runId)
        self.interruptGrace = Double(interruptGraceMilliseconds) / 1000
        self.terminateGrace = Double(terminateGraceMilliseconds) / 1000
    }

    /// One pass: read requests if the bell rang (`rung`) or, when the bell is
    /// not `live`, if anything changed; write pending input, escalate a cancel.
    func tick(rung: Bool = false, live: Bool = false) {
        let idle = writing == nil && queued.isEmpty
        if live {
            // Rung for every new request: the cheap check only as a safety net,
            // and a look at the first tick after the bell goes silent.
            changeSeen = true
            let due = Date().timeIntervalSince(lastRead) * 1000 >= Double(Defaults.controlRungPollIntervalMilliseconds)
            if rung || (inputsStale && idle) || (due && somethingWaits(idle: idle)) {
                lastRead = Date()
                readRequests()
            } else if due {
                lastRead = Date()
            }
        } else {
            if (try? watch?.changed()) ?? true { changeSeen = true }
            // Busy neighbours commit all the time, so "something changed" is nearly
            // always true under load: read this run's requests at most every
            // `controlReadIntervalMilliseconds` (input still arrives well within
            // what a person notices), instead of on every tick.
            let due = Date().timeIntervalSince(lastRead) * 1000 >= Double(Defaults.controlReadIntervalMilliseconds)
            if (inputsStale && idle) || (changeSeen && due && somethingWaits(idle: idle)) {
                changeSeen = false
                lastRead = Date()
                readRequests()
            } else if changeSeen && due {
                changeSeen = false
                lastRead = Date()
            }
        }
        writeInput()
        enforceLimits()
        escalateCancel()
    }

    /// Past the run's time limit, or when its cgroup refused memory or a process: stops the
    /// agent and keeps the notice that names the limit.
    private func enforceLimits() {
        guard limitReached == nil, cancelStage == 0 else { return }
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
        guard limitReached == nil, cancelStage == 0, let asked = limits?.outputBytes else { return }
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
            cancelStage = 3
            agent.signalGroup(SIGKILL)
            cgroup?.killAll()
            return
        }
        logger.info("\(notice): SIGINT to the agent's group")
        cancelStage = 1
        cancelStageAt = Date()
        agent.signalGroup(SIGINT)
    }

    /// How long the control loop may sleep before the next tick (a ring or the agent's exit wakes it sooner).
    func millisecondsToNextTick(live: Bool) -> Int {
        guard live, writing == nil, cancelStage == 0 || cancelStage == 3 else {
            return Defaults.controlPollIntervalMilliseconds
        }
        if let deadline, cancelStage == 0 {
            return max(1, min(Defaults.controlRungPollIntervalMilliseconds, Int(deadline.timeIntervalSinceNow * 1000) + 1))
        }
        return Defaults.controlRungPollIntervalMilliseconds
    }

    /// The cheap check before a full read: a new cancel, input to take, or a diff request.
    private func somethingWaits(idle: Bool) -> Bool {
        guard let check, let pending = try? check.pending() else { return true }
        return (pending.cancel && !cancelRequested) || (pending.input && idle) || pending.diffRequest
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
                cancelStage = 1
                cancelStageAt = Date()
                logger.info("cancel requested: SIGINT to the agent's group")
                agent.signalGroup(SIGINT)
            }
            for request in requests.diffRequests where !handedDiffRequests.contains(request.id) {
                diffRequests.append(request)
            }
            inputsStale = !idle
            if idle { queued = requests.inputs }
        } catch {
            logger.warning("cannot read the run's requests: \(error)")
        }
    }

    /// Diff requests read since the last call, each handed out once.
    func takeDiffRequests() -> [DiffRequest] {
        let taken = diffRequests
        diffRequests = []
        taken.forEach { handedDiffRequests.insert($0.id) }
        return taken
    }

    private func escalateCancel() {
        guard cancelStage > 0, cancelStage < 3 else { return }
        let elapsed = Date().timeIntervalSince(cancelStageAt)
        if cancelStage == 1 && elapsed >= interruptGrace {
            logger.info("cancel: the agent outlived SIGINT; SIGTERM to its group")
            agent.signalGroup(SIGTERM)
            cancelStage = 2
            cancelStageAt = Date()
        } else if cancelStage == 2 && elapsed >= terminateGrace {
            logger.info("cancel: the agent outlived SIGTERM; SIGKILL to its group")
            agent.signalGroup(SIGKILL)
            cancelStage = 3
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
