import Foundation
import Testing

/// Nothing the user says is silently ignored or replaced: settings are
/// checked, the default sink never falls back, `sink add` and `init` say
/// what they do (issue 11).
@Suite("settings and sinks: refused when wrong, said when done")
struct SettingsTests {
    @Test("an unknown key or a value of the wrong type is refused with status 2 and the valid keys; nothing is written")
    func unknownKeysAndBadValuesRefused() throws {
        let w = try Workspace().initialize()
        let config = w.sink + "/.emu/config"
        let before = try String(contentsOfFile: config, encoding: .utf8)
        let typo = try w.emu("config", "--sink", "origin", "retention.keep-dialy", "3")
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("unknown sink setting 'retention.keep-dialy'") && typo.stderr.contains("retention.keep-daily"), "\(typo.stderr)")
        let wrongType = try w.emu("config", "--sink", "origin", "retention.keep-daily", "lots")
        #expect(wrongType.status == 2, "\(wrongType.stderr)")
        let wrongScope = try w.emu("config", "retention.keep-daily", "3")
        #expect(wrongScope.status == 2 && wrongScope.stderr.contains("is a sink setting"), "\(wrongScope.stderr)")
        #expect(try w.emu("config", "status.max-age", "soon").status == 2)
        #expect(try String(contentsOfFile: config, encoding: .utf8) == before)
    }

    @Test("a retention value that does not parse, in the sink's config or given to config or prune: the fix is the command that sets it, and it runs")
    func retentionFixesRun() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a' && printf '[Retention]\\nkeep-daily = lots\\nkeep-within = soon\\n' >> '\(w.sink)/.emu/config'") == 0)
        let push = try w.emu("push")
        #expect(push.status == 2 && push.stderr.contains("fix: give a count, e.g. `emu config --sink origin retention.keep-daily 7`"), "\(push.stderr)")
        for run in try w.runFixes(of: push) { try w.expectSuccess(run) }
        let next = try w.emu("push")
        #expect(next.stderr.contains("e.g. `emu config --sink origin retention.keep-within 7d`"), "the other bad value, named next: \(next.stderr)")
        for run in try w.runFixes(of: next) { try w.expectSuccess(run) }
        try w.expectSuccess(w.emu("push", "-q"))
        let given = try w.emu("config", "--sink", "origin", "retention.min-free", "lots")
        #expect(given.stderr.contains("e.g. `emu config --sink origin retention.min-free 5`"), "\(given.stderr)")
        #expect(try w.runFixes(of: given).allSatisfy { $0.status == 0 })
        let option = try w.emu("prune", "origin", "--keep-daily", "lots")
        #expect(option.status == 2 && option.stderr.contains("fix: give a count, e.g. --keep-daily 7") && !option.stderr.contains(" = "), "\(option.stderr)")
    }

    @Test("config --list (and -l, and no key) shows every effective setting and where it comes from")
    func listShowsOrigins() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.emu("config", "status.max-age", "3d"))
        let source = try w.emu("config", "--list")
        try w.expectSuccess(source)
        #expect(source.stdout.contains("status.max-age=3d\t(source)"), "\(source.stdout)")
        #expect(source.stdout.contains("emu.default-sink=origin\t(source)"), "\(source.stdout)")
        let sink = try w.emu("config", "--sink", "origin", "-l")
        #expect(sink.stdout.contains("retention.keep-daily=31\t(default)"), "\(sink.stdout)")
        #expect(sink.stdout.contains("retention.min-keep=3\t(default)"), "\(sink.stdout)")
        try w.expectSuccess(w.emu("config", "--sink", "origin", "retention.keep-last", "5"))
        let changed = try w.emu("config", "--sink", "origin")
        #expect(changed.stdout.contains("retention.keep-last=5\t(sink origin)"), "\(changed.stdout)")
        #expect(!changed.stdout.contains("retention.keep-daily"), "a set key replaces the default rotation: \(changed.stdout)")
    }

    @Test("a default sink must be registered; a stale default is an error, never another sink")
    func defaultSinkNeverFallsBack() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.emu("sink", "add", "second", w.root + "/second"))
        try Fixture.create(["a": .file("1")], at: w.source)
        try w.expectSuccess(w.emu("push", "--date", "2026-01-01 10:00"))
        try w.expectSuccess(w.emu("push", "--date", "2026-01-02 10:00"))
        let refused = try w.emu("config", "emu.default-sink", "nosuchsink")
        #expect(refused.status == 2 && refused.stderr.contains("not a registered sink"), "\(refused.stderr)")
        // Set behind emu's back: commands name the problem and touch no sink.
        sh("sed -i 's/^default-sink.*/default-sink = nosuchsink/' '\(w.source)/.emu/config'")
        let log = try w.emu("log")
        #expect(log.status == 2 && log.stderr.contains("default sink 'nosuchsink'"), "\(log.stderr)")
        let prune = try w.emu("prune", "TAIL")
        #expect(prune.status == 2)
        #expect(try w.loggedSnapshots("origin").count == 2)
        #expect(try w.loggedSnapshots("second").count == 2)
    }

    @Test("setting a retention key prints the policy that results and how many snapshots it would expire")
    func retentionChangeSaysWhatItDoes() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("1")], at: w.source)
        for hour in 10...13 { try w.expectSuccess(w.emu("push", "--date", "2026-11-20 \(hour):00")) }
        let run = try w.emu("config", "--sink", "origin", "retention.keep-daily", "14")
        try w.expectSuccess(run)
        #expect(run.stderr.contains("Retention policy of 'origin': keep the newest of each of the last 14 days"), "\(run.stderr)")
        #expect(run.stderr.contains("expires 3 snapshots that the policy before it kept"), "\(run.stderr)")
        #expect(try w.loggedSnapshots().count == 4, "config itself removes nothing")
    }

    @Test("sink add takes ssh addresses as remote sinks and refuses other URLs; neither makes local directories named like them")
    func remoteAddressesAreNotLocalPaths() throws {
        let w = try Workspace().initialize()
        for address in ["rsync://host/srv/backup", "https://host/srv"] {
            let run = try w.emu("sink", "add", "nas", address)
            #expect(run.status == 2, "\(address): \(run.stderr)")
            #expect(run.stderr.contains("emu reaches remote sinks over ssh only"), "\(run.stderr)")
        }
        // An ssh command that fails at once: the sink is remote, unreachable, and not registered.
        for address in ["ssh://host/srv/backup", "user@host:/srv/backup", "host:backup"] {
            let run = try w.emu("sink", "add", "nas", address, "--ssh-command", "false")
            #expect(run.status == 1, "\(address): \(run.stderr)")
            #expect(run.stderr.contains("the connection to host closed before emu serve answered"), "\(run.stderr)")
        }
        #expect(!(try w.emu("sink").stdout.contains("nas")))
        let left = try FileManager.default.contentsOfDirectory(atPath: w.source).filter { $0 != ".emu" }
        #expect(left.isEmpty, "nothing may be created in the source: \(left)")
    }

    @Test("sink add says which directories it creates and refuses a non-empty directory that is not a sink unless --force")
    func sinkAddSaysWhatItCreates() throws {
        let w = try Workspace()
        try w.expectSuccess(w.emu("init"))
        let deep = w.root + "/media/usb/backup"
        let made = try w.emu("sink", "add", "usb", deep)
        try w.expectSuccess(made)
        #expect(made.stderr.contains("Created directory \(w.root)/media\n") && made.stderr.contains("Created directory \(deep)\n"), "\(made.stderr)")
        let occupied = w.root + "/occupied"
        try FileManager.default.createDirectory(atPath: occupied, withIntermediateDirectories: false)
        try "data".write(toFile: occupied + "/file", atomically: false, encoding: .utf8)
        let refused = try w.emu("sink", "add", "disk", occupied)
        #expect(refused.status == 2 && refused.stderr.contains("is not empty and is not an emu sink"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: occupied + "/.emu"))
        try w.expectSuccess(w.emu("sink", "add", "disk", occupied, "--force"))
    }

    @Test("removing the default sink says which sink is the default now")
    func removingTheDefaultSays() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.emu("sink", "add", "usb", w.root + "/usb"))
        let run = try w.emu("sink", "rm", "origin")
        try w.expectSuccess(run)
        #expect(run.stderr.contains("The default sink is now 'usb'"), "\(run.stderr)")
    }

    @Test("emu init works from a binary copied anywhere: the templates are built in")
    func initFromCopiedBinary() throws {
        let w = try Workspace()
        let copy = w.root + "/bin/emu"
        try FileManager.default.createDirectory(atPath: w.root + "/bin", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: EmuBinary.path, toPath: copy)
        let run = try w.bash("'\(copy)' init")
        try w.expectSuccess(run)
        #expect(FileManager.default.fileExists(atPath: w.source + "/.emu/excludes"))
        #expect(FileManager.default.isExecutableFile(atPath: w.source + "/.emu/hooks/push/log.post.sample"))
    }
}
