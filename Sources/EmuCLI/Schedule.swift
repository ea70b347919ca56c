import ArgumentParser
import EmuCore
import EmuPOSIX
import Foundation
import EmuRecords
import EmuRemote

extension Emu {
    struct Schedule: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push this source by itself: systemd's emu-push@ timer, or a cron line.",
            discussion: """
                `make install` installs emu-push@.service and emu-push@.timer, a system and a user \
                pair; the instance is the source's path, escaped (`systemd-escape --path`). \
                `emu schedule enable` enables and starts the source's timer (hourly, or --every \
                WHEN in systemd's calendar syntax, through a drop-in); `disable` stops it; \
                `status` shows the timer, the last run and the last push's failure; `cron` \
                prints the crontab line for a machine without systemd. As root the system units \
                are used, else the user's (--user or --system chooses). A scheduled push that \
                fails writes its error to the journal, exits non-zero, and `emu status --check` \
                reports it until a push succeeds.

                \(ExitStatus.help())
                """,
            subcommands: [Enable.self, Disable.self, State.self, Cron.self])
    }
}

/// Where the units live and how systemctl is called for this source.
struct ScheduleScope: ParsableArguments {
    @Flag(name: .customLong("user"), help: "Use the user's units (systemctl --user); the default when not root.")
    var user = false

    @Flag(name: .customLong("system"), help: "Use the system's units; the default as root.")
    var system = false

    func validate() throws {
        if user && system { throw ValidationError("--user and --system exclude each other: choose one") }
    }

    var isUser: Bool { user || (!system && getuid() != 0) }

    /// `systemctl`, with --user when the user's units are meant.
    func systemctl(_ arguments: String...) -> [String] { ["systemctl"] + (isUser ? ["--user"] : []) + arguments }

    /// The timer's unit name for `source`.
    func timer(_ source: Source) -> String { "emu-push@\(systemdEscapedPath(source.path)).timer" }

    /// Where a drop-in for the source's timer goes.
    func dropInDirectory(_ source: Source) -> String {
        let base = isUser ? (ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"] ?? NSHomeDirectory() + "/.config") + "/systemd/user"
                          : "/etc/systemd/system"
        return base + "/" + timer(source) + ".d"
    }

    /// On a dry run prints `plan` (the drop-in's fate) and the systemctl
    /// calls; else, with systemd running, makes the file change and runs
    /// them. Whether it ran.
    func carryOut(_ steps: [[String]], plan: String?, dryRun: Bool, terminal: Terminal, fileChange: () throws -> Void) throws -> Bool {
        if dryRun {
            if let plan { terminal.output(plan) }
            for step in steps { terminal.output(step.joined(separator: " ")) }
            // The plan, then the status the real run would end with.
            try requireSystemd()
            return false
        }
        try requireSystemd()
        try fileChange()
        for step in steps { try runCommand(step, terminal: terminal) }
        return true
    }

    /// Refuses when systemd does not run this machine, naming the cron way instead.
    func requireSystemd() throws {
        guard FileManager.default.fileExists(atPath: "/run/systemd/system") else {
            throw EmuError.failed("systemd is not running on this machine (there is no /run/systemd/system), so its timers cannot run",
                                  fix: "schedule with cron: add the line `emu schedule cron` prints to `crontab -e`")
        }
    }
}

/// systemd's escaping of a path into an instance name (`systemd-escape --path`):
/// slashes become dashes, bytes outside [A-Za-z0-9:_.] and a leading dot \xNN.
func systemdEscapedPath(_ path: String) -> String {
    let trimmed = normalized(path).fileSystemBytes.drop { $0 == 0x2F }
    guard !trimmed.isEmpty else { return "-" }
    var out = ""
    for (i, byte) in trimmed.enumerated() {
        switch byte {
        case 0x2F: out += "-"
        case 0x2E where i == 0: out += "\\x2e"
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x3A, 0x5F, 0x2E: out.append(Character(UnicodeScalar(byte)))
        default: out += (byte < 16 ? "\\x0" : "\\x") + String(byte, radix: 16)
        }
    }
    return out
}

/// Runs a command, its output passed through; fails with its status.
func runCommand(_ arguments: [String], terminal: Terminal) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    do { try process.run() } catch {
        throw EmuError.failed("cannot run \(arguments[0]): \(error)", fix: "install it, or run the commands `--dry-run` prints by hand")
    }
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw EmuError.failed("`\(arguments.joined(separator: " "))` failed with status \(process.terminationStatus)",
                              fix: "read its message above; `make install` puts the units where systemd finds them")
    }
}

/// What a command's standard output said, or nil when it failed.
func outputOf(_ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}
