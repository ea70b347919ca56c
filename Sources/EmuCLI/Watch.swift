import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc
import EmuRecords
import EmuRemote

/// Set by SIGTERM and SIGINT: `emu watch` finishes its push, then stops.
nonisolated(unsafe) var watchStopRequested: sig_atomic_t = 0

extension Emu {
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep watching the source and push when its changes have settled.",
            discussion: """
                emu watch keeps inotify watches on every directory of the source and pushes to \
                each named sink (default: every online one) once no change has come for the \
                settle time (30s), never more often than that, and at least every \
                --max-interval (1h) while changes keep coming. A push walks only the \
                directories that had events since that sink's last push; the others are taken \
                from its newest snapshot, unread. When events were lost (the kernel's queue \
                overflowed) or a directory moved, the next push walks everything, and says so; \
                at the watch limit (fs.inotify.max_user_watches) every push walks everything, \
                every --max-interval. At start, a sink whose newest snapshot differs from the \
                source is pushed. SIGTERM or SIGINT stops it after the push under way, never \
                in the middle of one. A change made through a hardlink from outside the \
                source, or by writing to a mapped file, makes no event: the scheduled push \
                (`emu schedule`) walks everything.

                \(ExitStatus.help(.partial, .locked))
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Sinks to push to (default: every online sink).", completion: Completions.sinks)
        var sinks: [String] = []

        @Option(help: ArgumentHelp("Push once no change has come for this long, and never more often (30s, 5m).", valueName: "DURATION"))
        var settle = "30s"

        @Option(name: .customLong("max-interval"), help: ArgumentHelp("While changes keep coming, push at least this often (1h).", valueName: "DURATION"))
        var maxInterval = "1h"

        func validate() throws {
            let (quiet, most) = try durations()
            if quiet <= 0 || most < quiet { throw ValidationError("--settle must be above 0 and --max-interval at least --settle") }
        }

        func durations() throws -> (Double, Double) {
            func seconds(_ text: String, _ option: String) throws -> Double {
                guard text.last.map({ !$0.isNumber }) ?? false, let value = try? RetentionPolicy.parseDuration(text) else {
                    throw ValidationError("\(option) '\(text)' is not a duration: write a number and a unit, as 30s, 5m, 1h")
                }
                return Double(value)
            }
            return (try seconds(settle, "--settle"), try seconds(maxInterval, "--max-interval"))
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let registrations = try sinks.isEmpty ? source.sinks() : sinks.map { try source.sink(named: $0) }
            guard !registrations.isEmpty else {
                throw EmuError.usage("this source has no sinks to push to", fix: "add one with `emu sink add NAME PATH`")
            }
            let (quiet, most) = try durations()
            Self.catchStopSignals()
            let watcher = try SourceWatcher(source: source)
            terminal.info("watching \(plural(watcher.watchedDirectories, "directory", "directories")) of \(source.path); "
                          + "pushing after \(settle) without changes, at least every \(maxInterval) while they come")
            var loop = WatchLoop(watcher: watcher, settle: quiet, maxInterval: most, terminal: terminal,
                                 pushed: registrations.map { (registration: $0, changes: Self.isUpToDate($0, source: source) ? [] : nil) })
            try loop.run { registration, changes in try push(registration, changes: changes) }
            terminal.info("stopped; no push was cut short")
        }

        /// Whether the sink's newest snapshot is the source as it is now (a
        /// walk of the source); false when it cannot be told.
        static func isUpToDate(_ registration: SinkRegistration, source: Source) -> Bool {
            guard let store = try? source.openSink(registration), let head = try? store.snapshots().last,
                  let summary = try? EmuCore.diff(from: try DiffSide.snapshot(head, in: store), to: try DiffSide.source(source), emit: { _ in })
            else { return false }
            return summary.isEmpty
        }

        /// One push to one sink, as `emu push SINK` makes it, told which
        /// directories changed; false when the sink is offline.
        func push(_ registration: SinkRegistration, changes: Set<RelativePath>?) throws -> Bool {
            let context = try global.context(for: "push")
            let source = context.source
            guard try source.openSink(registration) != nil else { return false }
            // Walking everything (lost events, the watch limit) may find nothing changed: no snapshot then.
            if changes == nil, Self.isUpToDate(registration, source: source) {
                global.terminal.detail("\(registration.name): the source is as its newest snapshot; nothing to push")
                return true
            }
            var options = PushOptions()
            options.changedDirectories = changes
            options.remembersLinkedNames = true
            _ = try PushRun(context: context, quiet: global.quiet, namedSinks: true).run([registration], options: options, lockWait: 0)
            return true
        }

        static func catchStopSignals() {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in watchStopRequested = 1 }
            // Calls under way in a push go on; the wait for events (poll) returns at once.
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(SIGTERM, &action, nil)
            sigaction(SIGINT, &action, nil)
            // A parent may have started emu with them blocked (a test runner does).
            var wanted = sigset_t()
            sigemptyset(&wanted)
            sigaddset(&wanted, SIGTERM)
            sigaddset(&wanted, SIGINT)
            pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        }
    }
}
