import EmuPOSIX
import Foundation
import Glibc
import Testing

/// Backups that run by themselves (issue 15): the shipped systemd units are
/// valid for a real source, the command they run pushes it, a failed run
/// exits non-zero and `emu status --check` reports it, and the cron line
/// does the same job where systemd does not run.
@Suite("scheduling")
struct ScheduleTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var hasSystemd: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }

    /// The units of `flavour` (system or user) as `make install` writes them, into `directory`.
    static func installUnits(_ flavour: String, into directory: String) throws {
        let binaryDirectory = URL(fileURLWithPath: EmuBinary.path).deletingLastPathComponent().path
        #expect(sh("mkdir -p '\(directory)' && for u in '\(repository)/share/systemd/\(flavour)'/*; do "
                   + "sed 's|@BINDIR@|\(binaryDirectory)|' \"$u\" > '\(directory)'/\"$(basename \"$u\")\"; done") == 0)
    }

    @Test("systemd-analyze verifies the system and user units for this source's instance")
    func unitsVerify() throws {
        let w = try Workspace().initialize()
        let plan = try w.emu("schedule", "enable", "--dry-run", "--system")
        #expect(plan.status == (Self.hasSystemd ? 0 : 1) && plan.stdout.contains("enable --now emu-push@"), "\(plan.stderr)")
        let escaped = sh("test \"$(systemd-escape --path '\(w.source)')\" = \"$(echo '\(plan.stdout)' | sed -n 's/.*emu-push@\\(.*\\)\\.timer$/\\1/p')\"")
        #expect(escaped == 0, "the instance is systemd-escape --path of the source: \(plan.stdout)")
        let instance = try #require(plan.stdout.split(separator: " ").last.map { String($0.dropLast()) })
        for flavour in ["system", "user"] {
            let units = w.root + "/units-" + flavour
            try Self.installUnits(flavour, into: units)
            let mode = flavour == "user" ? "--user" : "--system"
            #expect(sh("mkdir -p '\(w.root)/runtime' && chmod 700 '\(w.root)/runtime' && XDG_RUNTIME_DIR='\(w.root)/runtime' "
                       + "systemd-analyze \(mode) verify --man=no '\(units)/\(instance)' '\(units)/\(instance.replacingOccurrences(of: ".timer", with: ".service"))'") == 0,
                    "\(flavour) units")
        }
        // A broken unit fails the same check: the check can fail.
        #expect(sh("sed -i 's/OnCalendar=hourly/OnCalendar=hourlyy/' '\(w.root)/units-system/emu-push@.timer' && "
                   + "systemd-analyze verify --man=no '\(w.root)/units-system/\(instance)'", mayFail: true) != 0)
    }

    @Test("the service's command pushes the source; a failed run exits non-zero and status --check names it")
    func serviceRuns() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try Self.installUnits("system", into: w.root + "/units")
        // ExecStart with %f, the unescaped instance, being the source's path.
        let exec = "$(sed -n 's/^ExecStart=//p' '\(w.root)/units/emu-push@.service' | sed 's|%f|\(w.source)|g')"
        #expect(sh("cd / && \(exec)") == 0)
        #expect(try w.trees().count == 1)
        #expect(sh("cd '\(w.source)' && mkdir -p .emu/hooks/push && printf '#!/bin/sh\\nexit 1\\n' > .emu/hooks/push/no.pre && chmod +x .emu/hooks/push/no.pre") == 0)
        #expect(sh("cd / && \(exec)", mayFail: true) == 1)
        let check = try w.emu("status", "--check")
        #expect(check.status == 1 && check.stderr.contains("the last push failed"), "\(check.stderr)")
        let state = try w.emu("schedule", "status")
        #expect(state.status == 1 && state.stdout.contains("origin\tthe last push failed"), "\(state.stdout)")
        #expect(sh("rm '\(w.source)/.emu/hooks/push/no.pre' && cd / && \(exec)") == 0)
        try w.expectSuccess(w.emu("status", "--check"))
    }

    @Test("without systemd, enable refuses and points at cron; the cron line pushes")
    func cronWithoutSystemd() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        if !Self.hasSystemd {
            let enable = try w.emu("schedule", "enable")
            #expect(enable.status == 1 && enable.stderr.contains("systemd is not running") && enable.stderr.contains("emu schedule cron"),
                    "\(enable.stderr)")
            // -n prints the plan and exits as the real run would.
            let plan = try w.emu("schedule", "enable", "-n")
            #expect(plan.status == 1 && plan.stderr.contains("systemd is not running") && plan.stdout.contains("enable --now"), "\(plan.stderr)")
        }
        let bad = try w.emu("schedule", "enable", "--every", "sometimes", "--dry-run")
        #expect(bad.status == 2 && bad.stderr.contains("not a systemd calendar event"), "\(bad.stderr)")
        let every = try w.emu("schedule", "enable", "--every", "*:0/15", "--dry-run", "--user")
        #expect(every.stdout.contains("OnCalendar=*:0/15") && every.stdout.contains("systemctl --user enable --now emu-push@"), "\(every.stdout)")
        // The emu the PATH names (an upgrade keeps it), not where its symlink leads; no pipe that would hide a failure from cron's mail.
        #expect(sh("mkdir '\(w.root)/bin' && ln -s '\(EmuBinary.path)' '\(w.root)/bin/emu'") == 0)
        let cron = try w.emu("schedule", "cron", environment: ["PATH": w.root + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        try w.expectSuccess(cron)
        #expect(cron.stdout.hasPrefix("0 * * * * \(w.root)/bin/emu push") && !cron.stdout.contains("|"), "\(cron.stdout)")
        // The line's command, as cron's sh runs it.
        let command = String(cron.stdout.dropFirst("0 * * * * ".count)).trimmingCharacters(in: .newlines)
        #expect(sh("cd / && sh -c \"\(command.replacingOccurrences(of: "\"", with: "\\\""))\"") == 0)
        #expect(try w.trees().count == 1)
        // A run that fails says so on its output (what cron mails) and in its status.
        #expect(sh("mv '\(w.sink)' '\(w.sink).away' && touch '\(w.sink)'") == 0)
        #expect(sh("cd / && sh -c \"\(command.replacingOccurrences(of: "\"", with: "\\\""))\" 2>&1 | grep -q .", mayFail: true) == 0)
    }
}
