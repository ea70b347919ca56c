import Foundation
import Testing

/// The man pages as shipped (share/man/man1, written by scripts/manpages.py):
/// plain roff a pager shows as written, and the common options a page lists
/// are the ones its command takes (issue 28).
@Suite("the man pages")
struct ManualTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../share/man/man1").standardized.path

    static var pages: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".1") }.sorted()
    }

    @Test("no page holds a control character: a Python escape such as \\f in the generator becomes one, and breaks the font change")
    func noControlCharacters() throws {
        #expect(Self.pages.count > 20)
        for page in Self.pages {
            let text = try String(contentsOfFile: Self.directory + "/" + page, encoding: .utf8)
            let controls = text.unicodeScalars.filter { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }
            #expect(controls.isEmpty, "\(page) holds \(controls.map { String(format: "U+%04X", $0.value) })")
        }
    }

    @Test("a page lists -S, -v, -q and --color only when its command takes them (emu serve takes none)",
          arguments: ["serve", "push", "log", "replicate", "verify"])
    func commonOptions(command: String) throws {
        let help = try EmuBinary.run([command, "--help"], in: "/")
        let page = try String(contentsOfFile: Self.directory + "/emu-\(command).1", encoding: .utf8)
        for (option, roff) in [("--source-dir", "\\-\\-source\\-dir"), ("--verbose", "\\-\\-verbose"), ("--color", "\\-\\-color")] {
            #expect(help.stdout.contains(option) == page.contains(roff), "emu \(command): --help \(help.stdout.contains(option) ? "has" : "lacks") \(option), the page \(page.contains(roff) ? "has" : "lacks") it")
        }
    }

    @Test("each page carries the binary's version and a date no older than the last change of the text it is made from")
    func versionAndDate() throws {
        let version = try EmuBinary.run(["--version"], in: "/").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let root = URL(fileURLWithPath: Self.directory).appendingPathComponent("../../..").standardized.path
        let changed = try EmuBinary.run([], in: root, throughBash: "git log -1 --format=%cs -- scripts/manpages.py 'scripts/manpages_*.py' scripts/manpage_sections.py")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(changed.count == 10, "git names the generator's last change")
        for page in Self.pages {
            let header = try String(contentsOfFile: Self.directory + "/" + page, encoding: .utf8).prefix { $0 != "\n" }
            let fields = header.split(separator: "\"").map(String.init)
            #expect(fields.count >= 4 && fields[3] == "emu \(version)", "\(page): \(header)")
            #expect(fields.count >= 2 && fields[1] >= changed, "\(page) is dated \(fields.count >= 2 ? fields[1] : "?"), its text changed \(changed)")
        }
    }

    @Test("-v promises why each file was copied only where the command says which files it copies")
    func verbosePromise() throws {
        let help = try EmuBinary.run(["log", "--help"], in: "/")
        #expect(help.stdout.contains("--verbose") && !help.stdout.contains("Say more: why each file was copied"), "\(help.stdout)")
    }
}

/// Small things a new user reads (issue 28).
@Suite("what a new user reads")
struct FirstReadingTests {
    @Test("emu sink says an empty sink holds no snapshots once, not \"0 snapshots\" beside \"no snapshots\"")
    func emptySinkSaidOnce() throws {
        let w = try Workspace().initialize()
        let listed = try w.emu("sink")
        try w.expectSuccess(listed)
        #expect(listed.stdout.contains("\tonline\tno snapshots\t") && !listed.stdout.contains("0 snapshots"), "\(listed.stdout)")
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(try w.emu("sink").stdout.contains("\tonline\t1 snapshot\tnewest "))
    }

    @Test("emu sink and emu serve --report name the newest snapshot as status does, by its folder's name")
    func newestByName() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q", "--date", "2026-01-02 03:04:05"))
        #expect(try w.emu("sink").stdout.contains("newest 2026-01-02 03.04.05"))
        #expect(try w.emu("status").stdout.contains("newest 2026-01-02 03.04.05"))
        let report = try EmuBinary.run(["serve", "--root", w.root, "--report"], in: "/")
        #expect(report.stdout.contains("newest 2026-01-02 03.04.05"), "\(report.stdout)")
    }

    @Test("status tells an empty mount point (the disk not mounted) from a path that is not there")
    func emptyMountPoint() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(sh("mv '\(w.sink)' '\(w.sink).away' && mkdir '\(w.sink)'") == 0)
        let empty = try w.emu("status")
        #expect(empty.stderr.contains("is an empty directory (is the disk mounted there?)"), "\(empty.stderr)")
        #expect(sh("rmdir '\(w.sink)'") == 0)
        #expect(try w.emu("status").stderr.contains("is not there (mount the disk"))
    }
}

extension FirstReadingTests {
    @Test("init -f repairs: it keeps settings and rules that parse, replaces a file that does not, restores a missing one, and names each")
    func repairKeepsWhatParses() throws {
        let w = try Workspace().initialize()
        #expect(sh("printf '%s\\n' '- *.tmp' >> '\(w.source)/.emu/excludes'") == 0)
        try w.expectSuccess(w.emu("config", "status.max-age", "5d"))
        let kept = try w.emu("init", "-f")
        try w.expectSuccess(kept)
        #expect(kept.stderr.contains("complete; nothing to do"), "\(kept.stderr)")
        #expect(try w.emu("config", "emu.default-sink").stdout == "origin\n" && w.emu("config", "status.max-age").stdout == "5d\n")
        #expect(try String(contentsOfFile: w.source + "/.emu/excludes", encoding: .utf8).contains("- *.tmp"))
        #expect(sh("echo '[unclosed' >> '\(w.source)/.emu/config' && rm '\(w.source)/.emu/excludes'") == 0)
        let repaired = try w.emu("init", "-f")
        try w.expectSuccess(repaired)
        #expect(repaired.stderr.contains("replaced .emu/config with its template: it did not parse")
                && repaired.stderr.contains("restored .emu/excludes (it was missing)"), "\(repaired.stderr)")
        #expect(try w.emu("status").status == 0, "the source works again")
    }
}

extension FirstReadingTests {
    @Test("one sink cannot be registered under a second name, by its path or by another path to it (a symlink)")
    func oneSinkOneName() throws {
        let w = try Workspace().initialize()
        #expect(sh("ln -s '\(w.sink)' '\(w.root)/alias'") == 0)
        for path in [w.sink, w.root + "/alias"] {
            let twice = try w.emu("sink", "add", "again", path)
            #expect(twice.status == 2 && twice.stderr.contains("is already the sink 'origin'"), "\(path): \(twice.stderr)")
        }
        #expect(try w.emu("sink").stdout.split(separator: "\n").count == 1)
    }
}

extension FirstReadingTests {
    @Test("--progress into a file writes lines, not a terminal's escapes, and no rate from the first second")
    func progressIntoAFile() throws {
        let w = try Workspace().initialize()
        writeRandomFiles(w.source + "/d", count: 20, kilobytes: 4)
        let run = try w.emu("push", "--progress")
        try w.expectSuccess(run)
        let lines = run.stderr.split(separator: "\n").filter { $0.contains(" files, ") || $0.contains(" file, ") }
        #expect(!lines.isEmpty && !run.stderr.contains("\u{1b}") && !run.stderr.contains("\r"), "\(run.stderr.debugDescription)")
        #expect(lines.first.map { !$0.contains("/s") } == true, "the first line comes at once, before a second has passed: \(lines)")
        #expect(lines.first?.hasSuffix(" (first push: no estimate)") == true, "a first push says it has no estimate: \(lines)")
        let second = try w.emu("push", "--progress")
        #expect(!second.stderr.contains("no estimate"), "the newest snapshot's counts are the estimate: \(second.stderr)")
    }
}
