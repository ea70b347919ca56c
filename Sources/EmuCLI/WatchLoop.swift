import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

/// When `emu watch` pushes: after `settle` seconds without events, never
/// sooner than `settle` after the last push began, and no later than
/// `maxInterval` after the first change it has not pushed. Each sink keeps
/// the directories changed since its own last push (nil: walk everything),
/// so a sink that was offline catches up on all of them.
struct WatchLoop {
    let watcher: SourceWatcher
    let settle: Double
    let maxInterval: Double
    let terminal: Terminal
    var pushed: [(registration: SinkRegistration, changes: Set<RelativePath>?)]
    /// The first and the last event not pushed yet.
    var pending: (first: Double, last: Double)? = nil
    var lastPush = -Double.infinity

    mutating func run(push: (SinkRegistration, Set<RelativePath>?) throws -> Bool) throws {
        if pushed.contains(where: { $0.changes == nil }) { pending = (monotonicSeconds() - settle, monotonicSeconds() - settle) }
        reportTrouble(atStart: true)
        while watchStopRequested == 0 {
            let now = monotonicSeconds()
            if let deadline = nextPush(), now >= deadline {
                try pushAll(push)
                continue
            }
            // A signal between the check above and the wait would not end the wait: it is short.
            let timeout = min(nextPush().map { $0 - now } ?? 1, 1)
            if try watcher.wait(timeout: timeout) { pending = (pending?.first ?? monotonicSeconds(), monotonicSeconds()) }
        }
    }

    func nextPush() -> Double? {
        if case .watchLimit = watcher.trouble { return lastPush + maxInterval }
        guard let pending else { return nil }
        return max(min(pending.last + settle, pending.first + maxInterval), lastPush + settle)
    }

    mutating func pushAll(_ push: (SinkRegistration, Set<RelativePath>?) throws -> Bool) throws {
        reportTrouble(atStart: false)
        let changes = try watcher.takeChanges()
        pending = nil
        lastPush = monotonicSeconds()
        for i in pushed.indices {
            // A sink's own backlog: what changed since its last push, or everything.
            let owed = pushed[i].changes.flatMap { earlier in changes.map { earlier.union($0) } }
            pushed[i].changes = owed
            let registration = pushed[i].registration
            // Nothing changed since this sink's last push (another sink was owed one): no snapshot.
            if owed?.isEmpty == true { continue }
            terminal.detail("\(registration.name): pushing; " + (owed.map { "\(plural($0.count, "directory", "directories")) to read" } ?? "walking everything"))
            do {
                if try push(registration, owed) {
                    pushed[i].changes = []
                } else {
                    terminal.detail("\(registration.name) is offline; its changes wait for it")
                }
            } catch let status as ExitStatus where status == .partial {
                pushed[i].changes = nil  // an incomplete snapshot: the next push reads everything
            } catch {
                terminal.error("\(registration.name): \(error); the changes wait for the next push", fix: nil)
            }
        }
    }

    /// Says why a push walks everything; the watch limit once, at start.
    func reportTrouble(atStart: Bool) {
        switch watcher.trouble {
        case .overflow?: terminal.warning("inotify's queue overflowed: events were lost; the next push walks the whole source")
        case .directoryMoved(let path)?: terminal.warning("\(Printable.path(path.bytes)) moved; the next push walks the whole source")
        case .watchLimit(let watched)? where atStart:
            terminal.warning("the inotify watch limit is reached (\(watched) directories watched): every push walks the whole source, every \(Int(maxInterval))s; "
                             + "raise it with `sysctl fs.inotify.max_user_watches=524288`")
        case .watchLimit?, nil: break
        }
    }
}
