import ArgumentParser
import Glibc
import EmuCore
import EmuPOSIX
import Foundation
import EmuRecords
import EmuRemote

extension Emu.Schedule {
    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable and start this source's emu-push@ timer (hourly, or --every WHEN).", discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions
        @OptionGroup var scope: ScheduleScope
        @OptionGroup var change: ChangeOptions

        @Option(help: ArgumentHelp("When to push, in systemd's calendar syntax: hourly, daily, '*:0/15', 'Mon..Fri 18:00'.", valueName: "WHEN"))
        var every: String?

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            if let every, outputOf(["systemd-analyze", "calendar", every]) == nil {
                throw EmuError.usage("--every '\(every)' is not a systemd calendar event",
                                     fix: "use hourly, daily, weekly, '*:0/15' or 'Mon..Fri 18:00' (`systemd-analyze calendar WHEN` checks one)")
            }
            let directory = scope.dropInDirectory(source)
            var steps: [[String]] = []
            if every != nil { steps.append(scope.systemctl("daemon-reload")) }
            steps.append(scope.systemctl("enable", "--now", scope.timer(source)))
            let plan = every.map { "write \(directory)/every.conf: [Timer] OnCalendar=\($0)" }
            let ran = try scope.carryOut(steps, plan: plan, dryRun: change.dryRun, terminal: terminal) {
                guard let every else { return }
                try makeDirectories(directory)
                try Data("# emu schedule enable --every\n[Timer]\nOnCalendar=\nOnCalendar=\(every)\n".utf8)
                    .write(to: URL(fileURLWithPath: directory + "/every.conf"))
            }
            if ran { terminal.info("\(source.path) is pushed \(every ?? "hourly") by \(scope.timer(source)); `emu schedule status` shows its runs") }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop and disable this source's emu-push@ timer.", discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions
        @OptionGroup var scope: ScheduleScope
        @OptionGroup var change: ChangeOptions

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let directory = scope.dropInDirectory(source)
            let hasDropIn = FileManager.default.fileExists(atPath: directory + "/every.conf")
            var steps = [scope.systemctl("disable", "--now", scope.timer(source))]
            if hasDropIn { steps.append(scope.systemctl("daemon-reload")) }
            let ran = try scope.carryOut(steps, plan: hasDropIn ? "remove \(directory)/every.conf" : nil, dryRun: change.dryRun,
                                         terminal: terminal) {
                if hasDropIn { try FileManager.default.removeItem(atPath: directory + "/every.conf") }
            }
            if ran { terminal.info("\(scope.timer(source)) is stopped; nothing pushes \(source.path) by itself now") }
        }
    }

    struct State: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "The timer's state, its next and last runs, and whether the last push failed.", discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions
        @OptionGroup var scope: ScheduleScope
        @OptionGroup var report: ReportOptions

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            var state = ScheduleStatusJSON(timer: scope.timer(source), systemd: (try? scope.requireSystemd()) != nil, sinks: [])
            if state.systemd, let shown = outputOf(scope.systemctl("show", state.timer, "--property=UnitFileState,ActiveState,NextElapseUSecRealtime,LastTriggerUSec")) {
                let fields = Dictionary(shown.split(separator: "\n").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
                    .filter { $0.count == 2 }.map { ($0[0], $0[1]) }, uniquingKeysWith: { a, _ in a })
                (state.enabled, state.active) = (fields["UnitFileState"] ?? "unknown", fields["ActiveState"] ?? "unknown")
                (state.next, state.last) = (fields["NextElapseUSecRealtime"].flatMap { $0.isEmpty ? nil : $0 }, fields["LastTriggerUSec"].flatMap { $0.isEmpty ? nil : $0 })
            }
            state.sinks = try source.sinks().map { ScheduledSinkJSON(sink: $0.name, lastPushFailed: try PushRecord.lastFailure(of: $0.name, in: source)) }
            if report.json { try terminal.json(state) } else { print(state, terminal: terminal) }
            if state.sinks.contains(where: { $0.lastPushFailed != nil }) { throw ExitStatus.failure }
        }

        func print(_ state: ScheduleStatusJSON, terminal: Terminal) {
            if !state.systemd {
                terminal.output("\(state.timer)\tsystemd is not running here; schedule with cron (`emu schedule cron`)")
            } else if let enabled = state.enabled {
                terminal.output("\(state.timer)\t\(enabled), \(state.active ?? "unknown")\tnext: \(state.next ?? "none")\tlast: \(state.last ?? "never")")
            }
            for sink in state.sinks {
                terminal.output("\(sink.sink)\t" + (sink.lastPushFailed.map { "the last push failed: \($0)" } ?? "the last push did not fail"))
            }
        }
    }

    struct Cron: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the crontab line that pushes this source hourly (add it with `crontab -e`).", discussion: ExitStatus.help())

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let source = try global.source()
            // --quiet prints only what went wrong, and cron mails a job's output: a failed run is mailed, a good one is silent.
            global.terminal.output("0 * * * * \(shellQuoted(Self.installedBinary())) push --source-dir \(shellQuoted(source.path)) --quiet --lock-wait 600")
        }

        /// This emu as the PATH names it (`/usr/local/bin/emu`, which an
        /// upgrade keeps), not where its symlinks lead; else where it runs from.
        static func installedBinary() -> String {
            let running = resolvedPath("/proc/self/exe")
            let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
            for directory in path.split(separator: ":") where directory.hasPrefix("/") {
                let candidate = String(directory) + "/emu"
                if let running, resolvedPath(candidate) == running { return candidate }
            }
            return running ?? "emu"
        }
    }
}
