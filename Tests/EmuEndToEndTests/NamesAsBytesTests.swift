import Foundation
import Testing

/// Paths, refs and patterns on the command line are bytes, as names in a
/// snapshot are: a name that is not UTF-8 can be restored, shown, diffed and
/// logged by name (issue 11).
@Suite("names on the command line are bytes")
struct NamesAsBytesTests {
    /// A workspace whose source holds `caf\351` (Latin-1 "café") and `plain`,
    /// pushed once, then `caf\351` changed.
    static func latin1Workspace() throws -> Workspace {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.bash("printf one > \"$(printf 'caf\\351')\"; printf a > plain"))
        try w.expectSuccess(w.emu("push"))
        try w.expectSuccess(w.bash("printf changed > \"$(printf 'caf\\351')\""))
        return w
    }

    @Test("checkout, show, log and diff find a Latin-1 name given as an argument")
    func latin1NameByArgument() throws {
        let w = try Self.latin1Workspace()
        let name = "\"$(printf 'caf\\351')\""
        let show = try w.bash("\"$EMU\" show HEAD:\(name)")
        try w.expectSuccess(show)
        #expect(show.stdout == "one")
        let diff = try w.bash("\"$EMU\" diff HEAD -- \(name)")
        try w.expectSuccess(diff)
        #expect(diff.stdout == "M\t\"caf\\351\"\n")
        let log = try w.bash("\"$EMU\" log --short -- \(name)")
        try w.expectSuccess(log)
        #expect(log.stdout.split(separator: "\n").count == 1)
        try w.expectSuccess(w.bash("\"$EMU\" checkout -f HEAD -- \(name)"))
        #expect(try w.bash("cat \(name)").stdout == "one")
        // Only the named file: the other one's bytes were not touched.
        #expect(try String(contentsOfFile: w.source + "/plain", encoding: .utf8) == "a")
    }

    @Test("a missing name is quoted as git quotes it, not replaced by U+FFFD")
    func missingNameQuoted() throws {
        let w = try Self.latin1Workspace()
        let run = try w.bash("\"$EMU\" show \"HEAD:$(printf 'caf\\351x')\"")
        #expect(run.status == 2)
        #expect(run.stderr.contains("\"caf\\351x\" is not in snapshot"), "\(run.stderr)")
        #expect(!run.stderr.contains("\u{FFFD}"))
    }

    @Test("--exclude takes a pattern's bytes; --to a directory's bytes")
    func excludeAndTargetBytes() throws {
        let w = try Self.latin1Workspace()
        try w.expectSuccess(w.bash("\"$EMU\" push --exclude \"$(printf 'caf\\351')\""))
        let show = try w.bash("\"$EMU\" show HEAD:")
        try w.expectSuccess(show)
        #expect(!show.stdout.contains("caf"), "\(show.stdout)")
        #expect(show.stdout.contains("plain"))
        try w.expectSuccess(w.bash("\"$EMU\" checkout HEAD~1 --to \"../$(printf 'd\\351st')\""))
        #expect(try w.bash("cat \"../$(printf 'd\\351st')/$(printf 'caf\\351')\"").stdout == "one")
    }

    @Test("sink add and -S take a directory's bytes: the sink lands at that very name")
    func sinkPathBytes() throws {
        let w = try Self.latin1Workspace()
        try w.expectSuccess(w.bash("\"$EMU\" sink add latin \"../$(printf 's\\351nk')\""))
        try w.expectSuccess(w.bash("cd .. && \"$EMU\" push latin -S source"))
        #expect(try w.bash("ls \"../$(printf 's\\351nk')\"/Latest/").stdout.contains("plain"))
        let list = try w.emu("sink")
        #expect(list.stdout.contains("\"\(w.root)/s\\351nk\""), "\(list.stdout)")
    }

    @Test("a source whose path holds newlines and a [section] adds nothing to a snapshot's record: every value is one line")
    func newlinesInRecordValues() throws {
        let w = try Workspace()
        let source = w.root + "/src\n[Emu]\nuid = 4242\r\nx"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try "data".write(toFile: source + "/f", atomically: false, encoding: .utf8)
        for arguments in [["init", "-q"], ["sink", "add", "origin", w.sink, "-q"], ["push", "-q", "-m", "two\nlines\r\n[Tree]\nfiles = 9"]] {
            #expect(try EmuBinary.run(arguments, in: source).status == 0, "\(arguments)")
        }
        let id = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .newlines)
        let record = try String(contentsOfFile: w.sink + "/.emu/nodes/" + id, encoding: .utf8)
        let lines = record.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.filter { $0.hasPrefix("[") }.map(String.init) == ["[Snapshot]", "[Tree]", "[Stack]", "[Emu]"], "\(record)")
        #expect(!record.contains("4242") || lines.contains { $0.hasPrefix("source = ") && $0.contains("4242") }, "\(record)")
        #expect(lines.filter { $0.hasPrefix("files = ") } == ["files = 1"] && !record.contains("\r"), "\(record)")
        let log = try EmuBinary.run(["log", "--json"], in: source)
        #expect(log.status == 0 && log.stdout.contains(#""files":1"#), "\(log.stdout)\(log.stderr)")
    }

    @Test("diff --json carries the name itself, and its bytes in base64 when they are not UTF-8")
    func diffJSONNames() throws {
        let w = try Self.latin1Workspace()
        try w.expectSuccess(w.bash("printf x > \"$(printf 'nl\\nname')\"; printf y > \"caf\u{00E9}\""))
        let run = try w.emu("diff", "--json")
        try w.expectSuccess(run)
        let lines = run.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let byPath = Dictionary(lines.compactMap { $0 }.map { ($0["path"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["nl\nname"]?["path_bytes"] == nil)
        #expect(byPath["caf\u{00E9}"]?["status"] as? String == "A")
        let latin1 = byPath["caf\u{FFFD}"]
        #expect(latin1?["path_bytes"] as? String == Data([0x63, 0x61, 0x66, 0xE9]).base64EncodedString())
        #expect(latin1?["status"] as? String == "M")
    }
}
