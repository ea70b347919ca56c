import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote
import Glibc
import Synchronization

/// Ctrl-C (SIGINT), SIGTERM or SIGHUP during a push: emu stops at once, as a
/// kill would stop it (what was copied stays for the next push to resume
/// from, nothing half-made is published), but first says so and remembers
/// it for `emu status`. A thread of its own waits for the signals, blocked
/// everywhere else; one ignored when emu started (`nohup`) stays ignored.
enum Interruption {
    /// The sink whose push is under way, and the source: what the message names and where it is remembered.
    nonisolated(unsafe) private static let current = Mutex<Transfer<(sink: String, source: Source)>?>(nil)
    /// The thread that waits for the signals (kept: it is never joined).
    nonisolated(unsafe) private static var waiter: WorkerThread? = nil

    static func announce(command: String) {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP] where !isIgnored(signal) { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let signalSet = Transfer(signals)
        waiter = WorkerThread {
            var set = signalSet.value
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { return }
            stop(command: command, signal: received)
        }
    }

    static func isIgnored(_ signal: Int32) -> Bool {
        var action = sigaction()
        sigaction(signal, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    static func during<T>(_ sink: String, of source: Source, _ body: () throws -> T) rethrows -> T {
        current.withLock { $0 = Transfer((sink, source)) }
        defer { current.withLock { $0 = nil } }
        return try body()
    }

    /// Says what happened, remembers it, and ends the process with the signal's status.
    static func stop(command: String, signal: Int32) -> Never {
        let name = signal == SIGINT ? "Ctrl-C (SIGINT)" : signal == SIGTERM ? "SIGTERM" : "SIGHUP"
        ProgressLine.clear()
        if let (sink, source) = current.withLock({ $0 })?.value {
            let what = "interrupted by \(name)"
            try? PushRecord.recordFailure(of: sink, in: source, message: PushRecord.interrupted + what)
            writeStandardError("\nemu: \(command) to '\(sink)' was \(what): nothing of it was published; "
                               + "the next push to '\(sink)' resumes from what this one copied\n")
        } else {
            writeStandardError("\nemu: \(command) interrupted by \(name)\n")
        }
        SharedConnections.closeAll()
        _exit(128 + signal)
    }
}
