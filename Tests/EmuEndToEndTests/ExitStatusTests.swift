import Foundation
import Glibc
import Testing

@Suite("exit statuses and error messages")
struct ExitStatusTests {
    func workspace() throws -> Workspace {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("x")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        return w
    }

    @Test("bad usage exits 2 and names the bad text", arguments: [
        (["frobnicate"], "frobnicate"),
        (["push", "--bogus"], "--bogus"),
        (["push", "nosuchsink"], "nosuchsink"),
        (["checkout", "nosuchsink:HEAD"], "nosuchsink"),
        (["checkout", "xyz!"], "xyz!"),
        (["checkout", "HEAD~42"], "HEAD~42"),
        (["checkout", "ffffffff"], "ffffffff"),
        (["show", "@1999-01-01"], "@1999-01-01"),
        (["log", "-n", "-3"], "-n"),
        (["push", "--date", "someday"], "someday"),
        (["sink", "add", "bad/name", "/tmp/x"], "bad/name"),
        (["sink", "rm", "ghost"], "ghost"),
        (["sink", "default", "ghost"], "ghost"),
        (["prune", "origin", "HEAD"], "origin"),
        (["checkout", "HEAD", "--", "/etc/passwd"], "/etc/passwd"),
    ])
    func usage(arguments: [String], named: String) throws {
        let w = try workspace()
        let before = try describeTree(w.sink)
        let run = try w.emu(arguments: arguments)
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
        #expect(run.stderr.contains(named), "\(arguments) should name \(named): \(run.stderr)")
        expectSameTrees(before, try describeTree(w.sink))
    }

    @Test("argument-parser's refusals in emu's style: one error line, the suggestion and the command's help as the fix, no usage block",
          arguments: [(["push", "--dryrun"], "unknown option '--dryrun'", "did you mean '--dry-run'? `emu push --help` lists"),
                      (["sink", "add"], "missing expected argument '<name>'", "`emu sink add --help` lists"),
                      (["log", "-n", "x"], "the value 'x' is invalid for '-n <max-count>'", "`emu log --help` lists")])
    func parserErrors(arguments: [String], problem: String, fix: String) throws {
        let w = try workspace()
        let run = try w.emu(arguments: arguments)
        #expect(run.status == 2 && run.stderr.hasPrefix("emu: error: \(problem)\n  fix: \(fix)"), "\(run.stderr)")
        #expect(!run.stderr.contains("Usage:") && !run.stderr.contains("Error:"), "\(run.stderr)")
        #expect(try w.runFixes(of: run).allSatisfy { $0.status == 0 })
    }

    @Test("a command's help lists the exit statuses it can end with, emu --help all six")
    func exitStatusTables() throws {
        let help = { (arguments: [String]) in try EmuBinary.run(arguments + ["--help"], in: "/").stdout }
        let config = try help(["config"]), verify = try help(["verify"]), push = try help(["push"]), all = try help([])
        #expect(!config.contains("4  verify found damage") && !config.contains("3  done") && config.contains("2  bad usage"), "\(config)")
        #expect(verify.contains("4  verify found damage") && !verify.contains("3  done"))
        #expect(push.contains("3  done, but some files were skipped") && !push.contains("4  verify"))
        #expect((0...5).allSatisfy { all.contains("\n  \($0)  ") })
        #expect(!(try help(["mount"])).contains("5  the sink"), "mounting takes no lock")
    }

    @Test("outside a source, commands say how to make one (exit 2)")
    func notASource() throws {
        let w = try Workspace()
        let run = try w.emu("log")
        #expect(run.status == 2)
        #expect(run.stderr.contains("emu init"))
    }

    @Test("a source without sinks cannot push (exit 2)")
    func noSinks() throws {
        let w = try Workspace()
        try w.expectSuccess(w.emu("init"))
        let run = try w.emu("push")
        #expect(run.status == 2)
        #expect(run.stderr.contains("sink add"))
    }

    @Test("an offline sink is skipped with a warning; with none online, push fails (exit 1)")
    func offline() throws {
        let w = try workspace()
        sh("mv '\(w.sink)' '\(w.sink).unplugged'")
        let run = try w.emu("push")
        #expect(run.status == 1)
        #expect(run.stderr.contains("offline"))
        let list = try w.emu("sink")
        #expect(list.stdout.contains("offline"))
        sh("mv '\(w.sink).unplugged' '\(w.sink)'")
        try w.expectSuccess(w.emu("push"))
    }

    @Test("a filesystem without hardlinks is refused as a sink",
          Skips.needsRoot("needs root to mount a FAT or exFAT image"))
    func noHardlinks() throws {
        let w = try Workspace()
        try w.expectSuccess(w.emu("init"))
        let image = w.root + "/fat.img", mountPoint = w.root + "/fat"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        // vfat where the kernel has it, else exFAT through FUSE (this kind of machine has no vfat). The
        // FUSE daemon is started with every other descriptor closed: Foundation waits for its own to close.
        let vfat = "mkfs.vfat '\(image)' >/dev/null 2>&1 && mount -o loop '\(image)' '\(mountPoint)' 2>/dev/null"
        let exfat = "mkfs.exfat '\(image)' >/dev/null && loop=$(losetup -f --show '\(image)') && python3 -c 'import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)' mount.exfat-fuse \"$loop\" '\(mountPoint)'"
        guard sh("truncate -s 8M '\(image)' && { \(vfat) || \(exfat); }", mayFail: true) == 0 else {
            Issue.record("cannot mount a FAT or exFAT image: install dosfstools, or exfatprogs and exfat-fuse")
            return
        }
        defer { sh("umount '\(mountPoint)' || umount -l '\(mountPoint)'; losetup -j '\(image)' | cut -d: -f1 | xargs -r losetup -d", mayFail: true) }
        let run = try w.emu("sink", "add", "fat", mountPoint + "/sink")
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot hardlink"))
        #expect(try w.emu("sink").stdout.isEmpty)
    }

    @Test("help, version and init are idempotent and succeed")
    func friendly() throws {
        let w = try Workspace()
        #expect(try w.emu("--version").stdout.hasPrefix("0."))
        #expect(try w.emu("help", "push").stdout.contains("EXIT STATUS"))
        #expect(try w.emu("checkout", "--help").stdout.contains("--to"))
        try w.expectSuccess(w.emu("init"))
        try w.expectSuccess(w.emu("init"))
        sh("rm '\(w.source)/.emu/excludes'")
        let repair = try w.emu("init")
        #expect(repair.status == 0)
        #expect(FileManager.default.fileExists(atPath: w.source + "/.emu/excludes"))
    }

    @Test("two sinks: push fills both; default and rm behave")
    func twoSinks() throws {
        let w = try workspace()
        try w.expectSuccess(w.emu("sink", "add", "second", w.root + "/second"))
        try w.expectSuccess(w.emu("push"))
        #expect(try w.emu("log", "second", "--short").stdout.split(separator: "\n").count == 1)
        #expect(try w.emu("log", "origin", "--short").stdout.split(separator: "\n").count == 2)
        try w.expectSuccess(w.emu("sink", "default", "second"))
        #expect(try w.emu("log", "--short").stdout.split(separator: "\n").count == 1)
        try w.expectSuccess(w.emu("sink", "rm", "second"))
        #expect(FileManager.default.fileExists(atPath: w.root + "/second/.emu/HEAD"))
        try w.expectSuccess(w.emu("sink", "add", "again", w.root + "/second"))
        #expect(try w.emu("log", "again", "--short").stdout.split(separator: "\n").count == 1)
    }
}
